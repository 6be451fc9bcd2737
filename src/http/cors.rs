//! Cross-origin requests (tower-http's CORS layer): a dashboard served
//! from another origin may call the API when its origin is listed in
//! `ACCORD_CORS_ORIGINS` (none by default); `serve --demo` allows any
//! origin on the local machine. The preflight allows `authorization` and
//! `content-type`, so a browser can send a bearer key with a JSON body.

use std::time::Duration;

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The CORS layer for the `listed` origins (exactly as browsers send them,
/// `https://dash.example.com`), and with `local` any `http://localhost:*`,
/// `http://127.0.0.1:*` or `http://[::1]:*` too.
pub fn layer(listed: &[String], local: bool) -> CorsLayer {
    let listed: Vec<HeaderValue> = listed
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin.trim().trim_end_matches('/')).ok())
        .collect();
    let allow = AllowOrigin::predicate(move |origin, _| listed.contains(origin) || (local && is_local(origin)));
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE, IF_NONE_MATCH])
        .expose_headers([ETAG, HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(600))
}

/// An `http://` origin on the loopback interface, any port.
fn is_local(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(host) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = match host.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_origins_are_loopback_over_http_only() {
        for origin in [
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "http://[::1]:5173",
            "http://localhost",
        ] {
            assert!(is_local(&HeaderValue::from_static(origin)), "{origin}");
        }
        for origin in [
            "https://localhost.example.com",
            "http://localhost.evil.com",
            "http://10.0.0.1:80",
            "null",
        ] {
            assert!(!is_local(&HeaderValue::from_static(origin)), "{origin}");
        }
    }
}
