//! Brand metrics: the funnel from survey answers (awareness →
//! consideration → preference → purchase intent) and share of voice from
//! counted mentions (DESIGN.md §3).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::Definition;
use super::compare;
use super::delta::{self, Delta};
use super::nps::CompareTo;
use super::period::{PeriodUnit, index_of, start_of};
use super::scope::{Rows, Scope};
use super::stats::{Proportion, proportion};
use crate::db::sql::Sql;
use crate::error::Error;

/// One brand's funnel over a set of responses.
#[derive(Debug, Clone)]
pub struct Funnel {
    pub brand: String,
    /// Responses that rated this brand.
    pub n: i64,
    pub awareness: Proportion,
    pub consideration: Proportion,
    pub preference: Proportion,
    /// Own brand only: share of responses with purchase intent 4–5 among
    /// those that gave one.
    pub purchase_intent_top2: Option<Proportion>,
    pub consideration_from_awareness: Proportion,
    pub preference_from_consideration: Proportion,
}

#[derive(Debug, Clone)]
pub struct FunnelPoint {
    pub period_start: NaiveDate,
    pub funnel: Funnel,
    /// Awareness, consideration, preference and top-2 intent against the compared period.
    pub compared: Option<FunnelChanges>,
}

#[derive(Debug, Clone)]
pub struct FunnelChanges {
    pub awareness: Delta,
    pub consideration: Delta,
    pub preference: Delta,
    pub purchase_intent_top2: Option<Delta>,
}

#[derive(Debug, Clone)]
pub struct BrandFunnel {
    pub own_brand: String,
    pub overall: Vec<Funnel>,
    pub series: Vec<FunnelPoint>,
    pub definition: Definition,
}

/// Counts behind one funnel.
#[derive(Debug, Clone, Copy, Default)]
struct FunnelCounts {
    n: i64,
    aware: i64,
    considered: i64,
    preferred: i64,
    intent_n: i64,
    intent_top2: i64,
}

impl FunnelCounts {
    fn funnel(&self, brand: &str, own_brand: &str) -> Funnel {
        Funnel {
            brand: brand.to_owned(),
            n: self.n,
            awareness: proportion(self.aware, self.n),
            consideration: proportion(self.considered, self.n),
            preference: proportion(self.preferred, self.n),
            purchase_intent_top2: (brand == own_brand).then(|| proportion(self.intent_top2, self.intent_n)),
            consideration_from_awareness: proportion(self.considered, self.aware),
            preference_from_consideration: proportion(self.preferred, self.considered),
        }
    }
}

