//! The `Mutation` root. Mutations check the viewer's role before they call
//! the domain.

mod customers;
mod ingest;
mod ingest_inputs;
mod segments;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Mutation(
    segments::SegmentMutation,
    ingest::IngestMutation,
    customers::CustomerMutation,
);
