//! A cap on the insight fields running at once. Each insight holds a
//! pooled connection for as long as its scan runs; without a cap, one
//! client's dashboards (or a query aliasing insights within its cost) take
//! every connection and everyone else gets 503. The cap is a share of the
//! pool (`ACCORD_INSIGHT_CONCURRENCY`); an insight over it waits up to
//! `ACCORD_INSIGHT_WAIT_MS` for a place, then fails alone with
//! LIMIT_EXCEEDED (the rest of the response is kept).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{PathSegment, QueryPathSegment, ServerError, ServerResult, Value};
use tokio::sync::Semaphore;

use crate::config::LimitsConfig;
use crate::graphql::error::code;
use crate::graphql::limits::cost;

/// Lets at most a share of the pool's connections run insights.
#[derive(Clone)]
pub struct InsightGate {
    places: Arc<Semaphore>,
    wait: Duration,
}

impl InsightGate {
    /// A gate for a pool of `pool_size` connections.
    pub fn new(pool_size: u32, limits: &LimitsConfig) -> Self {
        let places = crate::db::pool_share(pool_size, limits.insight_concurrency);
        Self {
            places: Arc::new(Semaphore::new(places)),
            wait: Duration::from_millis(limits.insight_wait_ms),
        }
    }
}

impl ExtensionFactory for InsightGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for InsightGate {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // The fields that scan are those the cost table weighs.
        if cost::weight(info.parent_type, info.name) == 1 {
            return next.run(ctx, info).await;
        }
        // No wait means none: a zero timeout would still let the place be
        // taken once a running insight frees it within the timer's tick.
        let place = if self.wait.is_zero() {
            self.places.try_acquire().ok()
        } else {
            tokio::time::timeout(self.wait, self.places.acquire())
                .await
                .ok()
                .and_then(Result::ok)
        };
        match place {
            Some(_place) => next.run(ctx, info).await,
            None => Err(busy(&info, self.wait)),
        }
    }
}

fn busy(info: &ResolveInfo<'_>, wait: Duration) -> ServerError {
    let mut error = ServerError::new(
        format!(
            "too many insights are running on this server; `{}` waited {} ms for a place: retry shortly",
            info.name,
            wait.as_millis()
        ),
        Some(info.field.name.pos),
    );
    let mut path: Vec<PathSegment> = std::iter::once(info.path_node)
        .chain(info.path_node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Index(index) => PathSegment::Index(index),
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
        })
        .collect();
    path.reverse();
    error.path = path;
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code::LIMIT_EXCEEDED);
    error
}
