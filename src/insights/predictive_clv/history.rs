//! Each customer's purchase history in the form the models take, as
//! lifetimes' `summary_data_from_transaction_data` (freq 'D') defines it:
//! orders are grouped into UTC purchase days; frequency = purchase days − 1
//! (repeat days), recency = last day − first day, T = observation end −
//! first day, monetary value = mean amount of the repeat days (0 without
//! any). Loaded in one aggregate statement: one row per customer.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::db::sql::Sql;
use crate::error::Error;
use crate::insights::period::{PeriodUnit, index_of};
use crate::insights::scope::Scope;

/// One customer's summary as of the observation end.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub customer_id: i64,
    pub region: String,
    /// The account the customer is a contact of.
    pub account_id: Option<i64>,
    /// Repeat purchase days.
    pub frequency: i64,
    /// Days from the first to the last purchase day.
    pub recency: i64,
    /// Days from the first purchase day to the observation end.
    pub t: i64,
    /// Mean amount of the repeat purchase days, in minor units; 0 without any.
    pub monetary_value: f64,
}

#[allow(clippy::cast_precision_loss)]
impl History {
    pub fn x(&self) -> f64 {
        self.frequency as f64
    }
    pub fn t_x(&self) -> f64 {
        self.recency as f64
    }
    pub fn t_days(&self) -> f64 {
        self.t as f64
    }
    /// Whether the Gamma-Gamma model is fitted on this customer.
    pub fn fits_gamma_gamma(&self) -> bool {
        self.frequency > 0 && self.monetary_value > 0.0
    }
}

/// The histories of the scope's customers over every order on or before
/// the window's last day (the observation end), in customer id order.
pub async fn histories(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<History>, Error> {
    let end_day = index_of(PeriodUnit::Day, scope.window.to);
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("WITH per_day AS (SELECT customer_id, day, SUM(amount_minor) AS amount FROM (SELECT o.customer_id, ");
    sql.day_index("o.ordered_at");
    sql.push(" AS day, o.amount_minor FROM orders o WHERE ");
    scope.orders_until_end(&mut sql);
    sql.push(") d GROUP BY customer_id, day), ");
    sql.push(
        "per_customer AS (SELECT customer_id, MIN(day) AS first_day, MAX(day) AS last_day, \
         COUNT(*) AS days, SUM(amount) AS total FROM per_day GROUP BY customer_id) ",
    );
    sql.push(
        "SELECT p.customer_id, c.region, c.account_id, CAST(p.first_day AS BIGINT) AS first_day, \
         CAST(p.last_day AS BIGINT) AS last_day, CAST(p.days AS BIGINT) AS days, CAST(p.total AS BIGINT) AS total, \
         CAST(f.amount AS BIGINT) AS first_amount FROM per_customer p \
         JOIN per_day f ON f.customer_id = p.customer_id AND f.day = p.first_day \
         JOIN customer c ON c.id = p.customer_id ORDER BY p.customer_id",
    );
    let rows = sql.all(db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let first_day: i64 = row.try_get("", "first_day")?;
        let last_day: i64 = row.try_get("", "last_day")?;
        let days: i64 = row.try_get("", "days")?;
        let total: i64 = row.try_get("", "total")?;
        let first_amount: i64 = row.try_get("", "first_amount")?;
        let frequency = days - 1;
        #[allow(clippy::cast_precision_loss)]
        let monetary_value = if frequency > 0 {
            (total - first_amount) as f64 / frequency as f64
        } else {
            0.0
        };
        out.push(History {
            customer_id: row.try_get("", "customer_id")?,
            region: row.try_get("", "region")?,
            account_id: row.try_get("", "account_id")?,
            frequency,
            recency: last_day - first_day,
            t: end_day - first_day,
            monetary_value,
        });
    }
    Ok(out)
}

/// The segments of the scope's customers with orders, as customer id →
/// segment ids (memberships as of each segment's last refresh).
pub async fn segments(db: &impl ConnectionTrait, scope: &Scope) -> Result<HashMap<i64, Vec<i64>>, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT m.customer_id, m.segment_id FROM segment_member m WHERE m.customer_id IN (SELECT o.customer_id FROM orders o WHERE ");
    scope.orders_until_end(&mut sql);
    sql.push(") ORDER BY m.segment_id, m.customer_id");
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in sql.all(db).await? {
        let customer_id: i64 = row.try_get("", "customer_id")?;
        out.entry(customer_id).or_default().push(row.try_get("", "segment_id")?);
    }
    Ok(out)
}
