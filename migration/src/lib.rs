//! Schema migrations for Accord. The same migrations run on SQLite (the
//! embedded default) and PostgreSQL (production): they use only portable
//! column types, inline foreign keys (SQLite cannot add them later) and
//! plain B-tree indexes.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_initial_schema;
mod m20261127_000002_customer_email_key;
mod m20261202_000003_server_secret;
mod m20261202_000004_audit_subject;
mod m20261202_000005_customer_consent;
mod m20261204_000006_data_version;
mod m20261206_000007_touchpoint_customer_team_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_initial_schema::Migration),
            Box::new(m20261127_000002_customer_email_key::Migration),
            Box::new(m20261202_000003_server_secret::Migration),
            Box::new(m20261202_000004_audit_subject::Migration),
            Box::new(m20261202_000005_customer_consent::Migration),
            Box::new(m20261204_000006_data_version::Migration),
            Box::new(m20261206_000007_touchpoint_customer_team_index::Migration),
        ]
    }
}
