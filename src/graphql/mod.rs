//! The GraphQL layer: schema, types, resolvers and DataLoaders. Resolvers
//! are thin: they read the context, check the viewer, call the domain
//! (`read`, `ingest`, …) and map the result to API types.

pub mod access;
pub mod connection;
pub mod error;
pub mod extensions;
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

use async_graphql::{SDLExportOptions, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::config::ApiConfig;
use crate::db::cursor_key::CursorKey;
use crate::events::EventBus;

pub type AccordSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// The schema, holding what every request shares: the database pool and
/// the API configuration, the event bus, the key cursors are sealed under.
/// Per-request data (viewer, loaders) is added to each request by the HTTP layer.
pub fn build_schema(
    db: DatabaseConnection,
    config: ApiConfig,
    events: EventBus,
    cursor_key: CursorKey,
) -> AccordSchema {
    let insight_gate = extensions::insight_gate::InsightGate::new(crate::db::pool_max_connections(&db), &config.limits);
    let hooks = extensions::Hooks::new(limits::QueryLimits::new(&config), insight_gate);
    let insight_cache = crate::insights::cache::InsightCache::new(
        config.insight_cache_mib.saturating_mul(1 << 20),
        std::time::Duration::from_secs(config.insight_cache_ttl_seconds),
    );
    limits::apply(builder(), &config)
        .extension(hooks)
        .data(insight_cache)
        .data(db)
        .data(config)
        .data(events)
        .data(cursor_key)
        .finish()
}

/// The SDL of the schema, as `accord schema` prints it and `schema.graphql`
/// holds it: the federation v2 subgraph SDL, exactly what `_service { sdl }`
/// serves to a federation router.
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

/// The SDL for client tools (`accord schema --client`, `schema.client.graphql`):
/// the same schema printed without federation's `@link`, `@key` and
/// `@shareable`, which tools such as `graphql-inspector` reject as
/// undeclared directives.
pub fn client_sdl() -> String {
    builder().finish().sdl_with_options(SDLExportOptions::new())
}

/// The schema without its shared data and hooks: a federation v2 subgraph
/// (with `Account` and `Customer` as entities, see `query::entities`).
/// [`build_schema`] adds the hooks ([`extensions::Hooks`]): limits, access
/// rules, who may read the schema's own fields, `/metrics`.
fn builder() -> SchemaBuilder<query::Query, mutation::Mutation, subscription::Subscription> {
    Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        subscription::Subscription,
    )
    .enable_federation()
    .enable_subscription_in_federation()
}
