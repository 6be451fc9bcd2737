//! Keyset pagination: pages ordered by one column plus the row id as a
//! tie-break, continued from an opaque cursor that holds the last row's
//! key, sealed under the server's cursor key for its list and order
//! ([`crate::db::cursor_key`]). Never OFFSET, so page N costs the same as page 1.
//!
//! Two shapes: [`page`] for a root list, and [`pages_by_parent`] for the
//! same page of many parents' children at once (one statement with
//! `ROW_NUMBER() OVER (PARTITION BY parent …)`), which is what keeps a
//! nested connection at one statement however many parents there are.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, IntoIden, JoinType, Order, Query, SelectStatement, WindowStatement,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
};
use serde::{Deserialize, Serialize};

use super::cursor_key::CursorKey;
use super::sql::Keys;
use crate::error::Error;

/// An entity that can be paged: it has an `i64` id column.
pub trait Keyset: EntityTrait {
    fn id_column() -> Self::Column;
    fn row_id(model: &Self::Model) -> i64;
}

/// A column a list may be ordered by, with how to read its value off a row.
pub trait SortField<E: EntityTrait>: Copy + Eq + std::hash::Hash + Send + Sync + 'static {
    fn column(self) -> E::Column;
    fn key(self, model: &E::Model) -> SortKey;
    /// A stable name, written into cursors to detect a changed order.
    fn name(self) -> &'static str;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    fn order(self) -> Order {
        match self {
            Direction::Asc => Order::Asc,
            Direction::Desc => Order::Desc,
        }
    }
}

/// The value of a row's sort column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
    Date(NaiveDate),
}

impl From<SortKey> for Value {
    fn from(key: SortKey) -> Self {
        match key {
            SortKey::Int(value) => value.into(),
            SortKey::Text(value) => value.into(),
            SortKey::Time(value) => value.into(),
            SortKey::Date(value) => value.into(),
        }
    }
}

/// What a cursor is valid for: the list it came from (the table it pages)
/// and the order it was read in. It is authenticated with the cursor, so a
/// cursor of another list or order does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CursorScope {
    pub list: &'static str,
    pub sort: &'static str,
    pub direction: Direction,
}

impl CursorScope {
    fn binding(self) -> String {
        format!("{}\u{0}{}\u{0}{:?}", self.list, self.sort, self.direction)
    }
}

/// Where a page starts: just after the row with this key and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "k")]
    key: SortKey,
    #[serde(rename = "i")]
    id: i64,
}

impl Cursor {
    /// The cursor of a row at `key`, tie-broken by `id`.
    pub fn new(key: SortKey, id: i64) -> Self {
        Self { key, id }
    }

    pub fn key(&self) -> &SortKey {
        &self.key
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    /// The opaque text handed to clients: sealed under `cursor_key`, for
    /// `scope` only (see [`crate::db::cursor_key`]).
    pub fn seal(&self, cursor_key: &CursorKey, scope: CursorScope) -> String {
        // Serialising a struct of plain values cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        cursor_key.seal(scope.binding().as_bytes(), &json)
    }

    /// Reads a cursor a client sent back for a list of `scope`. `argument`
    /// names the argument in errors.
    pub fn open(text: &str, argument: &str, cursor_key: &CursorKey, scope: CursorScope) -> Result<Cursor, Error> {
        let json = cursor_key
            .open(scope.binding().as_bytes(), text)
            .ok_or_else(|| not_a_cursor(argument))?;
        serde_json::from_slice(&json).map_err(|_| not_a_cursor(argument))
    }
}

/// The refusal of a cursor that does not open: one answer whatever the
/// reason, so that a client learns nothing from trying.
pub fn not_a_cursor(argument: &str) -> Error {
    Error::validation(
        argument,
        "is not a cursor this list returned in this order (cursors are opaque: pass back pageInfo.endCursor \
         or an edge's cursor unchanged, with the same orderBy)",
    )
}

/// What page of a list to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest<S> {
    pub first: u64,
    pub after: Option<Cursor>,
    pub sort: S,
    pub direction: Direction,
    /// What the cursors of this page are bound to.
    pub scope: CursorScope,
}

impl<S> PageRequest<S> {
    /// Builds a request, refusing a `first` above `max_page_size` and a
    /// cursor that was not made for this list in this order.
    pub fn new<E>(
        first: Option<i64>,
        after: Option<&str>,
        (sort, direction): (S, Direction),
        max_page_size: u64,
        cursor_key: &CursorKey,
    ) -> Result<Self, Error>
    where
        E: EntityTrait,
        S: SortField<E>,
    {
        let first = page_size(first, max_page_size)?;
        let scope = CursorScope {
            list: E::default().table_name(),
            sort: sort.name(),
            direction,
        };
        let after = after
            .map(|text| Cursor::open(text, "after", cursor_key, scope))
            .transpose()?;
        Ok(Self {
            first,
            after,
            sort,
            direction,
            scope,
        })
    }

