//! GraphQL metrics: per operation name and per root field, a count, a
//! count of those that failed and a latency histogram, recorded through
//! the `metrics` facade (exported at `/metrics`, see `http::metrics`).
//!
//! Label values stay few. Root fields come from the schema (validation
//! refuses unknown fields before they are resolved). Operation names come
//! from clients, so they are bounded: an unnamed operation is `anonymous`,
//! a request that was never executed (invalid, refused before execution)
//! is `invalid`, and once [`MAX_OPERATION_NAMES`] distinct names have been
//! seen, new ones are counted as `other`. Neither the query text nor the
//! variables are recorded or logged here.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

use async_graphql::extensions::ResolveInfo;

/// Operations: requests that reached the schema, by `operation`.
pub const OPERATIONS: &str = "accord_graphql_operations_total";
/// Operations whose response carried at least one error, by `operation`.
pub const OPERATION_ERRORS: &str = "accord_graphql_operation_errors_total";
/// Seconds from parsing to the finished response, by `operation`.
pub const OPERATION_DURATION: &str = "accord_graphql_operation_duration_seconds";
/// Root fields resolved, by `type` (`Query`, `Mutation`) and `field`.
pub const FIELDS: &str = "accord_graphql_root_fields_total";
/// Root fields that resolved to an error, by `type` and `field`.
pub const FIELD_ERRORS: &str = "accord_graphql_root_field_errors_total";
/// Seconds a root field took, its whole subtree included, by `type` and `field`.
pub const FIELD_DURATION: &str = "accord_graphql_root_field_duration_seconds";

/// How many distinct operation names get a label of their own.
pub const MAX_OPERATION_NAMES: usize = 500;
/// Names longer than this are counted as `other`.
const MAX_OPERATION_NAME_LENGTH: usize = 100;

/// Describes these metrics to the installed recorder (their `# HELP`).
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(
        OPERATIONS,
        "GraphQL operations that reached the schema, by operation name."
    );
    describe_counter!(
        OPERATION_ERRORS,
        "GraphQL operations whose response carried at least one error, by operation name."
    );
    describe_histogram!(
        OPERATION_DURATION,
        Unit::Seconds,
        "Seconds from parsing a GraphQL operation to its finished response, by operation name."
    );
    describe_counter!(FIELDS, "GraphQL root fields resolved, by parent type and field.");
    describe_counter!(
        FIELD_ERRORS,
        "GraphQL root fields that resolved to an error, by parent type and field."
    );
    describe_histogram!(
        FIELD_DURATION,
        Unit::Seconds,
        "Seconds a GraphQL root field took, its whole subtree included, by parent type and field."
    );
}

/// Records one finished operation under its label ([`operation_label`],
/// or `invalid` for a request that never reached execution).
pub fn record_operation(label: Option<String>, started: Instant, failed: bool) {
    let operation = label.unwrap_or_else(|| "invalid".to_owned());
    metrics::counter!(OPERATIONS, "operation" => operation.clone()).increment(1);
    if failed {
        metrics::counter!(OPERATION_ERRORS, "operation" => operation.clone()).increment(1);
    }
    metrics::histogram!(OPERATION_DURATION, "operation" => operation).record(started.elapsed().as_secs_f64());
}

/// A root field being timed.
pub struct RootField {
    labels: [(&'static str, String); 2],
    started: Instant,
}

impl RootField {
    pub fn start(info: &ResolveInfo<'_>) -> Self {
        Self {
            labels: [("type", info.parent_type.to_owned()), ("field", info.name.to_owned())],
            started: Instant::now(),
        }
    }

    pub fn finish(self, failed: bool) {
        metrics::counter!(FIELDS, &self.labels).increment(1);
        if failed {
            metrics::counter!(FIELD_ERRORS, &self.labels).increment(1);
        }
        metrics::histogram!(FIELD_DURATION, &self.labels).record(self.started.elapsed().as_secs_f64());
    }
}

/// The label for an operation: its name while there are few names, else
/// `anonymous` or `other`.
pub fn operation_label(name: Option<&str>) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name.filter(|name| !name.is_empty()) else {
        return "anonymous".to_owned();
    };
    if name.len() > MAX_OPERATION_NAME_LENGTH {
        return "other".to_owned();
    }
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if seen.contains(name) || seen.len() < MAX_OPERATION_NAMES {
        seen.insert(name.to_owned());
        return name.to_owned();
    }
    "other".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_and_overlong_operations_share_a_label() {
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("")), "anonymous");
        assert_eq!(operation_label(Some(&"x".repeat(101))), "other");
        assert_eq!(operation_label(Some("TopAccounts")), "TopAccounts");
    }
}
