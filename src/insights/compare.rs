//! `compareTo` on the insights of a whole window (repeat purchase, churn,
//! CLV, revenue cycle, share of voice, product tests): the same insight,
//! computed by the same function over the compared window
//! ([`Window::compared`]) with every other filter equal, so that both
//! numbers are computed the same way. Each insight then compares its
//! values with [`super::delta`]'s tests.

use std::future::Future;

use chrono::NaiveDate;

use super::Definition;
use super::nps::CompareTo;
use super::scope::{Scope, Window};
use crate::error::Error;

/// An insight's result over the compared window.
#[derive(Debug, Clone)]
pub struct Previous<T> {
    pub compare_to: CompareTo,
    pub window: Window,
    pub value: T,
}

impl<T> Previous<T> {
    /// The first day of the compared window (a delta's `previousPeriodStart`).
    pub fn start(&self) -> NaiveDate {
        self.window.from
    }

    /// Adds the comparison to the current result's definition: `compareTo`
    /// and the compared window's days.
    pub fn describe(&self, definition: Definition) -> Definition {
        definition
            .with_enum("compareTo", self.compare_to)
            .with("comparedFrom", self.window.from)
            .with("comparedTo", self.window.to)
    }
}

/// Runs `insight` over the compared scope when there is a `compare_to`.
pub async fn previous<T, Run>(
    scope: &Scope,
    compare_to: Option<CompareTo>,
    insight: impl FnOnce(Scope) -> Run,
) -> Result<Option<Previous<T>>, Error>
where
    Run: Future<Output = Result<T, Error>>,
{
    let Some(compare_to) = compare_to else {
        return Ok(None);
    };
    let compared = scope.compared(compare_to)?;
    let window = compared.window;
    Ok(Some(Previous {
        compare_to,
        window,
        value: insight(compared).await?,
    }))
}
