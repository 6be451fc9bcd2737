//! Output types of `insights { … }`, each built from the domain result of
//! [`crate::insights`]. Rates come as [`Rate`] (count, n, rate, interval);
//! every result has a [`Definition`].

use async_graphql::{Enum, SimpleObject};

use super::enums::ProductTouchpoint;
use crate::graphql::scalars::Date;
use crate::insights::{self as domain, stats};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::insights::nps::CompareTo")]
pub enum CompareTo {
    PreviousPeriod,
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

impl From<domain::Definition> for Definition {
    fn from(definition: domain::Definition) -> Self {
        Self {
            metric: definition.metric.to_owned(),
            version: i32::try_from(definition.version).unwrap_or(i32::MAX),
            formula: definition.formula.to_owned(),
            parameters: definition
                .parameters
                .into_iter()
                .map(|parameter| Parameter {
                    name: parameter.name,
                    value: parameter.value,
                })
                .collect(),
        }
    }
}

/// A proportion `count / n` with its Wilson 95% interval; the rate and
/// bounds are null when n = 0.
#[derive(Debug, Clone, SimpleObject)]
pub struct Rate {
    pub count: i64,
    pub n: i64,
    pub rate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl From<stats::Proportion> for Rate {
    fn from(p: stats::Proportion) -> Self {
        Self {
            count: p.count,
            n: p.n,
            rate: rounded(p.rate),
            ci_low: rounded(p.ci_low),
            ci_high: rounded(p.ci_high),
        }
    }
}

/// A Net Promoter Score with its counts and 95% interval (null when n = 0).
#[derive(Debug, Clone, SimpleObject)]
pub struct NpsScore {
    pub n: i64,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
    pub nps: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl From<stats::NpsScore> for NpsScore {
    fn from(s: stats::NpsScore) -> Self {
        Self {
            n: s.n,
            promoters: s.promoters,
            passives: s.passives,
            detractors: s.detractors,
            nps: rounded(s.nps),
            ci_low: rounded(s.ci_low),
            ci_high: rounded(s.ci_high),
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
    pub previous_n: i64,
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
}

impl From<domain::delta::Delta> for Delta {
    fn from(d: domain::delta::Delta) -> Self {
        Self {
            previous_period_start: Date(d.previous_period_start),
            previous: rounded(d.previous),
            previous_n: d.previous_n,
            change: rounded(d.change),
            relative_change: rounded(d.relative_change),
            p_value: d.test.p_value,
            method: d.test.method.to_owned(),
            z: rounded(d.test.z),
        }
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
    pub size: i64,
    pub offsets: Vec<RetentionPoint>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RetentionPoint {
    pub offset: i64,
    pub period_start: Date,
    pub retained: Rate,
}

impl From<domain::retention::Retention> for Retention {
    fn from(r: domain::retention::Retention) -> Self {
        Self {
            cohorts: r
                .cohorts
                .into_iter()
                .map(|c| Cohort {
                    cohort_start: Date(c.start),
                    size: c.size,
                    offsets: c
                        .offsets
                        .into_iter()
                        .map(|o| RetentionPoint {
                            offset: o.offset,
                            period_start: Date(o.period_start),
                            retained: o.rate.into(),
                        })
                        .collect(),
                })
                .collect(),
            definition: r.definition.into(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RepeatPurchase {
    pub customers_with_orders: i64,
    pub customers_with_repeat: i64,
    pub rate: Rate,
    pub definition: Definition,
}

impl From<domain::customers::RepeatPurchase> for RepeatPurchase {
    fn from(r: domain::customers::RepeatPurchase) -> Self {
        Self {
            customers_with_orders: r.customers_with_orders,
            customers_with_repeat: r.customers_with_repeat,
            rate: r.rate.into(),
            definition: r.definition.into(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Churn {
    pub as_of: Date,
    pub threshold_days: i64,
    pub customers_with_orders: i64,
    pub churned: i64,
    pub rate: Rate,
    pub definition: Definition,
}

impl From<domain::customers::Churn> for Churn {
    fn from(c: domain::customers::Churn) -> Self {
        Self {
            as_of: Date(c.as_of),
            threshold_days: c.threshold_days,
            customers_with_orders: c.customers_with_orders,
            churned: c.churned,
            rate: c.rate.into(),
            definition: c.definition.into(),
        }
    }
}

/// How many customers have each score.
#[derive(Debug, Clone, SimpleObject)]
pub struct ScoreCount {
    pub score: i64,
    pub customers: i64,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RfmScoreCounts {
    pub r: Vec<ScoreCount>,
    pub f: Vec<ScoreCount>,
    pub m: Vec<ScoreCount>,
}

/// Customers in one recency × frequency cell.
#[derive(Debug, Clone, SimpleObject)]
pub struct RfmCell {
    pub r: i64,
    pub f: i64,
    pub customers: i64,
}

/// One customer's RFM values and scores (5 is best).
#[derive(Debug, Clone, SimpleObject)]
pub struct RfmRow {
    pub customer_external_id: String,
    pub recency_days: i64,
    pub frequency: i64,
    pub monetary_minor: i64,
    pub r: i64,
    pub f: i64,
    pub m: i64,
}

impl From<domain::customers::RfmRow> for RfmRow {
    fn from(row: domain::customers::RfmRow) -> Self {
        Self {
            customer_external_id: row.customer_external_id,
            recency_days: row.recency_days,
            frequency: row.frequency,
            monetary_minor: row.monetary_minor,
            r: row.r,
            f: row.f,
            m: row.m,
        }
    }
}

pub fn score_counts(counts: [i64; 5]) -> Vec<ScoreCount> {
    (1..)
        .zip(counts)
        .map(|(score, customers)| ScoreCount { score, customers })
        .collect()
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ValueGroup {
    pub key: String,
    pub customers: i64,
    pub total_minor: i64,
    pub average_minor: Option<f64>,
}

impl From<domain::customers::ValueGroup> for ValueGroup {
    fn from(g: domain::customers::ValueGroup) -> Self {
        Self {
            key: g.key,
            customers: g.customers,
            total_minor: g.total_minor,
            average_minor: g.average_minor,
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

impl From<domain::customers::CustomerValue> for CustomerValue {
    fn from(v: domain::customers::CustomerValue) -> Self {
        Self {
            overall: v.overall.into(),
            by_cohort: v
                .by_cohort
                .into_iter()
                .map(|(start, value)| CohortValue {
                    cohort_start: Date(start),
                    value: value.into(),
                })
                .collect(),
            by_region: v.by_region.into_iter().map(Into::into).collect(),
            definition: v.definition.into(),
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

impl From<domain::nps::NpsResult> for Nps {
    fn from(r: domain::nps::NpsResult) -> Self {
        let groups = |groups: Vec<domain::nps::NpsGroup>| {
            groups
                .into_iter()
                .map(|g| NpsGroup {
                    key: g.key,
                    score: g.score.into(),
                })
                .collect()
        };
        Self {
            overall: r.overall.into(),
            series: r
                .series
                .into_iter()
                .map(|p| NpsPoint {
                    period_start: Date(p.period_start),
                    score: p.score.into(),
                    compared: p.compared.map(Into::into),
                })
                .collect(),
            by_region: groups(r.by_region),
            by_channel: groups(r.by_channel),
            by_account: groups(r.by_account),
            definition: r.definition.into(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Funnel {
    pub brand: String,
    pub n: i64,
    pub awareness: Rate,
    pub consideration: Rate,
    pub preference: Rate,
    /// Own brand only.
    pub purchase_intent_top2: Option<Rate>,
    pub consideration_from_awareness: Rate,
    pub preference_from_consideration: Rate,
}

impl From<domain::brand::Funnel> for Funnel {
    fn from(f: domain::brand::Funnel) -> Self {
        Self {
            brand: f.brand,
            n: f.n,
            awareness: f.awareness.into(),
            consideration: f.consideration.into(),
            preference: f.preference.into(),
            purchase_intent_top2: f.purchase_intent_top2.map(Into::into),
            consideration_from_awareness: f.consideration_from_awareness.into(),
            preference_from_consideration: f.preference_from_consideration.into(),
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

impl From<domain::brand::BrandFunnel> for BrandFunnel {
    fn from(b: domain::brand::BrandFunnel) -> Self {
        Self {
            own_brand: b.own_brand,
            overall: b.overall.into_iter().map(Into::into).collect(),
            series: b
                .series
                .into_iter()
                .map(|p| FunnelPoint {
                    period_start: Date(p.period_start),
                    funnel: p.funnel.into(),
                    compared: p.compared.map(|c| FunnelChanges {
                        awareness: c.awareness.into(),
                        consideration: c.consideration.into(),
                        preference: c.preference.into(),
                        purchase_intent_top2: c.purchase_intent_top2.map(Into::into),
                    }),
                })
                .collect(),
            definition: b.definition.into(),
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
}

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

impl From<domain::brand::ShareOfVoice> for ShareOfVoice {
    fn from(s: domain::brand::ShareOfVoice) -> Self {
        let list = |list: Vec<domain::brand::VoiceShare>| list.into_iter().map(Into::into).collect();
        Self {
            by_channel_month: list(s.by_channel_month),
            by_month: list(s.by_month),
            by_channel: list(s.by_channel),
            overall: list(s.overall),
            definition: s.definition.into(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct AttributeDriver {
    pub attribute: String,
    pub mean: f64,
    pub pearson_r: Option<f64>,
    pub shapley_r2: f64,
    /// Percent of R²; sums to 100 over the attributes.
    pub importance: f64,
    pub quadrant: Quadrant,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct DriverBlock {
    pub n: i64,
    pub r_squared: Option<f64>,
    pub median_importance: Option<f64>,
    pub median_mean: Option<f64>,
    pub attributes: Vec<AttributeDriver>,
}

impl From<domain::drivers::DriverBlock> for DriverBlock {
    fn from(b: domain::drivers::DriverBlock) -> Self {
        Self {
            n: b.n,
            r_squared: b.r_squared,
            median_importance: b.median_importance,
            median_mean: b.median_mean,
            attributes: b
                .attributes
                .into_iter()
                .map(|a| AttributeDriver {
                    attribute: a.attribute,
                    mean: a.mean,
                    pearson_r: a.pearson_r,
                    shapley_r2: a.shapley_r2,
                    importance: a.importance,
                    quadrant: a.quadrant.into(),
                })
                .collect(),
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

impl From<domain::drivers::PurchaseDrivers> for PurchaseDrivers {
    fn from(d: domain::drivers::PurchaseDrivers) -> Self {
        Self {
            outcome: d.outcome.into(),
            attributes: d.attributes,
            overall: d.overall.into(),
            by_region: d
                .by_region
                .into_iter()
                .map(|(region, block)| RegionDrivers {
                    region,
                    drivers: block.into(),
                })
                .collect(),
            definition: d.definition.into(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ProductTestResult {
    pub test_external_id: String,
    pub product_external_id: String,
    pub touchpoint: ProductTouchpoint,
    pub variant: String,
    pub approval: Rate,
    pub customer_approved: bool,
    pub rating_n: i64,
    pub mean_rating: Option<f64>,
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
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ProductTests {
    pub approval_threshold: f64,
    pub tests: Vec<ProductTestResult>,
    pub comparisons: Vec<VariantComparison>,
    pub definition: Definition,
}

impl From<domain::product_tests::ProductTests> for ProductTests {
    fn from(p: domain::product_tests::ProductTests) -> Self {
        Self {
            approval_threshold: p.approval_threshold,
            tests: p
                .tests
                .into_iter()
                .map(|t| ProductTestResult {
                    test_external_id: t.test_external_id,
                    product_external_id: t.product_external_id,
                    touchpoint: t.touchpoint.into(),
                    variant: t.variant,
                    approval: t.approval.into(),
                    customer_approved: t.customer_approved,
                    rating_n: t.rating_n,
                    mean_rating: t.mean_rating,
                })
                .collect(),
            comparisons: p
                .comparisons
                .into_iter()
                .map(|c| VariantComparison {
                    product_external_id: c.product_external_id,
                    touchpoint: c.touchpoint.into(),
                    test_a: c.test_a,
                    test_b: c.test_b,
                    a: c.a.into(),
                    b: c.b.into(),
                    pooled_rate: c.test.pooled_rate,
                    z: c.test.z,
                    p_value: c.test.p_value,
                })
                .collect(),
            definition: p.definition.into(),
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

/// Credit summed into one bucket (a team, a channel, or NONE).
#[derive(Debug, Clone, SimpleObject)]
pub struct CreditBucket {
    pub key: String,
    /// Fractional minor units; a dimension's buckets sum to the total value.
    pub credit_minor: f64,
    /// Credited conversions (the sum of the weights).
    pub conversions: f64,
    /// MARKOV only: 1 − P(conversion without this state) / P(conversion).
    pub removal_effect: Option<f64>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CampaignCredit {
    /// Null for the NONE bucket (no touch, or touches without a campaign).
    pub campaign_external_id: Option<String>,
    pub credit_minor: f64,
    pub conversions: f64,
    pub spend_minor: Option<i64>,
    /// Attributed value / spend; null without spend.
    pub roi: Option<f64>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ModelCredit {
    pub model: AttributionModel,
    pub by_team: Vec<CreditBucket>,
    pub by_channel: Vec<CreditBucket>,
    pub by_campaign: Vec<CampaignCredit>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Attribution {
    pub conversion: ConversionKind,
    pub lookback_days: i64,
    pub half_life_days: f64,
    pub conversions: i64,
    pub conversions_with_touches: i64,
    pub conversions_without_touch: i64,
    pub total_value_minor: i64,
    pub no_touch_value_minor: i64,
    pub touches_in_window: i64,
    /// Every model that applies to the conversion (W_SHAPED for WON leads only).
    pub models: Vec<ModelCredit>,
    /// WON leads only.
    pub missing_milestones: Option<MissingMilestones>,
    /// The chains MARKOV's credit comes from.
    pub markov: Markov,
    pub definition: Definition,
}

impl From<crate::attribution::Attribution> for Attribution {
    fn from(a: crate::attribution::Attribution) -> Self {
        let buckets = |list: Vec<(String, crate::attribution::Credit)>| {
            list.into_iter()
                .map(|(key, credit)| CreditBucket {
                    key,
                    credit_minor: credit.credit_minor,
                    conversions: credit.conversions,
                    removal_effect: credit.removal_effect,
                })
                .collect()
        };
        Self {
            conversion: a.conversion.into(),
            lookback_days: a.lookback_days,
            half_life_days: a.half_life_days,
            conversions: a.conversions,
            conversions_with_touches: a.conversions_with_touches,
            conversions_without_touch: a.conversions_without_touch,
            total_value_minor: a.total_value_minor,
            no_touch_value_minor: a.no_touch_value_minor,
            touches_in_window: a.touches_in_window,
            markov: Markov {
                by_channel: (&a.markov.by_channel).into(),
                by_team: (&a.markov.by_team).into(),
                touches_in_conversion_paths: a.markov.touches_in_conversion_paths,
                null_paths: a.markov.null_paths,
                touches_in_null_paths: a.markov.touches_in_null_paths,
            },
            missing_milestones: a.missing_milestones.map(|[first, lead_created, opportunity_created]| {
                MissingMilestones {
                    first,
                    lead_created,
                    opportunity_created,
                }
            }),
            models: a
                .models
                .into_iter()
                .map(|m| ModelCredit {
                    model: m.model.into(),
                    by_team: buckets(m.by_team),
                    by_channel: buckets(m.by_channel),
                    by_campaign: m
                        .by_campaign
                        .into_iter()
                        .map(|c| CampaignCredit {
                            campaign_external_id: c.campaign_external_id,
                            credit_minor: c.credit.credit_minor,
                            conversions: c.credit.conversions,
                            spend_minor: c.spend_minor,
                            roi: c.roi,
                        })
                        .collect(),
                })
                .collect(),
            definition: a.definition.into(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct StageCount {
    pub stage: String,
    pub leads: i64,
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
    pub n: i64,
    pub median_days: Option<f64>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CycleBlock {
    /// MARKETING, SALES, PARTNER, or ALL.
    pub source_team: String,
    pub leads: i64,
    pub reached: Vec<StageCount>,
    pub conversions: Vec<StageConversion>,
    pub median_days: Vec<StageDuration>,
    pub won_count: i64,
    pub won_revenue_minor: i64,
    pub share_of_won_revenue: Option<f64>,
}

impl From<domain::revenue_cycle::CycleBlock> for CycleBlock {
    fn from(b: domain::revenue_cycle::CycleBlock) -> Self {
        Self {
            source_team: b.source_team,
            leads: b.leads,
            reached: b
                .reached
                .into_iter()
                .map(|(stage, leads)| StageCount {
                    stage: stage.to_owned(),
                    leads,
                })
                .collect(),
            conversions: b
                .conversions
                .into_iter()
                .map(|c| StageConversion {
                    from: c.from.to_owned(),
                    to: c.to.to_owned(),
                    rate: c.rate.into(),
                })
                .collect(),
            median_days: b
                .median_days
                .into_iter()
                .map(|m| StageDuration {
                    transition: m.transition.to_owned(),
                    n: m.n,
                    median_days: m.median_days,
                })
                .collect(),
            won_count: b.won_count,
            won_revenue_minor: b.won_revenue_minor,
            share_of_won_revenue: b.share_of_won_revenue,
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RevenueCycle {
    pub by_source_team: Vec<CycleBlock>,
    pub all: CycleBlock,
    pub total_won_revenue_minor: i64,
    pub marketing_share_of_won_revenue: Option<f64>,
    pub definition: Definition,
}

impl From<domain::revenue_cycle::RevenueCycle> for RevenueCycle {
    fn from(r: domain::revenue_cycle::RevenueCycle) -> Self {
        Self {
            by_source_team: r.by_source_team.into_iter().map(Into::into).collect(),
            all: r.all.into(),
            total_won_revenue_minor: r.total_won_revenue_minor,
            marketing_share_of_won_revenue: r.marketing_share_of_won_revenue,
            definition: r.definition.into(),
        }
    }
}
