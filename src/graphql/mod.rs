//! The GraphQL layer: schema, types, resolvers and DataLoaders. Resolvers
//! are thin: they read the context, check the viewer, call the domain
//! (`read`, `ingest`, …) and map the result to API types.

pub mod access;
pub mod connection;
pub mod error;
pub mod ids;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod response;
pub mod scalars;
pub mod shape;
pub mod subscription;
pub mod types;

use async_graphql::Schema;
use sea_orm::DatabaseConnection;

use crate::config::ApiConfig;
use crate::events::EventBus;

pub type AccordSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// The schema, holding what every request shares: the database pool and
/// the API configuration, the event bus. Per-request data (viewer, loaders) is added to
/// each request by the HTTP layer.
pub fn build_schema(db: DatabaseConnection, config: ApiConfig, events: EventBus) -> AccordSchema {
    let builder = Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        subscription::Subscription,
    );
    limits::apply(builder, &config)
        .data(db)
        .data(config)
        .data(events)
        .extension(access::AccessControl)
        .finish()
}

/// The SDL of the schema, as `accord schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        subscription::Subscription,
    )
    .finish()
    .sdl()
}
