//! Predictive customer lifetime value: BG/NBD for how often customers buy
//! and when they drop out, Gamma-Gamma for how much they spend per purchase
//! day, both fitted by maximum likelihood over the customers' order
//! histories as of the window's last day, as the `lifetimes` package does
//! (checked against it by tools/oracle/predictive_clv.py).
//!
//! - [`history`]: the per-customer summary (frequency, recency, T,
//!   monetary value), one aggregate statement;
//! - [`bgnbd`], [`gamma_gamma`]: the likelihoods, fits and predictions;
//! - [`optimise`]: argmin's Nelder-Mead over log-parameters;
//! - [`special`]: ₂F₁ for the BG/NBD expectation.

pub mod bgnbd;
pub mod gamma_gamma;
pub mod history;
pub mod optimise;
pub mod special;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

pub use bgnbd::BgNbd;
pub use gamma_gamma::GammaGamma;
pub use history::History;

use super::Definition;
use super::scope::{Rows, Scope};
use crate::error::Error;

/// Days in one month of the CLV horizon, as lifetimes' `freq='D'`.
pub const DAYS_PER_MONTH: f64 = 30.0;

/// What to predict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// The CLV horizon, in months of 30 days (1..=120).
    pub horizon_months: i64,
    /// Discount per month, in [0, 1).
    pub monthly_discount_rate: f64,
    /// The horizon of the expected purchases reported per group, in days.
    pub purchase_days: i64,
}

impl Request {
    pub fn new(horizon_months: i64, monthly_discount_rate: f64, purchase_days: i64) -> Result<Self, Error> {
        if !(1..=120).contains(&horizon_months) {
            return Err(Error::validation(
                "horizonMonths",
                format!("{horizon_months} is outside 1..=120"),
            ));
        }
        if !(0.0..1.0).contains(&monthly_discount_rate) {
            return Err(Error::validation(
                "monthlyDiscountRate",
                format!("{monthly_discount_rate} is outside [0, 1)"),
            ));
        }
        validate_days(purchase_days, "purchaseDays")?;
        Ok(Self {
            horizon_months,
            monthly_discount_rate,
            purchase_days,
        })
    }
}

/// Checks a prediction horizon in days.
pub fn validate_days(days: i64, field: &str) -> Result<(), Error> {
    if (1..=3650).contains(&days) {
        Ok(())
    } else {
        Err(Error::validation(field, format!("{days} is outside 1..=3650")))
    }
}

/// Both fitted models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    pub as_of: NaiveDate,
    pub bgnbd: BgNbd,
    /// `None` when no customer has a repeat purchase day with a positive amount.
    pub gamma_gamma: Option<GammaGamma>,
}

/// One customer's predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub history: History,
    pub model: Model,
    pub p_alive: f64,
    pub expected_average_profit: Option<f64>,
    pub clv: Option<f64>,
}

impl Model {
    /// Fits both models on the histories; `None` without any customer.
    pub fn fit(as_of: NaiveDate, histories: &[History]) -> Result<Option<Self>, Error> {
        if histories.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            as_of,
            bgnbd: BgNbd::fit(histories)?,
            gamma_gamma: GammaGamma::fit(histories)?,
        }))
    }

    pub fn expected_purchases(&self, history: &History, days: f64) -> f64 {
        self.bgnbd
            .expected_purchases(days, history.x(), history.t_x(), history.t_days())
    }

    /// What the BG/NBD predicts from a history's (frequency, recency, T),
    /// the same for every customer sharing them.
    ///
    /// The discounted purchases follow lifetimes'
    /// `customer_lifetime_value(..., freq='D')`: the months of the horizon
    /// are steps of 30 days; month i's expected purchases, discounted by
    /// (1 + rate)^i. CLV is that times the expected spend per purchase.
    pub fn outlook(&self, history: &History, request: &Request) -> Outlook {
        let mut discounted_purchases = 0.0;
        let mut before = 0.0;
        for month in 1..=request.horizon_months {
            #[allow(clippy::cast_precision_loss)]
            let month = month as f64;
            let until = self.expected_purchases(history, month * DAYS_PER_MONTH);
            discounted_purchases += (until - before) / (1.0 + request.monthly_discount_rate).powf(month);
            before = until;
        }
        Outlook {
            p_alive: self.bgnbd.p_alive(history.x(), history.t_x(), history.t_days()),
            discounted_purchases,
        }
    }

    pub fn predict(&self, history: History, request: &Request) -> Prediction {
        let outlook = self.outlook(&history, request);
        self.predict_from(history, outlook)
    }

    /// The prediction for `history` given its [`Outlook`].
    pub fn predict_from(&self, history: History, outlook: Outlook) -> Prediction {
        let expected_average_profit = self.expected_average_profit(&history);
        Prediction {
            clv: self.clv(&history, outlook),
            history,
            model: *self,
            p_alive: outlook.p_alive,
            expected_average_profit,
        }
    }

    /// The Gamma-Gamma conditional mean spend per purchase day.
    fn expected_average_profit(&self, history: &History) -> Option<f64> {
        self.gamma_gamma
            .map(|gg| gg.expected_average_profit(history.x(), history.monetary_value))
    }

    /// CLV: the expected spend per purchase day times the discounted
    /// purchases of the history's [`Outlook`].
    fn clv(&self, history: &History, outlook: Outlook) -> Option<f64> {
        self.expected_average_profit(history)
            .map(|profit| profit * outlook.discounted_purchases)
    }
}

