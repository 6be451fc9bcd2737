//! async-graphql extensions the schema runs for every request: who may
//! see the schema itself ([`access`]) and what `/metrics` counts
//! ([`metrics`]).

pub mod access;
pub mod metrics;
