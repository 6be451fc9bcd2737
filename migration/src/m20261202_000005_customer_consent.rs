//! Consent to contact, per channel (email, SMS, phone): a status (GRANTED,
//! DENIED or UNKNOWN, the default for existing customers), when the source
//! system recorded it and which source that was. One column per statement:
//! SQLite adds one column per ALTER TABLE.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CHANNELS: [&str; 3] = ["email", "sms", "phone"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for channel in CHANNELS {
            let columns = [
                ColumnDef::new(format!("consent_{channel}"))
                    .string()
                    .not_null()
                    .default("UNKNOWN")
                    .to_owned(),
                ColumnDef::new(format!("consent_{channel}_updated_at"))
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
                ColumnDef::new(format!("consent_{channel}_source"))
                    .string()
                    .null()
                    .to_owned(),
            ];
            for mut column in columns {
                manager
                    .alter_table(Table::alter().table("customer").add_column(&mut column).to_owned())
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for channel in CHANNELS {
            for column in [
                format!("consent_{channel}"),
                format!("consent_{channel}_updated_at"),
                format!("consent_{channel}_source"),
            ] {
                manager
                    .alter_table(Table::alter().table("customer").drop_column(column).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}