/// The BG/NBD's predictions for one (frequency, recency, T).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outlook {
    pub p_alive: f64,
    /// Expected purchases over the CLV horizon, each month's discounted.
    pub discounted_purchases: f64,
}

/// Sums over a group of customers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub key: String,
    pub customers: i64,
    pub total_clv: f64,
    pub total_expected_purchases: f64,
    pub total_p_alive: f64,
}

impl Group {
    /// Adds one customer's CLV, expected purchases and P(alive).
    fn add(&mut self, (clv, expected_purchases, p_alive): (f64, f64, f64)) {
        self.customers += 1;
        self.total_clv += clv;
        self.total_expected_purchases += expected_purchases;
        self.total_p_alive += p_alive;
    }

    /// total / customers; `None` for an empty group.
    pub fn average(&self, total: f64) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.customers > 0).then(|| total / self.customers as f64)
    }
}

#[derive(Debug, Clone)]
pub struct PredictiveClv {
    pub as_of: NaiveDate,
    pub request: Request,
    /// `None` when no customer in scope has an order.
    pub model: Option<Model>,
    pub bgnbd_log_likelihood: Option<f64>,
    pub gamma_gamma_log_likelihood: Option<f64>,
    /// Customers with frequency > 0.
    pub repeat_customers: i64,
    pub overall: Group,
    pub by_segment: Vec<Group>,
    pub by_region: Vec<Group>,
    pub by_account: Vec<Group>,
    pub definition: Definition,
}

pub const FORMULA: &str = "over customers with an order on or before the as-of date (the window's last day): each \
     customer's orders grouped into UTC purchase days give frequency = purchase days - 1, recency = last - first \
     purchase day, T = as-of date - first purchase day (days) and monetary value = mean amount of the repeat days \
     (lifetimes summary_data_from_transaction_data, freq D); BG/NBD (r, alpha in days, a, b) is fitted by maximum \
     likelihood on (frequency, recency, T) and Gamma-Gamma (p, q, v) on customers with frequency > 0 and a positive \
     monetary value, both with Nelder-Mead over log-parameters; expected purchases up to t days and P(alive) are \
     the BG/NBD conditional expectations, expected average profit the Gamma-Gamma conditional mean, and CLV = sum \
     over months i = 1..horizonMonths of expected average profit x (E[purchases up to 30i days] - E[purchases up \
     to 30(i-1) days]) / (1 + monthlyDiscountRate)^i, in minor units; log-likelihoods are totals over customers in \
     day units; groups sum and average over their customers";

/// Fits the models over the scope's customers and predicts for each group.
pub async fn predictive_clv(
    db: &impl ConnectionTrait,
    scope: &Scope,
    request: Request,
) -> Result<PredictiveClv, Error> {
    let histories = history::histories(db, scope).await?;
    let segments = history::segments(db, scope).await?;
    let definition = scope
        .describe(Rows::Orders, Definition::new("predictive_clv", 1, FORMULA))
        .with("asOf", scope.window.to)
        .with("horizonMonths", request.horizon_months)
        .with("monthlyDiscountRate", request.monthly_discount_rate)
        .with("purchaseDays", request.purchase_days);
    let as_of = scope.window.to;
    off_the_runtime(move || summarise(as_of, request, &histories, &segments, definition)).await
}

