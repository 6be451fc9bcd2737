pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod ingest;
pub mod read;
