//! Merging two customers that turned out to be one person.

use entity::customer;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};

use crate::db::sql::Sql;
use crate::error::Error;

/// The tables whose rows belong to a customer and move to the survivor.
const OWNED: [&str; 5] = ["orders", "touchpoint", "survey_response", "lead", "customer_identity"];

/// What a merge moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    pub survivor_id: i64,
    pub merged_id: i64,
    /// Rows moved, per table, in the order of [`OWNED`] then segment memberships.
    pub moved: Vec<(&'static str, u64)>,
}

/// Moves identities, orders, touchpoints, responses, leads and segment
/// memberships of `merged_id` to `survivor_id`, in one transaction, and
/// marks the merged customer `merged_into_id = survivor_id`. Customers that
/// were merged into `merged_id` earlier now point at the survivor too, so a
/// merged id is always one step from a live customer.
pub async fn merge_customers(db: &DatabaseConnection, survivor_id: i64, merged_id: i64) -> Result<MergeOutcome, Error> {
    if survivor_id == merged_id {
        return Err(Error::validation("merged", "a customer cannot be merged into itself"));
    }
    let transaction = crate::db::begin_write(db).await?;
    let survivor = customer::Entity::find_by_id(survivor_id)
        .one(&transaction)
        .await?
        .ok_or_else(|| Error::not_found("Customer", survivor_id))?;
    if survivor.merged_into_id.is_some() {
        return Err(Error::Conflict(format!(
            "customer {survivor_id} was itself merged into another customer; merge into that one"
        )));
    }
    // Claiming the merged row first takes its row lock (PostgreSQL) or the
    // write lock (SQLite), so two merges of one customer cannot both win.
    let claimed = run(&transaction, |sql| {
        sql.push("UPDATE customer SET merged_into_id = ")
            .bind(survivor_id)
            .push(" WHERE merged_into_id IS NULL AND id = ")
            .bind(merged_id);
    })
    .await?;
    if claimed == 0 {
        let exists = customer::Entity::find_by_id(merged_id)
            .one(&transaction)
            .await?
            .is_some();
        return Err(if exists {
            Error::Conflict(format!("customer {merged_id} was already merged"))
        } else {
            Error::not_found("Customer", merged_id)
        });
    }
    // The merged customer leaves its account's contacts; the survivor takes
    // the account when it had none.
    run(&transaction, |sql| {
        sql.push(
            "UPDATE customer SET account_id = COALESCE(account_id, (SELECT m.account_id FROM customer m WHERE m.id = ",
        )
        .bind(merged_id)
        .push(")) WHERE id = ")
        .bind(survivor_id);
    })
    .await?;
    run(&transaction, |sql| {
        sql.push("UPDATE customer SET account_id = NULL WHERE id = ")
            .bind(merged_id);
    })
    .await?;
    let mut moved = Vec::with_capacity(OWNED.len() + 1);
    for table in OWNED {
        let count = run(&transaction, |sql| {
            sql.push(&format!("UPDATE {table} SET customer_id = "))
                .bind(survivor_id)
                .push(" WHERE customer_id = ")
                .bind(merged_id);
        })
        .await?;
        moved.push((table, count));
    }
    // Memberships: the survivor keeps its own, and gains the merged
    // customer's other segments with their original joining time.
    let gained = run(&transaction, |sql| {
        sql.push("INSERT INTO segment_member (segment_id, customer_id, joined_at) SELECT m.segment_id, ")
            .bind(survivor_id)
            .push(", m.joined_at FROM segment_member m WHERE m.customer_id = ")
            .bind(merged_id)
            .push(" AND NOT EXISTS (SELECT 1 FROM segment_member o WHERE o.segment_id = m.segment_id AND o.customer_id = ")
            .bind(survivor_id)
            .push(")");
    })
    .await?;
    run(&transaction, |sql| {
        sql.push("DELETE FROM segment_member WHERE customer_id = ")
            .bind(merged_id);
    })
    .await?;
    moved.push(("segment_member", gained));
    run(&transaction, |sql| {
        sql.push("UPDATE customer SET merged_into_id = ")
            .bind(survivor_id)
            .push(" WHERE merged_into_id = ")
            .bind(merged_id);
    })
    .await?;
    crate::db::data_version::advance(&transaction).await?;
    transaction.commit().await?;
    Ok(MergeOutcome {
        survivor_id,
        merged_id,
        moved,
    })
}

/// Runs the statement that `build` writes and returns the rows it affected.
async fn run(db: &impl ConnectionTrait, build: impl FnOnce(&mut Sql)) -> Result<u64, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    build(&mut sql);
    Ok(db.execute_raw(sql.statement()).await?.rows_affected())
}
