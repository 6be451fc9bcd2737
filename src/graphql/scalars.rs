//! Scalars of the schema beyond GraphQL's own: `DateTime` (RFC 3339, UTC)
//! comes from async-graphql's chrono support; `Date` is a calendar day.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value};
use chrono::NaiveDate;

/// A calendar day, `YYYY-MM-DD`. Serialises as that text, which is how
/// ingest records read a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Date(pub NaiveDate);

/// A calendar day in ISO 8601 form, `YYYY-MM-DD`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom(format!("{text:?} is not a date in the form YYYY-MM-DD"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An amount of money in the reporting currency.
#[derive(Debug, Clone, SimpleObject)]
pub struct Money {
    /// The amount in minor units (cents), exact.
    pub amount_minor: i64,
    /// ISO 4217 code of the reporting currency.
    pub currency: String,
    /// The amount in major units, for display; use `amountMinor` for sums.
    pub amount: f64,
}

impl Money {
    pub fn new(amount_minor: i64, currency: &str) -> Self {
        // Every reporting currency Accord supports has two minor digits.
        #[allow(clippy::cast_precision_loss)]
        let amount = amount_minor as f64 / 100.0;
        Self {
            amount_minor,
            currency: currency.to_owned(),
            amount,
        }
    }
}
