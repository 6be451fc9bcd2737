//! The metrics a series can show, what each one counts, and how its value,
//! interval and comparison follow from a period's [`Aggregate`].

use entity::enums::Team;

use super::query::Aggregate;
use crate::insights::delta::{self, Moments, Test};
use crate::insights::scope::Rows;
use crate::insights::stats::{NpsScore, nps, proportion};

/// A business metric over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    Revenue,
    Orders,
    AverageOrderValue,
    CustomersOrdering,
    NewCustomers,
    RepeatRate,
    ChurnRate,
    LeadsCreated,
    LeadsWon,
    WonRevenue,
    WinRate,
    Nps,
    Awareness,
    Consideration,
    ShareOfVoice,
    Touchpoints,
}

/// The own brand's answers a brand metric counts as successes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BrandStage {
    Aware,
    Considered,
}

/// The records a metric is computed from; one query per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Orders by `orderedAt`.
    Orders,
    /// Each customer's first order ever, by its `orderedAt`.
    FirstOrders,
    /// Each customer's orders in a period, counted per customer (repeat purchase).
    CustomerOrders,
    /// Each customer's order days up to a period's last day (churn; see `query::churn`).
    OrderHistory,
    /// Leads by `createdAt`.
    LeadsCreated,
    /// WON leads by `closedAt`.
    LeadsWon,
    /// WON and LOST leads by `closedAt`.
    LeadsClosed,
    /// Scored survey responses by `respondedAt`.
    NpsResponses,
    /// The own brand's answers by the response's `respondedAt`.
    BrandAnswers(BrandStage),
    /// Counted brand mentions by their month.
    Mentions,
    /// Touchpoints of one team by `occurredAt`.
    Touchpoints(Team),
}

impl Source {
    /// Which of the scope's filters this source's records take (see `query::records`).
    pub fn rows(self) -> Rows {
        match self {
            Source::Orders | Source::FirstOrders | Source::CustomerOrders | Source::OrderHistory => Rows::Orders,
            Source::LeadsCreated
            | Source::LeadsWon
            | Source::LeadsClosed
            | Source::NpsResponses
            | Source::BrandAnswers(_)
            | Source::Touchpoints(_) => Rows::People,
            Source::Mentions => Rows::WindowOnly,
        }
    }

    /// Whether every record of the source has a customer (a `NOT NULL`
    /// column), so its scan may be cut by customer
    /// ([`crate::db::customer_parts`]): survey responses may be anonymous,
    /// mentions are nobody's.
    pub fn always_has_customer(self) -> bool {
        !matches!(self, Source::NpsResponses | Source::BrandAnswers(_) | Source::Mentions)
    }

    /// Whether the lead's source team (`team`) selects this source's records.
    pub fn is_leads(self) -> bool {
        matches!(self, Source::LeadsCreated | Source::LeadsWon | Source::LeadsClosed)
    }
}

/// What kind of number a metric is, which decides its interval and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Count,
    MoneySum,
    Mean,
    Score,
    Rate,
}

/// One period's value of a metric, with its `n` and 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    pub value: Option<f64>,
    pub n: i64,
    /// The people behind the value: distinct customers of orders, leads and
    /// touchpoints, respondents (responses) of NPS and brand answers, the
    /// `n` of a customer rate. What small-population suppression
    /// ([`crate::insights::suppression`]) compares with its minimum.
    pub population: i64,
    pub interval: Option<(f64, f64)>,
    /// The promoter/passive/detractor counts of an NPS.
    pub nps: Option<NpsScore>,
    /// The numerator of a rate (`value` = count / n).
    pub count: Option<i64>,
}

impl Metric {
    /// The records of the metric; a touchpoint metric's are its team's.
    pub fn source(self, team: Option<Team>) -> Source {
        match self {
            Metric::Revenue | Metric::Orders | Metric::AverageOrderValue | Metric::CustomersOrdering => Source::Orders,
            Metric::NewCustomers => Source::FirstOrders,
            Metric::RepeatRate => Source::CustomerOrders,
            Metric::ChurnRate => Source::OrderHistory,
            Metric::LeadsCreated => Source::LeadsCreated,
            Metric::LeadsWon | Metric::WonRevenue => Source::LeadsWon,
            Metric::WinRate => Source::LeadsClosed,
            Metric::Nps => Source::NpsResponses,
            Metric::Awareness => Source::BrandAnswers(BrandStage::Aware),
            Metric::Consideration => Source::BrandAnswers(BrandStage::Considered),
            Metric::ShareOfVoice => Source::Mentions,
            Metric::Touchpoints => Source::Touchpoints(team.unwrap_or(Team::Marketing)),
        }
    }

