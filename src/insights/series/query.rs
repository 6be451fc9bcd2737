//! The one aggregate query per record source of a series. The database
//! groups the records by period and by whether they are inside the window,
//! in one pass, and returns sufficient statistics — count, sum, sum of
//! squares, distinct customers, successes of a rate, NPS classes — from
//! which [`super::metric`] finishes every metric of that source in Rust.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend};

use super::metric::{BrandStage, Source};
use crate::db::customer_parts::{CustomerPart, PARTS, query_in_parts};
use crate::db::sql::{PeriodUnit, Sql};
use crate::error::Error;
use crate::insights::scope::Scope;
use entity::enums::LeadSourceTeam;

/// The statistics of one source's records in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Aggregate {
    /// Records, or the weight they carry (mentions).
    pub n: i64,
    pub sum_minor: i64,
    pub squares: f64,
    pub customers: i64,
    /// The records counted by a rate's numerator.
    pub successes: i64,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
}

/// A source's aggregates: per period inside the window (clipped), per
/// whole period read (the compared periods among them), and over the whole
/// window.
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

/// What a source's records are filtered by beyond the scope.
pub struct Selection<'a> {
    /// The lead's source team (lead sources).
    pub lead_team: Option<LeadSourceTeam>,
    /// The brand whose answers and mentions brand metrics count.
    pub own_brand: &'a str,
}

/// The columns every source's records have, in [`AGGREGATES`]' terms.
struct Columns<'a> {
    at: &'a str,
    customer: &'a str,
    amount: &'a str,
    nps_score: &'a str,
    success: &'a str,
    weight: &'a str,
    /// What the records are split by into several series (the touchpoint's team).
    split: &'a str,
}

impl Default for Columns<'_> {
    fn default() -> Self {
        Self {
            at: "",
            customer: "CAST(NULL AS BIGINT)",
            amount: "CAST(NULL AS BIGINT)",
            nps_score: "CAST(NULL AS BIGINT)",
            success: "0",
            weight: "1",
            split: "''",
        }
    }
}

fn select(sql: &mut Sql, columns: &Columns<'_>, from: &str) {
    let Columns {
        at,
        customer,
        amount,
        nps_score,
        success,
        weight,
        split,
    } = columns;
    sql.push(&format!(
        "SELECT {at} AS at, {customer} AS customer_id, {amount} AS amount, {nps_score} AS nps_score, \
         {success} AS success, {weight} AS weight, {split} AS split FROM {from}"
    ));
}

