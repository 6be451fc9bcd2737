//! Business metrics as time series (`insights.series`): one point per
//! calendar period that meets the window, zero-filled and clipped to the
//! window, each with its `n`, a 95% interval where the value estimates a
//! population, and optionally a [`Delta`] against an earlier period.
//!
//! The database aggregates each record source once per request
//! ([`query`]); [`metric`] turns the aggregates into values and tests.

pub mod calendar;
pub mod metric;
pub mod query;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::NaiveTime;
use entity::enums::LeadSourceTeam;
use sea_orm::ConnectionTrait;

use self::calendar::Span;
pub use self::metric::{Estimate, Metric, Source};
use self::query::{Aggregate, Aggregates, Ranges};
use super::Definition;
use super::delta::Delta;
use super::nps::CompareTo;
use super::period::PeriodUnit;
use super::scope::Scope;
use crate::error::Error;

/// More points than this in one series is not a chart but a data export.
pub const MAX_POINTS: usize = 1_000;

/// The most metrics in one request.
pub const MAX_METRICS: usize = 20;

#[derive(Debug, Clone)]
pub struct Point {
    pub span: Span,
    pub estimate: Estimate,
    pub delta: Option<Delta>,
    /// The people behind the compared value (0 without `compareTo`).
    pub previous_population: i64,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub metric: Metric,
    pub points: Vec<Point>,
    /// The metric over the whole window (not a sum of the points for
    /// distinct counts, means and scores).
    pub total: Estimate,
    pub definition: Definition,
}

/// What a series request asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub metrics: Vec<Metric>,
    pub unit: PeriodUnit,
    pub compare_to: Option<CompareTo>,
    /// The lead's source team (lead metrics only).
    pub team: Option<LeadSourceTeam>,
}

impl Request {
    /// Refuses metrics that the filters do not apply to, rather than
    /// silently ignoring a filter.
    fn validate(&self, scope: &Scope) -> Result<(), Error> {
        if self.metrics.is_empty() || self.metrics.len() > MAX_METRICS {
            return Err(Error::validation(
                "metrics",
                format!("give between 1 and {MAX_METRICS} metrics"),
            ));
        }
        for (index, metric) in self.metrics.iter().enumerate() {
            if self.metrics[..index].contains(metric) {
                return Err(Error::validation(
                    "metrics",
                    format!("{} is listed twice", metric.name()),
                ));
            }
            let source = metric.source();
            let orders = matches!(source, Source::Orders | Source::FirstOrders);
            if scope.channel.is_some() && !orders {
                return Err(Error::validation(
                    "metrics",
                    format!(
                        "{} does not apply to filter.channel (the order channel); leave the channel out or ask for order metrics",
                        metric.name()
                    ),
                ));
            }
            let leads = matches!(source, Source::LeadsCreated | Source::LeadsWon);
            if self.team.is_some() && !leads {
                return Err(Error::validation(
                    "team",
                    format!("{} does not apply to team (the lead's source team)", metric.name()),
                ));
            }
        }
        Ok(())
    }
}

/// Computes every requested series over the scope's window.
pub async fn series(db: &impl ConnectionTrait, scope: &Scope, request: &Request) -> Result<Vec<Series>, Error> {
    request.validate(scope)?;
    let spans = calendar::spans(request.unit, &scope.window);
    if spans.len() > MAX_POINTS {
        return Err(Error::validation(
            "period",
            format!(
                "{} periods in the window; at most {MAX_POINTS} per series, choose a longer period",
                spans.len()
            ),
        ));
    }
    let lag = request.compare_to.map(|compare| compare.lag(request.unit));
    let compared_range = lag.and_then(|lag| {
        let first = calendar::whole(request.unit, spans.first()?.index - lag)?;
        let after_last = calendar::whole(request.unit, spans.last()?.index - lag + 1)?;
        Some((
            first.start.and_time(NaiveTime::MIN).and_utc(),
            after_last.start.and_time(NaiveTime::MIN).and_utc(),
        ))
    });
    let ranges = Ranges {
        window: (scope.window.start(), scope.window.end()),
        compared: compared_range,
    };

    let mut by_source: BTreeMap<Source, Aggregates> = BTreeMap::new();
    for metric in &request.metrics {
        let source = metric.source();
        if let Entry::Vacant(entry) = by_source.entry(source) {
            entry.insert(query::aggregate(db, source, scope, request.team, request.unit, &ranges).await?);
        }
    }

    let empty = Aggregate::default();
    let mut result = Vec::with_capacity(request.metrics.len());
    for &metric in &request.metrics {
        let aggregates = by_source.get(&metric.source()).cloned().unwrap_or_default();
        let points = spans
            .iter()
            .map(|span| {
                let current = aggregates.current.get(&span.index).unwrap_or(&empty);
                let estimate = metric.estimate(current);
                let mut previous_population = 0;
                let delta = lag.and_then(|lag| {
                    let earlier = calendar::whole(request.unit, span.index - lag)?;
                    let previous = aggregates.previous.get(&earlier.index).unwrap_or(&empty);
                    let before = metric.estimate(previous);
                    previous_population = before.population;
                    // A period's exposure is the share of it inside the window: whole
                    // periods count as equal exposure, whatever their length.
                    #[allow(clippy::cast_precision_loss)]
                    let exposure = span.days_covered() as f64 / span.days() as f64;
                    let test = metric.test((current, exposure), (previous, 1.0));
                    Some(Delta::new(earlier.start, estimate.value, before.value, before.n, test))
                });
                Point {
                    span: *span,
                    estimate,
                    delta,
                    previous_population,
                }
            })
            .collect();
        let mut definition = scope
            .describe(metric.source().rows(), Definition::new("series", 1, metric.formula()))
            .with("metric", metric.name())
            .with_enum("period", request.unit);
        if let Some(compare) = request.compare_to {
            definition = definition.with_enum("compareTo", compare).with(
                "comparison",
                "the whole earlier period; counts by the exact Poisson rate test (conditional \
                 binomial; a whole period is one unit of exposure, a clipped one the share of its days inside the window), means by Welch's t-test, NPS by the NPS difference z-test, \
                 sums of money untested; no p-value below 10 per side or with zero variance",
            );
        }
        if let Some(team) = request.team {
            definition = definition.with_enum("team", team);
        }
        result.push(Series {
            metric,
            points,
            total: metric.estimate(&aggregates.window),
            definition,
        });
    }
    Ok(result)
}
