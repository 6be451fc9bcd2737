//! A cap on the insight fields running at once. Each insight holds a
//! pooled connection for as long as its scan runs; without a cap, one
//! client's dashboards (or a query aliasing insights within its cost) take
//! every connection and everyone else gets 503. The cap is a share of the
//! pool (`ACCORD_INSIGHT_CONCURRENCY`); an insight over it waits up to
//! `ACCORD_INSIGHT_WAIT_MS` for a place, then fails alone with
//! LIMIT_EXCEEDED (the rest of the response is kept).
//!
//! The shared places alone are not fair: one key firing heavy insights as
//! fast as its rate limit allows holds most of them, and the CPU behind
//! them, so everyone else's insights queue behind its. Each client (an API
//! key, or a token's subject) therefore also holds at most
//! `ACCORD_INSIGHT_CONCURRENCY_PER_CLIENT` places; its further insights
//! wait for one of its own first — up to the request deadline, since that
//! wait is its own doing — and only then for a shared place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::extensions::ResolveInfo;
use async_graphql::{PathSegment, QueryPathSegment, ServerError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::Viewer;
use crate::config::LimitsConfig;
use crate::db::customer_parts::PARTS;
use crate::graphql::error::code;
use crate::graphql::limits::cost;

/// The insights whose scans are cut by customer (`src/db/customer_parts.rs`).
const SCANNED_IN_PARTS: &[(&str, &str)] = &[("Insights", "series"), ("Insights", "retention"), ("Insights", "clv")];

/// Lets at most a share of the pool's connections run insights.
#[derive(Clone)]
pub struct InsightGate {
    places: Arc<Semaphore>,
    /// How many places there are, the most one insight can take.
    total: u32,
    wait: Duration,
    own: OwnPlaces,
}

/// Whose insights share one client's places.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    ApiKey(i64),
    Subject(String),
}

impl Holder {
    /// The viewer's key or token subject; none for a server without
    /// authentication, whose viewers cannot be told apart.
    fn of(viewer: &Viewer) -> Option<Self> {
        match (viewer.api_key_id, &viewer.subject) {
            (Some(key), _) => Some(Holder::ApiKey(key)),
            (None, Some(subject)) => Some(Holder::Subject(subject.clone())),
            (None, None) => None,
        }
    }
}

/// Each client's own places. A client's semaphore lives while one of its
/// insights holds or awaits it, so the map holds only active clients.
#[derive(Clone)]
struct OwnPlaces {
    by_holder: Arc<Mutex<HashMap<Holder, Arc<Semaphore>>>>,
    per_holder: usize,
}

impl OwnPlaces {
    fn of(&self, holder: Holder) -> Option<Arc<Semaphore>> {
        let mut by_holder = self.by_holder.lock().ok()?;
        // Forget clients nobody holds a handle to any more: their places
        // are all free.
        if by_holder.len() > 64 {
            by_holder.retain(|_, places| Arc::strong_count(places) > 1);
        }
        let places = by_holder
            .entry(holder)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_holder)));
        Some(places.clone())
    }
}

impl InsightGate {
    /// A gate for a pool of `pool_size` connections.
    pub fn new(pool_size: u32, limits: &LimitsConfig) -> Self {
        let places = crate::db::pool_share(pool_size, limits.insight_concurrency);
        let per_holder = usize::try_from(limits.insight_concurrency_per_client).unwrap_or(usize::MAX);
        Self {
            places: Arc::new(Semaphore::new(places)),
            total: u32::try_from(places).unwrap_or(u32::MAX),
            wait: Duration::from_millis(limits.insight_wait_ms),
            own: OwnPlaces {
                by_holder: Arc::default(),
                per_holder: per_holder.clamp(1, places),
            },
        }
    }
}

/// The places an insight holds while it runs; dropping it frees them.
pub struct Places {
    _own: Option<OwnedSemaphorePermit>,
    _shared: OwnedSemaphorePermit,
}

impl InsightGate {
    /// Whether the field of `info` is an insight the gate bounds: the
    /// fields that scan are those the cost table weighs.
    pub fn bounds(info: &ResolveInfo<'_>) -> bool {
        cost::weight(info.parent_type, info.name) != 1
    }

    /// The pooled connections the insight of `info` holds at once: those
    /// of [`SCANNED_IN_PARTS`] run [`PARTS`] statements side by side, every
    /// other insight one at a time.
    fn connections(&self, info: &ResolveInfo<'_>) -> u32 {
        let in_parts = SCANNED_IN_PARTS.contains(&(info.parent_type, info.name));
        let connections = if in_parts { PARTS } else { 1 };
        connections.min(self.total)
    }

    /// Waits for the places the insight of `info` needs, or refuses it
    /// with LIMIT_EXCEEDED.
    pub async fn enter(&self, viewer: Option<&Viewer>, info: &ResolveInfo<'_>) -> Result<Places, ServerError> {
        // The client's own place first: waiting for it is waiting for the
        // client's own insights, bounded by the request's deadline.
        let own = match viewer.and_then(Holder::of).and_then(|holder| self.own.of(holder)) {
            Some(own) => Some(own.acquire_owned().await.map_err(|_| busy(info, self.wait))?),
            None => None,
        };
        // No wait means none: a zero timeout would still let the place be
        // taken once a running insight frees it within the timer's tick.
        let connections = self.connections(info);
        let shared = if self.wait.is_zero() {
            self.places.clone().try_acquire_many_owned(connections).ok()
        } else {
            tokio::time::timeout(self.wait, self.places.clone().acquire_many_owned(connections))
                .await
                .ok()
                .and_then(Result::ok)
        };
        match shared {
            Some(shared) => Ok(Places {
                _own: own,
                _shared: shared,
            }),
            None => Err(busy(info, self.wait)),
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
