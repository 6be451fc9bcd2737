//! Insights: the metrics of DESIGN.md §3, computed in the database
//! (GROUP BY, window functions) and finished in Rust only where a number
//! needs maths SQL does not have (Wilson intervals, Shapley values).
//!
//! Every result carries its `n`, a 95% interval where one is defined, and
//! a [`Definition`]: what was computed, how, and with which parameters.
//! One file per metric family; [`scope`] holds the filters they share.

pub mod brand;
pub mod cache;
pub mod compare;
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
    pub value: ParameterValue,
}

/// A parameter's value: text as shown, or a row that the API names by
/// its global id (the GraphQL layer encodes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    Text(String),
    Id { type_name: &'static str, row: i64 },
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
            value: ParameterValue::Text(value.to_string()),
        });
        self
    }

    /// A parameter whose value is one of a GraphQL enum's, spelled as the
    /// schema spells it (`PREVIOUS_PERIOD` for `PreviousPeriod`): the enums
    /// are the Rust ones exported under async-graphql's default renaming.
    pub fn with_enum(self, name: &str, value: impl std::fmt::Debug) -> Self {
        self.with(name, schema_spelling(&format!("{value:?}")))
    }

    /// A parameter naming row `row` of GraphQL type `type_name`.
    pub fn with_id(mut self, name: &str, type_name: &'static str, row: i64) -> Self {
        self.parameters.push(Parameter {
            name: name.to_owned(),
            value: ParameterValue::Id { type_name, row },
        });
        self
    }
}

/// `PreviousPeriod` as a GraphQL enum value: `PREVIOUS_PERIOD`.
pub fn schema_spelling(variant: &str) -> String {
    let mut spelled = String::with_capacity(variant.len() + 4);
    for (index, character) in variant.char_indices() {
        if index > 0 && character.is_uppercase() {
            spelled.push('_');
        }
        spelled.extend(character.to_uppercase());
    }
    spelled
}

#[cfg(test)]
mod tests {
    use super::schema_spelling;

    #[test]
    fn variants_are_spelled_as_the_schema_spells_them() {
        assert_eq!(schema_spelling("Month"), "MONTH");
        assert_eq!(schema_spelling("PreviousPeriod"), "PREVIOUS_PERIOD");
        assert_eq!(schema_spelling("WonLead"), "WON_LEAD");
    }
}
