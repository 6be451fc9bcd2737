//! GraphQL over HTTP at `/graphql` (POST with JSON, GET for queries,
//! GraphiQL for browsers, see [`super::assets`]); graphql-ws at
//! `/graphql/ws` is [`super::ws`].
//!
//! This handler, not async-graphql's stock service, decides statuses and
//! media types, following the GraphQL-over-HTTP specification:
//! - a body that is not JSON, or not a GraphQL request, is 400;
//! - a POST whose body is not `application/json` is 415;
//! - JSON-array batches are refused (400);
//! - a mutation over GET is 405;
//! - a parse or validation error is 400 under
//!   `application/graphql-response+json` and 200 under `application/json`,
//!   and carries `extensions.code` GRAPHQL_PARSE_FAILED or
//!   GRAPHQL_VALIDATION_FAILED;
//! - errors during execution (BAD_USER_INPUT, NOT_FOUND…) are 200 with
//!   partial data, under either media type;
//! - a query over a limit (depth, selections, cost) is refused before it
//!   runs, like a validation error, with LIMIT_EXCEEDED;
//! - a request that outlives its deadline is stopped and answered with
//!   LIMIT_EXCEEDED: 504 under `application/graphql-response+json`, 200
//!   under `application/json`.
//!
//! Queries may be persisted (APQ, see [`super::persisted`]); executed
//! responses are completed by [`crate::graphql::response::complete`].

use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument as _;

use super::negotiation::{GRAPHQL_RESPONSE_JSON, JSON, ResponseType, content_type_essence, negotiate, wants_html};
use super::{AppState, assets, caching};
use crate::auth::Viewer;
use crate::db::pools::ReadFrom;
use crate::graphql::error::code;
use crate::graphql::loaders::DbLoader;
use crate::graphql::response::with_code;

pub async fn post(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(response_type) = negotiate(&headers) else {
        return not_acceptable();
    };
    if !is_json(&headers) {
        return request_error(
            response_type,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_REQUEST,
            "the request body must be application/json",
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(error) => {
            let message = format!("the request body is not valid JSON: {error}");
            return request_error(response_type, StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message);
        }
    };
    if value.is_array() {
        return request_error(
            response_type,
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "batched requests (a JSON array) are not supported; send one request per POST",
        );
    }
    match serde_json::from_value::<async_graphql::Request>(value) {
        Ok(request) => {
            let response = execute(&state, viewer, request, response_type, false).await;
            caching::policy(response, &headers, false).await
        }
        Err(error) => {
            let message = format!("the body is not a GraphQL request: {error}");
            request_error(response_type, StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message)
        }
    }
}

pub async fn get(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if query.is_empty() && wants_html(&headers) {
        return assets::graphiql();
    }
    let Some(response_type) = negotiate(&headers) else {
        return not_acceptable();
    };
    match async_graphql::http::parse_query_string(&query) {
        Ok(request) => {
            let response = execute(&state, viewer, request, response_type, true).await;
            caching::policy(response, &headers, true).await
        }
        Err(error) => {
            let message = format!("the query string is not a GraphQL request: {error}");
            request_error(response_type, StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message)
        }
    }
}

async fn execute(
    state: &AppState,
    viewer: Option<Extension<Viewer>>,
    mut request: async_graphql::Request,
    response_type: ResponseType,
    is_get: bool,
) -> Response {
    let Some(Extension(viewer)) = viewer else {
        return request_error(
            response_type,
            StatusCode::UNAUTHORIZED,
            code::UNAUTHENTICATED,
            "a bearer credential is required: send `Authorization: Bearer <API key>`",
        );
    };
    let document = match state.persisted_queries.document(&mut request) {
        Ok(document) => document,
        Err(error) => return request_errors(response_type, vec![error]),
    };
    if is_get && selects_mutation(&document, request.operation_name.as_deref()) {
        let mut response = request_error(
            response_type,
            StatusCode::METHOD_NOT_ALLOWED,
            code::BAD_REQUEST,
            "mutations are only accepted over POST",
        );
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    // The query text and variables are never logged, here or in the
    // schema's extensions: they may hold secrets and personal data.
    let operation_name = request.operation_name.clone();
    request.set_parsed_query(document.clone());
    // The one routing decision (db/pools.rs): a query operation reads where
    // reads may be a little stale; a mutation, with the reads inside it,
    // runs on the primary.
    let reads_only = operation_type(&document, operation_name.as_deref()) == Some(OperationType::Query);
    let (db, read_from) = if reads_only {
        state.pools.read()
    } else {
        (state.pools.primary(), ReadFrom::Primary)
    };
    // A query that fails on the replica — which stopped answering, or
    // cancelled it for a conflict with replay — runs again on the primary:
    // it only reads, so running it twice changes nothing.
    let again = (read_from == ReadFrom::Replica).then(|| Again::of(&request, &document));
    let request = request
        .data(viewer.clone())
        .data(DbLoader::for_request(db.clone()))
        .data(db.clone());
    let deadline = state.limits.request_timeout();
    let ends_at = tokio::time::Instant::now() + deadline;
    let mut finished = run(state, request, ends_at).await;
    if let (Some(again), Some(Ok(response))) = (again, &finished)
        && fails_internally(response)
    {
        state.pools.replica_failed().await;
        let primary = state.pools.primary().clone();
        let request = again
            .request()
            .data(viewer)
            .data(DbLoader::for_request(primary.clone()))
            .data(primary);
        finished = run(state, request, ends_at).await;
    }
    let Some(finished) = finished else {
        let status = match response_type {
            ResponseType::GraphqlResponseJson => StatusCode::GATEWAY_TIMEOUT,
            ResponseType::Json => StatusCode::OK,
        };
        let message = format!(
            "the request ran past its deadline of {} ms and was stopped",
            deadline.as_millis()
        );
        return request_error(response_type, status, code::LIMIT_EXCEEDED, &message);
    };
    let mut response = match finished {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "a GraphQL execution failed");
            return request_error(
                response_type,
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "internal error",
            );
        }
    };
    if crate::graphql::response::failed_before_execution(&response) {
        let errors = response
            .errors
            .into_iter()
            .map(|e| with_code(e, code::GRAPHQL_VALIDATION_FAILED))
            .collect();
        return request_errors(response_type, errors);
    }
    crate::graphql::response::complete(&mut response, &document, operation_name.as_deref());
    json_response(response_type, StatusCode::OK, &response)
}

