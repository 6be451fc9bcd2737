//! The HTTP surface: the axum router, GraphQL over HTTP and WebSocket,
//! health endpoints, request ids and tracing.

pub mod export;
pub mod graphql;
pub mod health;
pub mod negotiation;

use axum::Router;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::graphql::AccordSchema;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AccordSchema,
    pub db: DatabaseConnection,
    /// The smallest segment whose members may be exported.
    pub min_audience_size: i64,
}

/// The largest request body accepted, in bytes.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(graphql::websocket))
        .route("/segments/{id}/members.csv", get(export::segment_members_csv))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
