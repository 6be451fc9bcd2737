//! The domain's one error type. Each variant documents what a client will
//! see and has its code ([`Error::code`]); `graphql::error` maps it to a
//! GraphQL error and `http::error` to an HTTP response, once each.

use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client asked for something that does not exist. Code NOT_FOUND.
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },

    /// An argument or record is invalid. Code BAD_USER_INPUT; the message
    /// names the field and the reason.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },

    /// The write collides with existing data. Code CONFLICT.
    #[error("conflict: {0}")]
    Conflict(String),

    /// The viewer's role does not allow this. Code FORBIDDEN.
    #[error("forbidden: {0}")]
    Forbidden(String),

    /// A configured limit was exceeded. Code LIMIT_EXCEEDED.
    #[error("{0}")]
    LimitExceeded(String),

    /// The service cannot take this now (a budget of connections is in
    /// use); the client may retry. Code UNAVAILABLE.
    #[error("unavailable: {0}")]
    Unavailable(String),

    /// The database failed. Code INTERNAL; the client sees a generic
    /// message and the cause goes to the log only.
    #[error("database error: {0}")]
    Database(DbErr),

    /// Anything else that is our fault. Code INTERNAL, logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbErr> for Error {
    /// A write that breaks a unique constraint is the client's conflict,
    /// not our failure; its SQL text stays in the log.
    fn from(error: DbErr) -> Self {
        match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => {
                tracing::info!(%detail, "a write broke a unique constraint");
                Error::Conflict("another record already holds a value that must be unique".to_owned())
            }
            _ if crate::db::deadline::is_stopped_statement(&error) => {
                tracing::info!(%error, "a database statement was stopped at its time limit");
                Error::LimitExceeded(
                    "the request ran past its deadline and its database statement was stopped".to_owned(),
                )
            }
            _ if is_numeric_overflow(&error) => {
                tracing::info!(%error, "a total does not fit 64 bits");
                Error::total_overflow()
            }
            _ => Error::Database(error),
        }
    }
}

/// Both backends refuse, rather than wrap, a 64-bit sum that overflows:
/// PostgreSQL with SQLSTATE 22003 (`bigint out of range`), SQLite with
/// "integer overflow". Only a scope holding thousands of orders at the
/// largest amount ingest accepts can get there.
fn is_numeric_overflow(error: &DbErr) -> bool {
    let database = match error {
        DbErr::Query(sea_orm::RuntimeErr::SqlxError(inner)) | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(inner)) => {
            inner.as_database_error()
        }
        _ => None,
    };
    database.is_some_and(|database| {
        database.code().as_deref() == Some("22003") || database.message().contains("integer overflow")
    })
}

/// The codes a client can see in `extensions.code`, on every transport.
/// The HTTP status each one gets is in `http::error` (and the README).
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
    /// The service cannot take the request now; it may be retried.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
}

impl Error {
    /// A copy of an error that several waiters share (a cached insight's
    /// one computation): the same code and message; a database error, which
    /// cannot be copied, becomes the internal error it is shown as anyway.
    pub fn from_shared(error: &Error) -> Error {
        match error {
            Error::NotFound { entity, id } => Error::NotFound { entity, id: id.clone() },
            Error::Validation { field, message } => Error::Validation {
                field: field.clone(),
                message: message.clone(),
            },
            Error::Conflict(message) => Error::Conflict(message.clone()),
            Error::Forbidden(message) => Error::Forbidden(message.clone()),
            Error::LimitExceeded(message) => Error::LimitExceeded(message.clone()),
            Error::Unavailable(message) => Error::Unavailable(message.clone()),
            Error::Database(cause) => Error::Internal(format!("database error: {cause}")),
            Error::Internal(message) => Error::Internal(message.clone()),
        }
    }

    /// The code a client sees for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => code::NOT_FOUND,
            Error::Validation { .. } => code::BAD_USER_INPUT,
            Error::Conflict(_) => code::CONFLICT,
            Error::Forbidden(_) => code::FORBIDDEN,
            Error::LimitExceeded(_) => code::LIMIT_EXCEEDED,
            Error::Unavailable(_) => code::UNAVAILABLE,
            Error::Database(_) | Error::Internal(_) => code::INTERNAL,
        }
    }

    /// What a client is told. Internal errors are logged here, with their
    /// cause, and reach the client only as "internal error".
    pub fn client_message(&self) -> String {
        match self {
            Error::Database(_) | Error::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                "internal error".to_owned()
            }
            _ => self.to_string(),
        }
    }

    /// The field at fault, for validation errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Validation { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A 64-bit total of money (or a count) that would overflow: refused,
    /// never wrapped. Code LIMIT_EXCEEDED.
    pub fn total_overflow() -> Self {
        Error::LimitExceeded(
            "a total of the data in scope is beyond 64 bits (over 9,223,372,036,854,775,807 minor units); \
             narrow the filter"
                .to_owned(),
        )
    }

    pub fn not_found(entity: &'static str, id: impl std::fmt::Display) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
