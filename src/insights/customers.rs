//! Customer-level metrics over orders: repeat purchase, churn, RFM and
//! historical customer lifetime value (DESIGN.md §3).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};

use super::Definition;
use super::brand::compare_proportions;
use super::compare;
use super::delta::{self, Delta, Moments, Test};
use super::nps::CompareTo;
use super::period::{PeriodUnit, index_of, start_of};
use super::scope::{Rows, Scope};
use super::stats::{Proportion, proportion};
use crate::db::customer_parts::{CustomerPart, PARTS, query_in_parts};
use crate::db::sql::Sql;
use crate::error::Error;

#[derive(Debug, Clone)]
pub struct RepeatPurchase {
    pub customers_with_orders: i64,
    pub customers_with_repeat: i64,
    pub rate: Proportion,
    /// With `compareTo`: the rate against the compared window's.
    pub compared: Option<Delta>,
    pub definition: Definition,
}

/// Customers with two or more orders among those with at least one,
/// counting orders inside the window; with `compare_to`, the rate against
/// the compared window's (two-proportion z-test).
pub async fn repeat_purchase(
    db: &impl ConnectionTrait,
    scope: &Scope,
    compare_to: Option<CompareTo>,
) -> Result<RepeatPurchase, Error> {
    let mut current = repeat_purchase_in(db, scope).await?;
    let previous = compare::previous(scope, compare_to, |scope| async move {
        repeat_purchase_in(db, &scope).await
    });
    if let Some(previous) = previous.await? {
        let then = &previous.value;
        current.compared = Some(compare_proportions(
            previous.start(),
            (current.customers_with_repeat, current.customers_with_orders),
            (then.customers_with_repeat, then.customers_with_orders),
        ));
        current.definition = previous.describe(current.definition);
    }
    Ok(current)
}

async fn repeat_purchase_in(db: &impl ConnectionTrait, scope: &Scope) -> Result<RepeatPurchase, Error> {
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
        compared: None,
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
    /// With `compareTo`: the rate against the one as of the compared window's last day.
    pub compared: Option<Delta>,
    pub definition: Definition,
}

/// As of the window's last day D: customers with an order on or before D
/// whose last order is more than `threshold_days` days before D; with
/// `compare_to`, the rate against the one as of the compared window's last
/// day (two-proportion z-test).
pub async fn churn(
    db: &impl ConnectionTrait,
    scope: &Scope,
    threshold_days: i64,
    compare_to: Option<CompareTo>,
) -> Result<Churn, Error> {
    let mut current = churn_in(db, scope, threshold_days).await?;
    let previous = compare::previous(scope, compare_to, |scope| async move {
        churn_in(db, &scope, threshold_days).await
    });
    if let Some(previous) = previous.await? {
        let then = &previous.value;
        current.compared = Some(compare_proportions(
            previous.start(),
            (current.churned, current.customers_with_orders),
            (then.churned, then.customers_with_orders),
        ));
        current.definition = previous.describe(current.definition);
    }
    Ok(current)
}

async fn churn_in(db: &impl ConnectionTrait, scope: &Scope, threshold_days: i64) -> Result<Churn, Error> {
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
        compared: None,
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
    /// Σ of the squared per-customer totals: the spread behind the average.
    pub squares: f64,
    /// total / customers; `None` for an empty group.
    pub average_minor: Option<f64>,
    /// With `compareTo`, overall and per region: against the same group
    /// over the compared window (cohorts differ between windows: `None`).
    pub compared: Option<ValueChanges>,
}

impl ValueGroup {
    fn empty(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            customers: 0,
            total_minor: 0,
            squares: 0.0,
            average_minor: None,
            compared: None,
        }
    }

    /// The per-customer totals as a sample.
    fn moments(&self) -> Moments {
        #[allow(clippy::cast_precision_loss)]
        Moments {
            n: self.customers,
            sum: self.total_minor as f64,
            squares: self.squares,
        }
    }

    /// This group against `previous` (an empty group when absent): the
    /// average with Welch's t-test over the customers' totals, the total
    /// with no test (a sum of money).
    fn compare(&mut self, previous_start: NaiveDate, previous: Option<&ValueGroup>) {
        let previous = previous.cloned().unwrap_or_else(|| Self::empty(&self.key));
        #[allow(clippy::cast_precision_loss)]
        let total = |group: &ValueGroup| Some(group.total_minor as f64);
        self.compared = Some(ValueChanges {
            average_minor: Delta::new(
                previous_start,
                self.average_minor,
                previous.average_minor,
                previous.customers,
                delta::welch_t(&self.moments(), &previous.moments()),
            ),
            total_minor: Delta::new(
                previous_start,
                total(self),
                total(&previous),
                previous.customers,
                Test::money_sum(),
            ),
        });
    }
}

