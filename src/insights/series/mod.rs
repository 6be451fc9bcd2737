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

use chrono::NaiveTime;
use entity::enums::{LeadSourceTeam, Team};
use sea_orm::ConnectionTrait;

use self::calendar::Span;
pub use self::metric::{Estimate, Metric, Source};
use self::query::{Aggregate, Aggregates, Ranges, Selection};
use super::Definition;
use super::delta::Delta;
use super::nps::CompareTo;
use super::period::{PeriodUnit, index_of};
use super::scope::{Rows, Scope};
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
    /// The touchpoints' team of a TOUCHPOINTS series (one series per team).
    pub team: Option<Team>,
    pub points: Vec<Point>,
    /// The metric over the whole window (not a sum of the points for
    /// distinct counts, means, scores and rates).
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
    /// The brand of AWARENESS, CONSIDERATION and SHARE_OF_VOICE.
    pub own_brand: String,
    /// The inactivity threshold of CHURN_RATE, in days.
    pub churn_threshold_days: i64,
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
        if !(1..=3650).contains(&self.churn_threshold_days) {
            return Err(Error::validation(
                "churnThresholdDays",
                format!("{} is outside 1..=3650", self.churn_threshold_days),
            ));
        }
        for (index, metric) in self.metrics.iter().enumerate() {
            if self.metrics[..index].contains(metric) {
                return Err(Error::validation(
                    "metrics",
                    format!("{} is listed twice", metric.name()),
                ));
            }
            let source = metric.source(None);
            let rows = source.rows();
            if scope.channel.is_some() && rows != Rows::Orders {
                return Err(Error::validation(
                    "metrics",
                    format!(
                        "{} does not apply to filter.channel (the order channel); leave the channel out or ask for order metrics",
                        metric.name()
                    ),
                ));
            }
            let filtered = scope.region.is_some()
                || scope.acquisition_channel.is_some()
                || scope.account_id.is_some()
                || scope.segment_id.is_some();
            if rows == Rows::WindowOnly && filtered {
                return Err(Error::validation(
                    "metrics",
                    format!(
                        "{} counts brand mentions, which have no customer: it takes no filter but the window",
                        metric.name()
                    ),
                ));
            }
            if source == Source::Mentions && matches!(self.unit, PeriodUnit::Day | PeriodUnit::Week) {
                return Err(Error::validation(
                    "period",
                    format!("{} is counted per month; choose MONTH, QUARTER or YEAR", metric.name()),
                ));
            }
            if self.team.is_some() && !source.is_leads() {
                return Err(Error::validation(
                    "team",
                    format!("{} does not apply to team (the lead's source team)", metric.name()),
                ));
            }
        }
        Ok(())
    }

    /// The series to compute: one per metric, and one per team for TOUCHPOINTS.
    fn lines(&self) -> Vec<(Metric, Option<Team>)> {
        self.metrics
            .iter()
            .flat_map(|&metric| match metric {
                Metric::Touchpoints => Team::ALL.iter().map(|&team| (metric, Some(team))).collect(),
                _ => vec![(metric, None)],
            })
            .collect()
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
    let selection = Selection {
        lead_team: request.team,
        own_brand: &request.own_brand,
    };

    let lines = request.lines();
    let mut by_source: BTreeMap<Source, Aggregates> = BTreeMap::new();
    for &(metric, team) in &lines {
        let source = metric.source(team);
        if by_source.contains_key(&source) {
            continue;
        }
        if source == Source::OrderHistory {
            by_source.insert(source, churn_aggregates(db, scope, request, &spans, lag).await?);
            continue;
        }
        let mut splits = query::aggregate(db, source, scope, &selection, request.unit, &ranges).await?;
        if let Source::Touchpoints(_) = source {
            // One statement serves every team's series.
            for &team in Team::ALL {
                let aggregates = splits.remove(team.as_str()).unwrap_or_default();
                by_source.insert(Source::Touchpoints(team), aggregates);
            }
        } else {
            by_source.insert(source, splits.remove("").unwrap_or_default());
        }
    }

    let empty = Aggregate::default();
    let mut result = Vec::with_capacity(lines.len());
    for (metric, team) in lines {
        let source = metric.source(team);
        let aggregates = by_source.get(&source).cloned().unwrap_or_default();
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
        result.push(Series {
            metric,
            team,
            points,
            total: metric.estimate(&aggregates.window),
            definition: definition(scope, request, metric, team),
        });
    }
    Ok(result)
}

/// What a series counts, with the parameters applied.
fn definition(scope: &Scope, request: &Request, metric: Metric, team: Option<Team>) -> Definition {
    let source = metric.source(team);
    let mut definition = scope
        .describe(source.rows(), Definition::new("series", 1, metric.formula()))
        .with("metric", metric.name())
        .with_enum("period", request.unit);
    if let Some(compare) = request.compare_to {
        definition = definition.with_enum("compareTo", compare).with(
            "comparison",
            "the whole earlier period; counts by the exact Poisson rate test (conditional \
             binomial; a whole period is one unit of exposure, a clipped one the share of its days inside the window), \
             rates by the pooled two-proportion z-test, means by Welch's t-test, NPS by the NPS difference z-test, \
             sums of money untested; no p-value below 10 per side or with zero variance",
        );
    }
    if let Some(team) = request.team.filter(|_| source.is_leads()) {
        definition = definition.with_enum("team", team);
    }
    if let Some(team) = team {
        definition = definition.with_enum("touchpointTeam", team);
    }
    match source {
        Source::OrderHistory => definition.with("churnThresholdDays", request.churn_threshold_days),
        Source::BrandAnswers(_) | Source::Mentions => definition.with("ownBrand", &request.own_brand),
        _ => definition,
    }
}

/// CHURN_RATE's aggregates: churn as of each point's last covered day, of
/// each compared period's last day, and of the window's last day.
async fn churn_aggregates(
    db: &impl ConnectionTrait,
    scope: &Scope,
    request: &Request,
    spans: &[Span],
    lag: Option<i64>,
) -> Result<Aggregates, Error> {
    let day = |date| index_of(PeriodUnit::Day, date);
    let current: Vec<(i64, i64)> = spans.iter().map(|span| (span.index, day(span.covered_to))).collect();
    let previous: Vec<(i64, i64)> = lag
        .map(|lag| {
            spans
                .iter()
                .filter_map(|span| calendar::whole(request.unit, span.index - lag))
                .map(|whole| (whole.index, day(whole.end)))
                .collect()
        })
        .unwrap_or_default();
    let window_day = day(scope.window.to);
    let mut days: Vec<i64> = current.iter().chain(&previous).map(|&(_, day)| day).collect();
    days.push(window_day);
    days.sort_unstable();
    days.dedup();
    let counts = query::churn(db, scope, request.churn_threshold_days, &days).await?;
    let aggregate = |day: i64| {
        let (customers, churned) = counts.get(&day).copied().unwrap_or_default();
        Aggregate {
            n: customers,
            customers,
            successes: churned,
            ..Aggregate::default()
        }
    };
    Ok(Aggregates {
        current: current.iter().map(|&(index, day)| (index, aggregate(day))).collect(),
        previous: previous.iter().map(|&(index, day)| (index, aggregate(day))).collect(),
        window: aggregate(window_day),
    })
}
