//! The sales context of an account: order statistics, the NPS of its
//! contacts and the health score, all read for every account of a request
//! in one statement (loader [`AccountStatsOf`]).

use async_graphql::{Context, SimpleObject};
use chrono::{NaiveDate, Utc};

use super::enums::Team;
use super::insights::{FromInsight, NpsScore, Suppression};
use super::money;
use super::touchpoint::Touchpoint;
use crate::accounts::{self, health};
use crate::config::ApiConfig;
use crate::graphql::error::IntoGraphql;
use crate::graphql::loaders::{AccountStatsOf, Loaders, TeamTouchpointsOf};
use crate::graphql::scalars::{Date, Money};

/// Orders in a trailing window ending on `asOf`.
#[derive(Debug, Clone, SimpleObject)]
pub struct OrderWindowStats {
    pub days: i64,
    pub orders: i64,
    pub value: Money,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct OrderStats {
    pub as_of: Date,
    pub days_since_last_order: Option<i64>,
    pub last30_days: OrderWindowStats,
    pub last90_days: OrderWindowStats,
    pub last365_days: OrderWindowStats,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct HealthComponent {
    /// recency, value_trend, nps or engagement.
    pub name: String,
    /// Its share of the score (the weights sum to 1).
    pub weight: f64,
    /// The component's own score, 0–100.
    pub score: f64,
    /// What was measured.
    pub basis: String,
}

/// Account health, 0–100: a weighted score of documented components.
#[derive(Debug, Clone, SimpleObject)]
pub struct Health {
    pub as_of: Date,
    pub score: f64,
    pub components: Vec<HealthComponent>,
    pub formula: String,
}

/// The latest touchpoints of one team.
#[derive(SimpleObject)]
pub struct TeamTouchpoints {
    pub team: Team,
    pub touchpoints: Vec<Touchpoint>,
}

/// The stats of an account, through the request's loader.
pub(crate) async fn stats_of(
    ctx: &Context<'_>,
    account_id: i64,
    as_of: Option<Date>,
) -> async_graphql::Result<accounts::AccountStats> {
    let as_of: NaiveDate = as_of.map_or_else(|| Utc::now().date_naive(), |date| date.0);
    let loaders = ctx.data::<Loaders>()?;
    let stats = loaders.load_one(AccountStatsOf { account_id, as_of }).await.gql()?;
    stats.ok_or_else(|| async_graphql::Error::new("the account vanished"))
}

pub(crate) fn order_stats(ctx: &Context<'_>, stats: &accounts::AccountStats) -> async_graphql::Result<OrderStats> {
    let window = |index: usize| -> async_graphql::Result<OrderWindowStats> {
        let window = stats.windows[index];
        Ok(OrderWindowStats {
            days: window.days,
            orders: window.orders,
            value: money(ctx, window.value_minor)?,
        })
    };
    Ok(OrderStats {
        as_of: Date(stats.as_of),
        days_since_last_order: stats.days_since_last_order,
        last30_days: window(0)?,
        last90_days: window(1)?,
        last365_days: window(2)?,
    })
}

pub(crate) fn health_of(ctx: &Context<'_>, stats: &accounts::AccountStats) -> async_graphql::Result<Health> {
    let health = health::health(stats, &ctx.data::<ApiConfig>()?.ingest.currency);
    Ok(Health {
        as_of: Date(stats.as_of),
        score: health.score,
        components: health
            .components
            .into_iter()
            .map(|c| HealthComponent {
                name: c.name.to_owned(),
                weight: c.weight,
                score: c.score,
                basis: c.basis,
            })
            .collect(),
        formula: health::FORMULA.to_owned(),
    })
}

pub(crate) fn nps_of(stats: &accounts::AccountStats, rule: Suppression) -> NpsScore {
    NpsScore::from_insight(stats.nps, rule)
}

pub(crate) async fn touchpoints_by_team(
    ctx: &Context<'_>,
    account_id: i64,
    per_team: u64,
) -> async_graphql::Result<Vec<TeamTouchpoints>> {
    let loaders = ctx.data::<Loaders>()?;
    let touchpoints = loaders
        .load_one(TeamTouchpointsOf { account_id, per_team })
        .await
        .gql()?
        .unwrap_or_default();
    let mut teams: Vec<TeamTouchpoints> = Vec::new();
    for touchpoint in touchpoints {
        let team: Team = touchpoint.team.into();
        match teams.iter_mut().find(|group| group.team == team) {
            Some(group) => group.touchpoints.push(touchpoint.into()),
            None => teams.push(TeamTouchpoints {
                team,
                touchpoints: vec![touchpoint.into()],
            }),
        }
    }
    Ok(teams)
}
