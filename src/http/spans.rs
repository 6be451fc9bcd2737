//! The span every request runs in. It carries the request id (set by
//! `SetRequestIdLayer` before this span is made, and returned to the client
//! in `x-request-id`), so each log line written while handling the request
//! names it, in text and in JSON logs alike.
//!
//! Only the path is recorded, never the query string: a GET to `/graphql`
//! holds the query text and its variables there, which may contain
//! secrets or personal data. Bodies and headers are not recorded either.

use axum::http::Request;
use tower_http::classify::ServerErrorsFailureClass;
use tracing::Span;

/// Makes the request's span (INFO, so it is on with the default filter).
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        request_id,
        method = %request.method(),
        path = request.uri().path(),
    )
}

/// One access-log line per response: status and latency.
pub fn on_response<B>(response: &axum::http::Response<B>, latency: std::time::Duration, _span: &Span) {
    tracing::info!(
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request finished"
    );
}

/// Server errors (5xx) and failed responses, logged as errors.
pub fn on_failure(failure: ServerErrorsFailureClass, latency: std::time::Duration, _span: &Span) {
    tracing::error!(%failure, latency_ms = latency.as_secs_f64() * 1000.0, "request failed");
}
