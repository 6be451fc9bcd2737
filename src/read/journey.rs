//! The journey: one time-ordered list of every event of an account or a
//! customer — touchpoints, orders, each stage a lead reached, survey
//! responses — each with the customer it concerns.
//!
//! One statement reads the same page for many parents: a `UNION ALL` of one
//! branch per kind (and per lead stage), over the rows that belong to each
//! parent ([`crate::read::links`]), ranked per parent by time with
//! `ROW_NUMBER()` and paged by keyset on (time, event id). An event id is
//! the row id times [`KINDS`] plus the branch's code, so it is unique
//! across kinds and a page ends between two events, never inside one.
//!
//! Product-test votes are not events here: a vote records no customer.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::enums::LeadStage;
use sea_orm::ConnectionTrait;

use super::TimeRange;
use super::links::{Owned, Owner, links};
use crate::db::cursor_key::CursorKey;
use crate::db::keyset::{Cursor, CursorScope, Direction, Page, SortKey, not_a_cursor};
use crate::db::sql::{Keys, Sql};
use crate::error::Error;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    Touchpoint,
    Order,
    /// A lead reached a stage (created as LEAD, MQL, SQL, OPPORTUNITY, WON or LOST).
    LeadStage,
    SurveyResponse,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [
        EventKind::Touchpoint,
        EventKind::Order,
        EventKind::LeadStage,
        EventKind::SurveyResponse,
    ];

    fn name(self) -> &'static str {
        match self {
            EventKind::Touchpoint => "TOUCHPOINT",
            EventKind::Order => "ORDER",
            EventKind::LeadStage => "LEAD_STAGE",
            EventKind::SurveyResponse => "SURVEY_RESPONSE",
        }
    }

    fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// One event of a journey.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    /// The id of the touchpoint, order, lead or survey response.
    pub source_id: i64,
    pub customer_id: i64,
    /// The stage reached, for [`EventKind::LeadStage`].
    pub lead_stage: Option<LeadStage>,
    /// Unique across kinds; the keyset tie-break.
    pub event_id: i64,
}

impl Event {
    /// The sealed cursor of this event in a journey read in `direction`.
    pub fn cursor(&self, cursor_key: &CursorKey, direction: Direction) -> String {
        Cursor::new(SortKey::Time(self.occurred_at), self.event_id).seal(cursor_key, scope(direction))
    }
}

/// Which events, and which page of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JourneyRequest {
    pub first: u64,
    /// The last event of the previous page: its time and event id.
    pub after: Option<(DateTime<Utc>, i64)>,
    pub direction: Direction,
    pub occurred: TimeRange,
    /// The kinds to include; all when empty.
    pub kinds: Vec<EventKind>,
}

impl JourneyRequest {
    /// Reads `after` (a cursor of this list and direction) and checks the range.
    pub fn new(
        first: u64,
        after: Option<&str>,
        cursor_key: &CursorKey,
        direction: Direction,
        occurred: TimeRange,
        mut kinds: Vec<EventKind>,
    ) -> Result<Self, Error> {
        // The same check every list applies to its time range.
        occurred.condition(entity::touchpoint::Column::OccurredAt, "filter.occurred")?;
        let after = match after {
            None => None,
            Some(text) => {
                let cursor = Cursor::open(text, "after", cursor_key, scope(direction))?;
                match cursor.key() {
                    SortKey::Time(at) => Some((*at, cursor.id())),
                    // Only this list seals cursors for its scope, always with a time.
                    _ => return Err(not_a_cursor("after")),
                }
            }
        };
        kinds.sort_unstable();
        kinds.dedup();
        Ok(Self {
            first,
            after,
            direction,
            occurred,
            kinds,
        })
    }

    fn includes(&self, kind: EventKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }
}

/// What the journey's cursors are bound to: this list, in `direction`.
fn scope(direction: Direction) -> CursorScope {
    CursorScope {
        list: "journey",
        sort: "OCCURRED_AT",
        direction,
    }
}

/// How many branch codes an event id leaves room for.
pub const KINDS: i64 = 8;

/// One branch of the union: a kind over a table, the time column and the
/// code that makes event ids unique.
struct Branch {
    kind: EventKind,
    table: Owned,
    time_column: &'static str,
    code: i64,
    /// The stage this branch's events reach, as SQL (lead branches only).
    stage: Option<&'static str>,
    /// Extra condition on the row (alias `x`).
    condition: Option<&'static str>,
}