/// The funnel per brand over the window, and per period of `unit`. The
/// own brand comes first, then the others alphabetically.
pub async fn brand_funnel(
    db: &impl ConnectionTrait,
    scope: &Scope,
    own_brand: &str,
    unit: PeriodUnit,
    compare_to: Option<CompareTo>,
) -> Result<BrandFunnel, Error> {
    let first_period = index_of(unit, scope.window.from);
    let lag = compare_to.map_or(0, |compare| compare.lag(unit));
    let series_start = start_of(unit, first_period - lag).unwrap_or(scope.window.from);
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("WITH answers AS (SELECT b.brand, r.purchase_intent, r.responded_at, ");
    sql.push("CASE WHEN b.aware THEN 1 ELSE 0 END AS aware, CASE WHEN b.considered THEN 1 ELSE 0 END AS considered, CASE WHEN b.preferred THEN 1 ELSE 0 END AS preferred, ");
    sql.period_index("r.responded_at", unit);
    sql.push(" AS period FROM brand_answer b JOIN survey_response r ON r.id = b.response_id WHERE r.responded_at >= ");
    sql.bind(series_start.and_time(chrono::NaiveTime::MIN).and_utc());
    sql.push(" AND r.responded_at < ").bind(scope.window.end());
    scope.response_filters(&mut sql);
    let sums = "CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(aware) AS BIGINT) AS aware, CAST(SUM(considered) AS BIGINT) AS considered, \
                CAST(SUM(preferred) AS BIGINT) AS preferred, \
                CAST(SUM(CASE WHEN purchase_intent IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS intent_n, \
                CAST(SUM(CASE WHEN purchase_intent >= 4 THEN 1 ELSE 0 END) AS BIGINT) AS intent_top2";
    sql.push(&format!(
        "), by_period AS (SELECT brand, period, {sums} FROM answers GROUP BY brand, period)"
    ));
    sql.push(" SELECT brand, period, n, aware, considered, preferred, intent_n, intent_top2 FROM by_period");
    sql.push(&format!(
        " UNION ALL SELECT brand, NULL AS period, {sums} FROM answers WHERE responded_at >= "
    ));
    sql.bind(scope.window.start());
    sql.push(" GROUP BY brand");

    let mut overall: BTreeMap<String, FunnelCounts> = BTreeMap::new();
    let mut periods: BTreeMap<(i64, String), FunnelCounts> = BTreeMap::new();
    for row in sql.all(db).await? {
        let brand: String = row.try_get("", "brand")?;
        let period: Option<i64> = row.try_get("", "period")?;
        let counts = FunnelCounts {
            n: row.try_get("", "n")?,
            aware: row.try_get("", "aware")?,
            considered: row.try_get("", "considered")?,
            preferred: row.try_get("", "preferred")?,
            intent_n: row.try_get("", "intent_n")?,
            intent_top2: row.try_get("", "intent_top2")?,
        };
        match period {
            Some(period) => periods.insert((period, brand), counts),
            None => overall.insert(brand, counts),
        };
    }

    let brand_order = |brand: &str| (brand != own_brand, brand.to_owned());
    let mut overall: Vec<Funnel> = overall
        .iter()
        .map(|(brand, counts)| counts.funnel(brand, own_brand))
        .collect();
    overall.sort_by_key(|funnel| brand_order(&funnel.brand));

    let last_period = index_of(unit, scope.window.to);
    let mut series = Vec::new();
    for ((index, brand), counts) in periods.range((first_period, String::new())..) {
        if *index > last_period {
            break;
        }
        let Some(period_start) = start_of(unit, *index) else {
            continue;
        };
        let compared = compare_to.map(|compare| {
            let earlier_index = index - compare.lag(unit);
            let earlier_start = start_of(unit, earlier_index).unwrap_or(period_start);
            let earlier = periods
                .get(&(earlier_index, brand.clone()))
                .copied()
                .unwrap_or_default();
            let change = |now: (i64, i64), then: (i64, i64)| compare_proportions(earlier_start, now, then);
            FunnelChanges {
                awareness: change((counts.aware, counts.n), (earlier.aware, earlier.n)),
                consideration: change((counts.considered, counts.n), (earlier.considered, earlier.n)),
                preference: change((counts.preferred, counts.n), (earlier.preferred, earlier.n)),
                purchase_intent_top2: (brand == own_brand).then(|| {
                    change(
                        (counts.intent_top2, counts.intent_n),
                        (earlier.intent_top2, earlier.intent_n),
                    )
                }),
            }
        });
        series.push(FunnelPoint {
            period_start,
            funnel: counts.funnel(brand, own_brand),
            compared,
        });
    }
    series.sort_by_key(|point| (point.period_start, brand_order(&point.funnel.brand)));

    let mut definition = scope
        .describe(
            Rows::People,
            Definition::new(
                "brand_funnel",
                1,
                "per brand over responses that rated it: awareness = aware/n, consideration = considered/n, \
             preference = preferred/n; own brand purchase intent = share of responses with intent 4–5 among those \
             with an intent; stage conversions = considered/aware and preferred/considered; Wilson 95% intervals",
            ),
        )
        .with("ownBrand", own_brand)
        .with_enum("period", unit);
    if let Some(compare) = compare_to {
        definition = definition.with_enum("compareTo", compare);
    }
    Ok(BrandFunnel {
        own_brand: own_brand.to_owned(),
        overall,
        series,
        definition,
    })
}

/// The change of a rate between two periods, with the pooled
/// two-proportion z-test (none below 10 per side or without variance).
pub fn compare_proportions(period_start: NaiveDate, now: (i64, i64), then: (i64, i64)) -> Delta {
    let rate = |(count, n): (i64, i64)| proportion(count, n).rate;
    Delta::new(
        period_start,
        rate(now),
        rate(then),
        then.1,
        delta::proportions(now, then),
    )
}

/// One brand's mentions in a group (a channel, a month, both, or all).
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceShare {
    pub channel: Option<String>,
    pub period_start: Option<NaiveDate>,
    pub brand: String,
    pub mentions: i64,
    /// Every brand's mentions in the same group.
    pub total_mentions: i64,
    /// mentions / total; `None` when the group has no mentions.
    pub share: Option<f64>,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
    /// (positive − negative) / mentions; `None` without mentions.
    pub net_sentiment: Option<f64>,
    /// With `compareTo`, overall and per channel: the share against the
    /// same brand's (and channel's) share over the compared window, with the
    /// two-proportion z-test on mentions; `None` per month.
    pub compared: Option<Delta>,
}

#[derive(Debug, Clone)]
pub struct ShareOfVoice {
    pub by_channel_month: Vec<VoiceShare>,
    pub by_month: Vec<VoiceShare>,
    pub by_channel: Vec<VoiceShare>,
    pub overall: Vec<VoiceShare>,
    pub definition: Definition,
}

