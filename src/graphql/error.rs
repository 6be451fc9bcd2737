//! The one place where domain errors become GraphQL errors. Each carries
//! `extensions.code`; internal errors are logged here and reach the client
//! only as "internal error".

use std::sync::Arc;

use async_graphql::ErrorExtensions;

use crate::error::Error;

/// The codes a client can see in `extensions.code`.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const LIMIT_EXCEEDED: &str = "LIMIT_EXCEEDED";
    pub const INTERNAL: &str = "INTERNAL";
    /// The request is not valid GraphQL (added by the HTTP layer).
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The request does not fit the schema (added by the HTTP layer).
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The HTTP request itself is malformed.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
}

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        let (code, message) = match self {
            Error::NotFound { .. } => (code::NOT_FOUND, self.to_string()),
            Error::Validation { .. } => (code::BAD_USER_INPUT, self.to_string()),
            Error::Conflict(_) => (code::CONFLICT, self.to_string()),
            Error::Forbidden(_) => (code::FORBIDDEN, self.to_string()),
            Error::LimitExceeded(_) => (code::LIMIT_EXCEEDED, self.to_string()),
            Error::Database(_) | Error::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (code::INTERNAL, "internal error".to_owned())
            }
        };
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Error::Validation { field, .. } = self {
                extensions.set("field", field.as_str());
            }
        })
    }
}

/// Turns a domain result into a resolver result, keeping the error code
/// (a bare `?` would keep only the message).
pub trait IntoGraphql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> IntoGraphql<T> for Result<T, Error> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|error| error.extend())
    }
}

impl<T> IntoGraphql<T> for Result<T, Arc<Error>> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|error| error.extend())
    }
}

impl<T> IntoGraphql<T> for Result<T, sea_orm::DbErr> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|error| Error::from(error).extend())
    }
}
