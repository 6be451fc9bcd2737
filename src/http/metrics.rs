//! `/metrics` in the Prometheus text format, on the API's own port.
//!
//! - `accord_http_requests_total` and `accord_http_request_duration_seconds`
//!   by `method`, `route` (the router's pattern, e.g.
//!   `/segments/{id}/members.csv`, or `unmatched`) and `status`;
//! - the GraphQL operation and root-field metrics of
//!   [`crate::graphql::extensions::metrics`];
//! - `accord_db_pool_connections{state="idle"|"in_use"}` and
//!   `accord_db_pool_max_connections`, read from the pool at each scrape.
//!
//! - with a read replica (`ACCORD_READ_DATABASE_URL`):
//!   `accord_db_replica_available`, `accord_db_replica_lag_seconds` (the
//!   last measured replay lag), `accord_db_replica_max_lag_seconds`,
//!   `accord_db_replica_reads_total` and
//!   `accord_db_replica_fallbacks_total{reason="lag"|"unavailable"}` (reads
//!   meant for the replica that the primary served), and the replica pool's
//!   `accord_db_replica_pool_connections{state}`, all read at each scrape.
//!
//! The `metrics` facade has one recorder per process; it is installed the
//! first time a router is built. The pool gauges are not recorded there
//! but written at each scrape from this server's own pool, so that several
//! servers in one process (as in the tests) each report their own pool.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseConnection, DatabaseConnectionType};

use super::AppState;

pub const HTTP_REQUESTS: &str = "accord_http_requests_total";
pub const HTTP_DURATION: &str = "accord_http_request_duration_seconds";
pub const POOL_CONNECTIONS: &str = "accord_db_pool_connections";
pub const POOL_MAX_CONNECTIONS: &str = "accord_db_pool_max_connections";

/// Histogram buckets, in seconds: from a cached lookup to a slow insight.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The process's Prometheus recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(error) = metrics::set_global_recorder(recorder) {
            tracing::warn!(%error, "another metrics recorder is installed: /metrics shows only the pool");
        }
        describe();
        handle
    })
}

/// Gives every metric its `# HELP` line: the exporter writes `# TYPE` for
/// each family, and `# HELP` only for those described to the recorder.
fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route pattern and status."
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Seconds from receiving an HTTP request to its response, by method, route pattern and status."
    );
    crate::graphql::extensions::metrics::describe();
    crate::insights::cache::describe();
}

/// Middleware: counts and times every request by route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    // The route pattern, never the path itself: paths hold ids, and the
    // number of label values must stay small.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let handle = handle();
    handle.run_upkeep();
    let mut body = handle.render();
    write_pool_state(&mut body, &state.db);
    write_replica_state(&mut body, &state.pools);
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Appends the pool gauges of `db` in the Prometheus text format.
fn write_pool_state(body: &mut String, db: &DatabaseConnection) {
    let (size, idle, max) = match &db.inner {
        DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    // Writing to a String cannot fail.
    let _ = write!(
        body,
        "# HELP {POOL_CONNECTIONS} Open database connections, idle or in use.\n\
         # TYPE {POOL_CONNECTIONS} gauge\n\
         {POOL_CONNECTIONS}{{state=\"idle\"}} {idle}\n\
         {POOL_CONNECTIONS}{{state=\"in_use\"}} {in_use}\n\
         # HELP {POOL_MAX_CONNECTIONS} The most connections the pool opens.\n\
         # TYPE {POOL_MAX_CONNECTIONS} gauge\n\
         {POOL_MAX_CONNECTIONS} {max}\n",
        in_use = size - idle,
    );
}

/// Appends the replica's gauges and counters, when there is a replica.
fn write_replica_state(body: &mut String, pools: &crate::db::pools::Pools) {
    let (Some(status), Some(pool)) = (pools.replica_status(), pools.replica_pool()) else {
        return;
    };
    let (size, idle) = match &pool.inner {
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            let pool = pool.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    // Writing to a String cannot fail.
    let _ = write!(
        body,
        "# HELP accord_db_replica_available Whether the read replica answered its last lag check (1) or not (0).\n\
         # TYPE accord_db_replica_available gauge\n\
         accord_db_replica_available {available}\n\
         # HELP accord_db_replica_lag_seconds The read replica's replay lag at its last answered check.\n\
         # TYPE accord_db_replica_lag_seconds gauge\n\
         accord_db_replica_lag_seconds {lag}\n\
         # HELP accord_db_replica_max_lag_seconds Above this lag reads go to the primary (ACCORD_MAX_REPLICA_LAG_MS).\n\
         # TYPE accord_db_replica_max_lag_seconds gauge\n\
         accord_db_replica_max_lag_seconds {max_lag}\n\
         # HELP accord_db_replica_reads_total Requests whose reads went to the read replica.\n\
         # TYPE accord_db_replica_reads_total counter\n\
         accord_db_replica_reads_total {reads}\n\
         # HELP accord_db_replica_fallbacks_total Requests meant for the read replica that the primary served, by reason.\n\
         # TYPE accord_db_replica_fallbacks_total counter\n\
         accord_db_replica_fallbacks_total{{reason=\"lag\"}} {lagging}\n\
         accord_db_replica_fallbacks_total{{reason=\"unavailable\"}} {unavailable}\n\
         # HELP accord_db_replica_pool_connections Open connections to the read replica, idle or in use.\n\
         # TYPE accord_db_replica_pool_connections gauge\n\
         accord_db_replica_pool_connections{{state=\"idle\"}} {idle}\n\
         accord_db_replica_pool_connections{{state=\"in_use\"}} {in_use}\n",
        available = u8::from(status.available),
        lag = status.lag.as_secs_f64(),
        max_lag = status.max_lag.as_secs_f64(),
        reads = status.reads,
        lagging = status.fallbacks_lag,
        unavailable = status.fallbacks_unavailable,
        in_use = size - idle,
    );
}
