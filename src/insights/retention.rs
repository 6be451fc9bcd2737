//! Cohort retention (DESIGN.md §3): a customer's cohort is the period of
//! their first order (or of `first_seen_at`); they are retained at offset
//! k when they ordered in cohort period + k (CLASSIC) or in that period or
//! any later one (ROLLING).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbBackend};

use super::Definition;
use super::period::{PeriodUnit, index_of, start_of};
use super::scope::{Rows, Scope};
use super::stats::{Proportion, proportion};
use crate::db::customer_parts::{CustomerPart, PARTS, query_in_parts};
use crate::db::sql::Sql;
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortBy {
    FirstOrder,
    Signup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionMode {
    Classic,
    Rolling,
}

/// The largest offset a request may ask for.
pub const MAX_OFFSET: i64 = 120;

#[derive(Debug, Clone)]
pub struct Retention {
    pub cohorts: Vec<Cohort>,
    pub definition: Definition,
}

#[derive(Debug, Clone)]
pub struct Cohort {
    pub start: NaiveDate,
    pub size: i64,
    /// Offsets 0..=max whose period starts on or before the window's end.
    pub offsets: Vec<RetentionPoint>,
}

#[derive(Debug, Clone)]
pub struct RetentionPoint {
    pub offset: i64,
    pub period_start: NaiveDate,
    pub rate: Proportion,
}

pub async fn retention(
    db: &impl ConnectionTrait,
    scope: &Scope,
    cohort_by: CohortBy,
    unit: PeriodUnit,
    mode: RetentionMode,
    max_offset: i64,
) -> Result<Retention, Error> {
    if !(0..=MAX_OFFSET).contains(&max_offset) {
        return Err(Error::validation(
            "maxOffset",
            format!("{max_offset} is outside 0..={MAX_OFFSET}"),
        ));
    }
    // Per cohort: its size, and per offset reached, how many customers
    // ordered there (CLASSIC) or last ordered there (ROLLING). Each part
    // counts its own customers; the counts add up.
    let rows = query_in_parts(db, PARTS, |part| {
        counts_statement(db.get_database_backend(), scope, cohort_by, unit, mode, part)
    })
    .await?;
    let mut sizes: BTreeMap<i64, i64> = BTreeMap::new();
    let mut counts: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
    for row in rows {
        let cohort: i64 = row.try_get("", "cohort")?;
        let k: i64 = row.try_get("", "k")?;
        let customers: i64 = row.try_get("", "customers")?;
        if k < 0 {
            *sizes.entry(cohort).or_default() += customers;
        } else {
            *counts.entry(cohort).or_default().entry(k).or_default() += customers;
        }
    }

    let last_period = index_of(unit, scope.window.to);
    let mut cohorts = Vec::with_capacity(sizes.len());
    for (cohort, size) in sizes {
        let Some(start) = start_of(unit, cohort) else { continue };
        let reached = counts.remove(&cohort).unwrap_or_default();
        let mut offsets = Vec::new();
        for k in 0..=max_offset {
            let Some(period_start) = start_of(unit, cohort + k).filter(|_| cohort + k <= last_period) else {
                break;
            };
            let retained = match mode {
                RetentionMode::Classic => reached.get(&k).copied().unwrap_or(0),
                RetentionMode::Rolling => reached.range(k..).map(|(_, customers)| customers).sum(),
            };
            offsets.push(RetentionPoint {
                offset: k,
                period_start,
                rate: proportion(retained, size),
            });
        }
        cohorts.push(Cohort { start, size, offsets });
    }

    let formula = match mode {
        RetentionMode::Classic => {
            "retained(k) / cohort size, where retained(k) counts the cohort's customers with at least one order in cohort period + k"
        }
        RetentionMode::Rolling => {
            "retained(k) / cohort size, where retained(k) counts the cohort's customers with at least one order in cohort period + k or any later period"
        }
    };
    let definition = scope
        .describe(Rows::Orders, Definition::new("retention", 1, formula))
        .with_enum("cohortBy", cohort_by)
        .with_enum("period", unit)
        .with_enum("mode", mode)
        .with("maxOffset", max_offset);
    Ok(Retention { cohorts, definition })
}

/// The statement of retention's counts over one part of the customers:
/// one row per cohort and offset reached (k ≥ 0), plus one per cohort with
/// k = −1 holding its size. CLASSIC counts the distinct (customer, period)
/// pairs of `o`; ROLLING needs only each customer's last period. Both
/// avoid joining orders to orders, which halves the time on large data.
fn counts_statement(
    backend: DbBackend,
    scope: &Scope,
    cohort_by: CohortBy,
    unit: PeriodUnit,
    mode: RetentionMode,
    part: CustomerPart,
) -> Sql {
    let mut sql = Sql::new(backend);
    let distinct = if mode == RetentionMode::Classic {
        "DISTINCT "
    } else {
        ""
    };
    sql.push(&format!("WITH o AS (SELECT {distinct}o.customer_id, "));
    sql.period_index("o.ordered_at", unit)
        .push(" AS p FROM orders o WHERE ");
    scope.orders_where(&mut sql);
    part.filter(&mut sql, "o.customer_id");
    sql.push(")");
    if cohort_by == CohortBy::Signup {
        sql.push(", c AS (SELECT cu.id AS customer_id, ");
        sql.period_index("cu.first_seen_at", unit)
            // A merged customer lives on in its survivor: counting both
            // would count one person twice.
            .push(" AS cohort FROM customer cu WHERE cu.merged_into_id IS NULL AND cu.first_seen_at < ");
        sql.bind(scope.window.end());
        scope.customer_filters(&mut sql, "cu.id");
        if let Some(account) = scope.account_id {
            sql.push(" AND cu.account_id = ").bind(account);
        }
        part.filter(&mut sql, "cu.id");
        sql.push(")");
    }
    match (cohort_by, mode) {
        (CohortBy::FirstOrder, RetentionMode::Classic) => sql.push(
            ", reached AS (SELECT customer_id, p, MIN(p) OVER (PARTITION BY customer_id) AS cohort FROM o) \
             SELECT cohort, p - cohort AS k, COUNT(*) AS customers FROM reached GROUP BY cohort, p - cohort \
             UNION ALL SELECT cohort, -1 AS k, COUNT(DISTINCT customer_id) AS customers FROM reached GROUP BY cohort",
        ),
        (CohortBy::FirstOrder, RetentionMode::Rolling) => sql.push(
            ", span AS (SELECT MIN(p) AS cohort, MAX(p) AS last FROM o GROUP BY customer_id) \
             SELECT cohort, last - cohort AS k, COUNT(*) AS customers FROM span GROUP BY cohort, last - cohort \
             UNION ALL SELECT cohort, -1 AS k, COUNT(*) AS customers FROM span GROUP BY cohort",
        ),
        // Orders before the signup period are ignored.
        (CohortBy::Signup, RetentionMode::Classic) => sql.push(
            " SELECT c.cohort, o.p - c.cohort AS k, COUNT(*) AS customers FROM c JOIN o ON o.customer_id = c.customer_id \
             WHERE o.p >= c.cohort GROUP BY c.cohort, o.p - c.cohort \
             UNION ALL SELECT cohort, -1 AS k, COUNT(*) AS customers FROM c GROUP BY cohort",
        ),
        (CohortBy::Signup, RetentionMode::Rolling) => sql.push(
            ", last AS (SELECT customer_id, MAX(p) AS p FROM o GROUP BY customer_id) \
             SELECT c.cohort, last.p - c.cohort AS k, COUNT(*) AS customers FROM c JOIN last ON last.customer_id = c.customer_id \
             WHERE last.p >= c.cohort GROUP BY c.cohort, last.p - c.cohort \
             UNION ALL SELECT cohort, -1 AS k, COUNT(*) AS customers FROM c GROUP BY cohort",
        ),
    };
    sql
}