/// The records of `source` as rows `(at, customer_id, amount, nps_score,
/// success, weight, split)`, with the scope's filters other than time
/// applied. Touchpoints of every team come at once, split by team.
fn records(sql: &mut Sql, source: Source, scope: &Scope, selection: &Selection<'_>) {
    match source {
        Source::Orders | Source::CustomerOrders | Source::OrderHistory => {
            let columns = Columns {
                at: "o.ordered_at",
                customer: "o.customer_id",
                amount: "o.amount_minor",
                ..Columns::default()
            };
            select(sql, &columns, "orders o WHERE 1 = 1");
            scope.orders_filters(sql);
        }
        Source::FirstOrders => {
            // A customer's first order among the scope's orders, however
            // long before the window it was.
            let columns = Columns {
                at: "MIN(o.ordered_at)",
                customer: "o.customer_id",
                ..Columns::default()
            };
            select(sql, &columns, "orders o WHERE ");
            scope.orders_until_end(sql);
            sql.push(" GROUP BY o.customer_id");
        }
        Source::LeadsCreated | Source::LeadsWon | Source::LeadsClosed => {
            let (at, condition) = match source {
                Source::LeadsWon => ("l.closed_at", "l.stage = 'WON'"),
                Source::LeadsClosed => ("l.closed_at", "l.stage IN ('WON', 'LOST') AND l.closed_at IS NOT NULL"),
                _ => ("l.created_at", "1 = 1"),
            };
            let columns = Columns {
                at,
                customer: "l.customer_id",
                amount: "l.amount_minor",
                success: "CASE WHEN l.stage = 'WON' THEN 1 ELSE 0 END",
                ..Columns::default()
            };
            select(sql, &columns, &format!("lead l WHERE {condition}"));
            if let Some(team) = selection.lead_team {
                sql.push(" AND l.source_team = ").bind(team.as_str());
            }
            if let Some(account) = scope.account_id {
                sql.push(" AND l.account_id = ").bind(account);
            }
            scope.customer_filters(sql, "l.customer_id");
        }
        Source::NpsResponses => {
            let columns = Columns {
                at: "r.responded_at",
                customer: "r.customer_id",
                nps_score: "r.nps_score",
                ..Columns::default()
            };
            select(sql, &columns, "survey_response r WHERE r.nps_score IS NOT NULL");
            scope.response_filters(sql);
        }
        Source::BrandAnswers(stage) => {
            let success = match stage {
                BrandStage::Aware => "CASE WHEN b.aware THEN 1 ELSE 0 END",
                BrandStage::Considered => "CASE WHEN b.considered THEN 1 ELSE 0 END",
            };
            let columns = Columns {
                at: "r.responded_at",
                customer: "r.customer_id",
                success,
                ..Columns::default()
            };
            select(
                sql,
                &columns,
                "brand_answer b JOIN survey_response r ON r.id = b.response_id WHERE b.brand = ",
            );
            sql.bind(selection.own_brand.to_owned());
            scope.response_filters(sql);
        }
        Source::Mentions => {
            // A month's count is dated by its first day.
            sql.push("SELECT ").day_start("m.period_start");
            sql.push(" AS at, CAST(NULL AS BIGINT) AS customer_id, CAST(NULL AS BIGINT) AS amount, ");
            sql.push("CAST(NULL AS BIGINT) AS nps_score, CASE WHEN m.brand = ")
                .bind(selection.own_brand.to_owned());
            sql.push(" THEN m.mentions ELSE 0 END AS success, m.mentions AS weight, '' AS split FROM brand_mention m");
        }
        Source::Touchpoints(_) => {
            let columns = Columns {
                at: "t.occurred_at",
                customer: "t.customer_id",
                split: "t.team",
                ..Columns::default()
            };
            select(sql, &columns, "touchpoint t WHERE 1 = 1");
            // An account's touchpoints are those recorded against it or made
            // by its contacts (read/links.rs).
            if let Some(account) = scope.account_id {
                sql.push(" AND (t.account_id = ").bind(account);
                sql.push(" OR t.customer_id IN (SELECT id FROM customer WHERE account_id = ")
                    .bind(account)
                    .push("))");
            }
            scope.customer_filters(sql, "t.customer_id");
        }
    }
}

/// Sums of one `(period, inside the window)` group: the additive
/// statistics, and the customer counts [`aggregate`] derives from each
/// record's predecessors.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    sums: Aggregate,
    /// Customers whose first record is in this group.
    firsts: Firsts,
    /// Customers whose second record is in this group (REPEAT_RATE's successes).
    seconds: Firsts,
}

/// A split's groups by period: whole periods, and their parts inside the window.
type Groups = (BTreeMap<i64, Group>, BTreeMap<i64, Group>);

/// Customers whose first (or second) record of the whole period, of the
/// period inside the window, and of the window falls in a group.
#[derive(Debug, Clone, Copy, Default)]
struct Firsts {
    of_period: i64,
    of_period_inside: i64,
    of_window: i64,
}

impl Firsts {
    /// The columns `{prefix}s`, `{prefix}s_inside`, `{prefix}s_in_window`.
    fn read(row: &sea_orm::QueryResult, prefix: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            of_period: row.try_get("", &format!("{prefix}s"))?,
            of_period_inside: row.try_get("", &format!("{prefix}s_inside"))?,
            of_window: row.try_get("", &format!("{prefix}s_in_window"))?,
        })
    }

    fn add(self, other: Firsts) -> Firsts {
        Firsts {
            of_period: self.of_period + other.of_period,
            of_period_inside: self.of_period_inside + other.of_period_inside,
            of_window: self.of_window + other.of_window,
        }
    }
}

impl std::ops::AddAssign for Group {
    fn add_assign(&mut self, other: Group) {
        let (a, b) = (&mut self.sums, other.sums);
        a.n += b.n;
        a.sum_minor += b.sum_minor;
        a.squares += b.squares;
        a.successes += b.successes;
        a.promoters += b.promoters;
        a.passives += b.passives;
        a.detractors += b.detractors;
        self.firsts = self.firsts.add(other.firsts);
        self.seconds = self.seconds.add(other.seconds);
    }
}

