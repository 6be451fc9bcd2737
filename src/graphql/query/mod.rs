//! The `Query` root, merged from one object per area so each file stays
//! small: directory (node, accounts, customers), commerce (products,
//! orders, campaigns), journey (touchpoints, leads), research (surveys,
//! product tests, brand mentions), insights (the dashboard metrics) and
//! entities (federation lookups of `Account` and `Customer`).

mod commerce;
mod directory;
pub mod entities;
pub(crate) mod insights;
mod journey;
mod research;
mod segments;

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::ContainerType;
use async_graphql::{
    Context, ContextSelectionSet, MergedObject, ObjectType, OutputType, Positioned, ServerResult, Value,
};

/// The `Query` root: [`Fields`], except that federation's `_entities`
/// resolves each representation in its place ([`entities::in_its_place`]).
#[derive(Default)]
pub struct Query(Fields);

impl OutputType for Query {
    fn type_name() -> Cow<'static, str> {
        Fields::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Fields::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        self.0.resolve(ctx, field).await
    }
}

impl ContainerType for Query {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        self.0.resolve_field(ctx).await
    }

    async fn find_entity(&self, ctx: &Context<'_>, params: &Value) -> ServerResult<Option<Value>> {
        entities::in_its_place(self.0.find_entity(ctx, params).await, ctx, params)
    }
}

impl ObjectType for Query {}

// The root fields, one object per area (no doc comment: it would be
// the description of `Query` in the SDL).
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Fields(
    directory::DirectoryQuery,
    commerce::CommerceQuery,
    journey::JourneyQuery,
    research::ResearchQuery,
    insights::InsightsQuery,
    segments::SegmentQuery,
    entities::EntityQuery,
);