    /// The sealed cursor of `model`, a row of this page.
    pub fn cursor_of<E>(&self, cursor_key: &CursorKey, model: &E::Model) -> String
    where
        E: Keyset,
        S: SortField<E>,
    {
        Cursor::new(self.sort.key(model), E::row_id(model)).seal(cursor_key, self.scope)
    }
}

/// The page size a client asked for: the default when none, an error when
/// negative or above `max_page_size`.
pub fn page_size(first: Option<i64>, max_page_size: u64) -> Result<u64, Error> {
    let first = match first {
        None => Ord::min(max_page_size, DEFAULT_PAGE_SIZE),
        Some(first) if first < 0 => return Err(Error::validation("first", "must not be negative")),
        Some(first) => u64::try_from(first).unwrap_or(u64::MAX),
    };
    if first > max_page_size {
        return Err(Error::validation(
            "first",
            format!("{first} is above the maximum page size of {max_page_size}"),
        ));
    }
    Ok(first)
}

/// The cursor of a computed list ordered by a unique text key (RFM rows,
/// by customer external id): the key, sealed for `list`.
pub fn seal_text_cursor(cursor_key: &CursorKey, list: &str, key: &str) -> String {
    cursor_key.seal(list.as_bytes(), key.as_bytes())
}

/// Reads a cursor of [`seal_text_cursor`] sealed for `list`.
pub fn open_text_cursor(cursor_key: &CursorKey, list: &str, text: &str, argument: &str) -> Result<String, Error> {
    let key = cursor_key
        .open(list.as_bytes(), text)
        .ok_or_else(|| not_a_cursor(argument))?;
    String::from_utf8(key).map_err(|_| not_a_cursor(argument))
}

/// One page of rows and whether more follow.
#[derive(Debug, Clone)]
pub struct Page<M> {
    pub rows: Vec<M>,
    pub has_next_page: bool,
}

impl<M> Default for Page<M> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            has_next_page: false,
        }
    }
}

impl<M> Page<M> {
    /// A page of at most `first` of `rows`, which hold one more when more follow.
    pub fn from_rows(mut rows: Vec<M>, first: u64) -> Self {
        let limit = usize::try_from(first).unwrap_or(usize::MAX);
        let has_next_page = rows.len() > limit;
        rows.truncate(limit);
        Self { rows, has_next_page }
    }
}

/// Adds the request's keyset condition and order to `select`.
fn ordered<E, S>(select: Select<E>, request: &PageRequest<S>) -> Select<E>
where
    E: Keyset,
    S: SortField<E>,
{
    let column = request.sort.column();
    let id = E::id_column();
    let select = match &request.after {
        None => select,
        Some(cursor) => {
            let key = Value::from(cursor.key.clone());
            let condition = match request.direction {
                Direction::Asc => Condition::any()
                    .add(column.gt(key.clone()))
                    .add(Condition::all().add(column.eq(key)).add(id.gt(cursor.id))),
                Direction::Desc => Condition::any()
                    .add(column.lt(key.clone()))
                    .add(Condition::all().add(column.eq(key)).add(id.lt(cursor.id))),
            };
            select.filter(condition)
        }
    };
    let order = request.direction.order();
    select.order_by(column, order.clone()).order_by(id, order)
}

/// Reads one page of `select`.
pub async fn page<E, S>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    request: &PageRequest<S>,
) -> Result<Page<E::Model>, DbErr>
where
    E: Keyset,
    S: SortField<E>,
{
    let rows = ordered(select, request).limit(request.first + 1).all(db).await?;
    Ok(Page::from_rows(rows, request.first))
}

/// Reads the same page of children for every parent in `parent_ids` with
/// one statement. `parent_column` links a child to its parent.
pub async fn pages_by_parent<E, S>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    parent_column: E::Column,
    parent_of: impl Fn(&E::Model) -> Option<i64>,
    parent_ids: &[i64],
    request: &PageRequest<S>,
) -> Result<HashMap<i64, Page<E::Model>>, DbErr>
where
    E: Keyset,
    S: SortField<E>,
{
    let mut pages: HashMap<i64, Page<E::Model>> = HashMap::new();
    if parent_ids.is_empty() || request.first == 0 {
        return Ok(pages);
    }
    let parents = Keys::new(db.get_database_backend(), parent_ids).contain(parent_column.into_expr());
    let ranked = ordered(select.filter(parents), request).into_query();
    let statement = first_per_parent::<E, S>(
        ranked,
        WindowStatement::partition_by((E::default(), parent_column)),
        request,
    );
    let rows = E::find()
        .from_raw_sql(db.get_database_backend().build(&statement))
        .all(db)
        .await?;
    let mut grouped: HashMap<i64, Vec<E::Model>> = HashMap::new();
    for row in rows {
        if let Some(parent) = parent_of(&row) {
            grouped.entry(parent).or_default().push(row);
        }
    }
    for (parent, rows) in grouped {
        pages.insert(parent, Page::from_rows(rows, request.first));
    }
    Ok(pages)
}