/// Runs `request` on a task of its own, so that the deadline answers even
/// while the execution's worker is busy, and the execution is aborted (at
/// its next await) when `ends_at` passes or the client goes away. `None`
/// when the deadline passed.
async fn run(
    state: &AppState,
    request: async_graphql::Request,
    ends_at: tokio::time::Instant,
) -> Option<Result<async_graphql::Response, tokio::task::JoinError>> {
    let schema = state.schema.clone();
    let execution = AbortOnDropHandle::new(tokio::spawn(
        crate::db::deadline::scope(ends_at.into_std(), async move { schema.execute(request).await })
            .instrument(tracing::Span::current()),
    ));
    tokio::time::timeout_at(ends_at, execution).await.ok()
}

/// What it takes to run a request again: async-graphql's `Request` is not
/// `Clone` (its data is not). Its `extensions` (an APQ hash) are left out:
/// the query they named is already resolved and parsed.
struct Again {
    query: String,
    operation_name: Option<String>,
    variables: async_graphql::Variables,
    document: ExecutableDocument,
}

impl Again {
    fn of(request: &async_graphql::Request, document: &ExecutableDocument) -> Self {
        Self {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: request.variables.clone(),
            document: document.clone(),
        }
    }

    fn request(self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query).variables(self.variables);
        request.operation_name = self.operation_name;
        request.set_parsed_query(self.document);
        request
    }
}

/// Whether an error of `response` may be the database's (INTERNAL, or no
/// code yet): only then is the replica asked whether it still answers.
fn fails_internally(response: &async_graphql::Response) -> bool {
    response.errors.iter().any(
        |error| match error.extensions.as_ref().and_then(|extensions| extensions.get("code")) {
            None => true,
            Some(async_graphql::Value::String(value)) => value == code::INTERNAL,
            Some(_) => false,
        },
    )
}

/// Whether the operation the request runs is a mutation.
fn selects_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    operation_type(document, operation_name) == Some(OperationType::Mutation)
}

/// The type of the operation a request runs (`None` when there is no such operation).
pub(super) fn operation_type(document: &ExecutableDocument, operation_name: Option<&str>) -> Option<OperationType> {
    document
        .operations
        .iter()
        .find(|(name, _)| operation_name.is_none() || name.map(|n| n.as_str()) == operation_name)
        .map(|(_, operation)| operation.node.ty)
}

fn is_json(headers: &HeaderMap) -> bool {
    content_type_essence(headers).is_some_and(|media| media == JSON || media == GRAPHQL_RESPONSE_JSON)
}

/// A request that was not executed: no `data`, only `errors`.
fn request_errors(response_type: ResponseType, errors: Vec<ServerError>) -> Response {
    let status = match response_type {
        ResponseType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        ResponseType::Json => StatusCode::OK,
    };
    json_response(response_type, status, &serde_json::json!({ "errors": errors }))
}

fn request_error(response_type: ResponseType, status: StatusCode, error_code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": error_code } }]
    });
    json_response(response_type, status, &body)
}

fn not_acceptable() -> Response {
    request_error(
        ResponseType::Json,
        StatusCode::NOT_ACCEPTABLE,
        code::BAD_REQUEST,
        "accept application/graphql-response+json or application/json",
    )
}

fn json_response(response_type: ResponseType, status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(CONTENT_TYPE, response_type.content_type())], bytes).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not serialise a response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
