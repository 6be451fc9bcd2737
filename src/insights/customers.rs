//! Customer-level metrics over orders: repeat purchase, churn, RFM and
//! historical customer lifetime value (DESIGN.md §3).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, QueryResult};

use super::Definition;
use super::period::{PeriodUnit, index_of, start_of};
use super::scope::{Rows, Scope};
use super::stats::{Proportion, proportion};
use crate::db::sql::Sql;
use crate::error::Error;

#[derive(Debug, Clone)]
pub struct RepeatPurchase {
    pub customers_with_orders: i64,
    pub customers_with_repeat: i64,
    pub rate: Proportion,
    pub definition: Definition,
}

/// Customers with two or more orders among those with at least one,
/// counting orders inside the window.
pub async fn repeat_purchase(db: &impl ConnectionTrait, scope: &Scope) -> Result<RepeatPurchase, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT CAST(COUNT(*) AS BIGINT) AS with_orders, \
         CAST(COALESCE(SUM(CASE WHEN orders >= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS with_repeat \
         FROM (SELECT o.customer_id, COUNT(*) AS orders FROM orders o WHERE ",
    );
    scope.orders_where(&mut sql);
    sql.push(" GROUP BY o.customer_id) per_customer");
    let row = one_row(sql.one(db).await?)?;
    let with_orders: i64 = row.try_get("", "with_orders")?;
    let with_repeat: i64 = row.try_get("", "with_repeat")?;
    Ok(RepeatPurchase {
        customers_with_orders: with_orders,
        customers_with_repeat: with_repeat,
        rate: proportion(with_repeat, with_orders),
        definition: scope.describe(
            Rows::Orders,
            Definition::new(
                "repeat_purchase",
                1,
                "customers with at least 2 orders in the window / customers with at least 1 order in the window",
            ),
        ),
    })
}

/// The default inactivity threshold of churn, in days.
pub const DEFAULT_CHURN_THRESHOLD_DAYS: i64 = 180;

#[derive(Debug, Clone)]
pub struct Churn {
    pub as_of: NaiveDate,
    pub threshold_days: i64,
    pub customers_with_orders: i64,
    pub churned: i64,
    pub rate: Proportion,
    pub definition: Definition,
}

/// As of the window's last day D: customers with an order on or before D
/// whose last order is more than `threshold_days` days before D.
pub async fn churn(db: &impl ConnectionTrait, scope: &Scope, threshold_days: i64) -> Result<Churn, Error> {
    if !(1..=3650).contains(&threshold_days) {
        return Err(Error::validation(
            "thresholdDays",
            format!("{threshold_days} is outside 1..=3650"),
        ));
    }
    let as_of_day = index_of(PeriodUnit::Day, scope.window.to);
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT CAST(COUNT(*) AS BIGINT) AS with_orders, CAST(COALESCE(SUM(CASE WHEN ");
    sql.bind(as_of_day).push(" - last_day > ").bind(threshold_days);
    sql.push(" THEN 1 ELSE 0 END), 0) AS BIGINT) AS churned FROM (SELECT o.customer_id, MAX(");
    sql.day_index("o.ordered_at").push(") AS last_day FROM orders o WHERE ");
    scope.orders_until_end(&mut sql);
    sql.push(" GROUP BY o.customer_id) per_customer");
    let row = one_row(sql.one(db).await?)?;
    let with_orders: i64 = row.try_get("", "with_orders")?;
    let churned: i64 = row.try_get("", "churned")?;
    Ok(Churn {
        as_of: scope.window.to,
        threshold_days,
        customers_with_orders: with_orders,
        churned,
        rate: proportion(churned, with_orders),
        definition: scope
            .describe(
                Rows::Orders,
                Definition::new(
                    "churn",
                    1,
                    "customers whose last order on or before the as-of date is more than thresholdDays days before it \
                 (UTC calendar days) / customers with at least 1 order on or before the as-of date",
                ),
            )
            .with("asOf", scope.window.to)
            .with("thresholdDays", threshold_days),
    })
}

/// One customer's RFM values and scores (5 is best).
#[derive(Debug, Clone)]
pub struct RfmRow {
    pub customer_id: i64,
    pub customer_external_id: String,
    pub recency_days: i64,
    pub frequency: i64,
    pub monetary_minor: i64,
    pub r: i64,
    pub f: i64,
    pub m: i64,
}

#[derive(Debug, Clone)]
pub struct RfmSummary {
    pub as_of: NaiveDate,
    pub customers: i64,
    /// Customers per score, for R, F and M (index 0 is score 1).
    pub r_counts: [i64; 5],
    pub f_counts: [i64; 5],
    pub m_counts: [i64; 5],
    /// Customers per (R, F) cell.
    pub grid: Vec<(i64, i64, i64)>,
    pub definition: Definition,
}

/// The scored customers as a CTE named `scored` (followed by the caller's SELECT).
pub fn rfm_scored(sql: &mut Sql, scope: &Scope) {
    let as_of_day = index_of(PeriodUnit::Day, scope.window.to);
    sql.push("WITH per_customer AS (SELECT o.customer_id, ")
        .bind(as_of_day)
        .push(" - MAX(");
    sql.day_index("o.ordered_at");
    sql.push(") AS recency_days, CAST(COUNT(*) AS BIGINT) AS frequency, CAST(SUM(o.amount_minor) AS BIGINT) AS monetary_minor FROM orders o WHERE ");
    scope.orders_until_end(sql);
    sql.push(" GROUP BY o.customer_id), scored AS (SELECT p.customer_id, c.external_id AS customer_external_id, p.recency_days, p.frequency, p.monetary_minor, ");
    sql.push("CAST(NTILE(5) OVER (ORDER BY p.recency_days DESC, ")
        .byte_ordered("c.external_id")
        .push(" ASC) AS BIGINT) AS r, ");
    sql.push("CAST(NTILE(5) OVER (ORDER BY p.frequency ASC, ")
        .byte_ordered("c.external_id")
        .push(" ASC) AS BIGINT) AS f, ");
    sql.push("CAST(NTILE(5) OVER (ORDER BY p.monetary_minor ASC, ")
        .byte_ordered("c.external_id")
        .push(" ASC) AS BIGINT) AS m ");
    sql.push("FROM per_customer p JOIN customer c ON c.id = p.customer_id)");
}

fn rfm_definition(scope: &Scope) -> Definition {
    scope
        .describe(
            Rows::Orders,
            Definition::new(
                "rfm",
                1,
                "over customers with an order on or before the as-of date: recency = days since the last order, \
             frequency = order count, monetary = total amount; each score is NTILE(5) ordered so that 5 is best, \
             ties broken by customer externalId (code-point order)",
            ),
        )
        .with("asOf", scope.window.to)
}

pub async fn rfm_summary(db: &impl ConnectionTrait, scope: &Scope) -> Result<RfmSummary, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    rfm_scored(&mut sql, scope);
    sql.push(" SELECT 'rf' AS grouping, r, f, CAST(COUNT(*) AS BIGINT) AS customers FROM scored GROUP BY r, f");
    sql.push(" UNION ALL SELECT 'm' AS grouping, m AS r, 0 AS f, CAST(COUNT(*) AS BIGINT) AS customers FROM scored GROUP BY m");
    let mut summary = RfmSummary {
        as_of: scope.window.to,
        customers: 0,
        r_counts: [0; 5],
        f_counts: [0; 5],
        m_counts: [0; 5],
        grid: Vec::new(),
        definition: rfm_definition(scope),
    };
    let slot = |score: i64| usize::try_from(score - 1).ok().filter(|index| *index < 5);
    for row in sql.all(db).await? {
        let grouping: String = row.try_get("", "grouping")?;
        let (first, second): (i64, i64) = (row.try_get("", "r")?, row.try_get("", "f")?);
        let customers: i64 = row.try_get("", "customers")?;
        if grouping == "m" {
            if let Some(index) = slot(first) {
                summary.m_counts[index] += customers;
            }
            continue;
        }
        summary.customers += customers;
        if let (Some(r), Some(f)) = (slot(first), slot(second)) {
            summary.r_counts[r] += customers;
            summary.f_counts[f] += customers;
        }
        summary.grid.push((first, second, customers));
    }
    summary.grid.sort_unstable();
    Ok(summary)
}

/// A page of scored customers in externalId order, after `after` (an
/// externalId); one more row than `first` tells whether more follow.
pub async fn rfm_rows(
    db: &impl ConnectionTrait,
    scope: &Scope,
    after: Option<&str>,
    first: u64,
) -> Result<Vec<RfmRow>, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    rfm_scored(&mut sql, scope);
    sql.push(" SELECT * FROM scored");
    if let Some(after) = after {
        sql.push(" WHERE ")
            .byte_ordered("customer_external_id")
            .push(" > ")
            .bind(after.to_owned());
    }
    sql.push(" ORDER BY ")
        .byte_ordered("customer_external_id")
        .push(" LIMIT ")
        .bind(i64::try_from(first + 1).unwrap_or(i64::MAX));
    let mut rows = Vec::new();
    for row in sql.all(db).await? {
        rows.push(RfmRow {
            customer_id: row.try_get("", "customer_id")?,
            customer_external_id: row.try_get("", "customer_external_id")?,
            recency_days: row.try_get("", "recency_days")?,
            frequency: row.try_get("", "frequency")?,
            monetary_minor: row.try_get("", "monetary_minor")?,
            r: row.try_get("", "r")?,
            f: row.try_get("", "f")?,
            m: row.try_get("", "m")?,
        });
    }
    Ok(rows)
}

/// Historical value of a group of customers.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueGroup {
    pub key: String,
    pub customers: i64,
    pub total_minor: i64,
    /// total / customers; `None` for an empty group.
    pub average_minor: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct CustomerValue {
    pub overall: ValueGroup,
    /// Keyed by the first day of the cohort period (first order).
    pub by_cohort: Vec<(NaiveDate, ValueGroup)>,
    pub by_region: Vec<ValueGroup>,
    pub definition: Definition,
}

/// Historical CLV: each customer's total order amount in the window,
/// averaged over all customers, per first-order cohort and per region.
pub async fn customer_value(
    db: &impl ConnectionTrait,
    scope: &Scope,
    unit: PeriodUnit,
) -> Result<CustomerValue, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("WITH per_customer AS (SELECT o.customer_id, MIN(");
    sql.period_index("o.ordered_at", unit);
    sql.push(") AS cohort, SUM(o.amount_minor) AS total FROM orders o WHERE ");
    scope.orders_where(&mut sql);
    sql.push(" GROUP BY o.customer_id)");
    sql.push(" SELECT 'cohort' AS grouping, CAST(cohort AS TEXT) AS key, CAST(COUNT(*) AS BIGINT) AS customers, CAST(SUM(total) AS BIGINT) AS total FROM per_customer GROUP BY cohort");
    sql.push(" UNION ALL SELECT 'region' AS grouping, c.region AS key, CAST(COUNT(*) AS BIGINT) AS customers, CAST(SUM(p.total) AS BIGINT) AS total FROM per_customer p JOIN customer c ON c.id = p.customer_id GROUP BY c.region");
    sql.push(" UNION ALL SELECT 'all' AS grouping, '' AS key, CAST(COUNT(*) AS BIGINT) AS customers, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS total FROM per_customer");
    let mut overall = ValueGroup {
        key: String::new(),
        customers: 0,
        total_minor: 0,
        average_minor: None,
    };
    let mut by_cohort = BTreeMap::new();
    let mut by_region = Vec::new();
    for row in sql.all(db).await? {
        let grouping: String = row.try_get("", "grouping")?;
        let key: String = row.try_get("", "key")?;
        let customers: i64 = row.try_get("", "customers")?;
        let total_minor: i64 = row.try_get("", "total")?;
        #[allow(clippy::cast_precision_loss)]
        let average_minor = (customers > 0).then(|| total_minor as f64 / customers as f64);
        let group = ValueGroup {
            key: key.clone(),
            customers,
            total_minor,
            average_minor,
        };
        match grouping.as_str() {
            "cohort" => {
                if let Some(start) = key.parse::<i64>().ok().and_then(|index| start_of(unit, index)) {
                    by_cohort.insert(start, group);
                }
            }
            "region" => by_region.push(group),
            _ => overall = group,
        }
    }
    by_region.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(CustomerValue {
        overall,
        by_cohort: by_cohort.into_iter().collect(),
        by_region,
        definition: scope
            .describe(Rows::Orders, Definition::new(
                "clv_historical",
                1,
                "per customer: total order amount in the window; groups report customers, the total and the average per customer",
            ))
            .with_enum("cohortPeriod", unit),
    })
}

fn one_row(row: Option<QueryResult>) -> Result<QueryResult, Error> {
    row.ok_or_else(|| Error::Internal("an aggregate query returned no row".to_owned()))
}