/// Share of voice over the months that start inside the window, optionally
/// in one mention channel; with `compare_to`, each brand's overall and
/// per-channel share against the compared window's.
pub async fn share_of_voice(
    db: &impl ConnectionTrait,
    scope: &Scope,
    channel: Option<&str>,
    compare_to: Option<CompareTo>,
) -> Result<ShareOfVoice, Error> {
    let mut current = share_of_voice_in(db, scope, channel).await?;
    let previous = compare::previous(scope, compare_to, |scope| async move {
        share_of_voice_in(db, &scope, channel).await
    });
    if let Some(previous) = previous.await? {
        let then = &previous.value;
        for (now, earlier) in [
            (&mut current.overall, &then.overall),
            (&mut current.by_channel, &then.by_channel),
        ] {
            for share in now.iter_mut() {
                let same = |other: &&VoiceShare| other.brand == share.brand && other.channel == share.channel;
                // A brand without mentions then had a share of 0 of the window's mentions.
                let then_mentions = earlier.iter().find(same).map_or(0, |other| other.mentions);
                let then_total = earlier
                    .iter()
                    .find(|other| other.channel == share.channel)
                    .map_or(0, |other| other.total_mentions);
                share.compared = Some(compare_proportions(
                    previous.start(),
                    (share.mentions, share.total_mentions),
                    (then_mentions, then_total),
                ));
            }
        }
        current.definition = previous.describe(current.definition);
    }
    Ok(current)
}

async fn share_of_voice_in(
    db: &impl ConnectionTrait,
    scope: &Scope,
    channel: Option<&str>,
) -> Result<ShareOfVoice, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("WITH m AS (SELECT * FROM brand_mention WHERE period_start >= ")
        .bind(scope.window.from);
    sql.push(" AND period_start <= ").bind(scope.window.to);
    if let Some(channel) = channel {
        sql.push(" AND channel = ").bind(channel.to_owned());
    }
    sql.push(")");
    let sums = "CAST(SUM(mentions) AS BIGINT) AS mentions, CAST(SUM(positive) AS BIGINT) AS positive, \
                CAST(SUM(neutral) AS BIGINT) AS neutral, CAST(SUM(negative) AS BIGINT) AS negative";
    let groupings = [
        (
            "channel_month",
            "channel",
            "period_start",
            "channel, period_start, brand",
            "channel, period_start",
        ),
        ("month", "NULL", "period_start", "period_start, brand", "period_start"),
        ("channel", "channel", "NULL", "channel, brand", "channel"),
        ("all", "NULL", "NULL", "brand", ""),
    ];
    for (index, (name, channel_key, period_key, group_by, partition)) in groupings.iter().enumerate() {
        if index > 0 {
            sql.push(" UNION ALL");
        }
        let over = if partition.is_empty() {
            String::new()
        } else {
            format!("PARTITION BY {partition}")
        };
        sql.push(&format!(
            " SELECT '{name}' AS grouping, {channel_key} AS channel, {period_key} AS period_start, brand, {sums}, \
             CAST(SUM(SUM(mentions)) OVER ({over}) AS BIGINT) AS total_mentions FROM m GROUP BY {group_by}"
        ));
    }
    let mut result = ShareOfVoice {
        by_channel_month: Vec::new(),
        by_month: Vec::new(),
        by_channel: Vec::new(),
        overall: Vec::new(),
        definition: scope.describe(
            Rows::WindowOnly,
            Definition::new(
                "share_of_voice",
                1,
                "a brand's mentions / all brands' mentions in the same channel and month (or their sums); \
             net sentiment = (positive − negative) / mentions",
            ),
        ),
    };
    if let Some(channel) = channel {
        result.definition = result.definition.clone().with("channel", channel);
    }
    for row in sql.all(db).await? {
        let grouping: String = row.try_get("", "grouping")?;
        let mentions: i64 = row.try_get("", "mentions")?;
        let total_mentions: i64 = row.try_get("", "total_mentions")?;
        let (positive, negative): (i64, i64) = (row.try_get("", "positive")?, row.try_get("", "negative")?);
        #[allow(clippy::cast_precision_loss)]
        let ratio = |part: i64, whole: i64| (whole != 0).then(|| part as f64 / whole as f64);
        let share = VoiceShare {
            channel: row.try_get("", "channel")?,
            period_start: row.try_get("", "period_start")?,
            brand: row.try_get("", "brand")?,
            mentions,
            total_mentions,
            share: ratio(mentions, total_mentions),
            positive,
            neutral: row.try_get("", "neutral")?,
            negative,
            net_sentiment: ratio(positive - negative, mentions),
            compared: None,
        };
        match grouping.as_str() {
            "channel_month" => result.by_channel_month.push(share),
            "month" => result.by_month.push(share),
            "channel" => result.by_channel.push(share),
            _ => result.overall.push(share),
        }
    }
    let key = |share: &VoiceShare| (share.period_start, share.channel.clone(), share.brand.clone());
    for list in [
        &mut result.by_channel_month,
        &mut result.by_month,
        &mut result.by_channel,
        &mut result.overall,
    ] {
        list.sort_by_key(key);
    }
    Ok(result)
}
