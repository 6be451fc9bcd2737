//! The `Query` root, merged from one object per area so each file stays
//! small: directory (node, accounts, customers), commerce (products,
//! orders, campaigns), journey (touchpoints, leads), research (surveys,
//! product tests, brand mentions), insights (the dashboard metrics) and
//! entities (federation lookups of `Account` and `Customer`).

mod commerce;
mod directory;
mod entities;
mod insights;
mod journey;
mod research;
mod segments;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    directory::DirectoryQuery,
    commerce::CommerceQuery,
    journey::JourneyQuery,
    research::ResearchQuery,
    insights::InsightsQuery,
    segments::SegmentQuery,
    entities::EntityQuery,
);