/// Like [`pages_by_parent`] for children that name their parents through a
/// link statement of `(LINK_CHILD, LINK_PARENT)` pairs (a child may have
/// several parents; it appears on each one's page).
pub async fn pages_by_link<E, S>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    link: SelectStatement,
    request: &PageRequest<S>,
) -> Result<HashMap<i64, Page<E::Model>>, DbErr>
where
    E: Keyset,
    S: SortField<E>,
{
    let mut pages: HashMap<i64, Page<E::Model>> = HashMap::new();
    if request.first == 0 {
        return Ok(pages);
    }
    let mut ranked = joined_to_link(
        ordered(select, request).into_query(),
        link,
        E::default(),
        E::id_column(),
    );
    ranked.expr_as(
        Expr::col((Alias::new(LINK), Alias::new(LINK_PARENT))),
        Alias::new(LINK_PARENT),
    );
    let statement = first_per_parent::<E, S>(
        ranked,
        WindowStatement::partition_by((Alias::new(LINK), Alias::new(LINK_PARENT))),
        request,
    );
    let mut grouped: HashMap<i64, Vec<E::Model>> = HashMap::new();
    for row in db.query_all(&statement).await? {
        let parent: i64 = row.try_get("", LINK_PARENT)?;
        grouped
            .entry(parent)
            .or_default()
            .push(<E::Model as FromQueryResult>::from_query_result(&row, "")?);
    }
    for (parent, rows) in grouped {
        pages.insert(parent, Page::from_rows(rows, request.first));
    }
    Ok(pages)
}

/// The first `request.first + 1` rows of `ranked` per partition of
/// `window`, in the request's order: one statement for every parent's page.
fn first_per_parent<E, S>(
    mut ranked: SelectStatement,
    mut window: WindowStatement,
    request: &PageRequest<S>,
) -> SelectStatement
where
    E: Keyset,
    S: SortField<E>,
{
    let order = request.direction.order();
    window
        .order_by((E::default(), request.sort.column()), order.clone())
        .order_by((E::default(), E::id_column()), order);
    ranked.clear_order_by();
    ranked.expr_window_as(Func::cust("ROW_NUMBER"), window, Alias::new(RANK));
    Query::select()
        .column(Asterisk)
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new(RANK)).lte(request.first + 1))
        .order_by(Alias::new(RANK), Order::Asc)
        .to_owned()
}

/// Counts the rows of `select` per parent of a link statement.
pub async fn count_by_link<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    link: SelectStatement,
) -> Result<HashMap<i64, i64>, DbErr>
where
    E: Keyset,
{
    let mut statement = joined_to_link(select.into_query(), link, E::default(), E::id_column());
    statement
        .clear_selects()
        .expr_as(
            Expr::col((Alias::new(LINK), Alias::new(LINK_PARENT))),
            Alias::new("parent_id"),
        )
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("total"))
        .group_by_col((Alias::new(LINK), Alias::new(LINK_PARENT)));
    let mut counts = HashMap::new();
    for row in db.query_all(&statement).await? {
        counts.insert(row.try_get::<i64>("", "parent_id")?, row.try_get::<i64>("", "total")?);
    }
    Ok(counts)
}

/// `statement` joined to the link statement (as `link`) on the child's id.
fn joined_to_link(
    mut statement: SelectStatement,
    link: SelectStatement,
    table: impl IntoIden,
    id: impl IntoIden,
) -> SelectStatement {
    statement.join_subquery(
        JoinType::InnerJoin,
        link,
        Alias::new(LINK),
        Expr::col((Alias::new(LINK), Alias::new(LINK_CHILD))).equals((table, id)),
    );
    statement
}

/// The child id column of a link statement.
pub const LINK_CHILD: &str = "link_child";
/// The parent id column of a link statement.
pub const LINK_PARENT: &str = "link_parent";
const LINK: &str = "link";

const RANK: &str = "keyset_rank";

/// The page size when a client gives no `first`.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// Counts the rows `statement` would return.
pub async fn count(db: &impl ConnectionTrait, mut statement: SelectStatement) -> Result<i64, DbErr> {
    statement.clear_order_by();
    let counting = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("total"))
        .from_subquery(statement, Alias::new("counted"))
        .to_owned();
    let row = db.query_one(&counting).await?;
    match row {
        Some(row) => row.try_get("", "total"),
        None => Ok(0),
    }
}

/// Counts the rows of `select` per parent, for the parents in `parent_ids`.
pub async fn count_by_parent<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    parent_column: E::Column,
    parent_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr>
where
    E: EntityTrait,
{
    if parent_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let parents = Keys::new(db.get_database_backend(), parent_ids).contain(parent_column.into_expr());
    let statement = select
        .filter(parents)
        .select_only()
        .column_as(parent_column, "parent_id")
        .column_as(Expr::cust("COUNT(*)"), "total")
        .group_by(parent_column)
        .into_query();
    let rows = db.query_all(&statement).await?;
    let mut counts = HashMap::new();
    for row in rows {
        let parent: i64 = row.try_get("", "parent_id")?;
        let total: i64 = row.try_get("", "total")?;
        counts.insert(parent, total);
    }
    Ok(counts)
}

/// The statement of `select`, for counting later without its entity type.
pub fn statement_of<E: EntityTrait>(select: Select<E>) -> SelectStatement {
    select.into_query()
}
