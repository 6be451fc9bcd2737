//! The one place where domain errors become GraphQL errors. Each carries
//! `extensions.code`; internal errors are logged here and reach the client
//! only as "internal error".

use std::sync::Arc;

use async_graphql::ErrorExtensions;

use crate::error::Error;

pub use crate::error::code;

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.client_message()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
            if let Some(field) = self.field() {
                extensions.set("field", field);
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
