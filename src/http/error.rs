//! The one place where domain errors become HTTP responses: the status
//! each code gets, and a body in the shape GraphQL errors have.
//!
//! | code | status |
//! |---|---|
//! | BAD_USER_INPUT | 400 |
//! | BAD_REQUEST, GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED | 400 |
//! | UNAUTHENTICATED | 401 |
//! | FORBIDDEN | 403 |
//! | NOT_FOUND | 404 |
//! | CONFLICT | 409 |
//! | LIMIT_EXCEEDED | 413 (a body or batch too large; the rate limit answers 429) |
//! | UNAVAILABLE | 503, with `Retry-After` |
//! | INTERNAL | 500 |

use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::response::{IntoResponse, Response};

use crate::error::{Error, code};

/// Seconds a client is asked to wait after UNAVAILABLE.
const RETRY_AFTER_SECONDS: &str = "1";

/// The status a code is answered with on the plain HTTP endpoints.
pub fn status_of(error_code: &str) -> StatusCode {
    match error_code {
        code::BAD_USER_INPUT | code::BAD_REQUEST | code::GRAPHQL_PARSE_FAILED | code::GRAPHQL_VALIDATION_FAILED => {
            StatusCode::BAD_REQUEST
        }
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::CONFLICT => StatusCode::CONFLICT,
        code::LIMIT_EXCEEDED => StatusCode::PAYLOAD_TOO_LARGE,
        code::UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let code = self.code();
        let mut extensions = serde_json::json!({ "code": code });
        if let Some(field) = self.field() {
            extensions["field"] = field.into();
        }
        let body = serde_json::json!({ "errors": [{ "message": self.client_message(), "extensions": extensions }] });
        let mut response = (status_of(code), [(CONTENT_TYPE, "application/json")], body.to_string()).into_response();
        if code == code::UNAVAILABLE {
            response
                .headers_mut()
                .insert(RETRY_AFTER, axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        response
    }
}
