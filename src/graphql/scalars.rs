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
            Value::String(text) => {
                let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| InputValueError::custom(format!("{text:?} is not a date in the form YYYY-MM-DD")))?;
                match crate::db::dates::out_of_range(day) {
                    Some(reason) => Err(InputValueError::custom(reason)),
                    None => Ok(Date(day)),
                }
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A 64-bit signed integer: every amount in minor units (`…Minor`).
///
/// GraphQL's `Int` is 32-bit, so a total of three billion cents is not an
/// `Int` and standard clients refuse it. Like the `Long` of graphql-java's
/// extended scalars and Hasura's `bigint`, a `BigInt` is a JSON number, so
/// clients that read amounts as numbers keep working. Inputs accept a JSON
/// integer or a string of decimal digits (for clients whose numbers are
/// doubles). Amounts are at most 10^15 minor units each (ingest refuses
/// larger ones), well inside JavaScript's exact integers (2^53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct BigInt(pub i64);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(number) => number
                .as_i64()
                .map(BigInt)
                .ok_or_else(|| InputValueError::custom(format!("{number} is not a 64-bit integer"))),
            Value::String(text) => text
                .parse::<i64>()
                .map(BigInt)
                .map_err(|_| InputValueError::custom(format!("{text:?} is not a 64-bit integer"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

impl From<i64> for BigInt {
    fn from(value: i64) -> Self {
        Self(value)
    }
}

/// An amount of money in the reporting currency.
#[derive(Debug, Clone, SimpleObject)]
pub struct Money {
    /// The amount in minor units (cents), exact.
    pub amount_minor: BigInt,
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
            amount_minor: BigInt(amount_minor),
            currency: currency.to_owned(),
            amount,
        }
    }
}
