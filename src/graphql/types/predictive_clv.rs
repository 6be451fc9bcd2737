//! Output types of predictive CLV: `insights { predictiveClv }` (fitted
//! models and groups) and `customer { predicted }` (one customer's
//! predictions from the fit [`Loaders::fitted`] keeps, so a page of
//! customers, and every request until a write, shares one fit).

use async_graphql::{Context, Object, SimpleObject};
use chrono::{NaiveDate, Utc};

use super::insights::{Definition, FromInsight, Suppression, suppression};
use crate::graphql::error::IntoGraphql;
use crate::graphql::loaders::Loaders;
use crate::graphql::scalars::Date;
use crate::insights::cache::InsightCache;
use crate::insights::predictive_clv as domain;

/// Fitted BG/NBD parameters: purchase rates Gamma(r, alpha) with alpha in
/// days, dropout probabilities Beta(a, b).
#[derive(Debug, Clone, SimpleObject)]
pub struct BgNbdFit {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// The total log-likelihood over the customers, times in days.
    pub log_likelihood: f64,
}

/// Fitted Gamma-Gamma parameters (v in minor units).
#[derive(Debug, Clone, SimpleObject)]
pub struct GammaGammaFit {
    pub p: f64,
    pub q: f64,
    pub v: f64,
    /// The total log-likelihood over the customers it is fitted on.
    pub log_likelihood: f64,
}

/// Predictions summed over a group of customers. Its population is
/// `customers`; when that is suppressed, every number is null.
#[derive(Debug, Clone, SimpleObject)]
pub struct PredictedGroup {
    pub key: String,
    pub customers: Option<i64>,
    /// Σ CLV over the horizon, minor units.
    pub total_clv: Option<f64>,
    pub average_clv: Option<f64>,
    /// Σ expected purchase days within `purchaseDays`.
    pub total_expected_purchases: Option<f64>,
    pub average_expected_purchases: Option<f64>,
    pub average_p_alive: Option<f64>,
    /// True when customers is below the minimum audience size for this viewer: every number is then null.
    pub suppressed: bool,
}

impl FromInsight<domain::Group> for PredictedGroup {
    fn from_insight(g: domain::Group, rule: Suppression) -> Self {
        let shown = |value: Option<f64>| rule.shown(g.customers, value).flatten();
        Self {
            customers: rule.shown(g.customers, g.customers),
            total_clv: shown(Some(g.total_clv)),
            average_clv: shown(g.average(g.total_clv)),
            total_expected_purchases: shown(Some(g.total_expected_purchases)),
            average_expected_purchases: shown(g.average(g.total_expected_purchases)),
            average_p_alive: shown(g.average(g.total_p_alive)),
            suppressed: rule.hides(g.customers),
            key: g.key,
        }
    }
}

/// BG/NBD + Gamma-Gamma predictive customer lifetime value.
#[derive(Debug, Clone, SimpleObject)]
pub struct PredictiveClv {
    /// The observation end: the window's last day.
    pub as_of: Date,
    pub horizon_months: i64,
    pub monthly_discount_rate: f64,
    /// The horizon of the groups' expected purchases, in days.
    pub purchase_days: i64,
    /// Customers with frequency > 0 (a second purchase day).
    pub repeat_customers: Option<i64>,
    /// Null when no customer in scope has an order, or when the population is suppressed.
    pub bgnbd: Option<BgNbdFit>,
    /// Null also when no customer has a repeat purchase day.
    pub gamma_gamma: Option<GammaGammaFit>,
    /// Every customer in the model.
    pub overall: PredictedGroup,
    /// By segment id (memberships as of each segment's last refresh).
    pub by_segment: Vec<PredictedGroup>,
    /// By the customer's region.
    pub by_region: Vec<PredictedGroup>,
    /// By the id of the account the customer is a contact of.
    pub by_account: Vec<PredictedGroup>,
    pub definition: Definition,
}

