//! Content negotiation of GraphQL over HTTP: which of the two JSON media
//! types a response uses, read from the `Accept` header.
//!
//! Rules (GraphQL-over-HTTP, and what its audit suite checks): a type the
//! client names explicitly beats a wildcard; between the two JSON types,
//! `application/graphql-response+json` wins; a missing header or a bare
//! wildcard means `application/json`; `q=0` refuses a type.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`: request errors get a 4xx status.
    GraphqlResponseJson,
    /// `application/json`: every well-formed request gets 200.
    Json,
}

impl ResponseType {
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseType::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            ResponseType::Json => "application/json; charset=utf-8",
        }
    }
}

/// The request body's media type without parameters, lower-cased
/// (`application/json; charset=utf-8` → `application/json`), if it has one.
pub fn content_type_essence(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// What the client accepts, or `None` when it accepts neither JSON type (406).
pub fn negotiate(headers: &HeaderMap) -> Option<ResponseType> {
    let Some(accept) = headers.get(ACCEPT).and_then(|value| value.to_str().ok()) else {
        return Some(ResponseType::Json);
    };
    if accept.trim().is_empty() {
        return Some(ResponseType::Json);
    }
    let mut graphql_named = false;
    let mut json_named = false;
    let mut wildcard = false;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|param| {
            let param = param.trim().to_ascii_lowercase();
            param
                .strip_prefix("q=")
                .is_some_and(|q| q.parse::<f32>().map_or(true, |q| !(q > 0.0 && q <= 1.0)))
        });
        if refused {
            continue;
        }
        match media.as_str() {
            GRAPHQL_RESPONSE_JSON => graphql_named = true,
            JSON => json_named = true,
            "*/*" | "application/*" => wildcard = true,
            _ => {}
        }
    }
    if graphql_named {
        Some(ResponseType::GraphqlResponseJson)
    } else if json_named || wildcard {
        Some(ResponseType::Json)
    } else {
        None
    }
}

/// Whether the client asked for a web page (a browser opening `/graphql`).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|range| range.trim().starts_with("text/html")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> Option<ResponseType> {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(ACCEPT, value);
        }
        negotiate(&headers)
    }

    #[test]
    fn explicit_types_beat_wildcards_and_missing_means_json() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(ResponseType::Json));
        assert_eq!(accept("*/*"), Some(ResponseType::Json));
        assert_eq!(accept("application/json"), Some(ResponseType::Json));
        assert_eq!(
            accept("*/*, application/graphql-response+json"),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json;q=0.9"),
            Some(ResponseType::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0, application/json"),
            Some(ResponseType::Json)
        );
        assert_eq!(accept("text/plain"), None);
    }
}