/// The columns of one `(period, inside)` group. `p1`, `i1` (`p2`, `i2`) are
/// the period and inside flag of the customer's record before (two before)
/// in time order: a record is a customer's first of its period when the one
/// before is of another period, its first inside the window when the one
/// before is outside it, and so on. Customers are thus counted distinct in
/// one sorted pass, never by a DISTINCT per period.
const GROUP_COLUMNS: &str = "split, period, CAST(inside AS BIGINT) AS inside_window, \
     CAST(COALESCE(SUM(weight), 0) AS BIGINT) AS n, \
     CAST(SUM(CASE WHEN customer_id IS NOT NULL AND (p1 IS NULL OR p1 <> period) THEN 1 ELSE 0 END) AS BIGINT) AS firsts, \
     CAST(SUM(CASE WHEN customer_id IS NOT NULL AND inside = 1 AND (p1 IS NULL OR p1 <> period OR i1 = 0) \
          THEN 1 ELSE 0 END) AS BIGINT) AS firsts_inside, \
     CAST(SUM(CASE WHEN customer_id IS NOT NULL AND inside = 1 AND (i1 IS NULL OR i1 = 0) THEN 1 ELSE 0 END) AS BIGINT) \
          AS firsts_in_window";

/// The statistics beyond counts, each summed only where the source's
/// records carry it and a zero otherwise: a zero per record costs the
/// aggregate as much as a value (10% of a TOUCHPOINTS series).
fn push_statistics(sql: &mut Sql, source: Source) {
    let amounts = matches!(
        source,
        Source::Orders | Source::CustomerOrders | Source::LeadsCreated | Source::LeadsWon | Source::LeadsClosed
    );
    let successes = source.is_leads() || matches!(source, Source::BrandAnswers(_) | Source::Mentions);
    let nps = source == Source::NpsResponses;
    sql.push(if amounts {
        ", CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS sum_minor, \
         CAST(COALESCE(SUM(CAST(amount AS DOUBLE PRECISION) * amount), 0.0) AS DOUBLE PRECISION) AS squares"
    } else {
        ", CAST(0 AS BIGINT) AS sum_minor, CAST(0.0 AS DOUBLE PRECISION) AS squares"
    });
    sql.push(if successes {
        ", CAST(COALESCE(SUM(success), 0) AS BIGINT) AS successes"
    } else {
        ", CAST(0 AS BIGINT) AS successes"
    });
    sql.push(if nps {
        ", CAST(COALESCE(SUM(CASE WHEN nps_score >= 9 THEN 1 ELSE 0 END), 0) AS BIGINT) AS promoters, \
         CAST(COALESCE(SUM(CASE WHEN nps_score BETWEEN 7 AND 8 THEN 1 ELSE 0 END), 0) AS BIGINT) AS passives, \
         CAST(COALESCE(SUM(CASE WHEN nps_score <= 6 THEN 1 ELSE 0 END), 0) AS BIGINT) AS detractors"
    } else {
        ", CAST(0 AS BIGINT) AS promoters, CAST(0 AS BIGINT) AS passives, CAST(0 AS BIGINT) AS detractors"
    });
}

/// The counts of each customer's second record, for REPEAT_RATE only (a
/// third look back costs a little on every record).
const SECOND_COLUMNS: &str = ", \
     CAST(SUM(CASE WHEN p1 = period AND (p2 IS NULL OR p2 <> period) THEN 1 ELSE 0 END) AS BIGINT) AS seconds, \
     CAST(SUM(CASE WHEN inside = 1 AND i1 = 1 AND p1 = period AND (p2 IS NULL OR p2 <> period OR i2 = 0) \
          THEN 1 ELSE 0 END) AS BIGINT) AS seconds_inside, \
     CAST(SUM(CASE WHEN inside = 1 AND i1 = 1 AND (i2 IS NULL OR i2 = 0) THEN 1 ELSE 0 END) AS BIGINT) \
          AS seconds_in_window";

