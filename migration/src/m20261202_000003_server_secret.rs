//! Secrets the server generates for itself on first start and every
//! instance on the database shares: for now one row, `cursor_key`, the key
//! cursors are sealed under when `ACCORD_CURSOR_KEY` is not set.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "server_secret";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    // The name is the key, so that two instances starting at
                    // once cannot both insert one (insert-if-absent, then read).
                    .col(string("name").primary_key())
                    .col(string("value"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