const BRANCHES: [Branch; 8] = [
    Branch {
        kind: EventKind::Touchpoint,
        table: Owned::Touchpoints,
        time_column: "occurred_at",
        code: 0,
        stage: None,
        condition: None,
    },
    Branch {
        kind: EventKind::Order,
        table: Owned::Orders,
        time_column: "ordered_at",
        code: 1,
        stage: None,
        condition: None,
    },
    Branch {
        kind: EventKind::LeadStage,
        table: Owned::Leads,
        time_column: "created_at",
        code: 2,
        stage: Some("'LEAD'"),
        condition: None,
    },
    Branch {
        kind: EventKind::LeadStage,
        table: Owned::Leads,
        time_column: "mql_at",
        code: 3,
        stage: Some("'MQL'"),
        condition: None,
    },
    Branch {
        kind: EventKind::LeadStage,
        table: Owned::Leads,
        time_column: "sql_at",
        code: 4,
        stage: Some("'SQL'"),
        condition: None,
    },
    Branch {
        kind: EventKind::LeadStage,
        table: Owned::Leads,
        time_column: "opportunity_at",
        code: 5,
        stage: Some("'OPPORTUNITY'"),
        condition: None,
    },
    Branch {
        kind: EventKind::LeadStage,
        table: Owned::Leads,
        time_column: "closed_at",
        code: 6,
        stage: Some("x.stage"),
        condition: Some("x.stage IN ('WON', 'LOST')"),
    },
    Branch {
        kind: EventKind::SurveyResponse,
        table: Owned::SurveyResponses,
        time_column: "responded_at",
        code: 7,
        stage: None,
        condition: None,
    },
];

fn table_name(table: Owned) -> &'static str {
    match table {
        Owned::Touchpoints => "touchpoint",
        Owned::Orders => "orders",
        Owned::Leads => "lead",
        Owned::SurveyResponses => "survey_response",
    }
}

/// The same page of the journey of every parent in `parent_ids`, in one
/// statement.
pub async fn journeys(
    db: &impl ConnectionTrait,
    owner: Owner,
    parent_ids: &[i64],
    request: &JourneyRequest,
) -> Result<HashMap<i64, Page<Event>>, Error> {
    let mut pages: HashMap<i64, Page<Event>> = HashMap::new();
    let branches: Vec<&Branch> = BRANCHES.iter().filter(|branch| request.includes(branch.kind)).collect();
    if parent_ids.is_empty() || request.first == 0 || branches.is_empty() {
        return Ok(pages);
    }
    let mut sql = Sql::new(db.get_database_backend());
    // Each table's link once, however many branches read it.
    let mut tables: Vec<Owned> = branches.iter().map(|branch| branch.table).collect();
    tables.dedup();
    sql.push("WITH ");
    for (index, table) in tables.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.push(&format!("{}_link AS (", table_name(*table)));
        sql.push_query(&links(owner, *table, Keys::new(db.get_database_backend(), parent_ids)));
        sql.push(")");
    }
    let (order, before) = match request.direction {
        Direction::Desc => ("DESC", "<"),
        Direction::Asc => ("ASC", ">"),
    };
    sql.push(&format!(
        " SELECT * FROM (SELECT e.*, ROW_NUMBER() OVER (PARTITION BY e.parent_id ORDER BY e.occurred_at {order}, \
         e.event_id {order}) AS journey_rank FROM ("
    ));
    for (index, branch) in branches.iter().enumerate() {
        if index > 0 {
            sql.push(" UNION ALL ");
        }
        let table = table_name(branch.table);
        let time = format!("x.{}", branch.time_column);
        sql.push(&format!(
            "SELECT l.link_parent AS parent_id, '{kind}' AS kind, {time} AS occurred_at, x.id AS source_id, \
             x.customer_id AS customer_id, {stage} AS lead_stage, x.id * {KINDS} + {code} AS event_id \
             FROM {table} x JOIN {table}_link l ON l.link_child = x.id WHERE {time} IS NOT NULL",
            kind = branch.kind.name(),
            stage = branch.stage.unwrap_or("CAST(NULL AS TEXT)"),
            code = branch.code,
        ));
        if let Some(condition) = branch.condition {
            sql.push(" AND ").push(condition);
        }
        // Bounds inside each branch, so that each can use its time index.
        if let Some(from) = request.occurred.from {
            sql.push(&format!(" AND {time} >= ")).bind(from);
        }
        if let Some(until) = request.occurred.before {
            sql.push(&format!(" AND {time} < ")).bind(until);
        }
        if let Some((at, event_id)) = request.after {
            sql.push(&format!(" AND ({time} {before} ")).bind(at);
            sql.push(&format!(" OR ({time} = ")).bind(at);
            sql.push(&format!(" AND x.id * {KINDS} + {} {before} ", branch.code))
                .bind(event_id)
                .push("))");
        }
    }
    sql.push(") e) ranked WHERE journey_rank <= ")
        .bind(i64::try_from(request.first.saturating_add(1)).unwrap_or(i64::MAX))
        .push(" ORDER BY parent_id, journey_rank");
    let mut grouped: HashMap<i64, Vec<Event>> = HashMap::new();
    for row in sql.all(db).await? {
        let kind: String = row.try_get("", "kind")?;
        let stage: Option<String> = row.try_get("", "lead_stage")?;
        let event = Event {
            kind: EventKind::parse(&kind).ok_or_else(|| Error::Internal(format!("unknown event kind {kind}")))?,
            occurred_at: row.try_get("", "occurred_at")?,
            source_id: row.try_get("", "source_id")?,
            customer_id: row.try_get("", "customer_id")?,
            lead_stage: stage.as_deref().and_then(LeadStage::parse),
            event_id: row.try_get("", "event_id")?,
        };
        grouped.entry(row.try_get("", "parent_id")?).or_default().push(event);
    }
    for (parent, events) in grouped {
        pages.insert(parent, Page::from_rows(events, request.first));
    }
    Ok(pages)
}