/// The statement of one customer part of `source`'s aggregate query.
fn statement(
    backend: DbBackend,
    source: Source,
    scope: &Scope,
    selection: &Selection<'_>,
    unit: PeriodUnit,
    ranges: &Ranges,
    part: CustomerPart,
) -> Sql {
    let earliest = ranges
        .compared
        .map_or(ranges.window.0, |(from, _)| from.min(ranges.window.0));
    let repeats = source == Source::CustomerOrders;
    let mut sql = Sql::new(backend);
    sql.push("WITH r AS (SELECT s.*, ");
    sql.period_index("s.at", unit);
    sql.push(" AS period, CASE WHEN s.at >= ")
        .bind(ranges.window.0)
        .push(" THEN 1 ELSE 0 END AS inside FROM (");
    records(&mut sql, source, scope, selection);
    sql.push(") s WHERE s.at >= ").bind(earliest);
    sql.push(" AND s.at < ").bind(ranges.window.1);
    part.filter(&mut sql, "s.customer_id");
    sql.push("), f AS (SELECT r.*, LAG(period) OVER w AS p1, LAG(inside) OVER w AS i1");
    if repeats {
        sql.push(", LAG(period, 2) OVER w AS p2, LAG(inside, 2) OVER w AS i2");
    }
    // Customer first: the `(customer_id, <time>)` index then yields the
    // records in this order, split by an incremental sort within each
    // customer; touchpoints' `(customer_id, team, occurred_at)` index yields
    // them in exactly this order, from the index alone.
    sql.push(" FROM r WINDOW w AS (PARTITION BY customer_id, split ORDER BY at))");
    sql.push(&format!(" SELECT {GROUP_COLUMNS}"));
    push_statistics(&mut sql, source);
    if repeats {
        sql.push(SECOND_COLUMNS);
    }
    sql.push(" FROM f GROUP BY split, period, inside");
    sql
}

/// Runs the aggregate query of `source`, returning its aggregates per split
/// (the touchpoint's team; `""` for every other source): one pass over the
/// records from the first compared period (or the window's start) to the
/// window's end, as [`PARTS`] statements over disjoint customers at once,
/// grouped by period and by whether a record is inside the window. A
/// point's value is its period's group inside the window (a first period
/// the window cuts counts only its days inside); a compared
/// value is its whole period, both groups; the window's total is every
/// group inside. Sums add up across groups; distinct customers are counted
/// where each customer's first (or second) record falls.
pub async fn aggregate(
    db: &impl ConnectionTrait,
    source: Source,
    scope: &Scope,
    selection: &Selection<'_>,
    unit: PeriodUnit,
    ranges: &Ranges,
) -> Result<BTreeMap<String, Aggregates>, Error> {
    // Records without a customer would be in no part: such sources are read whole.
    let parts = if source.always_has_customer() { PARTS } else { 1 };
    let rows = query_in_parts(db, parts, |part| {
        statement(db.get_database_backend(), source, scope, selection, unit, ranges, part)
    })
    .await?;
    let repeats = source == Source::CustomerOrders;
    let mut splits: BTreeMap<String, Groups> = BTreeMap::new();
    for row in rows {
        let (whole, inside) = splits.entry(row.try_get("", "split")?).or_default();
        let period: i64 = row.try_get("", "period")?;
        let group = Group {
            sums: Aggregate {
                n: row.try_get("", "n")?,
                sum_minor: row.try_get("", "sum_minor")?,
                squares: row.try_get("", "squares")?,
                customers: 0,
                successes: row.try_get("", "successes")?,
                promoters: row.try_get("", "promoters")?,
                passives: row.try_get("", "passives")?,
                detractors: row.try_get("", "detractors")?,
            },
            firsts: Firsts::read(&row, "first")?,
            seconds: if repeats {
                Firsts::read(&row, "second")?
            } else {
                Firsts::default()
            },
        };
        *whole.entry(period).or_default() += group;
        if row.try_get::<i64>("", "inside_window")? == 1 {
            *inside.entry(period).or_default() += group;
        }
    }
    let finish = |group: &Group, customers: i64, seconds: i64| {
        if repeats {
            // One unit per customer: a success when they ordered twice or more.
            Aggregate {
                n: customers,
                customers,
                successes: seconds,
                ..Aggregate::default()
            }
        } else {
            Aggregate {
                customers,
                ..group.sums
            }
        }
    };
    let aggregates = |(whole, inside): Groups| {
        let window = inside.values().fold(Group::default(), |mut total, group| {
            total += *group;
            total
        });
        Aggregates {
            current: inside
                .iter()
                .map(|(&period, group)| {
                    let (customers, seconds) = (group.firsts.of_period_inside, group.seconds.of_period_inside);
                    (period, finish(group, customers, seconds))
                })
                .collect(),
            previous: whole
                .iter()
                .map(|(&period, group)| (period, finish(group, group.firsts.of_period, group.seconds.of_period)))
                .collect(),
            window: finish(&window, window.firsts.of_window, window.seconds.of_window),
        }
    };
    Ok(splits
        .into_iter()
        .map(|(split, groups)| (split, aggregates(groups)))
        .collect())
}

