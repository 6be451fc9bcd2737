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
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextRequest, NextResolve, ResolveInfo,
};
use async_graphql::{Response, ServerResult, Value};

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

/// Creates one [`GraphqlMetricsExtension`] per request.
pub struct GraphqlMetrics;

impl ExtensionFactory for GraphqlMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GraphqlMetricsExtension::default())
    }
}

#[derive(Default)]
struct GraphqlMetricsExtension {
    /// The operation's label, set when execution starts.
    operation: Mutex<Option<String>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for GraphqlMetricsExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let operation = self
            .operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_else(|| "invalid".to_owned());
        metrics::counter!(OPERATIONS, "operation" => operation.clone()).increment(1);
        if response.is_err() {
            metrics::counter!(OPERATION_ERRORS, "operation" => operation.clone()).increment(1);
        }
        metrics::histogram!(OPERATION_DURATION, "operation" => operation).record(started.elapsed().as_secs_f64());
        response
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        *self.operation.lock().unwrap_or_else(PoisonError::into_inner) = Some(operation_label(operation_name));
        next.run(ctx, operation_name).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        let labels = [("type", info.parent_type.to_owned()), ("field", info.name.to_owned())];
        let started = Instant::now();
        let result = next.run(ctx, info).await;
        metrics::counter!(FIELDS, &labels).increment(1);
        if result.is_err() {
            metrics::counter!(FIELD_ERRORS, &labels).increment(1);
        }
        metrics::histogram!(FIELD_DURATION, &labels).record(started.elapsed().as_secs_f64());
        result
    }
}

/// The label for an operation: its name while there are few names, else
/// `anonymous` or `other`.
fn operation_label(name: Option<&str>) -> String {
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
