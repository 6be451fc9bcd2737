//! async-graphql extensions the schema runs for every request: who may
//! see the schema itself ([`introspection`]) and what `/metrics` counts
//! ([`metrics`]).

pub mod introspection;
pub mod metrics;
