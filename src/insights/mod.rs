//! Insights: the metrics of DESIGN.md §3, computed in the database
//! (GROUP BY, window functions) and finished in Rust only where a number
//! needs maths SQL does not have (Wilson intervals, Shapley values).
//!
//! Every result carries its `n`, a 95% interval where one is defined, and
//! a [`Definition`]: what was computed, how, and with which parameters.
//! One file per metric family; [`scope`] holds the filters they share.

pub mod brand;
pub mod customers;
pub mod delta;
pub mod drivers;
pub mod nps;
pub mod period;
pub mod predictive_clv;
pub mod product_tests;
pub mod retention;
pub mod revenue_cycle;
pub mod scope;
pub mod series;
pub mod stats;
pub mod suppression;

/// What a number means: a stable metric id, its version, the formula in
/// words, and the parameters actually applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub metric: &'static str,
    pub version: u32,
    pub formula: &'static str,
    pub parameters: Vec<Parameter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub value: String,
}

impl Definition {
    pub fn new(metric: &'static str, version: u32, formula: &'static str) -> Self {
        Self {
            metric,
            version,
            formula,
            parameters: Vec::new(),
        }
    }

    pub fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.parameters.push(Parameter {
            name: name.to_owned(),
            value: value.to_string(),
        });
        self
    }
}
