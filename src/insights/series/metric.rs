//! The metrics a series can show, what each one counts, and how its value,
//! interval and comparison follow from a period's [`Aggregate`].

use super::query::Aggregate;
use crate::insights::delta::{self, Moments, Test};
use crate::insights::scope::Rows;
use crate::insights::stats::{NpsScore, nps};

/// A business metric over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    Revenue,
    Orders,
    AverageOrderValue,
    CustomersOrdering,
    NewCustomers,
    LeadsCreated,
    LeadsWon,
    WonRevenue,
    Nps,
}

/// The records a metric is computed from; one query per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Orders by `orderedAt`.
    Orders,
    /// Each customer's first order ever, by its `orderedAt`.
    FirstOrders,
    /// Leads by `createdAt`.
    LeadsCreated,
    /// WON leads by `closedAt`.
    LeadsWon,
    /// Scored survey responses by `respondedAt`.
    NpsResponses,
}

impl Source {
    /// Which of the scope's filters this source's records take (see `query::records`).
    pub fn rows(self) -> Rows {
        match self {
            Source::Orders | Source::FirstOrders => Rows::Orders,
            Source::LeadsCreated | Source::LeadsWon | Source::NpsResponses => Rows::People,
        }
    }
}

/// What kind of number a metric is, which decides its interval and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Count,
    MoneySum,
    Mean,
    Score,
}

/// One period's value of a metric, with its `n` and 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    pub value: Option<f64>,
    pub n: i64,
    /// The people behind the value: distinct customers of orders and leads,
    /// respondents (responses) of NPS. What small-population suppression
    /// ([`crate::insights::suppression`]) compares with its minimum.
    pub population: i64,
    pub interval: Option<(f64, f64)>,
    /// The promoter/passive/detractor counts of an NPS.
    pub nps: Option<NpsScore>,
}

impl Metric {
    pub fn source(self) -> Source {
        match self {
            Metric::Revenue | Metric::Orders | Metric::AverageOrderValue | Metric::CustomersOrdering => Source::Orders,
            Metric::NewCustomers => Source::FirstOrders,
            Metric::LeadsCreated => Source::LeadsCreated,
            Metric::LeadsWon | Metric::WonRevenue => Source::LeadsWon,
            Metric::Nps => Source::NpsResponses,
        }
    }

    fn kind(self) -> Kind {
        match self {
            Metric::Revenue | Metric::WonRevenue => Kind::MoneySum,
            Metric::AverageOrderValue => Kind::Mean,
            Metric::Nps => Kind::Score,
            _ => Kind::Count,
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
            Metric::LeadsCreated => "LEADS_CREATED",
            Metric::LeadsWon => "LEADS_WON",
            Metric::WonRevenue => "WON_REVENUE",
            Metric::Nps => "NPS",
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
            Metric::LeadsCreated => "leads by createdAt",
            Metric::LeadsWon => "WON leads by closedAt",
            Metric::WonRevenue => {
                "Σ amountMinor of WON leads by closedAt (the won revenue of attribution WON_LEAD and of \
                 revenueCycle(basis: CLOSED)); n = won leads"
            }
            Metric::Nps => {
                "100·(promoters − detractors)/n over scored responses of every survey by respondedAt, \
                 95% interval NPS ± z·100·√(var/n)"
            }
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
        match self.source() {
            Source::NpsResponses => aggregate.n,
            Source::Orders | Source::FirstOrders | Source::LeadsCreated | Source::LeadsWon => aggregate.customers,
        }
    }

    fn value(self, aggregate: &Aggregate) -> Estimate {
        #[allow(clippy::cast_precision_loss)]
        let count = |value: i64| Estimate {
            value: Some(value as f64),
            n: value,
            ..Estimate::default()
        };
        match self {
            Metric::Orders | Metric::LeadsCreated | Metric::LeadsWon | Metric::NewCustomers => count(aggregate.n),
            Metric::CustomersOrdering => count(aggregate.customers),
            #[allow(clippy::cast_precision_loss)]
            Metric::Revenue | Metric::WonRevenue => Estimate {
                value: Some(aggregate.sum_minor as f64),
                n: aggregate.n,
                ..Estimate::default()
            },
            Metric::AverageOrderValue => {
                let moments = moments(aggregate);
                Estimate {
                    value: moments.mean(),
                    n: aggregate.n,
                    interval: moments.mean_interval(),
                    ..Estimate::default()
                }
            }
            Metric::Nps => {
                let score = nps_score(aggregate);
                Estimate {
                    value: score.nps,
                    n: score.n,
                    interval: score.ci_low.zip(score.ci_high),
                    nps: Some(score),
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
            Kind::MoneySum => Test {
                p_value: None,
                z: None,
                method: delta::NONE_MONEY_SUM,
            },
            Kind::Count => delta::poisson_rates(now.n, current.1, then.n, previous.1),
            Kind::Mean => delta::welch_t(&moments(current.0), &moments(previous.0)),
            Kind::Score => delta::nps_difference(&nps_score(current.0), &nps_score(previous.0)),
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
