//! The one aggregate query per record source of a series. The database
//! groups the records by period (and once over the whole window) and
//! returns sufficient statistics — count, sum, sum of squares, distinct
//! customers, NPS classes — from which [`super::metric`] finishes every
//! metric of that source in Rust.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::metric::Source;
use crate::db::sql::{PeriodUnit, Sql};
use crate::error::Error;
use crate::insights::scope::Scope;
use entity::enums::LeadSourceTeam;

/// The statistics of one source's records in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Aggregate {
    pub n: i64,
    pub sum_minor: i64,
    pub squares: f64,
    pub customers: i64,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
}

/// A source's aggregates: per period inside the window (clipped), per
/// whole period compared with, and over the whole window.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    pub current: BTreeMap<i64, Aggregate>,
    pub previous: BTreeMap<i64, Aggregate>,
    pub window: Aggregate,
}

/// Half-open time ranges of a query: the window, and the whole periods
/// the points are compared with (if any).
pub struct Ranges {
    pub window: (DateTime<Utc>, DateTime<Utc>),
    pub compared: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

const AGGREGATES: &str = "CAST(COUNT(*) AS BIGINT) AS n, \
     CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS sum_minor, \
     CAST(COALESCE(SUM(CAST(amount AS DOUBLE PRECISION) * amount), 0.0) AS DOUBLE PRECISION) AS squares, \
     CAST(COUNT(DISTINCT customer_id) AS BIGINT) AS customers, \
     CAST(COALESCE(SUM(CASE WHEN nps_score >= 9 THEN 1 ELSE 0 END), 0) AS BIGINT) AS promoters, \
     CAST(COALESCE(SUM(CASE WHEN nps_score BETWEEN 7 AND 8 THEN 1 ELSE 0 END), 0) AS BIGINT) AS passives, \
     CAST(COALESCE(SUM(CASE WHEN nps_score <= 6 THEN 1 ELSE 0 END), 0) AS BIGINT) AS detractors";

/// The records of `source` as rows `(at, customer_id, amount, nps_score)`,
/// with the scope's filters other than time applied.
fn records(sql: &mut Sql, source: Source, scope: &Scope, team: Option<LeadSourceTeam>) {
    match source {
        Source::Orders => {
            sql.push(
                "SELECT o.ordered_at AS at, o.customer_id, o.amount_minor AS amount, \
                 CAST(NULL AS BIGINT) AS nps_score FROM orders o WHERE 1 = 1",
            );
            scope.orders_filters(sql);
        }
        Source::FirstOrders => {
            // A customer's first order among the scope's orders, however
            // long before the window it was.
            sql.push(
                "SELECT MIN(o.ordered_at) AS at, o.customer_id, CAST(NULL AS BIGINT) AS amount, \
                 CAST(NULL AS BIGINT) AS nps_score FROM orders o WHERE ",
            );
            scope.orders_until_end(sql);
            sql.push(" GROUP BY o.customer_id");
        }
        Source::LeadsCreated | Source::LeadsWon => {
            let (at, condition) = match source {
                Source::LeadsWon => ("l.closed_at", "l.stage = 'WON'"),
                _ => ("l.created_at", "1 = 1"),
            };
            sql.push(&format!(
                "SELECT {at} AS at, l.customer_id, l.amount_minor AS amount, \
                 CAST(NULL AS BIGINT) AS nps_score FROM lead l WHERE {condition}"
            ));
            if let Some(team) = team {
                sql.push(" AND l.source_team = ").bind(team.as_str());
            }
            if let Some(account) = scope.account_id {
                sql.push(" AND l.account_id = ").bind(account);
            }
            scope.customer_filters(sql, "l.customer_id");
        }
        Source::NpsResponses => {
            sql.push(
                "SELECT r.responded_at AS at, r.customer_id, CAST(NULL AS BIGINT) AS amount, r.nps_score \
                 FROM survey_response r WHERE r.nps_score IS NOT NULL",
            );
            scope.response_filters(sql);
        }
    }
}

/// Runs the aggregate query of `source`.
pub async fn aggregate(
    db: &impl ConnectionTrait,
    source: Source,
    scope: &Scope,
    team: Option<LeadSourceTeam>,
    unit: PeriodUnit,
    ranges: &Ranges,
) -> Result<Aggregates, Error> {
    let earliest = ranges
        .compared
        .map_or(ranges.window.0, |(from, _)| from.min(ranges.window.0));
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("WITH src AS (SELECT s.*, ");
    sql.period_index("s.at", unit);
    sql.push(" AS period FROM (");
    records(&mut sql, source, scope, team);
    sql.push(") s WHERE s.at >= ").bind(earliest);
    sql.push(" AND s.at < ").bind(ranges.window.1).push(")");
    let part = |sql: &mut Sql, name: &str, (from, to): (DateTime<Utc>, DateTime<Utc>), grouped: bool| {
        let period = if grouped {
            "period"
        } else {
            "CAST(0 AS BIGINT) AS period"
        };
        sql.push(&format!(
            " SELECT '{name}' AS part, {period}, {AGGREGATES} FROM src WHERE at >= "
        ));
        sql.bind(from).push(" AND at < ").bind(to);
        if grouped {
            sql.push(" GROUP BY period");
        }
    };
    part(&mut sql, "current", ranges.window, true);
    sql.push(" UNION ALL");
    part(&mut sql, "window", ranges.window, false);
    if let Some(compared) = ranges.compared {
        sql.push(" UNION ALL");
        part(&mut sql, "previous", compared, true);
    }

    let mut aggregates = Aggregates::default();
    for row in sql.all(db).await? {
        let part: String = row.try_get("", "part")?;
        let period: i64 = row.try_get("", "period")?;
        let aggregate = Aggregate {
            n: row.try_get("", "n")?,
            sum_minor: row.try_get("", "sum_minor")?,
            squares: row.try_get("", "squares")?,
            customers: row.try_get("", "customers")?,
            promoters: row.try_get("", "promoters")?,
            passives: row.try_get("", "passives")?,
            detractors: row.try_get("", "detractors")?,
        };
        match part.as_str() {
            "current" => {
                aggregates.current.insert(period, aggregate);
            }
            "previous" => {
                aggregates.previous.insert(period, aggregate);
            }
            _ => aggregates.window = aggregate,
        }
    }
    Ok(aggregates)
}
