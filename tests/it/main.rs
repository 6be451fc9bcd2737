//! Accord's integration tests: one binary, one module per area. Every test
//! runs the real server on an ephemeral port and talks to it over HTTP
//! (or WebSocket). Each test body runs on SQLite, and again on PostgreSQL
//! when `ACCORD_TEST_POSTGRES_URL` is set, each time in a database of its
//! own.

mod attacks;
mod golden;
mod helpers;
mod process;
mod records;
mod ws;

mod access;
mod accounts;
mod attribution;
mod behaviour;
mod bounds;
mod browser;
mod budgets;
mod bulk;
mod cli;
mod consent;
mod deadline;
mod errors;
mod faults;
mod identity;
mod import;
mod ingest_core;
mod insight_cache;
mod insights;
mod journey;
mod limits;
mod mutations;
mod nodes;
mod observability;
mod paging;
mod predictive_clv;
mod privacy;
mod products_bought;
mod readme;
mod revenue_cycle;
mod schema;
mod segments;
mod series;
mod series_rates;
mod server;
mod statements;
mod subscriptions;
mod suppression;
mod topology;
mod window_comparisons;
mod ws_limits;
