//! Attribution (DESIGN.md §3): who earned a conversion's value. A
//! conversion is an order (its amount) or a WON lead (its amount); its
//! touches are the customer's touchpoints in the lookback window before
//! it (lower bound inclusive, the conversion instant excluded). Each model
//! splits the value over the touches ([`weights`]); credit is summed by
//! team, channel and campaign, and conversions without a touch go to NONE.
//!
//! The database joins conversions to their touches and streams them in
//! conversion order; Rust applies the weights and adds them into a few
//! dozen buckets, so memory does not grow with the data.

pub mod weights;

use std::collections::BTreeMap;

use entity::enums::Team;
use futures::StreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, StreamTrait};

use crate::db::sql::Sql;
use crate::error::Error;
use crate::insights::Definition;
use crate::insights::scope::Scope;
pub use weights::Model;

/// What converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// An order, at `orderedAt`, worth its amount.
    Order,
    /// A WON lead, at `closedAt`, worth its amount.
    WonLead,
}

impl Conversion {
    /// The lookback window of DESIGN.md §3.
    pub fn default_lookback_days(self) -> i64 {
        match self {
            Conversion::Order => 30,
            Conversion::WonLead => 90,
        }
    }
}

pub const DEFAULT_HALF_LIFE_DAYS: f64 = 7.0;

/// The bucket of credit that has no team, channel or campaign.
pub const NONE: &str = "NONE";

