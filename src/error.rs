//! The domain's one error type. Each variant documents what a client will
//! see; `graphql::error` maps them to GraphQL errors with
//! `extensions.code`, and is the only place that does.

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
            _ => Error::Database(error),
        }
    }
}

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str, id: impl std::fmt::Display) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