/// Fits the models on the histories and sums the predictions per group.
fn summarise(
    as_of: NaiveDate,
    request: Request,
    histories: &[History],
    segments: &HashMap<i64, Vec<i64>>,
    definition: Definition,
) -> Result<PredictiveClv, Error> {
    let model = Model::fit(as_of, histories)?;
    let mut result = PredictiveClv {
        as_of,
        request,
        model,
        bgnbd_log_likelihood: model.map(|m| m.bgnbd.total_log_likelihood(histories)),
        gamma_gamma_log_likelihood: model
            .and_then(|m| m.gamma_gamma)
            .map(|gg| gg.total_log_likelihood(histories)),
        repeat_customers: i64::try_from(histories.iter().filter(|h| h.frequency > 0).count()).unwrap_or(i64::MAX),
        overall: Group::default(),
        by_segment: Vec::new(),
        by_region: Vec::new(),
        by_account: Vec::new(),
        definition,
    };
    let Some(model) = model else {
        return Ok(result);
    };
    let (mut by_segment, mut by_region, mut by_account) = (
        BTreeMap::<i64, Group>::new(),
        BTreeMap::<String, Group>::new(),
        BTreeMap::<i64, Group>::new(),
    );
    #[allow(clippy::cast_precision_loss)]
    let purchase_days = request.purchase_days as f64;
    // Each prediction sums ₂F₁ series for every month of the horizon; they
    // depend on (frequency, recency, T) only, which many customers share.
    let mut outlooks: HashMap<(i64, i64, i64), (Outlook, f64)> = HashMap::new();
    for history in histories {
        let customer_id = history.customer_id;
        let (outlook, expected) = *outlooks
            .entry((history.frequency, history.recency, history.t))
            .or_insert_with(|| {
                (
                    model.outlook(history, &request),
                    model.expected_purchases(history, purchase_days),
                )
            });
        let customer = (model.clv(history, outlook).unwrap_or(0.0), expected, outlook.p_alive);
        result.overall.add(customer);
        match by_region.get_mut(&history.region) {
            Some(group) => group.add(customer),
            None => by_region.entry(history.region.clone()).or_default().add(customer),
        }
        if let Some(account) = history.account_id {
            by_account.entry(account).or_default().add(customer);
        }
        for segment in segments.get(&customer_id).into_iter().flatten() {
            by_segment.entry(*segment).or_default().add(customer);
        }
    }
    let keyed = |groups: BTreeMap<String, Group>| {
        groups
            .into_iter()
            .map(|(key, group)| Group { key, ..group })
            .collect::<Vec<_>>()
    };
    let by_id = |groups: BTreeMap<i64, Group>| keyed(groups.into_iter().map(|(id, g)| (id.to_string(), g)).collect());
    result.by_segment = by_id(by_segment);
    result.by_account = by_id(by_account);
    result.by_region = keyed(by_region);
    Ok(result)
}

/// The models fitted over every customer as of a day, with the customers'
/// histories to predict from.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub model: Option<Model>,
    pub histories: HashMap<i64, History>,
}

impl Fitted {
    /// About how many bytes the fit holds (its histories), for the cache's bound.
    pub fn bytes(&self) -> usize {
        let per_history = std::mem::size_of::<(i64, History)>() + std::mem::size_of::<u64>();
        self.histories
            .values()
            .map(|history| per_history + history.region.capacity())
            .sum()
    }

    /// The customer's predictions; `None` without an order by the as-of day.
    pub fn predict(&self, customer_id: i64, request: &Request) -> Option<Prediction> {
        let model = self.model?;
        let history = self.histories.get(&customer_id)?.clone();
        Some(model.predict(history, request))
    }
}

/// Fits the models over every customer's orders on or before `as_of`.
pub async fn fit_all(db: &impl ConnectionTrait, as_of: NaiveDate) -> Result<Fitted, Error> {
    let scope = Scope::new(super::scope::Window::new(as_of, as_of)?);
    let histories = history::histories(db, &scope).await?;
    let (model, histories) =
        off_the_runtime(move || Model::fit(as_of, &histories).map(|model| (model, histories))).await?;
    Ok(Fitted {
        model,
        histories: histories.into_iter().map(|h| (h.customer_id, h)).collect(),
    })
}

/// Runs `work` (a model fit and its predictions) on tokio's blocking
/// pool: it is CPU-bound for up to seconds, and on a runtime worker it
/// would stall every other request (and the connection pool) sharing that
/// worker.
async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| Error::Internal(format!("the model fit stopped: {error}")))?
}