/// Customers with an order and churned customers as of each of `days`
/// (day numbers): `(customers, churned)` per day.
///
/// Every order day d of a customer keeps them active from d until the
/// next order day or d + threshold, whichever comes first, so the active
/// stretches of one customer never overlap (a second order on the same day
/// makes an empty stretch, which begins and ends on d and counts for
/// nothing). Active on D = stretches begun on or before D − stretches ended
/// on or before D; customers on D = first order days on or before D;
/// churned = customers − active. One pass over the customers' orders in
/// time order (the `(customer_id, ordered_at)` index) finds each stretch;
/// the database returns how many began and ended per day (days before the
/// first asked-for day in one bucket), never a row per customer; each of
/// [`PARTS`] statements counts its own customers.
pub async fn churn(
    db: &impl ConnectionTrait,
    scope: &Scope,
    threshold_days: i64,
    days: &[i64],
) -> Result<BTreeMap<i64, (i64, i64)>, Error> {
    let (Some(&first), Some(&last)) = (days.iter().min(), days.iter().max()) else {
        return Ok(BTreeMap::new());
    };
    let stretches = |sql: &mut Sql, part: CustomerPart| {
        let clipped = |sql: &mut Sql, column: &str| {
            sql.push(&format!("CASE WHEN {column} < "))
                .bind(first)
                .push(" THEN ")
                .bind(first);
            sql.push(&format!(" ELSE {column} END"));
        };
        sql.push("SELECT ");
        clipped(sql, "day");
        sql.push(" AS began, ");
        clipped(sql, "ended");
        sql.push(" AS ended, first FROM (SELECT day, first, CASE WHEN next_day IS NULL OR next_day > day + ")
            .bind(threshold_days);
        sql.push(" THEN day + ")
            .bind(threshold_days + 1)
            .push(" ELSE next_day END AS ended FROM (SELECT ");
        sql.day_index("o.ordered_at").push(" AS day, LEAD(");
        sql.day_index("o.ordered_at").push(") OVER w AS next_day, ");
        sql.push("CASE WHEN LAG(o.customer_id) OVER w IS NULL THEN 1 ELSE 0 END AS first FROM orders o WHERE ");
        scope.orders_until_end(sql);
        part.filter(sql, "o.customer_id");
        sql.push(" WINDOW w AS (PARTITION BY o.customer_id ORDER BY o.ordered_at)) c) s");
    };
    let rows = query_in_parts(db, PARTS, |part| {
        let mut sql = Sql::new(db.get_database_backend());
        sql.grouped_twice(
            |sql| stretches(sql, part),
            "began",
            "ended",
            "CAST(SUM(first) AS BIGINT) AS firsts, CAST(COUNT(*) AS BIGINT) AS n",
        );
        sql
    })
    .await?;

    // Counts per day of each kind, then running totals up to each asked day.
    let mut changes: BTreeMap<i64, [i64; 3]> = BTreeMap::new();
    for row in rows {
        let (by_ended, day): (i64, i64) = (row.try_get("", "by_second")?, row.try_get("", "key")?);
        if day > last {
            continue;
        }
        let n: i64 = row.try_get("", "n")?;
        let counts = changes.entry(day).or_default();
        if by_ended == 0 {
            counts[0] += row.try_get::<i64>("", "firsts")?;
            counts[1] += n;
        } else {
            counts[2] += n;
        }
    }
    Ok(days
        .iter()
        .map(|&day| {
            let [customers, began, ended] = changes
                .range(..=day)
                .fold([0; 3], |[a, b, c], (_, [x, y, z])| [a + x, b + y, c + z]);
            (day, (customers, customers - (began - ended)))
        })
        .collect())
}
