//! What an account or a customer bought, per product: units, revenue,
//! orders, first and last purchase, for many parents in one statement.
//!
//! The orders are the owner's as [`crate::read::links`] defines them (an
//! account's: recorded against it or placed by any of its contacts), so
//! `productsBought` tells the same story as the journey. Revenue is the
//! lines' `quantity × unit_amount_minor`, in the reporting currency.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::TimeRange;
use super::links::{Owned, Owner, links};
use crate::db::sql::{Keys, Sql};
use crate::error::Error;

/// One product an owner bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductBought {
    pub product_id: i64,
    /// Units over every line of the product.
    pub units: i64,
    pub revenue_minor: i64,
    /// Orders with at least one line of the product.
    pub orders: i64,
    pub first_bought_at: DateTime<Utc>,
    pub last_bought_at: DateTime<Utc>,
}

/// The products each parent in `parent_ids` bought in orders placed in
/// `ordered`, highest revenue first (then product id), in one statement.
pub async fn products_bought(
    db: &impl ConnectionTrait,
    owner: Owner,
    parent_ids: &[i64],
    ordered: TimeRange,
) -> Result<HashMap<i64, Vec<ProductBought>>, Error> {
    let mut bought: HashMap<i64, Vec<ProductBought>> = HashMap::new();
    if parent_ids.is_empty() {
        return Ok(bought);
    }
    // The same check (and the same message) as the order lists' `ordered`.
    ordered.condition(entity::orders::Column::OrderedAt, "ordered")?;
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT link.link_parent AS parent_id, l.product_id AS product_id, \
         CAST(SUM(l.quantity) AS BIGINT) AS units, CAST(SUM(l.quantity * l.unit_amount_minor) AS BIGINT) AS revenue, \
         CAST(COUNT(DISTINCT o.id) AS BIGINT) AS orders, MIN(o.ordered_at) AS first_bought_at, \
         MAX(o.ordered_at) AS last_bought_at \
         FROM order_line l JOIN orders o ON o.id = l.order_id JOIN (",
    );
    sql.push_query(&links(
        owner,
        Owned::Orders,
        Keys::new(db.get_database_backend(), parent_ids),
    ));
    sql.push(") link ON link.link_child = o.id WHERE 1 = 1");
    if let Some(from) = ordered.from {
        sql.push(" AND o.ordered_at >= ").bind(from);
    }
    if let Some(before) = ordered.before {
        sql.push(" AND o.ordered_at < ").bind(before);
    }
    sql.push(" GROUP BY link.link_parent, l.product_id ORDER BY parent_id, revenue DESC, product_id");
    for row in sql.all(db).await? {
        let parent: i64 = row.try_get("", "parent_id")?;
        bought.entry(parent).or_default().push(ProductBought {
            product_id: row.try_get("", "product_id")?,
            units: row.try_get("", "units")?,
            revenue_minor: row.try_get("", "revenue")?,
            orders: row.try_get("", "orders")?,
            first_bought_at: row.try_get("", "first_bought_at")?,
            last_bought_at: row.try_get("", "last_bought_at")?,
        });
    }
    Ok(bought)
}
