//! Identity resolution matches an incoming customer by normalised email
//! (trimmed, lower-case). The key is computed in Rust when a customer is
//! written and stored beside the email, so both backends compare the same
//! string and the lookup is an indexed equality.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "customer";
const COLUMN: &str = "email_key";
const INDEX: &str = "idx_customer_email_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TABLE)
                    .add_column(string(COLUMN).default(""))
                    .to_owned(),
            )
            .await?;
        // Rows written before this migration: the same normalisation in SQL.
        // Emails are ASCII in practice; Rust's key lower-cases ASCII only, so
        // that is what both backends' LOWER is trusted with here.
        manager
            .get_connection()
            .execute_unprepared("UPDATE customer SET email_key = LOWER(TRIM(email))")
            .await?;
        manager
            .create_index(Index::create().name(INDEX).table(TABLE).col(COLUMN).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(TABLE).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(TABLE).drop_column(COLUMN).to_owned())
            .await
    }
}
