//! `/healthz`: the process is up. `/readyz`: it can reach its primary, so
//! a load balancer may send it traffic; the body also says how the read
//! replica is doing (one `pool: state` line each), which does not decide
//! readiness: without the replica, reads go to the primary.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::AppState;

pub async fn alive() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let primary_up = crate::db::ping(state.pools.primary()).await;
    let mut body = String::from(if primary_up { "ready" } else { "database unreachable" });
    if let Some(replica) = state.pools.replica_status() {
        body.push_str(if primary_up { "\nprimary: up" } else { "\nprimary: down" });
        let lag_ms = replica.lag.as_millis();
        let max_ms = replica.max_lag.as_millis();
        let line = if !replica.available {
            "\nreplica: down (reads go to the primary)".to_owned()
        } else if replica.serving() {
            format!("\nreplica: up, lag {lag_ms} ms (at most {max_ms} ms)")
        } else {
            format!("\nreplica: behind, lag {lag_ms} ms over {max_ms} ms (reads go to the primary)")
        };
        body.push_str(&line);
    }
    let status = if primary_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}
