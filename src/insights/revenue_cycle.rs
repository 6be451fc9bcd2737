//! The single revenue cycle (DESIGN.md §3): per source team, how many
//! leads reached each stage, stage-to-stage conversion with Wilson
//! intervals, median days between stages, and won revenue with each
//! team's share of it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::enums::LeadSourceTeam;
use sea_orm::ConnectionTrait;

use super::Definition;
use super::brand::compare_proportions;
use super::compare;
use super::delta::{Delta, Test};
use super::nps::CompareTo;
use super::scope::{Rows, Scope};
use super::stats::{Proportion, proportion};
use crate::db::sql::Sql;
use crate::error::Error;

/// The stages in order; LOST is reached only by a lost lead.
pub const STAGES: [&str; 6] = ["LEAD", "MQL", "SQL", "OPPORTUNITY", "WON", "LOST"];

/// The transitions timed by `median_days`.
pub const DURATIONS: [&str; 4] = [
    "LEAD_TO_MQL",
    "MQL_TO_SQL",
    "SQL_TO_OPPORTUNITY",
    "OPPORTUNITY_TO_CLOSED",
];

#[derive(Debug, Clone)]
pub struct StageConversion {
    pub from: &'static str,
    pub to: &'static str,
    pub rate: Proportion,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MedianDays {
    pub transition: &'static str,
    /// Leads with both timestamps.
    pub n: i64,
    pub median_days: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct CycleBlock {
    /// A source team, or ALL.
    pub source_team: String,
    pub leads: i64,
    /// Distinct customers of the leads: the population of the block.
    pub customers: i64,
    /// Leads that reached each of [`STAGES`].
    pub reached: Vec<(&'static str, i64)>,
    pub conversions: Vec<StageConversion>,
    pub median_days: Vec<MedianDays>,
    pub won_count: i64,
    /// WON / closed (WON or LOST) leads of the block.
    pub win_rate: Proportion,
    /// Distinct customers of the WON leads: the population of the won revenue.
    pub won_customers: i64,
    pub won_revenue_minor: i64,
    pub share_of_won_revenue: Option<f64>,
    /// With `compareTo`: against the same team's block over the compared window.
    pub compared: Option<CycleChanges>,
}

/// A block against the same team's block over the compared window.
#[derive(Debug, Clone)]
pub struct CycleChanges {
    /// Two-proportion z-test; `previous_n` is the compared block's closed leads.
    pub win_rate: Delta,
    /// No test (a sum of money); `previous_n` is the compared block's WON leads.
    pub won_revenue_minor: Delta,
    /// The compared block's populations, for suppression.
    pub previous_customers: i64,
    pub previous_won_customers: i64,
}

impl CycleBlock {
    fn closed(&self) -> i64 {
        self.win_rate.n
    }

    fn compare(&mut self, previous_start: NaiveDate, previous: &CycleBlock) {
        #[allow(clippy::cast_precision_loss)]
        let revenue = |block: &CycleBlock| Some(block.won_revenue_minor as f64);
        self.compared = Some(CycleChanges {
            win_rate: compare_proportions(
                previous_start,
                (self.won_count, self.closed()),
                (previous.won_count, previous.closed()),
            ),
            won_revenue_minor: Delta::new(
                previous_start,
                revenue(self),
                revenue(previous),
                previous.won_count,
                Test::money_sum(),
            ),
            previous_customers: previous.customers,
            previous_won_customers: previous.won_customers,
        });
    }
}

#[derive(Debug, Clone)]
pub struct RevenueCycle {
    pub by_source_team: Vec<CycleBlock>,
    pub all: CycleBlock,
    pub total_won_revenue_minor: i64,
    pub marketing_share_of_won_revenue: Option<f64>,
    pub definition: Definition,
}

/// Which leads a cycle counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CycleBasis {
    /// Leads created in the window (a cohort: how its leads progressed).
    #[default]
    Created,
    /// Leads closed (WON or LOST) in the window: its won revenue is the
    /// window's won revenue by close date, the same as attribution's
    /// WON_LEAD conversions, and its win rate is won / closed.
    Closed,
}

impl CycleBasis {
    fn column(self) -> &'static str {
        match self {
            CycleBasis::Created => "created_at",
            CycleBasis::Closed => "closed_at",
        }
    }

    fn formula(self) -> &'static str {
        match self {
            CycleBasis::Created => {
                "over leads created in the window, per source team: a stage is reached when its timestamp, a later \
             stage's timestamp or a current stage at or after it is present (LOST leads reach only what their \
             timestamps show); conversion = reached(next) / reached(stage) with Wilson 95% intervals; median days \
             between stages over leads with both timestamps; won revenue = Σ amount of WON leads (of this cohort, \
             whenever they closed: basis CLOSED and attribution's WON_LEAD count leads closed in the window \
             instead); share = team won revenue / all won revenue"
            }
            CycleBasis::Closed => {
                "over leads closed (WON or LOST) in the window, by closedAt, per source team: stages reached as with \
             basis CREATED; win rate = WON / closed with a Wilson 95% interval; median days between stages over \
             leads with both timestamps; won revenue = Σ amount of WON leads closed in the window, the same leads \
             and total as attribution(conversion: WON_LEAD); share = team won revenue / all won revenue"
            }
        }
    }
}

