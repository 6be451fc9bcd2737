//! `/healthz`: the process is up. `/readyz`: it can reach its database, so
//! a load balancer may send it traffic.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::AppState;

pub async fn alive() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if crate::db::ping(&state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