    fn kind(self) -> Kind {
        match self {
            Metric::Revenue | Metric::WonRevenue => Kind::MoneySum,
            Metric::AverageOrderValue => Kind::Mean,
            Metric::Nps => Kind::Score,
            Metric::RepeatRate
            | Metric::ChurnRate
            | Metric::WinRate
            | Metric::Awareness
            | Metric::Consideration
            | Metric::ShareOfVoice => Kind::Rate,
            Metric::Orders
            | Metric::CustomersOrdering
            | Metric::NewCustomers
            | Metric::LeadsCreated
            | Metric::LeadsWon
            | Metric::Touchpoints => Kind::Count,
        }
    }

    /// The metric's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Revenue => "REVENUE",
            Metric::Orders => "ORDERS",
            Metric::AverageOrderValue => "AVERAGE_ORDER_VALUE",
            Metric::CustomersOrdering => "CUSTOMERS_ORDERING",
            Metric::NewCustomers => "NEW_CUSTOMERS",
            Metric::RepeatRate => "REPEAT_RATE",
            Metric::ChurnRate => "CHURN_RATE",
            Metric::LeadsCreated => "LEADS_CREATED",
            Metric::LeadsWon => "LEADS_WON",
            Metric::WonRevenue => "WON_REVENUE",
            Metric::WinRate => "WIN_RATE",
            Metric::Nps => "NPS",
            Metric::Awareness => "AWARENESS",
            Metric::Consideration => "CONSIDERATION",
            Metric::ShareOfVoice => "SHARE_OF_VOICE",
            Metric::Touchpoints => "TOUCHPOINTS",
        }
    }

    /// What the metric counts, in words.
    pub fn formula(self) -> &'static str {
        match self {
            Metric::Revenue => "Σ order amountMinor by orderedAt; n = orders",
            Metric::Orders => "orders by orderedAt",
            Metric::AverageOrderValue => {
                "mean order amountMinor by orderedAt, 95% t interval mean ± t(0.975, n−1)·s/√n (s the n−1 \
                 standard deviation; none for n < 2)"
            }
            Metric::CustomersOrdering => "distinct customers with an order in the period",
            Metric::NewCustomers => "customers whose first order ever (among the filtered orders) is in the period",
            Metric::RepeatRate => {
                "customers with at least 2 orders in the period / customers with at least 1 order in the period \
                 (the window's total is repeatPurchase); Wilson 95% interval"
            }
            Metric::ChurnRate => {
                "as of the period's last day inside the window D: customers whose last order on or before D is more \
                 than churnThresholdDays days before D / customers with an order on or before D (the window's total \
                 is churn as of its last day); Wilson 95% interval; consecutive points share customers, so their \
                 comparison is the two-proportion z-test of two snapshots, not of independent samples"
            }
            Metric::LeadsCreated => "leads by createdAt",
            Metric::LeadsWon => "WON leads by closedAt",
            Metric::WonRevenue => {
                "Σ amountMinor of WON leads by closedAt (the won revenue of attribution WON_LEAD and of \
                 revenueCycle(basis: CLOSED); its default basis CREATED counts the leads created in the window, \
                 so its won revenue differs); n = won leads"
            }
            Metric::WinRate => {
                "WON leads / leads closed (WON or LOST) by closedAt (revenueCycle(basis: CLOSED).winRate \
                 over the whole window); Wilson 95% interval"
            }
            Metric::Nps => {
                "100·(promoters − detractors)/n over scored responses of every survey by respondedAt, \
                 95% interval NPS ± z·100·√(var/n)"
            }
            Metric::Awareness => {
                "the own brand's answers marked aware / the own brand's answers, by the response's respondedAt \
                 (brandFunnel's awareness); Wilson 95% interval"
            }
            Metric::Consideration => {
                "the own brand's answers marked considered / the own brand's answers, by the response's \
                 respondedAt (brandFunnel's consideration); Wilson 95% interval"
            }
            Metric::ShareOfVoice => {
                "the own brand's mentions / all brands' mentions in every channel, by the mention month (months \
                 that start inside the period and the window, as shareOfVoice counts them); n = all mentions, \
                 each mention an observation of the Wilson 95% interval and the two-proportion z-test"
            }
            Metric::Touchpoints => "touchpoints of the series' team by occurredAt; one series per team",
        }
    }

    /// The metric's value in a period with these statistics.
    pub fn estimate(self, aggregate: &Aggregate) -> Estimate {
        Estimate {
            population: self.population(aggregate),
            ..self.value(aggregate)
        }
    }

    /// The people a period's value is computed over.
    fn population(self, aggregate: &Aggregate) -> i64 {
        match self.source(None) {
            Source::NpsResponses | Source::BrandAnswers(_) | Source::OrderHistory => aggregate.n,
            // Mentions are counted per channel and month by the source, not
            // per person: there is no population to suppress (as shareOfVoice).
            Source::Mentions => i64::MAX,
            Source::Orders
            | Source::FirstOrders
            | Source::CustomerOrders
            | Source::LeadsCreated
            | Source::LeadsWon
            | Source::LeadsClosed
            | Source::Touchpoints(_) => aggregate.customers,
        }
    }

    fn value(self, aggregate: &Aggregate) -> Estimate {
        #[allow(clippy::cast_precision_loss)]
        let count = |value: i64| Estimate {
            value: Some(value as f64),
            n: value,
            ..Estimate::default()
        };
        match self.kind() {
            Kind::Count if self == Metric::CustomersOrdering => count(aggregate.customers),
            Kind::Count => count(aggregate.n),
            #[allow(clippy::cast_precision_loss)]
            Kind::MoneySum => Estimate {
                value: Some(aggregate.sum_minor as f64),
                n: aggregate.n,
                ..Estimate::default()
            },
            Kind::Mean => {
                let moments = moments(aggregate);
                Estimate {
                    value: moments.mean(),
                    n: aggregate.n,
                    interval: moments.mean_interval(),
                    ..Estimate::default()
                }
            }
            Kind::Score => {
                let score = nps_score(aggregate);
                Estimate {
                    value: score.nps,
                    n: score.n,
                    interval: score.ci_low.zip(score.ci_high),
                    nps: Some(score),
                    ..Estimate::default()
                }
            }
            Kind::Rate => {
                let rate = proportion(aggregate.successes, aggregate.n);
                Estimate {
                    value: rate.rate,
                    n: aggregate.n,
                    interval: rate.ci_low.zip(rate.ci_high),
                    count: Some(aggregate.successes),
                    ..Estimate::default()
                }
            }
        }
    }

    /// The test of a period against the one it is compared with, each with
    /// its exposure (the share of its period that it covers).
    pub fn test(self, current: (&Aggregate, f64), previous: (&Aggregate, f64)) -> Test {
        let (now, then) = (self.estimate(current.0), self.estimate(previous.0));
        match self.kind() {
            Kind::MoneySum => Test::money_sum(),
            Kind::Count => delta::poisson_rates(now.n, current.1, then.n, previous.1),
            Kind::Mean => delta::welch_t(&moments(current.0), &moments(previous.0)),
            Kind::Score => delta::nps_difference(&nps_score(current.0), &nps_score(previous.0)),
            Kind::Rate => delta::proportions((current.0.successes, current.0.n), (previous.0.successes, previous.0.n)),
        }
    }
}

fn moments(aggregate: &Aggregate) -> Moments {
    #[allow(clippy::cast_precision_loss)]
    Moments {
        n: aggregate.n,
        sum: aggregate.sum_minor as f64,
        squares: aggregate.squares,
    }
}

fn nps_score(aggregate: &Aggregate) -> NpsScore {
    nps(aggregate.promoters, aggregate.passives, aggregate.detractors)
}
