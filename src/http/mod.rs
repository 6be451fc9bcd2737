//! The HTTP surface: the axum router, GraphQL over HTTP and WebSocket,
//! health endpoints, request ids and tracing, `/metrics`, the console and
//! GraphiQL pages; CORS and gzip/brotli compression for all of it.

pub mod assets;
pub mod auth;
pub mod caching;
pub mod cors;
pub mod error;
pub mod export;
pub mod graphql;
pub mod health;
pub mod ingest;
pub mod limits;
pub mod metrics;
pub mod negotiation;
pub mod persisted;
pub mod spans;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sea_orm::DatabaseConnection;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate as _, SizeAbove};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::Authenticator;
use crate::config::LimitsConfig;
use crate::events::EventBus;
use crate::graphql::AccordSchema;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AccordSchema,
    /// The primary: writes, key checks, everything that must see the latest write.
    pub db: DatabaseConnection,
    /// The primary and the read replica; [`crate::db::pools`] says which work reads where.
    pub pools: crate::db::pools::Pools,
    /// The smallest segment whose members may be exported.
    pub min_audience_size: i64,
    /// The reporting currency that ingested money must be in.
    pub currency: String,
    /// The longest record line bulk ingest accepts.
    pub max_line_bytes: usize,
    pub events: EventBus,
    pub auth: Authenticator,
    /// Body size, deadline and rate limits.
    pub limits: LimitsConfig,
    pub persisted_queries: persisted::PersistedQueries,
    /// Which other origins' pages may call the API.
    pub cors: tower_http::cors::CorsLayer,
    /// Refused credentials per client address, over HTTP and WebSocket.
    pub auth_failures: limits::AuthFailures,
    /// Requests per client, over HTTP and WebSocket (none when turned off).
    pub rate_limit: Option<limits::RateLimit>,
    /// WebSocket connections open per client.
    pub ws_connections: limits::OpenConnections,
    /// The places `?strict=true` bulk loads may hold (a share of the pool).
    pub strict_loads: ingest::StrictLoads,
}

pub fn router(state: AppState) -> Router {
    metrics::handle();
    let requests = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::websocket))
        .route("/segments/{id}/members.csv", get(export::segment_members_csv));
    let requests = limits::limit_body(requests, &state.limits);
    // Bulk bodies are streamed into batches, so their size is not limited.
    let bulk = Router::new()
        .route("/ingest/{entity}", post(ingest::bulk))
        .layer(DefaultBodyLimit::disable());
    // Probes and the metrics scrape are neither rate limited nor size limited.
    let probes = Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::scrape));
    // The console and GraphiQL's files, embedded in the binary.
    let pages = Router::new()
        .route("/", get(assets::console))
        .route("/assets/{build}/{*path}", get(assets::file));
    let cors = state.cors.clone();
    // Authentication wraps the rate limiter, which keys on the API key.
    let auth_layer = auth::AuthLayer {
        auth: state.auth.clone(),
        failures: state.auth_failures.clone(),
    };
    let authenticate = axum::middleware::from_fn_with_state(auth_layer, auth::authenticate);
    limits::limit_rate(requests.merge(bulk), state.rate_limit.clone())
        .merge(probes)
        .merge(pages)
        .with_state(state)
        .layer(authenticate)
        // Outside authentication, so that a preflight (which carries no
        // credential) and a refusal both carry the CORS headers.
        .layer(cors)
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(SizeAbove::new(1024))))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(spans::request_span)
                .on_response(spans::on_response)
                .on_failure(spans::on_failure),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// A JSON error body in the shape GraphQL errors have, for the plain HTTP
/// endpoints.
pub(crate) fn json_error(status: StatusCode, error_code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": error_code } }] });
    (status, [(CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}
