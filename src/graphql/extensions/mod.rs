//! What the schema does around every request and field, as one
//! async-graphql extension ([`Hooks`]) over plain policies:
//! - [`crate::graphql::limits`]: the query limits, before anything walks
//!   the document;
//! - [`crate::graphql::access`]: who may resolve what, and the audit trail
//!   of mutations;
//! - [`introspection`]: who may see the schema itself;
//! - [`metrics`]: what `/metrics` counts per operation and root field;
//! - [`insight_gate`]: how many insights run at once.
//!
//! One extension rather than one per policy: async-graphql runs every
//! extension's `resolve` for every field and every list item (a boxed
//! future each, even for the default that only calls the next one), so a
//! page of 100 rows of 10 fields paid for six extensions 6,000 times.
//! Here a field pays once, and a nested field without a cost weight, for a
//! viewer who may read every record, goes straight to its resolver.

pub mod insight_gate;
pub mod introspection;
pub mod metrics;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextRequest, NextResolve,
    ResolveInfo,
};
use async_graphql::{Request, Response, ServerResult, Value, Variables};
use sea_orm::DatabaseConnection;

use crate::auth::Viewer;
use crate::graphql::limits::QueryLimits;
use crate::graphql::{access, query};
use insight_gate::InsightGate;

/// Creates each request's [`RequestHooks`] around the shared limits and
/// insight places.
pub struct Hooks {
    limits: QueryLimits,
    gate: InsightGate,
}

impl Hooks {
    pub fn new(limits: QueryLimits, gate: InsightGate) -> Self {
        Self { limits, gate }
    }
}

impl ExtensionFactory for Hooks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestHooks {
            limits: self.limits.clone(),
            gate: self.gate.clone(),
            variables: Mutex::default(),
            operation: Mutex::default(),
        })
    }
}

/// One request's hooks.
struct RequestHooks {
    limits: QueryLimits,
    gate: InsightGate,
    /// The request's variables, to name a mutation's target in the audit log.
    variables: Mutex<Variables>,
    /// The operation's metrics label, set when execution starts.
    operation: Mutex<Option<String>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestHooks {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let label = self.operation.lock().unwrap_or_else(PoisonError::into_inner).take();
        metrics::record_operation(label, started, response.is_err());
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.limits.check_request(&mut request)?;
        *self.variables.lock().unwrap_or_else(PoisonError::into_inner) = request.variables.clone();
        next.run(ctx, query::entities::with_places(request)).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        *self.operation.lock().unwrap_or_else(PoisonError::into_inner) = Some(metrics::operation_label(operation_name));
        next.run(ctx, operation_name).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = info.path_node.parent.is_none();
        let gated = InsightGate::bounds(&info);
        let viewer = ctx.data_opt::<Viewer>();
        if !root && !gated && viewer.is_some_and(Viewer::may_read_records) {
            return next.run(ctx, info).await;
        }
        let timed = root.then(|| metrics::RootField::start(&info));
        let resolved = self.guarded(ctx, viewer, info, gated, root, next).await;
        if let Some(field) = timed {
            field.finish(resolved.is_err());
        }
        resolved
    }
}

impl RequestHooks {
    /// Runs the field of `info` if the policies let it: the schema's own
    /// fields for those who may introspect, the access rules, a place for
    /// an insight; a mutation that succeeded is audited.
    async fn guarded(
        &self,
        ctx: &ExtensionContext<'_>,
        viewer: Option<&Viewer>,
        info: ResolveInfo<'_>,
        gated: bool,
        root: bool,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if root {
            introspection::check(viewer, &info)?;
        }
        let audit = {
            let variables = self.variables.lock().unwrap_or_else(PoisonError::into_inner);
            access::check(viewer, &info, &variables)?
        };
        let places = match gated {
            true => Some(self.gate.enter(viewer, &info).await?),
            false => None,
        };
        let resolved = next.run(ctx, info).await;
        drop(places);
        if let (Some(audit), Some(viewer), Ok(_)) = (audit, viewer, &resolved) {
            audit.record(ctx.data_opt::<DatabaseConnection>(), viewer).await;
        }
        resolved
    }
}
