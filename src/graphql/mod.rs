//! The GraphQL layer: schema, types, resolvers and DataLoaders. Resolvers
//! are thin: they read the context, check the viewer, call the domain
//! (`read`, `ingest`, …) and map the result to API types.

pub mod connection;
pub mod error;
pub mod ids;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod types;

use async_graphql::{EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

use crate::config::ApiConfig;

pub type AccordSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The schema, holding what every request shares: the database pool and
/// the API configuration. Per-request data (viewer, loaders) is added to
/// each request by the HTTP layer.
pub fn build_schema(db: DatabaseConnection, config: ApiConfig) -> AccordSchema {
    Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        EmptySubscription,
    )
    .data(db)
    .data(config)
    .finish()
}

/// The SDL of the schema, as `accord schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}
