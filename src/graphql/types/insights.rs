//! Output types of `insights { … }`, each built from the domain result of
//! [`crate::insights`] under the viewer's [`Suppression`] ([`FromInsight`]):
//! a value over fewer people than the minimum audience size is null with
//! `suppressed: true` for viewers without PII access. Rates come as
//! [`Rate`] (count, n, rate, interval); every result has a [`Definition`].

use async_graphql::{Context, Enum, SimpleObject};

use super::enums::{ProductTouchpoint, Team};
use crate::auth::Viewer;
use crate::config::ApiConfig;
use crate::graphql::scalars::{BigInt, Date};
pub use crate::insights::suppression::Suppression;
use crate::insights::{self as domain, stats};

/// The suppression rule of the request's viewer: the one place that reads
/// the viewer and the configured minimum audience size for it.
pub fn suppression(ctx: &Context<'_>) -> async_graphql::Result<Suppression> {
    let viewer = ctx.data::<Viewer>()?;
    let minimum = ctx.data::<ApiConfig>()?.min_audience_size;
    Ok(Suppression::for_viewer(viewer, minimum))
}

/// An API type built from a domain result, withholding what `rule` hides.
pub trait FromInsight<D>: Sized {
    fn from_insight(value: D, rule: Suppression) -> Self;
}