/// The cycle of the leads created (or closed, `basis`) inside the window;
/// with `compare_to`, each team's and the ALL block's win rate and won
/// revenue against the compared window's.
pub async fn revenue_cycle(
    db: &impl ConnectionTrait,
    scope: &Scope,
    basis: CycleBasis,
    compare_to: Option<CompareTo>,
) -> Result<RevenueCycle, Error> {
    let mut current = revenue_cycle_in(db, scope, basis).await?;
    let previous = compare::previous(scope, compare_to, |scope| async move {
        revenue_cycle_in(db, &scope, basis).await
    });
    if let Some(previous) = previous.await? {
        let then = &previous.value;
        current.all.compare(previous.start(), &then.all);
        for block in &mut current.by_source_team {
            if let Some(earlier) = then.by_source_team.iter().find(|b| b.source_team == block.source_team) {
                block.compare(previous.start(), earlier);
            }
        }
        current.definition = previous.describe(current.definition);
    }
    Ok(current)
}

async fn revenue_cycle_in(db: &impl ConnectionTrait, scope: &Scope, basis: CycleBasis) -> Result<RevenueCycle, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "WITH l AS (SELECT customer_id, source_team, stage, amount_minor, created_at, mql_at, sql_at, opportunity_at, closed_at, ",
    );
    sql.push("CASE WHEN mql_at IS NOT NULL OR sql_at IS NOT NULL OR opportunity_at IS NOT NULL OR stage IN ('MQL', 'SQL', 'OPPORTUNITY', 'WON') THEN 1 ELSE 0 END AS r_mql, ");
    sql.push("CASE WHEN sql_at IS NOT NULL OR opportunity_at IS NOT NULL OR stage IN ('SQL', 'OPPORTUNITY', 'WON') THEN 1 ELSE 0 END AS r_sql, ");
    sql.push(
        "CASE WHEN opportunity_at IS NOT NULL OR stage IN ('OPPORTUNITY', 'WON') THEN 1 ELSE 0 END AS r_opportunity ",
    );
    let column = basis.column();
    sql.push(&format!("FROM lead WHERE {column} >= "))
        .bind(scope.window.start())
        .push(&format!(" AND {column} < "))
        .bind(scope.window.end());
    if basis == CycleBasis::Closed {
        sql.push(" AND stage IN ('WON', 'LOST')");
    }
    if let Some(account) = scope.account_id {
        sql.push(" AND account_id = ").bind(account);
    }
    scope.customer_filters(&mut sql, "customer_id");
    sql.push("), teams AS (SELECT source_team AS team, l.* FROM l UNION ALL SELECT 'ALL' AS team, l.* FROM l)");
    let days = |sql: &mut Sql, later: &str, earlier: &str| {
        sql.push("CAST(");
        sql.epoch_seconds(later).push(" - ").epoch_seconds(earlier);
        sql.push(" AS DOUBLE PRECISION) / CAST(86400 AS DOUBLE PRECISION)");
    };
    sql.push(", durations AS (");
    let pairs = [
        ("LEAD_TO_MQL", "mql_at", "created_at"),
        ("MQL_TO_SQL", "sql_at", "mql_at"),
        ("SQL_TO_OPPORTUNITY", "opportunity_at", "sql_at"),
        ("OPPORTUNITY_TO_CLOSED", "closed_at", "opportunity_at"),
    ];
    for (index, (name, later, earlier)) in pairs.iter().enumerate() {
        if index > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!("SELECT team, '{name}' AS transition, "));
        days(&mut sql, later, earlier);
        sql.push(&format!(
            " AS days FROM teams WHERE {later} IS NOT NULL AND {earlier} IS NOT NULL"
        ));
    }
    sql.push("), ranked AS (SELECT team, transition, days, ROW_NUMBER() OVER (PARTITION BY team, transition ORDER BY days) AS position, ");
    sql.push("COUNT(*) OVER (PARTITION BY team, transition) AS n FROM durations)");
    sql.push(
        " SELECT 'stages' AS grouping, team, NULL AS transition, CAST(COUNT(*) AS BIGINT) AS leads, \
         CAST(COUNT(DISTINCT customer_id) AS BIGINT) AS customers, \
         CAST(COUNT(DISTINCT CASE WHEN stage = 'WON' THEN customer_id END) AS BIGINT) AS won_customers, \
         CAST(SUM(r_mql) AS BIGINT) AS mql, CAST(SUM(r_sql) AS BIGINT) AS sql_reached, \
         CAST(SUM(r_opportunity) AS BIGINT) AS opportunity, \
         CAST(SUM(CASE WHEN stage = 'WON' THEN 1 ELSE 0 END) AS BIGINT) AS won, \
         CAST(SUM(CASE WHEN stage = 'LOST' THEN 1 ELSE 0 END) AS BIGINT) AS lost, \
         CAST(SUM(CASE WHEN stage = 'WON' THEN COALESCE(amount_minor, 0) ELSE 0 END) AS BIGINT) AS won_revenue, \
         CAST(NULL AS DOUBLE PRECISION) AS median_days FROM teams GROUP BY team",
    );
    sql.push(
        " UNION ALL SELECT 'durations' AS grouping, team, transition, CAST(MAX(n) AS BIGINT) AS leads, 0, 0, 0, 0, 0, 0, 0, 0, \
         AVG(days) AS median_days FROM ranked WHERE position IN ((n + 1) / 2, (n + 2) / 2) GROUP BY team, transition",
    );

    let mut blocks: BTreeMap<String, CycleBlock> = BTreeMap::new();
    let mut medians: Vec<(String, String, i64, Option<f64>)> = Vec::new();
    for row in sql.all(db).await? {
        let grouping: String = row.try_get("", "grouping")?;
        let team: String = row.try_get("", "team")?;
        if grouping == "durations" {
            medians.push((
                team,
                row.try_get("", "transition")?,
                row.try_get("", "leads")?,
                row.try_get("", "median_days")?,
            ));
            continue;
        }
        let leads: i64 = row.try_get("", "leads")?;
        let counts = [
            leads,
            row.try_get("", "mql")?,
            row.try_get("", "sql_reached")?,
            row.try_get("", "opportunity")?,
            row.try_get("", "won")?,
            row.try_get("", "lost")?,
        ];
        let reached: Vec<(&'static str, i64)> = STAGES.iter().copied().zip(counts).collect();
        let conversions = (0..4)
            .map(|i| StageConversion {
                from: STAGES[i],
                to: STAGES[i + 1],
                rate: proportion(counts[i + 1], counts[i]),
            })
            .collect();
        blocks.insert(
            team.clone(),
            CycleBlock {
                source_team: team,
                leads,
                customers: row.try_get("", "customers")?,
                reached,
                conversions,
                median_days: DURATIONS
                    .iter()
                    .map(|transition| MedianDays {
                        transition,
                        n: 0,
                        median_days: None,
                    })
                    .collect(),
                won_count: counts[4],
                win_rate: proportion(counts[4], counts[4] + counts[5]),
                won_customers: row.try_get("", "won_customers")?,
                won_revenue_minor: row.try_get("", "won_revenue")?,
                share_of_won_revenue: None,
                compared: None,
            },
        );
    }
    for (team, transition, n, median) in medians {
        if let Some(slot) = blocks
            .get_mut(&team)
            .and_then(|block| block.median_days.iter_mut().find(|m| m.transition == transition))
        {
            slot.n = n;
            slot.median_days = median;
        }
    }
    let all = blocks.remove("ALL").unwrap_or_else(|| empty_block("ALL"));
    let total = all.won_revenue_minor;
    #[allow(clippy::cast_precision_loss)]
    let share = |revenue: i64| (total > 0).then(|| revenue as f64 / total as f64);
    let by_source_team: Vec<CycleBlock> = LeadSourceTeam::ALL
        .iter()
        .map(|team| {
            let mut block = blocks
                .remove(team.as_str())
                .unwrap_or_else(|| empty_block(team.as_str()));
            block.share_of_won_revenue = share(block.won_revenue_minor);
            block
        })
        .collect();
    let marketing_share = by_source_team.first().and_then(|block| block.share_of_won_revenue);
    let mut all = all;
    all.share_of_won_revenue = share(all.won_revenue_minor);
    Ok(RevenueCycle {
        by_source_team,
        all,
        total_won_revenue_minor: total,
        marketing_share_of_won_revenue: marketing_share,
        definition: scope.describe(
            Rows::People,
            Definition::new("revenue_cycle", 1, basis.formula()).with_enum("basis", basis),
        ),
    })
}

fn empty_block(team: &str) -> CycleBlock {
    CycleBlock {
        source_team: team.to_owned(),
        leads: 0,
        customers: 0,
        reached: STAGES.iter().map(|stage| (*stage, 0)).collect(),
        conversions: (0..4)
            .map(|i| StageConversion {
                from: STAGES[i],
                to: STAGES[i + 1],
                rate: proportion(0, 0),
            })
            .collect(),
        median_days: DURATIONS
            .iter()
            .map(|transition| MedianDays {
                transition,
                n: 0,
                median_days: None,
            })
            .collect(),
        won_count: 0,
        win_rate: proportion(0, 0),
        won_customers: 0,
        won_revenue_minor: 0,
        share_of_won_revenue: None,
        compared: None,
    }
}
