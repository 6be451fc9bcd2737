//! Finding a customer by any of its keys — id, external id, an external id
//! a record of it came with (an alias) — and following a merge to the
//! survivor. Every read of one customer (`customer(id:)`,
//! `customer(externalId:)`, `node`, `_entities`) and every reference
//! resolved by ingest goes through here.

use std::collections::HashMap;

use entity::customer;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use super::ALIAS_SOURCE;
use crate::db::sql::Sql;

/// Keys per `IN (…)` list; well under both backends' limits.
const KEYS_PER_STATEMENT: usize = 1_000;

/// How a caller names one customer.
#[derive(Debug, Clone, Copy)]
pub enum CustomerKey<'a> {
    Id(i64),
    /// Its own external id, or one it was sent under.
    ExternalId(&'a str),
}

/// The live customer `key` leads to (the survivor, for a merged one), in
/// one statement.
pub async fn customer(db: &impl ConnectionTrait, key: CustomerKey<'_>) -> Result<Option<customer::Model>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT * FROM customer WHERE id = (");
    match key {
        CustomerKey::Id(id) => {
            sql.push("SELECT COALESCE(merged_into_id, id) FROM customer WHERE id = ")
                .bind(id);
        }
        CustomerKey::ExternalId(external_id) => {
            // Its own external id wins over another customer's alias.
            sql.push("SELECT target FROM (SELECT 0 AS alias, COALESCE(merged_into_id, id) AS target ")
                .push("FROM customer WHERE external_id = ")
                .bind(external_id)
                .push(" UNION ALL SELECT 1 AS alias, COALESCE(c.merged_into_id, c.id) AS target ")
                .push("FROM customer_identity i JOIN customer c ON c.id = i.customer_id WHERE i.source = ")
                .bind(ALIAS_SOURCE)
                .push(" AND i.source_id = ")
                .bind(external_id)
                .push(") keys ORDER BY alias LIMIT 1");
        }
    }
    sql.push(")");
    match sql.one(db).await? {
        Some(row) => customer::Model::from_query_result(&row, "").map(Some),
        None => Ok(None),
    }
}

/// The surviving customer id of each of `keys` (external ids or aliases)
/// that leads to one.
pub async fn survivors(db: &impl ConnectionTrait, keys: &[String]) -> Result<HashMap<String, i64>, DbErr> {
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let mut sql = Sql::new(db.get_database_backend());
        sql.push("SELECT 0 AS alias, external_id AS key, COALESCE(merged_into_id, id) AS id FROM customer ")
            .push("WHERE external_id IN ")
            .bind_list(chunk.iter().cloned())
            .push(" UNION ALL SELECT 1 AS alias, i.source_id AS key, COALESCE(c.merged_into_id, c.id) AS id ")
            .push("FROM customer_identity i ")
            .push("JOIN customer c ON c.id = i.customer_id WHERE i.source = ")
            .bind(ALIAS_SOURCE)
            .push(" AND i.source_id IN ")
            .bind_list(chunk.iter().cloned())
            .push(" ORDER BY alias");
        for row in sql.all(db).await? {
            // A customer's own external id wins over another's alias.
            found.entry(row.try_get("", "key")?).or_insert(row.try_get("", "id")?);
        }
    }
    Ok(found)
}