/// Converts every item of a list.
pub fn all<D, T: FromInsight<D>>(values: Vec<D>, rule: Suppression) -> Vec<T> {
    values.into_iter().map(|value| T::from_insight(value, rule)).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::db::sql::PeriodUnit")]
pub enum Period {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::insights::retention::CohortBy")]
pub enum CohortBy {
    /// The period of the customer's first order.
    FirstOrder,
    /// The period the customer was first seen.
    Signup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::insights::retention::RetentionMode")]
pub enum RetentionMode {
    /// Retained at k: ordered in period k.
    Classic,
    /// Retained at k: ordered in period k or any later one.
    Rolling,
}

/// Which leads a revenue cycle counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[graphql(remote = "crate::insights::revenue_cycle::CycleBasis")]
pub enum CycleBasis {
    /// Leads created in the window: a cohort and how far it progressed.
    #[default]
    Created,
    /// Leads closed (WON or LOST) in the window, by closedAt: won revenue and win rate by close date.
    Closed,
}

/// What a value is compared with. A series point (nps, brandFunnel,
/// series) is compared with the point one period or one year earlier; a
/// whole-window insight (repeatPurchase, churn, clv, revenueCycle,
/// shareOfVoice, productTests) with the same insight, all other filters
/// equal, over the compared window below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::insights::nps::CompareTo")]
pub enum CompareTo {
    /// The period before; for a whole window, the window of as many days ending the day before `from`.
    PreviousPeriod,
    /// A year earlier; for a whole window, the window with both ends one calendar year earlier
    /// (29 February becomes the 28th).
    PreviousYear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::insights::drivers::Outcome")]
pub enum DriverOutcome {
    PurchaseIntent,
    NpsScore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::insights::drivers::Quadrant")]
pub enum Quadrant {
    /// Important and rated high: keep it up.
    KeyStrength,
    /// Important and rated low: fix this first.
    PriorityToImprove,
    /// Less important and rated high.
    Maintain,
    /// Less important and rated low.
    LowPriority,
}

/// What a number means.
#[derive(Debug, Clone, SimpleObject)]
pub struct Definition {
    /// A stable metric id.
    pub metric: String,
    pub version: i32,
    /// The formula in words.
    pub formula: String,
    /// The parameters actually applied, filters included.
    pub parameters: Vec<Parameter>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Parameter {
    pub name: String,
    pub value: String,
}

/// The parameter a definition carries when small populations are suppressed.
pub const SUPPRESSION_PARAMETER: &str = "minimumAudienceSize";

impl FromInsight<domain::Definition> for Definition {
    /// Under suppression the definition says so: `minimumAudienceSize`
    /// names the smallest population whose values are shown.
    fn from_insight(definition: domain::Definition, rule: Suppression) -> Self {
        let mut parameters: Vec<Parameter> = definition
            .parameters
            .into_iter()
            .map(|parameter| Parameter {
                name: parameter.name,
                value: match parameter.value {
                    domain::ParameterValue::Text(text) => text,
                    domain::ParameterValue::Id { type_name, row } => {
                        crate::graphql::ids::encode(type_name, row).to_string()
                    }
                },
            })
            .collect();
        if let Some(minimum) = rule.minimum() {
            parameters.push(Parameter {
                name: SUPPRESSION_PARAMETER.to_owned(),
                value: minimum.to_string(),
            });
        }
        Self {
            metric: definition.metric.to_owned(),
            version: i32::try_from(definition.version).unwrap_or(i32::MAX),
            formula: definition.formula.to_owned(),
            parameters,
        }
    }
}

/// A proportion `count / n` with its Wilson 95% interval; the rate and
/// bounds are null when n = 0. Its population is `n`; when that is
/// suppressed, every field is null.
#[derive(Debug, Clone, SimpleObject)]
pub struct Rate {
    pub count: Option<i64>,
    pub n: Option<i64>,
    pub rate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// True when n is below the minimum audience size for this viewer: every field is then null.
    pub suppressed: bool,
}

impl FromInsight<stats::Proportion> for Rate {
    fn from_insight(p: stats::Proportion, rule: Suppression) -> Self {
        let shown = |value| rule.shown(p.n, value).flatten();
        Self {
            count: rule.shown(p.n, p.count),
            n: rule.shown(p.n, p.n),
            rate: shown(rounded(p.rate)),
            ci_low: shown(rounded(p.ci_low)),
            ci_high: shown(rounded(p.ci_high)),
            suppressed: rule.hides(p.n),
        }
    }
}

/// A Net Promoter Score with its counts and 95% interval (null when n = 0).
/// Its population is `n`, the respondents; when that is suppressed, every
/// field is null.
#[derive(Debug, Clone, SimpleObject)]
pub struct NpsScore {
    pub n: Option<i64>,
    pub promoters: Option<i64>,
    pub passives: Option<i64>,
    pub detractors: Option<i64>,
    pub nps: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// True when n is below the minimum audience size for this viewer: every field is then null.
    pub suppressed: bool,
}

impl FromInsight<stats::NpsScore> for NpsScore {
    fn from_insight(s: stats::NpsScore, rule: Suppression) -> Self {
        let count = |value| rule.shown(s.n, value);
        let shown = |value| rule.shown(s.n, value).flatten();
        Self {
            n: count(s.n),
            promoters: count(s.promoters),
            passives: count(s.passives),
            detractors: count(s.detractors),
            nps: shown(rounded(s.nps)),
            ci_low: shown(rounded(s.ci_low)),
            ci_high: shown(rounded(s.ci_high)),
            suppressed: rule.hides(s.n),
        }
    }
}

/// Rates, scores, means and changes are rounded to this many decimals in
/// responses, so that `24.999999999999996` reads `25`; p-values are not,
/// so that a very small one stays distinguishable from zero.
pub const DECIMALS: i32 = 10;

/// `value` rounded to [`DECIMALS`] decimal places. Values of 10⁶ and more
/// carry no digits that far down, so they pass unchanged.
pub fn rounded(value: Option<f64>) -> Option<f64> {
    let scale = 10f64.powi(DECIMALS);
    value.map(|value| {
        if value.abs() >= 1e6 {
            value
        } else {
            (value * scale).round() / scale
        }
    })
}

/// A value against the value of an earlier period (`compareTo`), with a
/// two-sided test that the change is zero.
#[derive(Debug, Clone, SimpleObject)]
pub struct Delta {
    /// The first day of the period compared with.
    pub previous_period_start: Date,
    pub previous: Option<f64>,
    /// The `n` of the earlier value.
    pub previous_n: Option<i64>,
    /// value − previous.
    pub change: Option<f64>,
    /// change / previous; null when previous is 0 or null.
    pub relative_change: Option<f64>,
    /// Two-sided p-value that the change is zero; null when the samples
    /// cannot support a test (`method` says why).
    pub p_value: Option<f64>,
    /// The test: EXACT_POISSON_CONDITIONAL_BINOMIAL (counts), WELCH_T
    /// (means), NPS_DIFFERENCE_Z, TWO_PROPORTION_Z (rates), or
    /// `NONE: <reason>` (fewer than 10 on one side, zero variance in both
    /// samples, a sum of money).
    pub method: String,
    /// The z statistic of the z-tests.
    pub z: Option<f64>,
    /// True when either period's population is below the minimum audience size for this viewer: the earlier
    /// value, its n, the change and the test are then null (method: NONE: suppressed).
    pub suppressed: bool,
}

/// The method of a comparison that is withheld.
pub const NONE_SUPPRESSED: &str = "NONE: suppressed";

impl Delta {
    /// The comparison of a value over `population` people with an earlier
    /// one over `previous_population`: withheld when either is, since the
    /// change would give the hidden value away.
    pub fn from_insight(d: domain::delta::Delta, population: i64, previous_population: i64, rule: Suppression) -> Self {
        if rule.hides(population) || rule.hides(previous_population) {
            return Self {
                previous_period_start: Date(d.previous_period_start),
                previous: None,
                previous_n: None,
                change: None,
                relative_change: None,
                p_value: None,
                method: NONE_SUPPRESSED.to_owned(),
                z: None,
                suppressed: true,
            };
        }
        Self {
            previous_period_start: Date(d.previous_period_start),
            previous: rounded(d.previous),
            previous_n: Some(d.previous_n),
            change: rounded(d.change),
            relative_change: rounded(d.relative_change),
            p_value: d.test.p_value,
            method: d.test.method.to_owned(),
            z: rounded(d.test.z),
            suppressed: false,
        }
    }
}

impl Delta {
    /// The comparison of a value whose population is its `n`, as the
    /// earlier value's is its `previous_n` (rates, scores, means).
    pub fn of_rate(d: domain::delta::Delta, population: i64, rule: Suppression) -> Self {
        let previous_n = d.previous_n;
        Self::from_insight(d, population, previous_n, rule)
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Retention {
    pub cohorts: Vec<Cohort>,
    pub definition: Definition,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Cohort {
    pub cohort_start: Date,
    /// The cohort's customers: the population of every offset.
    pub size: Option<i64>,
    pub offsets: Vec<RetentionPoint>,
    /// True when size is below the minimum audience size for this viewer: size and every offset are then
    /// null.
    pub suppressed: bool,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RetentionPoint {
    pub offset: i64,
    pub period_start: Date,
    pub retained: Rate,
}

impl FromInsight<domain::retention::Retention> for Retention {
    fn from_insight(r: domain::retention::Retention, rule: Suppression) -> Self {
        Self {
            cohorts: r
                .cohorts
                .into_iter()
                .map(|c| Cohort {
                    cohort_start: Date(c.start),
                    size: rule.shown(c.size, c.size),
                    offsets: c
                        .offsets
                        .into_iter()
                        .map(|o| RetentionPoint {
                            offset: o.offset,
                            period_start: Date(o.period_start),
                            retained: Rate::from_insight(o.rate, rule),
                        })
                        .collect(),
                    suppressed: rule.hides(c.size),
                })
                .collect(),
            definition: Definition::from_insight(r.definition, rule),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RepeatPurchase {
    /// The population of the rate.
    pub customers_with_orders: Option<i64>,
    pub customers_with_repeat: Option<i64>,
    pub rate: Rate,
    /// With `compareTo`: the rate against the compared window's (two-proportion z-test).
    pub compared: Option<Delta>,
    /// True when customersWithOrders is below the minimum audience size for this viewer: the counts and the
    /// rate are then null.
    pub suppressed: bool,
    pub definition: Definition,
}

impl FromInsight<domain::customers::RepeatPurchase> for RepeatPurchase {
    fn from_insight(r: domain::customers::RepeatPurchase, rule: Suppression) -> Self {
        let population = r.customers_with_orders;
        Self {
            customers_with_orders: rule.shown(population, r.customers_with_orders),
            customers_with_repeat: rule.shown(population, r.customers_with_repeat),
            rate: Rate::from_insight(r.rate, rule),
            compared: r.compared.map(|d| Delta::of_rate(d, population, rule)),
            suppressed: rule.hides(population),
            definition: Definition::from_insight(r.definition, rule),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Churn {
    pub as_of: Date,
    pub threshold_days: i64,
    /// The population of the rate.
    pub customers_with_orders: Option<i64>,
    pub churned: Option<i64>,
    pub rate: Rate,
    /// With `compareTo`: the rate against the one as of the compared window's last day (two-proportion z-test).
    pub compared: Option<Delta>,
    /// True when customersWithOrders is below the minimum audience size for this viewer: the counts and the
    /// rate are then null.
    pub suppressed: bool,
    pub definition: Definition,
}

impl FromInsight<domain::customers::Churn> for Churn {
    fn from_insight(c: domain::customers::Churn, rule: Suppression) -> Self {
        let population = c.customers_with_orders;
        Self {
            as_of: Date(c.as_of),
            threshold_days: c.threshold_days,
            customers_with_orders: rule.shown(population, c.customers_with_orders),
            churned: rule.shown(population, c.churned),
            rate: Rate::from_insight(c.rate, rule),
            compared: c.compared.map(|d| Delta::of_rate(d, population, rule)),
            suppressed: rule.hides(population),
            definition: Definition::from_insight(c.definition, rule),
        }
    }
}

/// How many customers have each score (null when the summary is suppressed).
#[derive(Debug, Clone, SimpleObject)]
pub struct ScoreCount {
    pub score: i64,
    pub customers: Option<i64>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RfmScoreCounts {
    pub r: Vec<ScoreCount>,
    pub f: Vec<ScoreCount>,
    pub m: Vec<ScoreCount>,
}

/// Customers in one recency × frequency cell (null when the summary is suppressed).
#[derive(Debug, Clone, SimpleObject)]
pub struct RfmCell {
    pub r: i64,
    pub f: i64,
    pub customers: Option<i64>,
}

/// One customer's RFM values and scores (5 is best). A row describes one
/// customer, so below a minimum audience size above 1 its values are
/// withheld from viewers without PII access.
#[derive(Debug, Clone, SimpleObject)]
pub struct RfmRow {
    pub customer_external_id: String,
    pub recency_days: Option<i64>,
    pub frequency: Option<i64>,
    pub monetary_minor: Option<BigInt>,
    pub r: Option<i64>,
    pub f: Option<i64>,
    pub m: Option<i64>,
    /// True when one customer is below the minimum audience size for this viewer: the values and scores are
    /// then null.
    pub suppressed: bool,
}

/// The population of one RFM row: its customer.
const ONE_CUSTOMER: i64 = 1;

impl FromInsight<domain::customers::RfmRow> for RfmRow {
    fn from_insight(row: domain::customers::RfmRow, rule: Suppression) -> Self {
        let shown = |value| rule.shown(ONE_CUSTOMER, value);
        Self {
            customer_external_id: row.customer_external_id,
            recency_days: shown(row.recency_days),
            frequency: shown(row.frequency),
            monetary_minor: shown(row.monetary_minor).map(BigInt),
            r: shown(row.r),
            f: shown(row.f),
            m: shown(row.m),
            suppressed: rule.hides(ONE_CUSTOMER),
        }
    }
}

/// Score counts of a summary over `population` customers.
pub fn score_counts(counts: [i64; 5], population: i64, rule: Suppression) -> Vec<ScoreCount> {
    (1..)
        .zip(counts)
        .map(|(score, customers)| ScoreCount {
            score,
            customers: rule.shown(population, customers),
        })
        .collect()
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ValueGroup {
    pub key: String,
    /// The group's customers: the population of its values.
    pub customers: Option<i64>,
    pub total_minor: Option<BigInt>,
    pub average_minor: Option<f64>,
    /// With `compareTo`, overall and per region (null per cohort: cohorts differ between windows): against
    /// the same group over the compared window.
    pub compared: Option<ValueChanges>,
    /// True when customers is below the minimum audience size for this viewer: customers, totalMinor and
    /// averageMinor are then null.
    pub suppressed: bool,
}

/// A value group against the same group over the compared window; each `previousN` is its customers.
#[derive(Debug, Clone, SimpleObject)]
pub struct ValueChanges {
    /// The average per customer, with Welch's t-test over the customers' totals.
    pub average_minor: Delta,
    /// The total, with no test (NONE: a sum of money).
    pub total_minor: Delta,
}

impl FromInsight<domain::customers::ValueGroup> for ValueGroup {
    fn from_insight(g: domain::customers::ValueGroup, rule: Suppression) -> Self {
        let customers = g.customers;
        Self {
            compared: g.compared.map(|c| ValueChanges {
                average_minor: Delta::of_rate(c.average_minor, customers, rule),
                total_minor: Delta::of_rate(c.total_minor, customers, rule),
            }),
            key: g.key,
            customers: rule.shown(g.customers, g.customers),
            total_minor: rule.shown(g.customers, BigInt(g.total_minor)),
            average_minor: rule.shown(g.customers, g.average_minor).flatten(),
            suppressed: rule.hides(g.customers),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CohortValue {
    pub cohort_start: Date,
    pub value: ValueGroup,
}

/// Historical customer lifetime value.
#[derive(Debug, Clone, SimpleObject)]
pub struct CustomerValue {
    pub overall: ValueGroup,
    pub by_cohort: Vec<CohortValue>,
    pub by_region: Vec<ValueGroup>,
    pub definition: Definition,
}

impl FromInsight<domain::customers::CustomerValue> for CustomerValue {
    fn from_insight(v: domain::customers::CustomerValue, rule: Suppression) -> Self {
        Self {
            overall: ValueGroup::from_insight(v.overall, rule),
            by_cohort: v
                .by_cohort
                .into_iter()
                .map(|(start, value)| CohortValue {
                    cohort_start: Date(start),
                    value: ValueGroup::from_insight(value, rule),
                })
                .collect(),
            by_region: all(v.by_region, rule),
            definition: Definition::from_insight(v.definition, rule),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct NpsPoint {
    pub period_start: Date,
    pub score: NpsScore,
    pub compared: Option<Delta>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct NpsGroup {
    pub key: String,
    pub score: NpsScore,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Nps {
    pub overall: NpsScore,
    pub series: Vec<NpsPoint>,
    /// By the region the response recorded.
    pub by_region: Vec<NpsGroup>,
    /// By the respondent's acquisition channel (identified respondents).
    pub by_channel: Vec<NpsGroup>,
    /// By the respondent's account id (contacts of accounts).
    pub by_account: Vec<NpsGroup>,
    pub definition: Definition,
}

impl FromInsight<domain::nps::NpsResult> for Nps {
    fn from_insight(r: domain::nps::NpsResult, rule: Suppression) -> Self {
        let groups = |groups: Vec<domain::nps::NpsGroup>| {
            groups
                .into_iter()
                .map(|g| NpsGroup {
                    key: g.key,
                    score: NpsScore::from_insight(g.score, rule),
                })
                .collect()
        };
        Self {
            overall: NpsScore::from_insight(r.overall, rule),
            series: r
                .series
                .into_iter()
                .map(|p| NpsPoint {
                    period_start: Date(p.period_start),
                    score: NpsScore::from_insight(p.score, rule),
                    compared: p.compared.map(|delta| {
                        let previous_n = delta.previous_n;
                        Delta::from_insight(delta, p.score.n, previous_n, rule)
                    }),
                })
                .collect(),
            by_region: groups(r.by_region),
            by_channel: groups(r.by_channel),
            by_account: groups(r.by_account),
            definition: Definition::from_insight(r.definition, rule),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Funnel {
    pub brand: String,
    /// The respondents who rated the brand: the population of the funnel.
    pub n: Option<i64>,
    pub awareness: Rate,
    pub consideration: Rate,
    pub preference: Rate,
    /// Own brand only.
    pub purchase_intent_top2: Option<Rate>,
    pub consideration_from_awareness: Rate,
    pub preference_from_consideration: Rate,
    /// True when n is below the minimum audience size for this viewer: n and every rate are then null.
    pub suppressed: bool,
}

impl FromInsight<domain::brand::Funnel> for Funnel {
    /// Stage conversions have their own, smaller populations (the aware,
    /// the considering); each rate is suppressed by its own `n`, and all of
    /// them with the funnel's.
    fn from_insight(f: domain::brand::Funnel, rule: Suppression) -> Self {
        let funnel_hidden = rule.hides(f.n);
        let rate_rule = if funnel_hidden { Suppression::EVERYTHING } else { rule };
        let rate = |p: stats::Proportion| Rate::from_insight(p, rate_rule);
        Self {
            brand: f.brand,
            n: rule.shown(f.n, f.n),
            awareness: rate(f.awareness),
            consideration: rate(f.consideration),
            preference: rate(f.preference),
            purchase_intent_top2: f.purchase_intent_top2.map(rate),
            consideration_from_awareness: rate(f.consideration_from_awareness),
            preference_from_consideration: rate(f.preference_from_consideration),
            suppressed: funnel_hidden,
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct FunnelChanges {
    pub awareness: Delta,
    pub consideration: Delta,
    pub preference: Delta,
    pub purchase_intent_top2: Option<Delta>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct FunnelPoint {
    pub period_start: Date,
    pub funnel: Funnel,
    pub compared: Option<FunnelChanges>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct BrandFunnel {
    pub own_brand: String,
    pub overall: Vec<Funnel>,
    pub series: Vec<FunnelPoint>,
    pub definition: Definition,
}

impl FromInsight<domain::brand::BrandFunnel> for BrandFunnel {
    fn from_insight(b: domain::brand::BrandFunnel, rule: Suppression) -> Self {
        Self {
            own_brand: b.own_brand,
            overall: all(b.overall, rule),
            series: b
                .series
                .into_iter()
                .map(|p| {
                    let n = p.funnel.n;
                    let delta = |d: domain::delta::Delta| {
                        let previous_n = d.previous_n;
                        Delta::from_insight(d, n, previous_n, rule)
                    };
                    FunnelPoint {
                        period_start: Date(p.period_start),
                        funnel: Funnel::from_insight(p.funnel, rule),
                        compared: p.compared.map(|c| FunnelChanges {
                            awareness: delta(c.awareness),
                            consideration: delta(c.consideration),
                            preference: delta(c.preference),
                            purchase_intent_top2: c.purchase_intent_top2.map(delta),
                        }),
                    }
                })
                .collect(),
            definition: Definition::from_insight(b.definition, rule),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct VoiceShare {
    pub channel: Option<String>,
    pub period_start: Option<Date>,
    pub brand: String,
    pub mentions: i64,
    pub total_mentions: i64,
    pub share: Option<f64>,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
    pub net_sentiment: Option<f64>,
    /// With `compareTo`, overall and per channel (null per month): the share against the same brand's share
    /// of the same channel's mentions over the compared window (two-proportion z-test on mentions).
    pub compared: Option<Delta>,
}

/// Mentions are counted per channel and period by the source, not per
/// person: share of voice, and its comparison, have no population to
/// suppress.
impl From<domain::brand::VoiceShare> for VoiceShare {
    fn from(v: domain::brand::VoiceShare) -> Self {
        Self {
            channel: v.channel,
            period_start: v.period_start.map(Date),
            brand: v.brand,
            mentions: v.mentions,
            total_mentions: v.total_mentions,
            share: v.share,
            positive: v.positive,
            neutral: v.neutral,
            negative: v.negative,
            net_sentiment: v.net_sentiment,
            compared: v
                .compared
                .map(|d| Delta::from_insight(d, v.total_mentions, v.total_mentions, Suppression::NONE)),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ShareOfVoice {
    pub by_channel_month: Vec<VoiceShare>,
    pub by_month: Vec<VoiceShare>,
    pub by_channel: Vec<VoiceShare>,
    pub overall: Vec<VoiceShare>,
    pub definition: Definition,
}

impl FromInsight<domain::brand::ShareOfVoice> for ShareOfVoice {
    fn from_insight(s: domain::brand::ShareOfVoice, rule: Suppression) -> Self {
        let list = |list: Vec<domain::brand::VoiceShare>| list.into_iter().map(Into::into).collect();
        Self {
            by_channel_month: list(s.by_channel_month),
            by_month: list(s.by_month),
            by_channel: list(s.by_channel),
            overall: list(s.overall),
            definition: Definition::from_insight(s.definition, rule),
        }
    }
}

/// One attribute's performance and importance; null when its block is suppressed.
#[derive(Debug, Clone, SimpleObject)]
pub struct AttributeDriver {
    pub attribute: String,
    pub mean: Option<f64>,
    pub pearson_r: Option<f64>,
    pub shapley_r2: Option<f64>,
    /// Percent of R²; sums to 100 over the attributes.
    pub importance: Option<f64>,
    pub quadrant: Option<Quadrant>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct DriverBlock {
    /// Complete cases (respondents): the population of the block.
    pub n: Option<i64>,
    pub r_squared: Option<f64>,
    pub median_importance: Option<f64>,
    pub median_mean: Option<f64>,
    pub attributes: Vec<AttributeDriver>,
    /// True when n is below the minimum audience size for this viewer: n and every statistic of the block and
    /// its attributes are then null.
    pub suppressed: bool,
}

impl FromInsight<domain::drivers::DriverBlock> for DriverBlock {
    fn from_insight(b: domain::drivers::DriverBlock, rule: Suppression) -> Self {
        let shown = |value: Option<f64>| rule.shown(b.n, value).flatten();
        Self {
            n: rule.shown(b.n, b.n),
            r_squared: shown(b.r_squared),
            median_importance: shown(b.median_importance),
            median_mean: shown(b.median_mean),
            attributes: b
                .attributes
                .into_iter()
                .map(|a| AttributeDriver {
                    attribute: a.attribute,
                    mean: shown(Some(a.mean)),
                    pearson_r: shown(a.pearson_r),
                    shapley_r2: shown(Some(a.shapley_r2)),
                    importance: shown(Some(a.importance)),
                    quadrant: rule.shown(b.n, a.quadrant.into()),
                })
                .collect(),
            suppressed: rule.hides(b.n),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RegionDrivers {
    pub region: String,
    pub drivers: DriverBlock,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct PurchaseDrivers {
    pub outcome: DriverOutcome,
    pub attributes: Vec<String>,
    pub overall: DriverBlock,
    pub by_region: Vec<RegionDrivers>,
    pub definition: Definition,
}

impl FromInsight<domain::drivers::PurchaseDrivers> for PurchaseDrivers {
    fn from_insight(d: domain::drivers::PurchaseDrivers, rule: Suppression) -> Self {
        Self {
            outcome: d.outcome.into(),
            attributes: d.attributes,
            overall: DriverBlock::from_insight(d.overall, rule),
            by_region: d
                .by_region
                .into_iter()
                .map(|(region, block)| RegionDrivers {
                    region,
                    drivers: DriverBlock::from_insight(block, rule),
                })
                .collect(),
            definition: Definition::from_insight(d.definition, rule),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ProductTestResult {
    pub test_external_id: String,
    pub product_external_id: String,
    pub touchpoint: ProductTouchpoint,
    pub variant: String,
    /// Its `n` (the votes, one per panelist) is the population of the test.
    pub approval: Rate,
    /// Null when the test is suppressed.
    pub customer_approved: Option<bool>,
    pub rating_n: Option<i64>,
    pub mean_rating: Option<f64>,
    /// With `compareTo`: the approval against the pooled votes of the compared window's tests of the same
    /// product and touchpoint (two-proportion z-test).
    pub compared: Option<Delta>,
    /// True when the votes are below the minimum audience size for this viewer: the approval, ratings and
    /// verdict are then null.
    pub suppressed: bool,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct VariantComparison {
    pub product_external_id: String,
    pub touchpoint: ProductTouchpoint,
    pub test_a: String,
    pub test_b: String,
    pub a: Rate,
    pub b: Rate,
    pub pooled_rate: Option<f64>,
    /// Positive when A is approved more.
    pub z: Option<f64>,
    pub p_value: Option<f64>,
    /// True when either test's votes are below the minimum audience size for this viewer: both rates and the
    /// test are then null.
    pub suppressed: bool,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ProductTests {
    pub approval_threshold: f64,
    pub tests: Vec<ProductTestResult>,
    pub comparisons: Vec<VariantComparison>,
    pub definition: Definition,
}

impl FromInsight<domain::product_tests::ProductTests> for ProductTests {
    fn from_insight(p: domain::product_tests::ProductTests, rule: Suppression) -> Self {
        Self {
            approval_threshold: p.approval_threshold,
            tests: p
                .tests
                .into_iter()
                .map(|t| {
                    let votes = t.approval.n;
                    ProductTestResult {
                        test_external_id: t.test_external_id,
                        product_external_id: t.product_external_id,
                        touchpoint: t.touchpoint.into(),
                        variant: t.variant,
                        approval: Rate::from_insight(t.approval, rule),
                        customer_approved: rule.shown(votes, t.customer_approved),
                        rating_n: rule.shown(votes, t.rating_n),
                        mean_rating: rule.shown(votes, t.mean_rating).flatten(),
                        compared: t.compared.map(|d| Delta::of_rate(d, votes, rule)),
                        suppressed: rule.hides(votes),
                    }
                })
                .collect(),
            comparisons: p
                .comparisons
                .into_iter()
                .map(|c| {
                    let hidden = rule.hides(c.a.n) || rule.hides(c.b.n);
                    let both = if hidden { Suppression::EVERYTHING } else { rule };
                    VariantComparison {
                        product_external_id: c.product_external_id,
                        touchpoint: c.touchpoint.into(),
                        test_a: c.test_a,
                        test_b: c.test_b,
                        a: Rate::from_insight(c.a, both),
                        b: Rate::from_insight(c.b, both),
                        pooled_rate: c.test.pooled_rate.filter(|_| !hidden),
                        z: c.test.z.filter(|_| !hidden),
                        p_value: c.test.p_value.filter(|_| !hidden),
                        suppressed: hidden,
                    }
                })
                .collect(),
            definition: Definition::from_insight(p.definition, rule),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::attribution::Conversion")]
pub enum ConversionKind {
    /// Orders, at their time, worth their amount.
    Order,
    /// WON leads, at their close, worth their amount.
    WonLead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::attribution::Model")]
pub enum AttributionModel {
    FirstTouch,
    LastTouch,
    Linear,
    TimeDecay,
    PositionBased,
    /// WON leads only: 30% to each of the first touch, the last before the
    /// lead was created and the last before it became an opportunity (a
    /// missing one's share split over the present ones), 10% over the rest.
    WShaped,
    /// Data-driven: the touched conversions' value split by each channel's
    /// (or team's) removal effect in an absorbing first-order Markov chain
    /// over every conversion's path and every customer's path to no
    /// conversion, solved exactly. Campaigns are not states: all campaign
    /// credit is NONE.
    Markov,
}

/// One absorbing chain of MARKOV.
#[derive(Debug, Clone, SimpleObject)]
pub struct MarkovChain {
    /// The states, in the order of the credit buckets.
    pub states: Vec<String>,
    /// The probability of reaching a conversion from the start.
    pub p_conversion: f64,
    /// Paths in the chain: conversion paths and paths to no conversion.
    pub paths: i64,
    pub conversion_paths: i64,
}

impl From<&crate::attribution::markov::Chain> for MarkovChain {
    fn from(chain: &crate::attribution::markov::Chain) -> Self {
        Self {
            states: chain.states.clone(),
            p_conversion: chain.conversion_probability(),
            paths: i64::try_from(chain.paths).unwrap_or(i64::MAX),
            conversion_paths: i64::try_from(chain.conversion_paths).unwrap_or(i64::MAX),
        }
    }
}

/// The chains behind MARKOV and the paths that made them.
#[derive(Debug, Clone, SimpleObject)]
pub struct Markov {
    /// States are touch channels.
    pub by_channel: MarkovChain,
    /// States are touch teams.
    pub by_team: MarkovChain,
    pub touches_in_conversion_paths: i64,
    /// One per customer whose touches in the window are in no conversion's lookback.
    pub null_paths: i64,
    pub touches_in_null_paths: i64,
}

/// W_SHAPED's milestone roles that no touch held, over the touched conversions.
#[derive(Debug, Clone, SimpleObject)]
pub struct MissingMilestones {
    pub first: i64,
    pub lead_created: i64,
    pub opportunity_created: i64,
}

/// Credit summed into one bucket (a team, a channel, or NONE). Its
/// population is `customers`; when that is suppressed (or the whole
/// attribution is), its numbers are null.
#[derive(Debug, Clone, SimpleObject)]
pub struct CreditBucket {
    pub key: String,
    /// Distinct customers whose conversions credited the bucket (with a positive weight; MARKOV: with a touch
    /// in the state; NONE: with a conversion without a touch).
    pub customers: Option<i64>,
    /// True when `customers` is below the minimum audience size for this viewer.
    pub suppressed: bool,
    /// Fractional minor units; a dimension's buckets sum to the total value.
    pub credit_minor: Option<f64>,
    /// Credited conversions (the sum of the weights).
    pub conversions: Option<f64>,
    /// MARKOV only: 1 − P(conversion without this state) / P(conversion).
    pub removal_effect: Option<f64>,
    /// The spend in the window of the campaigns of this team or channel: each campaign's spend × its days in
    /// the window / its days (rounded to the minor unit). Null for NONE; spend is not a population and is
    /// shown even when the bucket is suppressed.
    pub spend_minor: Option<BigInt>,
    /// Return on advertising spend: creditMinor / spendMinor; null without spend.
    pub roas: Option<f64>,
    /// Return on investment: (creditMinor − spendMinor) / spendMinor; null without spend.
    pub roi: Option<f64>,
    /// With `compareTo`: creditMinor against the same bucket's in the earlier window (a sum of money, so
    /// `method` is `NONE: no test for a sum of money`; previousN is the earlier bucket's customers).
    pub compared: Option<Delta>,
}

/// Credit of one team, or of NONE.
#[derive(Debug, Clone, SimpleObject)]
pub struct TeamCredit {
    /// The team; null for the NONE bucket (`key: "NONE"`).
    pub team: Option<Team>,
    #[graphql(flatten)]
    pub credit: CreditBucket,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CampaignCredit {
    /// Null for the NONE bucket (no touch, or touches without a campaign).
    pub campaign_external_id: Option<String>,
    /// Distinct customers whose conversions credited the bucket (with a positive weight): its population.
    pub customers: Option<i64>,
    /// True when `customers` is below the minimum audience size for this viewer: credit, conversions, ROAS
    /// and ROI are then null.
    pub suppressed: bool,
    pub credit_minor: Option<f64>,
    pub conversions: Option<f64>,
    /// The campaign's spend in the window: its whole spend × daysInWindow / campaignDays, rounded to the
    /// minor unit (not a population: shown even when suppressed). Null for NONE.
    pub spend_minor: Option<BigInt>,
    /// The campaign's whole spend, inside the window or not.
    pub total_spend_minor: Option<BigInt>,
    /// The campaign's days, first to last, both inclusive.
    pub campaign_days: Option<i64>,
    /// The campaign's days inside the window.
    pub days_in_window: Option<i64>,
    /// Return on advertising spend: creditMinor / spendMinor; null without spend.
    pub roas: Option<f64>,
    /// Return on investment: (creditMinor − spendMinor) / spendMinor; null without spend.
    pub roi: Option<f64>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ModelCredit {
    pub model: AttributionModel,
    /// Every touchpoint team (MARKETING, SALES, SERVICE, PRODUCT), then NONE. Touches carry no PARTNER: the
    /// won leads partners sourced are in `Attribution.bySourceTeam`.
    pub by_team: Vec<TeamCredit>,
    pub by_channel: Vec<CreditBucket>,
    pub by_campaign: Vec<CampaignCredit>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Attribution {
    pub conversion: ConversionKind,
    pub lookback_days: i64,
    pub half_life_days: f64,
    /// Distinct customers with a conversion: the population of the result.
    pub customers: Option<i64>,
    pub conversions: Option<i64>,
    pub conversions_with_touches: Option<i64>,
    pub conversions_without_touch: Option<i64>,
    pub total_value_minor: Option<BigInt>,
    pub no_touch_value_minor: Option<BigInt>,
    pub touches_in_window: Option<i64>,
    /// The models asked for (`models`; every model that applies when left out).
    pub models: Vec<ModelCredit>,
    /// WON leads only: each source team (MARKETING, SALES, PARTNER) credited with the whole value of the won
    /// leads it sourced; they sum to totalValueMinor. Spend, ROAS and ROI are those of the team's campaigns.
    pub by_source_team: Option<Vec<TeamCredit>>,
    /// With `compareTo`: the earlier window and the totals against it.
    pub compared: Option<AttributionComparison>,
    /// WON leads only (and null when suppressed).
    pub missing_milestones: Option<MissingMilestones>,
    /// The chains MARKOV's credit comes from (null when suppressed, or when `models` leaves MARKOV out).
    pub markov: Option<Markov>,
    /// True when the converting customers are below the minimum audience size for this viewer: the counts,
    /// values, credits and ROI are then null.
    pub suppressed: bool,
    pub definition: Definition,
}

/// The earlier window of `attribution(compareTo:)`.
#[derive(Debug, Clone, SimpleObject)]
pub struct AttributionComparison {
    /// PREVIOUS_PERIOD: the window of equal length ending the day before `from`; PREVIOUS_YEAR: the same days
    /// one year earlier.
    pub from: Date,
    pub to: Date,
    /// The number of conversions against the earlier window's, with the exact Poisson rate test over the two
    /// windows' days.
    pub conversions: Delta,
    /// totalValueMinor against the earlier window's (a sum of money: no test).
    pub total_value_minor: Delta,
}

impl FromInsight<crate::attribution::Attribution> for Attribution {
    fn from_insight(a: crate::attribution::Attribution, rule: Suppression) -> Self {
        let population = a.customers;
        // A bucket is shown when its own population is (it is part of the whole, so never more).
        let bucket_rule = |customers: i64| rule.hides(population) || rule.hides(customers);
        let bucket = |key: String, credit: crate::attribution::Credit| {
            let hidden = bucket_rule(credit.customers);
            let shown = |value: f64| (!hidden).then_some(value);
            CreditBucket {
                roas: credit.roas().and_then(shown),
                roi: credit.roi().and_then(shown),
                spend_minor: credit.spend_minor.map(BigInt),
                compared: credit
                    .compared
                    .map(|c| Delta::from_insight(c.credit, credit.customers, c.previous_customers, rule)),
                customers: (!hidden).then_some(credit.customers),
                suppressed: hidden,
                credit_minor: shown(credit.credit_minor),
                conversions: shown(credit.conversions),
                removal_effect: credit.removal_effect.and_then(shown),
                key,
            }
        };
        let buckets = |list: Vec<(String, crate::attribution::Credit)>| {
            list.into_iter().map(|(key, credit)| bucket(key, credit)).collect()
        };
        let teams = |list: Vec<(String, crate::attribution::Credit)>| {
            list.into_iter()
                .map(|(key, credit)| TeamCredit {
                    team: Team::parse(&key),
                    credit: bucket(key, credit),
                })
                .collect()
        };
        let compared = a.compared.map(|c| AttributionComparison {
            from: Date(c.window.from),
            to: Date(c.window.to),
            conversions: Delta::from_insight(c.conversions, population, c.previous_customers, rule),
            total_value_minor: Delta::from_insight(c.total_value, population, c.previous_customers, rule),
        });
        Self {
            conversion: a.conversion.into(),
            lookback_days: a.lookback_days,
            half_life_days: a.half_life_days,
            customers: rule.shown(population, a.customers),
            conversions: rule.shown(population, a.conversions),
            conversions_with_touches: rule.shown(population, a.conversions_with_touches),
            conversions_without_touch: rule.shown(population, a.conversions_without_touch),
            total_value_minor: rule.shown(population, BigInt(a.total_value_minor)),
            no_touch_value_minor: rule.shown(population, BigInt(a.no_touch_value_minor)),
            touches_in_window: rule.shown(population, a.touches_in_window),
            markov: (!rule.hides(population)
                && a.models
                    .iter()
                    .any(|credit| credit.model == crate::attribution::Model::Markov))
            .then(|| Markov {
                by_channel: (&a.markov.by_channel).into(),
                by_team: (&a.markov.by_team).into(),
                touches_in_conversion_paths: a.markov.touches_in_conversion_paths,
                null_paths: a.markov.null_paths,
                touches_in_null_paths: a.markov.touches_in_null_paths,
            }),
            missing_milestones: a.missing_milestones.filter(|_| !rule.hides(population)).map(
                |[first, lead_created, opportunity_created]| MissingMilestones {
                    first,
                    lead_created,
                    opportunity_created,
                },
            ),
            models: a
                .models
                .into_iter()
                .map(|m| ModelCredit {
                    model: m.model.into(),
                    by_team: teams(m.by_team),
                    by_channel: buckets(m.by_channel),
                    by_campaign: m
                        .by_campaign
                        .into_iter()
                        .map(|c| {
                            let hidden = bucket_rule(c.credit.customers);
                            CampaignCredit {
                                roas: c.credit.roas().filter(|_| !hidden),
                                roi: c.credit.roi().filter(|_| !hidden),
                                campaign_external_id: c.campaign_external_id,
                                customers: (!hidden).then_some(c.credit.customers),
                                suppressed: hidden,
                                credit_minor: (!hidden).then_some(c.credit.credit_minor),
                                conversions: (!hidden).then_some(c.credit.conversions),
                                spend_minor: c.spend.map(|spend| BigInt(spend.in_window_minor)),
                                total_spend_minor: c.spend.map(|spend| BigInt(spend.total_minor)),
                                campaign_days: c.spend.map(|spend| spend.campaign_days),
                                days_in_window: c.spend.map(|spend| spend.days_in_window),
                            }
                        })
                        .collect(),
                })
                .collect(),
            by_source_team: a.by_source_team.map(&teams),
            compared,
            suppressed: rule.hides(population),
            definition: Definition::from_insight(a.definition, rule),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct StageCount {
    pub stage: String,
    /// Null when the block is suppressed.
    pub leads: Option<i64>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct StageConversion {
    pub from: String,
    pub to: String,
    pub rate: Rate,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct StageDuration {
    /// LEAD_TO_MQL, MQL_TO_SQL, SQL_TO_OPPORTUNITY or OPPORTUNITY_TO_CLOSED.
    pub transition: String,
    /// Leads with both timestamps: the population of the median.
    pub n: Option<i64>,
    pub median_days: Option<f64>,
    /// True when n or the block is below the minimum audience size for this viewer: n and the median are then
    /// null.
    pub suppressed: bool,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CycleBlock {
    /// MARKETING, SALES, PARTNER, or ALL.
    pub source_team: String,
    /// The source team as a `Team` (as attribution's `bySourceTeam` names it); null for ALL.
    pub team: Option<Team>,
    pub leads: Option<i64>,
    pub reached: Vec<StageCount>,
    pub conversions: Vec<StageConversion>,
    pub median_days: Vec<StageDuration>,
    pub won_count: Option<i64>,
    /// WON / closed (WON or LOST) leads of the block, with its Wilson interval.
    pub win_rate: Rate,
    /// Null when the block, or the customers of its won leads, are suppressed.
    pub won_revenue_minor: Option<BigInt>,
    pub share_of_won_revenue: Option<f64>,
    /// True when the customers of the block's WON leads (or of the block) are below the minimum audience
    /// size for this viewer: wonRevenueMinor and shareOfWonRevenue are then null.
    pub won_revenue_suppressed: bool,
    /// With `compareTo`: against the same team's block over the compared window.
    pub compared: Option<CycleChanges>,
    /// True when the customers of the block's leads are below the minimum audience size for this viewer:
    /// every count, rate, median and value of the block is then null.
    pub suppressed: bool,
}

impl FromInsight<domain::revenue_cycle::CycleBlock> for CycleBlock {
    fn from_insight(b: domain::revenue_cycle::CycleBlock, rule: Suppression) -> Self {
        let hidden = rule.hides(b.customers);
        // A block's parts have their own populations, and are hidden with it.
        let part_rule = if hidden { Suppression::EVERYTHING } else { rule };
        let count = |value| part_rule.shown(b.customers, value);
        let won_hidden = hidden || rule.hides(b.won_customers);
        let compared = b.compared.clone().map(|c| CycleChanges::from_insight(c, &b, rule));
        Self {
            team: Team::parse(&b.source_team),
            source_team: b.source_team,
            leads: count(b.leads),
            reached: b
                .reached
                .into_iter()
                .map(|(stage, leads)| StageCount {
                    stage: stage.to_owned(),
                    leads: count(leads),
                })
                .collect(),
            conversions: b
                .conversions
                .into_iter()
                .map(|c| StageConversion {
                    from: c.from.to_owned(),
                    to: c.to.to_owned(),
                    rate: Rate::from_insight(c.rate, part_rule),
                })
                .collect(),
            median_days: b
                .median_days
                .into_iter()
                .map(|m| StageDuration {
                    transition: m.transition.to_owned(),
                    n: part_rule.shown(m.n, m.n),
                    median_days: part_rule.shown(m.n, m.median_days).flatten(),
                    suppressed: part_rule.hides(m.n),
                })
                .collect(),
            won_count: count(b.won_count),
            win_rate: Rate::from_insight(b.win_rate, part_rule),
            won_revenue_minor: (!won_hidden).then_some(BigInt(b.won_revenue_minor)),
            share_of_won_revenue: b.share_of_won_revenue.filter(|_| !won_hidden),
            won_revenue_suppressed: won_hidden,
            compared,
            suppressed: hidden,
        }
    }
}

/// A cycle block against the same team's block over the compared window.
#[derive(Debug, Clone, SimpleObject)]
pub struct CycleChanges {
    /// WON / closed, with the two-proportion z-test; `previousN` is the compared block's closed leads.
    /// Suppressed with either block or either window's closed leads.
    pub win_rate: Delta,
    /// Σ amount of the WON leads, with no test (NONE: a sum of money); `previousN` is the compared
    /// block's WON leads. Suppressed with either window's won revenue.
    pub won_revenue_minor: Delta,
}

impl CycleChanges {
    /// Each delta is withheld when its value is in either window: a win
    /// rate with its block or its closed leads, a won revenue with the
    /// customers of its WON leads (who are among the block's).
    fn from_insight(
        c: domain::revenue_cycle::CycleChanges,
        block: &domain::revenue_cycle::CycleBlock,
        rule: Suppression,
    ) -> Self {
        let closed_then = c.win_rate.previous_n;
        Self {
            win_rate: Delta::from_insight(
                c.win_rate,
                block.customers.min(block.win_rate.n),
                c.previous_customers.min(closed_then),
                rule,
            ),
            won_revenue_minor: Delta::from_insight(
                c.won_revenue_minor,
                block.won_customers,
                c.previous_won_customers,
                rule,
            ),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RevenueCycle {
    pub by_source_team: Vec<CycleBlock>,
    pub all: CycleBlock,
    /// Null when the customers of all won leads are suppressed (`all.wonRevenueSuppressed`).
    pub total_won_revenue_minor: Option<BigInt>,
    /// Null when marketing's won revenue is suppressed.
    pub marketing_share_of_won_revenue: Option<f64>,
    pub definition: Definition,
}

impl FromInsight<domain::revenue_cycle::RevenueCycle> for RevenueCycle {
    fn from_insight(r: domain::revenue_cycle::RevenueCycle, rule: Suppression) -> Self {
        let by_source_team: Vec<CycleBlock> = all(r.by_source_team, rule);
        let all_block = CycleBlock::from_insight(r.all, rule);
        let marketing_shown = by_source_team
            .first()
            .is_some_and(|block| !block.won_revenue_suppressed);
        Self {
            total_won_revenue_minor: (!all_block.won_revenue_suppressed).then_some(BigInt(r.total_won_revenue_minor)),
            marketing_share_of_won_revenue: r.marketing_share_of_won_revenue.filter(|_| marketing_shown),
            by_source_team,
            all: all_block,
            definition: Definition::from_insight(r.definition, rule),
        }
    }
}
