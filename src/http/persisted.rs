//! Automatic persisted queries (APQ, as Apollo clients speak it) and the
//! parsing of every GraphQL request over HTTP.
//!
//! A client sends `extensions.persistedQuery = { version: 1, sha256Hash }`
//! without a query; when the server knows the hash it runs the query it
//! stands for, otherwise it answers PERSISTED_QUERY_NOT_FOUND and the
//! client sends the query with its hash, which registers it. Works over
//! POST and GET (so hashed queries can be cached by HTTP caches).
//!
//! The cache is bounded: at most `ACCORD_APQ_CACHE_SIZE` queries (the
//! least recently used go first), each at most 64 KiB of text (a longer
//! query runs but is not kept). With a size of 0, APQ is off: hash-only
//! requests get PERSISTED_QUERY_NOT_SUPPORTED and full ones simply run.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ErrorExtensionValues, ServerError};
use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::graphql::error::code;
use crate::graphql::limits;

/// The longest query text the cache keeps.
const MAX_PERSISTED_QUERY_BYTES: usize = 64 * 1024;

/// The `extensions` key of the protocol.
const EXTENSION: &str = "persistedQuery";

/// Query texts by their SHA-256 (lowercase hex), least recently used first out.
type Cache = Mutex<LruCache<String, Arc<str>>>;

/// Queries registered by their SHA-256, shared by all requests.
#[derive(Clone)]
pub struct PersistedQueries {
    cache: Option<Arc<Cache>>,
}

impl PersistedQueries {
    /// A cache of at most `capacity` queries; 0 turns APQ off.
    pub fn new(capacity: usize) -> Self {
        Self {
            cache: NonZeroUsize::new(capacity).map(|capacity| Arc::new(Mutex::new(LruCache::new(capacity)))),
        }
    }

    /// The parsed document a request runs: its own query, or the persisted
    /// query its hash names. Errors carry their `extensions.code`.
    pub fn document(&self, request: &mut async_graphql::Request) -> Result<ExecutableDocument, ServerError> {
        let Some(extension) = request.extensions.0.remove(EXTENSION) else {
            return limits::parse(&request.query);
        };
        let hash = persisted_hash(extension)?;
        let Some(cache) = &self.cache else {
            if request.query.is_empty() {
                return Err(refusal("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED"));
            }
            return limits::parse(&request.query);
        };
        if request.query.is_empty() {
            let query = cache
                .lock()
                .map_err(|_| refusal("internal error", code::INTERNAL))?
                .get(&hash)
                .cloned();
            return match query {
                Some(query) => limits::parse(&query),
                None => Err(refusal("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")),
            };
        }
        let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
        if actual != hash {
            return Err(refusal(
                "provided sha256Hash does not match the query",
                code::BAD_REQUEST,
            ));
        }
        let document = limits::parse(&request.query)?;
        if request.query.len() <= MAX_PERSISTED_QUERY_BYTES {
            cache
                .lock()
                .map_err(|_| refusal("internal error", code::INTERNAL))?
                .put(hash, Arc::from(request.query.as_str()));
        }
        Ok(document)
    }
}

/// The hash of a version-1 `persistedQuery` extension.
fn persisted_hash(extension: async_graphql::Value) -> Result<String, ServerError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PersistedQuery {
        version: i64,
        sha256_hash: String,
    }
    let persisted: PersistedQuery = async_graphql::from_value(extension).map_err(|_| {
        refusal(
            "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<hex>\"}",
            code::BAD_REQUEST,
        )
    })?;
    if persisted.version != 1 {
        return Err(refusal(
            "only version 1 of persisted queries is supported",
            code::BAD_REQUEST,
        ));
    }
    Ok(persisted.sha256_hash.to_ascii_lowercase())
}

fn refusal(message: &str, error_code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", error_code);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, hash: &str) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(query);
        request.extensions.0.insert(
            EXTENSION.to_owned(),
            async_graphql::Value::from_json(serde_json::json!({ "version": 1, "sha256Hash": hash })).expect("a value"),
        );
        request
    }

    fn code_of(error: &ServerError) -> String {
        error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .map(|code| code.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn registers_on_the_full_request_and_forgets_the_least_recent() {
        let queries = PersistedQueries::new(1);
        let first = "{ __typename }";
        let first_hash = format!("{:x}", Sha256::digest(first.as_bytes()));
        let error = queries.document(&mut request("", &first_hash)).expect_err("unknown");
        assert_eq!(error.message, "PersistedQueryNotFound");
        assert_eq!(code_of(&error), "\"PERSISTED_QUERY_NOT_FOUND\"");
        queries.document(&mut request(first, &first_hash)).expect("registers");
        queries.document(&mut request("", &first_hash)).expect("known now");

        let error = queries.document(&mut request(first, "00ff")).expect_err("wrong hash");
        assert_eq!(code_of(&error), "\"BAD_REQUEST\"");

        let second = "{ a: __typename }";
        let second_hash = format!("{:x}", Sha256::digest(second.as_bytes()));
        queries.document(&mut request(second, &second_hash)).expect("registers");
        assert!(queries.document(&mut request("", &first_hash)).is_err(), "evicted");
    }
}
