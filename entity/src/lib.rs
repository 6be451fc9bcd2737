//! SeaORM entities: one module per table of Accord's data model (DESIGN.md §2).
//!
//! This crate holds table shapes only. It never imports `async-graphql` or
//! `axum`; the public API types live in the `accord` crate and are built
//! from these models, so a column never reaches the schema by accident.
//! Relations between tables are enforced by foreign keys in the migrations
//! and loaded by the API's DataLoaders, so the entities declare none.

pub mod enums;

pub mod account;
pub mod api_key;
pub mod audit_log;
pub mod brand_answer;
pub mod brand_mention;
pub mod campaign;
pub mod customer;
pub mod customer_identity;
pub mod driver_rating;
pub mod lead;
pub mod order_line;
pub mod orders;
pub mod product;
pub mod product_test;
pub mod product_test_vote;
pub mod segment;
pub mod segment_member;
pub mod segment_size;
pub mod server_secret;
pub mod survey;
pub mod survey_response;
pub mod touchpoint;
