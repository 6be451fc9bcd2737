//! The browser pages and their files, embedded in the binary at build time
//! so that the console (`/`) and GraphiQL (`GET /graphql` from a browser)
//! work with nothing but the binary, offline.
//!
//! Everything under `assets/` (the console's ES modules, GraphiQL's start
//! script, the vendored libraries of `assets/vendor/`) is served under
//! `/assets/<build>/…`, where `<build>` is a digest of every embedded file:
//! a path names one content for ever, so it is cached as `immutable` for a
//! year, and a new binary with other files serves other paths. The two HTML
//! pages are rendered with that prefix and revalidated on every load.
//!
//! `rust-embed` rather than `include_dir`: it embeds a folder with each
//! file's SHA-256 and media type computed at build time (the ETag and the
//! build digest come from it), and its include/exclude filters keep the
//! vendoring script out of the binary.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use sha2::{Digest, Sha256};

#[derive(Embed)]
#[folder = "assets/"]
#[exclude = "vendor/vendor.sh"]
#[exclude = "vendor/SHA256SUMS"]
struct Assets;

/// What the pages may load: only this server's own files and API. The
/// browser enforces it, so a page can never reach another host.
const POLICY: &str = "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; \
                      img-src 'self' data:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                      base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A year: the longest lifetime caches honour.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The digest of every embedded file and its path, 16 hex digits.
static BUILD: LazyLock<String> = LazyLock::new(|| {
    let mut paths: Vec<_> = Assets::iter().collect();
    paths.sort();
    let mut digest = Sha256::new();
    for path in paths {
        if let Some(file) = Assets::get(&path) {
            digest.update(path.as_bytes());
            digest.update(file.metadata.sha256_hash());
        }
    }
    hex(&digest.finalize()[..8])
});

/// Where the embedded files are served: `/assets/<build>`.
pub fn prefix() -> String {
    format!("/assets/{}", *BUILD)
}

/// `/`: the console.
pub async fn console() -> Response {
    page("console/index.html")
}

/// GraphiQL, for a browser that asks `/graphql` for HTML.
pub fn graphiql() -> Response {
    page("graphiql/index.html")
}

/// `/assets/{build}/{*path}`: an embedded file, if `build` is this binary's.
pub async fn file(Path((build, path)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let found = Assets::get(&path).filter(|_| build == *BUILD && !path.ends_with(".html"));
    let Some(file) = found else {
        return (StatusCode::NOT_FOUND, "no such file in this build").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = file.data.into_owned().into_response();
        insert(&mut response, CONTENT_TYPE, file.metadata.mimetype());
        response
    };
    insert(&mut response, CACHE_CONTROL, IMMUTABLE);
    insert(&mut response, ETAG, &etag);
    response
}

/// Whether `If-None-Match` names `etag` (or is `*`).
pub fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// An HTML page with the asset prefix filled in, never cached without
/// revalidation (it names the build's files).
fn page(path: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        tracing::error!(path, "an embedded page is missing from the build");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let html = String::from_utf8_lossy(&file.data).replace("{{assets}}", &prefix());
    let mut response = html.into_response();
    insert(&mut response, CONTENT_TYPE, "text/html; charset=utf-8");
    insert(&mut response, CACHE_CONTROL, "no-cache");
    insert(&mut response, CONTENT_SECURITY_POLICY, POLICY);
    response
}

fn insert(response: &mut Response, name: axum::http::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
