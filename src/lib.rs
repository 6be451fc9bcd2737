//! Accord: one GraphQL API that sales and marketing read from as their
//! single source of truth about customers.
//!
//! # Code map
//!
//! - [`cli`], [`config`]: the command line and the one configuration
//!   struct (the only code that reads the environment).
//! - [`app`]: binds, serves, shuts down gracefully.
//! - [`bench`]: `accord bench`, timings of the insight queries.
//! - [`http`]: the axum router, GraphQL over HTTP/WebSocket, health.
//! - [`graphql`]: schema, object types, resolvers, DataLoaders, and the
//!   one mapping of domain errors to GraphQL errors.
//! - [`read`]: the read model — filters, sort orders and relations per
//!   entity.
//! - [`insights`]: the dashboard metrics, one file per metric family,
//!   aggregated in SQL and finished in Rust only where SQL lacks the maths.
//! - [`accounts`]: account context for sales: order stats, contacts' NPS,
//!   engagement and the health score.
//! - [`attribution`]: who earned each conversion's value, per model.
//! - [`segments`]: audiences defined by rules compiled to SQL, refreshed
//!   in the database.
//! - [`ingest`]: the one validated write path (import files, demo data,
//!   GraphQL upserts and batches).
//! - [`demo`]: the deterministic demo data generator.
//! - [`db`]: connecting, migrating, keyset pagination, the key cursors are sealed under.
//! - [`auth`]: the viewer (role) every request carries.
//! - [`telemetry`]: logs (text or JSON) and the optional OpenTelemetry export.
//! - `entity` crate: the tables; `migration` crate: their schema.
//!
//! # Invariants
//!
//! - `entity`, `read`, `insights`, `accounts`, `attribution`, `segments`, `ingest`, `demo` and `db` never import
//!   `async_graphql` or `axum`.
//! - Resolvers read the context, check the viewer, call the domain, map
//!   types; SQL lives in the domain modules.
//! - The number of SQL statements a request makes depends on the query's
//!   shape, never on the number of rows: relations go through DataLoaders.
//! - Lists page by keyset (never OFFSET) and refuse pages above the
//!   configured maximum.

pub mod accounts;
pub mod app;
pub mod attribution;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod identity;
pub mod ingest;
pub mod insights;
pub mod read;
pub mod segments;
pub mod telemetry;
