//! async-graphql extensions the schema runs for every request: who may
//! see the schema itself ([`introspection`]), what `/metrics` counts
//! ([`metrics`]), how many insights run at once ([`insight_gate`]).

pub mod insight_gate;
pub mod introspection;
pub mod metrics;
