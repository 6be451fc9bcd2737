//! Multi-row statements that fit: every INSERT, upsert and `IN (…)` list
//! of the write path is cut into chunks by the number of values it binds,
//! under the backend's limit (SQLite 32,766, PostgreSQL 65,535), so a
//! batch of any size is written whatever its rows' width.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityName, EntityTrait,
    IdenStatic, Iterable, QueryFilter,
};

use super::kinds::{Kind, Numbered, Row};
use super::references::References;
use crate::db::sql::Sql;
use crate::error::Error;

/// The most values one statement may bind on `backend`.
pub fn max_bound_values(backend: DatabaseBackend) -> usize {
    match backend {
        // SQLITE_MAX_VARIABLE_NUMBER's default since SQLite 3.32.
        DatabaseBackend::Sqlite => 32_766,
        // The wire protocol counts parameters in an Int16.
        _ => 65_535,
    }
}

/// Keys per `IN (…)` lookup: a fixed size, so a statement's text is one
/// of few (and plans are reused), well under both limits.
pub const KEYS_PER_LOOKUP: usize = 1_000;

/// The columns `row` sets, in the entity's column order.
fn set_columns<A: ActiveModelTrait>(row: &A) -> Vec<<A::Entity as EntityTrait>::Column> {
    <A::Entity as EntityTrait>::Column::iter()
        .filter(|column| row.get(*column).is_set())
        .collect()
}

/// Rows per statement for rows that bind `width` values each.
fn rows_per_statement(backend: DatabaseBackend, width: usize) -> usize {
    (max_bound_values(backend) / width.max(1)).max(1)
}

/// Cuts `rows`, each binding `width` values, into chunks that each bind
/// at most the backend's limit.
fn chunks<A>(backend: DatabaseBackend, rows: Vec<A>, width: usize) -> Vec<Vec<A>> {
    let size = rows_per_statement(backend, width);
    let mut chunks = Vec::with_capacity(rows.len().div_ceil(size));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        chunks.push(rows.by_ref().take(size).collect());
    }
    chunks
}

/// The values each of `rows` binds. Every row of one kind sets the same
/// columns, so the first row's width is every row's.
fn width<A: ActiveModelTrait>(rows: &[A]) -> usize {
    rows.first().map_or(0, |row| set_columns(row).len())
}

/// Inserts `rows`, and where a row's `external_id` exists already updates
/// the columns the row sets — never the id, the external id, or a column
/// the record does not carry (a customer's `merged_into_id`, which only a
/// merge writes, so a merge committed meanwhile is never undone).
pub async fn upsert_by_external_id<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), Error>
where
    A: ActiveModelTrait + Send,
{
    upsert_by_external_id_guarded(db, rows, &[]).await
}

/// Columns an upsert updates only when the incoming row is not older: a
/// timestamp column `when` and the columns written with it. They take the
/// incoming values when its `when` is set and not before the stored one
/// (or nothing is stored), and keep the stored ones otherwise. The choice
/// is made in the statement, on the row it locks, so concurrent writers
/// cannot let an older value win.
#[derive(Debug, Clone, Copy)]
pub struct Guarded {
    pub when: &'static str,
    pub columns: &'static [&'static str],
}

impl Guarded {
    /// `column = CASE …`: the incoming value when it is not older, else the stored one.
    fn update(&self, table: &str, column: &str) -> Expr {
        let when = self.when;
        Expr::cust(format!(
            "CASE WHEN excluded.{when} IS NOT NULL AND (\"{table}\".{when} IS NULL OR excluded.{when} >= \"{table}\".{when}) \
             THEN excluded.{column} ELSE \"{table}\".{column} END"
        ))
    }
}