impl FromInsight<domain::PredictiveClv> for PredictiveClv {
    fn from_insight(v: domain::PredictiveClv, rule: Suppression) -> Self {
        let population = v.overall.customers;
        let model = v.model.filter(|_| !rule.hides(population));
        Self {
            as_of: Date(v.as_of),
            horizon_months: v.request.horizon_months,
            monthly_discount_rate: v.request.monthly_discount_rate,
            purchase_days: v.request.purchase_days,
            repeat_customers: rule.shown(population, v.repeat_customers),
            bgnbd: model.map(|m| BgNbdFit {
                r: m.bgnbd.r,
                alpha: m.bgnbd.alpha,
                a: m.bgnbd.a,
                b: m.bgnbd.b,
                log_likelihood: v.bgnbd_log_likelihood.unwrap_or(f64::NAN),
            }),
            gamma_gamma: model.and_then(|m| m.gamma_gamma).map(|gg| GammaGammaFit {
                p: gg.p,
                q: gg.q,
                v: gg.v,
                log_likelihood: v.gamma_gamma_log_likelihood.unwrap_or(f64::NAN),
            }),
            overall: PredictedGroup::from_insight(v.overall, rule),
            by_segment: super::insights::all(v.by_segment, rule),
            by_region: super::insights::all(v.by_region, rule),
            by_account: super::insights::all(v.by_account, rule),
            definition: Definition::from_insight(v.definition, rule),
        }
    }
}

/// The population of one customer's predictions: that customer.
const ONE_CUSTOMER: i64 = 1;

/// One customer's predictions from the models fitted over every customer
/// as of `asOf`. For viewers without PII access (under a minimum audience
/// size above 1) the values are null with `suppressed: true`.
pub struct CustomerPrediction {
    prediction: domain::Prediction,
    rule: Suppression,
}

impl CustomerPrediction {
    fn shown<T>(&self, value: T) -> Option<T> {
        self.rule.shown(ONE_CUSTOMER, value)
    }
}

#[Object]
impl CustomerPrediction {
    /// The observation end.
    async fn as_of(&self) -> Date {
        Date(self.prediction.model.as_of)
    }
    /// Repeat purchase days: UTC days with an order, less the first.
    async fn frequency(&self) -> Option<i64> {
        self.shown(self.prediction.history.frequency)
    }
    /// Days from the first to the last purchase day.
    async fn recency(&self) -> Option<i64> {
        self.shown(self.prediction.history.recency)
    }
    /// Days from the first purchase day to asOf (the customer's age, lifetimes' T).
    async fn t(&self) -> Option<i64> {
        self.shown(self.prediction.history.t)
    }
    /// Mean amount of the repeat purchase days, minor units (0 without any).
    async fn monetary_value(&self) -> Option<f64> {
        self.shown(self.prediction.history.monetary_value)
    }
    /// Expected purchase days in the `days` after asOf (BG/NBD).
    async fn expected_purchases(&self, #[graphql(default = 90)] days: i64) -> async_graphql::Result<Option<f64>> {
        domain::validate_days(days, "days").gql()?;
        #[allow(clippy::cast_precision_loss)]
        let days = days as f64;
        Ok(self.shown(self.prediction.model.expected_purchases(&self.prediction.history, days)))
    }
    /// Probability that the customer is still active at asOf (BG/NBD).
    async fn p_alive(&self) -> Option<f64> {
        self.shown(self.prediction.p_alive)
    }
    /// Expected spend per future purchase day, minor units (Gamma-Gamma);
    /// null when no customer has a repeat purchase day to fit it on.
    async fn expected_average_profit(&self) -> Option<f64> {
        self.shown(self.prediction.expected_average_profit).flatten()
    }
    /// Discounted expected spend over the horizon, minor units.
    async fn clv(&self) -> Option<f64> {
        self.shown(self.prediction.clv).flatten()
    }
    /// True when one customer is below the minimum audience size for this viewer: every value is then null.
    async fn suppressed(&self) -> bool {
        self.rule.hides(ONE_CUSTOMER)
    }
}

/// `customer.predicted`: null when the customer has no order by `asOf`.
pub(crate) async fn predicted(
    ctx: &Context<'_>,
    customer_id: i64,
    as_of: Option<Date>,
    horizon_months: i64,
    monthly_discount_rate: f64,
) -> async_graphql::Result<Option<CustomerPrediction>> {
    let request = domain::Request::new(horizon_months, monthly_discount_rate, 90).gql()?;
    let as_of: NaiveDate = as_of.map_or_else(|| Utc::now().date_naive(), |date| date.0);
    let cache = ctx.data::<InsightCache>()?;
    let fitted = ctx.data::<Loaders>()?.fitted(cache, as_of).await.gql()?;
    let prediction = fitted.predict(customer_id, &request);
    let rule = suppression(ctx)?;
    Ok(prediction.map(|prediction| CustomerPrediction { prediction, rule }))
}
