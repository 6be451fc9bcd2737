//! The `Query` root, merged from one object per area so each file stays
//! small: directory (node, accounts, customers), commerce (products,
//! orders, campaigns), journey (touchpoints, leads) and research (surveys,
//! product tests, brand mentions).

mod commerce;
mod directory;
mod journey;
mod research;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    directory::DirectoryQuery,
    commerce::CommerceQuery,
    journey::JourneyQuery,
    research::ResearchQuery,
);
