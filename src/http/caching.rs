//! How GraphQL answers may be cached. An answer to a request that carried
//! a credential is `no-store`: it holds what that key may see. Others (a
//! `--demo` server's) must be revalidated (`no-cache`). Answers to GET
//! requests (queries, including persisted ones sent by hash) carry an ETag
//! of their body, and `If-None-Match` with it is answered 304 without a
//! body, so a client or cache that kept the answer need not download it.

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, ETAG, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::assets::if_none_match;

/// Adds the cache policy to a GraphQL answer; for GET, the ETag too.
pub async fn policy(response: Response, request: &HeaderMap, is_get: bool) -> Response {
    let mut response = if is_get && response.status() == StatusCode::OK {
        with_etag(response, request).await
    } else {
        response
    };
    let directive = if request.contains_key(AUTHORIZATION) {
        "no-store"
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(directive));
    headers.insert(VARY, HeaderValue::from_static("authorization, accept"));
    response
}

async fn with_etag(response: Response, request: &HeaderMap) -> Response {
    let (mut parts, body) = response.into_parts();
    // GraphQL answers are built in memory, so this only moves the bytes.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = format!("\"{:x}\"", Sha256::digest(&bytes));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(ETAG, value);
    }
    if if_none_match(request, &etag) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(axum::http::header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}
