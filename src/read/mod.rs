//! The read model: for each entity, the filters a list accepts, the orders
//! it can be sorted in, and the parent/child relations that nested lists
//! follow. Plain Rust over SeaORM; the GraphQL layer maps its arguments to
//! these types and pages through [`crate::db::keyset`].

pub mod filters;
pub mod journey;
pub mod links;
pub mod purchases;
pub mod relations;
pub mod sorts;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, Condition};

use crate::error::Error;

/// A half-open time range: `from` ≤ t < `before`. Either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// The condition on `column`, refusing an empty range by `argument` name.
    pub fn condition(&self, column: impl ColumnTrait, argument: &str) -> Result<Condition, Error> {
        if let (Some(from), Some(before)) = (self.from, self.before)
            && from >= before
        {
            return Err(Error::validation(
                argument,
                "the range is empty: `from` must be earlier than `before`",
            ));
        }
        let mut condition = Condition::all();
        if let Some(from) = self.from {
            condition = condition.add(column.gte(from));
        }
        if let Some(before) = self.before {
            condition = condition.add(column.lt(before));
        }
        Ok(condition)
    }
}

/// A closed range of calendar days: `from` ≤ d ≤ `to`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DateRange {
    pub fn condition(&self, column: impl ColumnTrait, argument: &str) -> Result<Condition, Error> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(Error::validation(
                argument,
                "the range is empty: `from` must not be after `to`",
            ));
        }
        let mut condition = Condition::all();
        if let Some(from) = self.from {
            condition = condition.add(column.gte(from));
        }
        if let Some(to) = self.to {
            condition = condition.add(column.lte(to));
        }
        Ok(condition)
    }
}