/// A value group against the same group over the compared window; each
/// delta's `previous_n` is the compared group's customers.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueChanges {
    pub average_minor: Delta,
    pub total_minor: Delta,
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
/// averaged over all customers, per first-order cohort and per region;
/// with `compare_to`, overall and per region against the compared window.
pub async fn customer_value(
    db: &impl ConnectionTrait,
    scope: &Scope,
    unit: PeriodUnit,
    compare_to: Option<CompareTo>,
) -> Result<CustomerValue, Error> {
    let mut current = customer_value_in(db, scope, unit).await?;
    let previous = compare::previous(scope, compare_to, |scope| async move {
        customer_value_in(db, &scope, unit).await
    });
    if let Some(previous) = previous.await? {
        let then = &previous.value;
        current.overall.compare(previous.start(), Some(&then.overall));
        for group in &mut current.by_region {
            let earlier = then.by_region.iter().find(|earlier| earlier.key == group.key);
            group.compare(previous.start(), earlier);
        }
        current.definition = previous.describe(current.definition);
    }
    Ok(current)
}

async fn customer_value_in(db: &impl ConnectionTrait, scope: &Scope, unit: PeriodUnit) -> Result<CustomerValue, Error> {
    // Each part sums its own customers; the group sums add up.
    let rows = query_in_parts(db, PARTS, |part| {
        value_statement(db.get_database_backend(), scope, unit, part)
    })
    .await?;
    let mut groups: BTreeMap<(String, String), (i64, i64, f64)> = BTreeMap::new();
    for row in rows {
        let sums = groups
            .entry((row.try_get("", "grouping")?, row.try_get("", "key")?))
            .or_default();
        sums.0 += row.try_get::<i64>("", "customers")?;
        sums.1 += row.try_get::<i64>("", "total")?;
        sums.2 += row.try_get::<Option<f64>>("", "squares")?.unwrap_or(0.0);
    }
    let mut overall = ValueGroup::empty("");
    let mut by_cohort = BTreeMap::new();
    let mut by_region = Vec::new();
    for ((grouping, key), (customers, total_minor, squares)) in groups {
        #[allow(clippy::cast_precision_loss)]
        let average_minor = (customers > 0).then(|| total_minor as f64 / customers as f64);
        let group = ValueGroup {
            key: key.clone(),
            customers,
            total_minor,
            squares,
            average_minor,
            compared: None,
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
                "per customer: total order amount in the window; groups report customers, the total and the average per customer; \
                 with compareTo, overall and per region against the compared window: the average with Welch's t-test \
                 over the customers' totals, the total with none (a sum of money)",
            ))
            .with_enum("cohortPeriod", unit),
    })
}

/// Per cohort, per region and overall: customers, the sum of their totals
/// and of their squares, over one part of the customers.
fn value_statement(backend: DbBackend, scope: &Scope, unit: PeriodUnit, part: CustomerPart) -> Sql {
    let mut sql = Sql::new(backend);
    sql.push("WITH per_customer AS (SELECT o.customer_id, MIN(");
    sql.period_index("o.ordered_at", unit);
    sql.push(") AS cohort, SUM(o.amount_minor) AS total FROM orders o WHERE ");
    scope.orders_where(&mut sql);
    part.filter(&mut sql, "o.customer_id");
    sql.push(" GROUP BY o.customer_id)");
    let squares = "SUM(CAST(total AS DOUBLE PRECISION) * CAST(total AS DOUBLE PRECISION)) AS squares";
    sql.push(&format!(" SELECT 'cohort' AS grouping, CAST(cohort AS TEXT) AS key, CAST(COUNT(*) AS BIGINT) AS customers, CAST(SUM(total) AS BIGINT) AS total, {squares} FROM per_customer GROUP BY cohort"));
    sql.push(&format!(" UNION ALL SELECT 'region' AS grouping, c.region AS key, CAST(COUNT(*) AS BIGINT) AS customers, CAST(SUM(p.total) AS BIGINT) AS total, {squares} FROM per_customer p JOIN customer c ON c.id = p.customer_id GROUP BY c.region"));
    sql.push(&format!(" UNION ALL SELECT 'all' AS grouping, '' AS key, CAST(COUNT(*) AS BIGINT) AS customers, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS total, {squares} FROM per_customer"));
    sql
}

fn one_row(row: Option<QueryResult>) -> Result<QueryResult, Error> {
    row.ok_or_else(|| Error::Internal("an aggregate query returned no row".to_owned()))
}