/// Credit summed into one bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credit {
    /// Fractional minor units: credits are not rounded per touch.
    pub credit_minor: f64,
    /// Credited conversions: the sum of the weights.
    pub conversions: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignCredit {
    /// `None` for the NONE bucket.
    pub campaign_id: Option<i64>,
    pub campaign_external_id: Option<String>,
    pub credit: Credit,
    pub spend_minor: Option<i64>,
    /// credit / spend; `None` without spend and for NONE.
    pub roi: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelCredit {
    pub model: Model,
    pub by_team: Vec<(String, Credit)>,
    pub by_channel: Vec<(String, Credit)>,
    pub by_campaign: Vec<CampaignCredit>,
}

#[derive(Debug, Clone)]
pub struct Attribution {
    pub conversion: Conversion,
    pub lookback_days: i64,
    pub half_life_days: f64,
    /// Distinct customers with a conversion: the population of the result.
    pub customers: i64,
    pub conversions: i64,
    pub conversions_with_touches: i64,
    pub conversions_without_touch: i64,
    pub total_value_minor: i64,
    pub no_touch_value_minor: i64,
    pub touches_in_window: i64,
    pub models: Vec<ModelCredit>,
    pub definition: Definition,
}

/// A touch as the stream delivers it.
struct Touch {
    age_days: f64,
    team: String,
    channel: String,
    campaign_id: Option<i64>,
}

/// Running totals per model and bucket.
#[derive(Default)]
struct Buckets {
    team: BTreeMap<(Model, String), Credit>,
    channel: BTreeMap<(Model, String), Credit>,
    campaign: BTreeMap<(Model, Option<i64>), Credit>,
}

impl Buckets {
    fn add_conversion(&mut self, value: f64, touches: &[Touch], half_life_days: f64) {
        let ages: Vec<f64> = touches.iter().map(|touch| touch.age_days).collect();
        for model in Model::ALL {
            for (touch, weight) in touches.iter().zip(weights::weights(model, &ages, half_life_days)) {
                let add = |credit: &mut Credit| {
                    credit.credit_minor += weight * value;
                    credit.conversions += weight;
                };
                add(self.team.entry((model, touch.team.clone())).or_default());
                add(self.channel.entry((model, touch.channel.clone())).or_default());
                add(self.campaign.entry((model, touch.campaign_id)).or_default());
            }
        }
    }
}

/// Attributes every conversion of `kind` in the scope's window.
pub async fn attribute(
    db: &DatabaseConnection,
    scope: &Scope,
    kind: Conversion,
    lookback_days: i64,
    half_life_days: f64,
) -> Result<Attribution, Error> {
    if !(1..=365).contains(&lookback_days) {
        return Err(Error::validation(
            "lookbackDays",
            format!("{lookback_days} is outside 1..=365"),
        ));
    }
    if !(half_life_days > 0.0 && half_life_days <= 365.0) {
        return Err(Error::validation(
            "halfLifeDays",
            format!("{half_life_days} is outside (0, 365]"),
        ));
    }
    let lookback_seconds = lookback_days * 86_400;
    let conversions = |sql: &mut Sql| match kind {
        Conversion::Order => {
            sql.push("SELECT o.id, o.customer_id, o.amount_minor AS value, ");
            sql.epoch_seconds("o.ordered_at").push(" AS at FROM orders o WHERE ");
            scope.orders_where(sql);
        }
        Conversion::WonLead => {
            sql.push("SELECT l.id, l.customer_id, COALESCE(l.amount_minor, 0) AS value, ");
            sql.epoch_seconds("l.closed_at")
                .push(" AS at FROM lead l WHERE l.stage = 'WON' AND l.closed_at >= ");
            sql.bind(scope.window.start())
                .push(" AND l.closed_at < ")
                .bind(scope.window.end());
            if let Some(account) = scope.account_id {
                sql.push(" AND l.account_id = ").bind(account);
            }
            scope.customer_filters(sql, "l.customer_id");
        }
    };

    let mut totals = Sql::new(db.get_database_backend());
    totals.push(
        "SELECT CAST(COUNT(*) AS BIGINT) AS conversions, CAST(COUNT(DISTINCT customer_id) AS BIGINT) AS customers, \
         CAST(COALESCE(SUM(value), 0) AS BIGINT) AS total FROM (",
    );
    conversions(&mut totals);
    totals.push(") c");
    let row = totals
        .one(db)
        .await?
        .ok_or_else(|| Error::Internal("no totals row".to_owned()))?;
    let conversion_count: i64 = row.try_get("", "conversions")?;
    let customers: i64 = row.try_get("", "customers")?;
    let total_value_minor: i64 = row.try_get("", "total")?;

    let mut touches_sql = Sql::new(db.get_database_backend());
    touches_sql.push("SELECT c.id AS conversion_id, c.value, c.at - ");
    touches_sql.epoch_seconds("t.occurred_at");
    touches_sql.push(" AS age_seconds, t.team, t.channel, t.campaign_id FROM (");
    conversions(&mut touches_sql);
    touches_sql.push(") c JOIN touchpoint t ON t.customer_id = c.customer_id WHERE ");
    touches_sql
        .epoch_seconds("t.occurred_at")
        .push(" >= c.at - ")
        .bind(lookback_seconds);
    touches_sql.push(" AND ").epoch_seconds("t.occurred_at").push(" < c.at");
    touches_sql
        .push(" ORDER BY c.id, t.occurred_at, ")
        .byte_ordered("t.external_id");

    let mut buckets = Buckets::default();
    let mut with_touches: i64 = 0;
    let mut touched_value: i64 = 0;
    let mut touches_in_window: i64 = 0;
    let mut current: Option<(i64, i64)> = None;
    let mut touches: Vec<Touch> = Vec::new();
    let stream = db.stream_raw(touches_sql.statement()).await?;
    let mut stream = std::pin::pin!(stream);
    while let Some(row) = stream.next().await {
        let row = row?;
        let conversion_id: i64 = row.try_get("", "conversion_id")?;
        let value: i64 = row.try_get("", "value")?;
        if current.is_some_and(|(id, _)| id != conversion_id) {
            if let Some((_, previous_value)) = current {
                #[allow(clippy::cast_precision_loss)]
                buckets.add_conversion(previous_value as f64, &touches, half_life_days);
            }
            touches.clear();
        }
        if current.is_none_or(|(id, _)| id != conversion_id) {
            with_touches += 1;
            touched_value += value;
            current = Some((conversion_id, value));
        }
        let age_seconds: i64 = row.try_get("", "age_seconds")?;
        #[allow(clippy::cast_precision_loss)]
        touches.push(Touch {
            age_days: age_seconds as f64 / 86_400.0,
            team: row.try_get("", "team")?,
            channel: row.try_get("", "channel")?,
            campaign_id: row.try_get("", "campaign_id")?,
        });
        touches_in_window += 1;
    }
    if let Some((_, value)) = current {
        #[allow(clippy::cast_precision_loss)]
        buckets.add_conversion(value as f64, &touches, half_life_days);
    }

    let no_touch_value_minor = total_value_minor - touched_value;
    let conversions_without_touch = conversion_count - with_touches;
    let models = assemble(db, &buckets, no_touch_value_minor, conversions_without_touch).await?;
    let definition = scope
        .describe(Definition::new(
            "attribution",
            1,
            "each conversion's value is split over the customer's touchpoints in the lookback window before it \
             (lower bound inclusive, the conversion instant excluded): FIRST_TOUCH, LAST_TOUCH, LINEAR, \
             TIME_DECAY (2^(−age/half-life), normalised), POSITION_BASED (40/20/40; 100 for one touch, 50/50 for \
             two); credit is summed by team, channel and campaign; conversions without a touch go to NONE, as does \
             campaign credit of touches without a campaign; ROI = campaign credit / spend",
        ))
        .with("conversion", format!("{kind:?}"))
        .with("lookbackDays", lookback_days)
        .with("halfLifeDays", half_life_days);
    Ok(Attribution {
        conversion: kind,
        lookback_days,
        half_life_days,
        customers,
        conversions: conversion_count,
        conversions_with_touches: with_touches,
        conversions_without_touch,
        total_value_minor,
        no_touch_value_minor,
        touches_in_window,
        models,
        definition,
    })
}

/// Lists every team, every channel that occurs in touchpoints and every
/// campaign (with 0 where nothing was credited), then NONE.
async fn assemble(
    db: &impl ConnectionTrait,
    buckets: &Buckets,
    no_touch_value_minor: i64,
    conversions_without_touch: i64,
) -> Result<Vec<ModelCredit>, Error> {
    let mut channels_sql = Sql::new(db.get_database_backend());
    channels_sql.push("SELECT DISTINCT channel FROM touchpoint ORDER BY channel");
    let mut channels = Vec::new();
    for row in channels_sql.all(db).await? {
        channels.push(row.try_get::<String>("", "channel")?);
    }
    let mut campaigns_sql = Sql::new(db.get_database_backend());
    campaigns_sql.push("SELECT id, external_id, spend_minor FROM campaign ORDER BY ");
    campaigns_sql.byte_ordered("external_id");
    let mut campaigns: Vec<(i64, String, i64)> = Vec::new();
    for row in campaigns_sql.all(db).await? {
        campaigns.push((
            row.try_get("", "id")?,
            row.try_get("", "external_id")?,
            row.try_get("", "spend_minor")?,
        ));
    }
    #[allow(clippy::cast_precision_loss)]
    let none = Credit {
        credit_minor: no_touch_value_minor as f64,
        conversions: conversions_without_touch as f64,
    };
    let mut models = Vec::with_capacity(Model::ALL.len());
    for model in Model::ALL {
        let mut by_team: Vec<(String, Credit)> = Team::ALL
            .iter()
            .map(|team| {
                let credit = buckets
                    .team
                    .get(&(model, team.as_str().to_owned()))
                    .cloned()
                    .unwrap_or_default();
                (team.as_str().to_owned(), credit)
            })
            .collect();
        by_team.push((NONE.to_owned(), none.clone()));
        let mut by_channel: Vec<(String, Credit)> = channels
            .iter()
            .map(|channel| {
                (
                    channel.clone(),
                    buckets
                        .channel
                        .get(&(model, channel.clone()))
                        .cloned()
                        .unwrap_or_default(),
                )
            })
            .collect();
        by_channel.push((NONE.to_owned(), none.clone()));
        let mut by_campaign: Vec<CampaignCredit> = campaigns
            .iter()
            .map(|(id, external_id, spend)| {
                let credit = buckets.campaign.get(&(model, Some(*id))).cloned().unwrap_or_default();
                #[allow(clippy::cast_precision_loss)]
                let roi = (*spend > 0).then(|| credit.credit_minor / *spend as f64);
                CampaignCredit {
                    campaign_id: Some(*id),
                    campaign_external_id: Some(external_id.clone()),
                    credit,
                    spend_minor: Some(*spend),
                    roi,
                }
            })
            .collect();
        let without_campaign = buckets.campaign.get(&(model, None)).cloned().unwrap_or_default();
        by_campaign.push(CampaignCredit {
            campaign_id: None,
            campaign_external_id: None,
            credit: Credit {
                credit_minor: none.credit_minor + without_campaign.credit_minor,
                conversions: none.conversions + without_campaign.conversions,
            },
            spend_minor: None,
            roi: None,
        });
        models.push(ModelCredit {
            model,
            by_team,
            by_channel,
            by_campaign,
        });
    }
    Ok(models)
}
