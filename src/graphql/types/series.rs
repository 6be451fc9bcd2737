//! Output types of `insights.series`: one [`Series`] per requested metric,
//! its points zero-filled and clipped to the window.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};

use super::enums::Team;
use super::insights::{Definition, Delta, FromInsight, Suppression, all, rounded};
use crate::graphql::scalars::Date;
use crate::insights::series as domain;

/// A business metric over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::insights::series::Metric")]
pub enum SeriesMetric {
    /// Σ order amountMinor by orderedAt (`n` = orders).
    Revenue,
    /// Orders by orderedAt.
    Orders,
    /// Mean order amountMinor, with the 95% t interval.
    AverageOrderValue,
    /// Distinct customers with an order in the period.
    CustomersOrdering,
    /// Customers whose first order ever is in the period.
    NewCustomers,
    /// Customers with 2 or more orders in the period among those with one, with the Wilson interval.
    RepeatRate,
    /// Customers inactive for more than `churnThresholdDays` as of the period's last day, with the Wilson interval.
    ChurnRate,
    /// Leads by createdAt.
    LeadsCreated,
    /// WON leads by closedAt.
    LeadsWon,
    /// Σ amountMinor of WON leads by closedAt (`n` = won leads).
    WonRevenue,
    /// WON leads / leads closed WON or LOST, by closedAt, with the Wilson interval.
    WinRate,
    /// Net Promoter Score of every survey's scored responses, by respondedAt.
    Nps,
    /// The own brand's awareness among the answers about it, by respondedAt.
    Awareness,
    /// The own brand's consideration among the answers about it, by respondedAt.
    Consideration,
    /// The own brand's mentions among all brands' mentions, by month (MONTH, QUARTER or YEAR only).
    ShareOfVoice,
    /// Touchpoints by occurredAt: one series per touchpoint team (`team`).
    Touchpoints,
}

/// One metric over the window.
#[derive(Debug, Clone, SimpleObject)]
pub struct Series {
    pub metric: SeriesMetric,
    /// The touchpoints' team of a TOUCHPOINTS series; null for the other metrics.
    pub team: Option<Team>,
    /// Every period that meets the window, in time order, zero-filled.
    pub points: Vec<SeriesPoint>,
    /// The metric over the whole window.
    pub total: SeriesValue,
    pub definition: Definition,
}

/// A metric's value with its `n` and 95% interval. Its population is the
/// distinct customers behind its orders or leads, or its NPS respondents.
#[derive(Debug, Clone, SimpleObject)]
pub struct SeriesValue {
    /// Null for a mean or score of no records.
    pub value: Option<f64>,
    /// The records behind the value (orders, leads, responses, customers).
    pub n: Option<i64>,
    /// The 95% interval, where the value estimates a population.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Rates only: the numerator (value = count / n).
    pub count: Option<i64>,
    /// NPS only.
    pub promoters: Option<i64>,
    pub passives: Option<i64>,
    pub detractors: Option<i64>,
    /// True when the customers or respondents behind the value are below the minimum audience size for this
    /// viewer: the value, n, interval and counts are then null.
    pub suppressed: bool,
}

impl FromInsight<domain::Estimate> for SeriesValue {
    fn from_insight(e: domain::Estimate, rule: Suppression) -> Self {
        if rule.hides(e.population) {
            return Self {
                value: None,
                n: None,
                ci_low: None,
                ci_high: None,
                count: None,
                promoters: None,
                passives: None,
                detractors: None,
                suppressed: true,
            };
        }
        Self {
            value: rounded(e.value),
            n: Some(e.n),
            ci_low: rounded(e.interval.map(|(low, _)| low)),
            ci_high: rounded(e.interval.map(|(_, high)| high)),
            count: e.count,
            promoters: e.nps.map(|s| s.promoters),
            passives: e.nps.map(|s| s.passives),
            detractors: e.nps.map(|s| s.detractors),
            suppressed: false,
        }
    }
}

/// One period of a series.
#[derive(Debug, Clone, SimpleObject)]
pub struct SeriesPoint {
    /// The calendar period's first and last day, even when the window cuts it.
    pub period_start: Date,
    pub period_end: Date,
    /// The part of the period inside the window, which is all the point counts.
    pub covered_from: DateTime<Utc>,
    pub covered_to: DateTime<Utc>,
    pub days_covered: i64,
    /// True when the window cuts the period.
    pub partial: bool,
    pub value: Option<f64>,
    pub n: Option<i64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Rates only: the numerator (value = count / n).
    pub count: Option<i64>,
    pub promoters: Option<i64>,
    pub passives: Option<i64>,
    pub detractors: Option<i64>,
    /// True when the customers or respondents behind the point are below the minimum audience size for this
    /// viewer: the value, n, interval and counts are then null.
    pub suppressed: bool,
    /// Against the earlier period, with `compareTo`.
    pub compare_to: Option<Delta>,
}

impl FromInsight<domain::Point> for SeriesPoint {
    fn from_insight(p: domain::Point, rule: Suppression) -> Self {
        let population = p.estimate.population;
        let value = SeriesValue::from_insight(p.estimate, rule);
        Self {
            period_start: Date(p.span.start),
            period_end: Date(p.span.end),
            covered_from: p.span.covered_from_instant(),
            covered_to: p.span.covered_to_instant(),
            days_covered: p.span.days_covered(),
            partial: p.span.partial(),
            value: value.value,
            n: value.n,
            ci_low: value.ci_low,
            ci_high: value.ci_high,
            count: value.count,
            promoters: value.promoters,
            passives: value.passives,
            detractors: value.detractors,
            suppressed: value.suppressed,
            compare_to: p
                .delta
                .map(|delta| Delta::from_insight(delta, population, p.previous_population, rule)),
        }
    }
}

impl FromInsight<domain::Series> for Series {
    fn from_insight(s: domain::Series, rule: Suppression) -> Self {
        Self {
            metric: s.metric.into(),
            team: s.team.map(Into::into),
            points: all(s.points, rule),
            total: SeriesValue::from_insight(s.total, rule),
            definition: Definition::from_insight(s.definition, rule),
        }
    }
}
