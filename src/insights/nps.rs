//! Net Promoter Score (DESIGN.md §3): promoters score 9–10, passives 7–8,
//! detractors 0–6; NPS = 100·(P − D)/n with a 95% interval. Every survey's
//! scored responses are pooled.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::Definition;
use super::delta::{self, Delta};
use super::period::{PeriodUnit, index_of, start_of};
use super::scope::{Rows, Scope};
use super::stats::{NpsScore, nps};
use crate::db::sql::Sql;
use crate::error::Error;

/// Which earlier point a time series compares each point with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareTo {
    PreviousPeriod,
    PreviousYear,
}

impl CompareTo {
    /// How many periods of `unit` back the compared point lies.
    pub fn lag(self, unit: PeriodUnit) -> i64 {
        match (self, unit) {
            (CompareTo::PreviousPeriod, _) => 1,
            (CompareTo::PreviousYear, PeriodUnit::Day) => 365,
            (CompareTo::PreviousYear, PeriodUnit::Week) => 52,
            (CompareTo::PreviousYear, PeriodUnit::Month) => 12,
            (CompareTo::PreviousYear, PeriodUnit::Quarter) => 4,
            (CompareTo::PreviousYear, PeriodUnit::Year) => 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NpsPoint {
    pub period_start: NaiveDate,
    pub score: NpsScore,
    pub compared: Option<Delta>,
}

#[derive(Debug, Clone)]
pub struct NpsGroup {
    pub key: String,
    pub score: NpsScore,
}

#[derive(Debug, Clone)]
pub struct NpsResult {
    pub overall: NpsScore,
    pub series: Vec<NpsPoint>,
    pub by_region: Vec<NpsGroup>,
    pub by_channel: Vec<NpsGroup>,
    pub by_account: Vec<NpsGroup>,
    pub definition: Definition,
}

/// NPS over the scored responses of the window: overall, per period (with
/// an optional comparison), per response region, per customer acquisition
/// channel and per customer account.
pub async fn net_promoter_score(
    db: &impl ConnectionTrait,
    scope: &Scope,
    unit: PeriodUnit,
    compare_to: Option<CompareTo>,
) -> Result<NpsResult, Error> {
    let first_period = index_of(unit, scope.window.from);
    let lag = compare_to.map_or(0, |compare| compare.lag(unit));
    let series_start = start_of(unit, first_period - lag).unwrap_or(scope.window.from);

    let mut sql = Sql::new(db.get_database_backend());
    sql.push("WITH scored AS (SELECT r.nps_score, r.region, r.responded_at, c.acquisition_channel, c.account_id, ");
    sql.period_index("r.responded_at", unit);
    sql.push(" AS period FROM survey_response r LEFT JOIN customer c ON c.id = r.customer_id WHERE r.nps_score IS NOT NULL AND r.responded_at >= ");
    sql.bind(series_start.and_time(chrono::NaiveTime::MIN).and_utc());
    sql.push(" AND r.responded_at < ").bind(scope.window.end());
    scope.response_filters(&mut sql);
    sql.push(")");
    let counts = "CAST(COALESCE(SUM(CASE WHEN nps_score >= 9 THEN 1 ELSE 0 END), 0) AS BIGINT) AS promoters, \
                  CAST(COALESCE(SUM(CASE WHEN nps_score BETWEEN 7 AND 8 THEN 1 ELSE 0 END), 0) AS BIGINT) AS passives, \
                  CAST(COALESCE(SUM(CASE WHEN nps_score <= 6 THEN 1 ELSE 0 END), 0) AS BIGINT) AS detractors";
    let in_window = "responded_at >= ";
    let groupings = [
        ("period", "CAST(period AS TEXT)", false),
        ("region", "region", true),
        ("channel", "acquisition_channel", true),
        ("account", "CAST(account_id AS TEXT)", true),
        ("all", "''", true),
    ];
    for (index, (name, key, window_only)) in groupings.iter().enumerate() {
        if index > 0 {
            sql.push(" UNION ALL");
        }
        sql.push(&format!(
            " SELECT '{name}' AS grouping, {key} AS key, {counts} FROM scored"
        ));
        if *window_only {
            sql.push(" WHERE ").push(in_window).bind(scope.window.start());
        }
        if *name != "all" {
            sql.push(&format!(" GROUP BY {key}"));
        }
    }

    let mut overall = nps(0, 0, 0);
    let mut periods: BTreeMap<i64, NpsScore> = BTreeMap::new();
    let (mut by_region, mut by_channel, mut by_account) = (Vec::new(), Vec::new(), Vec::new());
    for row in sql.all(db).await? {
        let grouping: String = row.try_get("", "grouping")?;
        let key: Option<String> = row.try_get("", "key")?;
        let score = nps(
            row.try_get("", "promoters")?,
            row.try_get("", "passives")?,
            row.try_get("", "detractors")?,
        );
        if score.n == 0 {
            continue;
        }
        match (grouping.as_str(), key) {
            ("all", _) => overall = score,
            ("period", Some(key)) => {
                if let Ok(index) = key.parse::<i64>() {
                    periods.insert(index, score);
                }
            }
            ("region", Some(key)) => by_region.push(NpsGroup { key, score }),
            ("channel", Some(key)) => by_channel.push(NpsGroup { key, score }),
            ("account", Some(key)) => by_account.push(NpsGroup { key, score }),
            _ => {}
        }
    }
    for groups in [&mut by_region, &mut by_channel, &mut by_account] {
        groups.sort_by(|a, b| a.key.cmp(&b.key));
    }

    let last_period = index_of(unit, scope.window.to);
    let mut series = Vec::new();
    for (&index, score) in periods.range(first_period..=last_period) {
        let Some(period_start) = start_of(unit, index) else {
            continue;
        };
        let compared = compare_to.map(|compare| {
            let earlier_index = index - compare.lag(unit);
            let earlier = periods.get(&earlier_index);
            compare_nps(start_of(unit, earlier_index).unwrap_or(period_start), score, earlier)
        });
        series.push(NpsPoint {
            period_start,
            score: *score,
            compared,
        });
    }

    let mut definition = scope
        .describe(
            Rows::People,
            Definition::new(
                "nps",
                1,
                "100 × (promoters − detractors) / respondents, promoters scoring 9–10 and detractors 0–6; \
             95% CI = NPS ± z·100·√(var/n) with var = p_P + p_D − (p_P − p_D)²",
            ),
        )
        .with_enum("period", unit);
    if let Some(compare) = compare_to {
        definition = definition.with_enum("compareTo", compare);
    }
    Ok(NpsResult {
        overall,
        series,
        by_region,
        by_channel,
        by_account,
        definition,
    })
}

/// The change from `earlier` (no responses when absent) to `current`,
/// with the NPS difference z-test.
fn compare_nps(period_start: NaiveDate, current: &NpsScore, earlier: Option<&NpsScore>) -> Delta {
    let earlier = earlier.copied().unwrap_or_else(|| nps(0, 0, 0));
    Delta::new(
        period_start,
        current.nps,
        earlier.nps,
        earlier.n,
        delta::nps_difference(current, &earlier),
    )
}
