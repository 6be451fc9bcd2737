//! The database's data version: one counter that every committed write
//! advances inside its own transaction (migration `data_version`). A
//! reader that reads the version before its data sees data at least as new
//! as the version, so a result cached under a version is never older than
//! what that version promises; a write makes every instance's cached
//! results unreachable the moment it commits.

use sea_orm::{ConnectionTrait, DbErr};

use super::sql::Sql;

/// The current version, as this connection's snapshot sees it.
pub async fn read(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT version FROM data_version WHERE id = 1");
    match sql.one(db).await? {
        Some(row) => row.try_get("", "version"),
        // A database migrated by hand without the row: nothing can be cached
        // safely, and every read is a new version.
        None => Err(DbErr::RecordNotFound("data_version row 1".to_owned())),
    }
}

/// Advances the version in the writing transaction, as its last statement:
/// the row stays locked only from here to the commit, so concurrent writers
/// barely wait on each other.
pub async fn advance(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("UPDATE data_version SET version = version + 1 WHERE id = 1");
    db.execute_raw(sql.statement()).await?;
    Ok(())
}