/// [`upsert_by_external_id`], with the `guarded` columns updated only by
/// rows that are not older than the stored one (see [`Guarded`]).
pub async fn upsert_by_external_id_guarded<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    guarded: &[Guarded],
) -> Result<(), Error>
where
    A: ActiveModelTrait + Send,
{
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let columns = set_columns(first);
    let width = columns.len();
    let Some(external_id) = columns.iter().copied().find(|column| column.as_str() == "external_id") else {
        return Err(Error::Internal("an upserted row has no external id".to_owned()));
    };
    let guard_of = |name: &str| {
        guarded
            .iter()
            .find(|guard| guard.when == name || guard.columns.contains(&name))
    };
    let table = A::Entity::default().table_name().to_owned();
    let mut updated = Vec::new();
    let mut kept = Vec::new();
    for column in columns {
        if matches!(column.as_str(), "id" | "external_id") {
            continue;
        }
        match guard_of(column.as_str()) {
            Some(guard) => kept.push((column, guard.update(&table, column.as_str()))),
            None => updated.push(column),
        }
    }
    for chunk in chunks(db.get_database_backend(), rows, width) {
        A::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(external_id)
                    .update_columns(updated.clone())
                    .values(kept.clone())
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Inserts `rows` (children of just-written parents, identities).
pub async fn insert_rows<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), Error>
where
    A: ActiveModelTrait + Send,
{
    let width = width(&rows);
    for chunk in chunks(db.get_database_backend(), rows, width) {
        A::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Like [`insert_rows`], skipping rows that conflict on `unique`.
pub async fn insert_rows_new_on<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    unique: Vec<<A::Entity as EntityTrait>::Column>,
) -> Result<(), Error>
where
    A: ActiveModelTrait + Send,
{
    let width = width(&rows);
    for chunk in chunks(db.get_database_backend(), rows, width) {
        A::Entity::insert_many(chunk)
            .on_conflict_do_nothing_on(unique.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Deletes the rows of `E` whose `parent` column is one of `parents`.
pub async fn delete_children<E: EntityTrait>(
    db: &impl ConnectionTrait,
    parent: E::Column,
    parents: &[i64],
) -> Result<(), Error> {
    for chunk in parents.chunks(KEYS_PER_LOOKUP) {
        E::delete_many()
            .filter(parent.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The ids of the rows of `table` with these external ids.
pub async fn ids_by_external_id(
    db: &impl ConnectionTrait,
    table: &str,
    keys: &[String],
) -> Result<HashMap<String, i64>, Error> {
    let mut ids = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        let mut sql = Sql::new(db.get_database_backend());
        sql.push("SELECT id, external_id FROM ")
            .push(table)
            .push(" WHERE external_id IN ")
            .bind_list(chunk.iter().cloned());
        for row in sql.all(db).await? {
            ids.insert(row.try_get("", "external_id")?, row.try_get("", "id")?);
        }
    }
    Ok(ids)
}

/// The default write of a kind: upsert the parents by external id, then
/// replace the children of kinds that have them.
pub async fn write_parents_and_children<R: Kind>(
    db: &DatabaseTransaction,
    references: &mut References,
    accepted: Vec<(Numbered<R>, Row<R>)>,
) -> Result<(), Error> {
    let mut records = Vec::with_capacity(if R::HAS_CHILDREN { accepted.len() } else { 0 });
    let mut rows = Vec::with_capacity(accepted.len());
    for (numbered, row) in accepted {
        if R::HAS_CHILDREN {
            records.push(numbered.record);
        }
        rows.push(row);
    }
    upsert_by_external_id(db, rows).await?;
    if !R::HAS_CHILDREN || records.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = records.iter().map(|record| record.external_id().to_owned()).collect();
    let ids = ids_by_external_id(db, R::KIND.table(), &keys).await?;
    let mut parents = Vec::with_capacity(records.len());
    for record in records {
        let Some(&id) = ids.get(record.external_id()) else {
            return Err(Error::Internal(format!(
                "{} {} vanished while its children were written",
                R::KIND,
                record.external_id()
            )));
        };
        parents.push((id, record));
    }
    R::replace_children(db, references, parents).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_stay_under_each_backends_limit() {
        for backend in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
            for width in [1, 3, 11, 12, 40] {
                let rows = rows_per_statement(backend, width);
                assert!(rows * width <= max_bound_values(backend));
                assert!((rows + 1) * width > max_bound_values(backend));
            }
        }
        // The bug this module fixes: 5,000 customers of 11 columns in one statement.
        assert!(rows_per_statement(DatabaseBackend::Sqlite, 11) < 5_000);
    }
}
