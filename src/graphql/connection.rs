//! Relay connections over keyset pages: the arguments every list takes,
//! turning a [`Page`] into a `…Connection`, and `totalCount`, computed
//! only when a client asks for it. Likewise the page itself is read only
//! when the selection reads it ([`page_selected`]): a connection asked for
//! its `totalCount` alone runs the count and nothing else.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, Object, OutputType};
use futures::future::BoxFuture;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{DatabaseConnection, EntityTrait, QueryTrait, Select};

use super::error::IntoGraphql;
use super::loaders::{ChildCount, ChildPage, Loaders};
use crate::config::ApiConfig;
use crate::db::cursor_key::CursorKey;
use crate::db::keyset::{self, Direction, Keyset, Page, PageRequest, SortField};
use crate::read::filters::RowFilter;
use crate::read::relations::PagedRelation;

/// A page of `N`s with `pageInfo`, `edges`, `nodes` and `totalCount`.
pub type ConnectionOf<N> = Connection<String, N, TotalCount>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[graphql(remote = "crate::db::keyset::Direction")]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// Counts a nested list through the request's loaders.
type CountChildren = Box<dyn Fn(&Loaders) -> BoxFuture<'_, async_graphql::Result<i64>> + Send + Sync>;

/// How to count the whole list behind a connection.
enum CountSource {
    /// A root list: count its filtered SELECT.
    Statement(Box<SelectStatement>),
    /// A nested list: count through the loader, batched across parents.
    Children(CountChildren),
    /// A list computed whole before paging: its length.
    Known(i64),
}

/// The `totalCount` field that every connection carries.
pub struct TotalCount {
    source: CountSource,
}

#[Object]
impl TotalCount {
    /// The number of items in the whole list (all pages), with the same filters.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        match &self.source {
            CountSource::Statement(statement) => {
                let db = ctx.data::<DatabaseConnection>()?;
                keyset::count(db, statement.as_ref().clone()).await.gql()
            }
            CountSource::Children(count) => count(ctx.data::<Loaders>()?).await,
            CountSource::Known(count) => Ok(*count),
        }
    }
}

impl TotalCount {
    /// The count of a list computed whole before paging.
    pub fn known(count: usize) -> Self {
        Self {
            source: CountSource::Known(i64::try_from(count).unwrap_or(i64::MAX)),
        }
    }
}

/// The page request for `first`/`after`, checked against the configured
/// maximum page size.
pub fn page_request<E, S>(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    (sort, direction): (S, Direction),
) -> async_graphql::Result<PageRequest<S>>
where
    E: EntityTrait,
    S: SortField<E>,
{
    let max_page_size = ctx.data::<ApiConfig>()?.max_page_size;
    let cursor_key = ctx.data::<CursorKey>()?;
    PageRequest::new::<E>(
        first.map(i64::from),
        after.as_deref(),
        (sort, direction),
        max_page_size,
        cursor_key,
    )
    .gql()
}

/// Whether the connection field being resolved selects anything read off
/// its page: `edges`, `nodes` or `pageInfo` (whose `hasNextPage` and
/// cursors come from the page), under any alias or fragment. Directives are
/// not evaluated, so `nodes @skip(if: true)` still reads the page: the
/// answer errs on reading.
fn page_selected(ctx: &Context<'_>) -> bool {
    let selection = ctx.look_ahead();
    ["edges", "nodes", "pageInfo"]
        .into_iter()
        .any(|field| selection.field(field).exists())
}

/// The connection of a page that was not read because nothing selects it
/// (see [`page_selected`]): only its `totalCount` will be resolved.
fn unread_connection<N: OutputType>(request_after: bool, count: TotalCount) -> ConnectionOf<N> {
    Connection::with_additional_fields(request_after, false, count)
}

fn connection_of<E, S, N>(
    ctx: &Context<'_>,
    page: Page<E::Model>,
    request: &PageRequest<S>,
    count: TotalCount,
) -> async_graphql::Result<ConnectionOf<N>>
where
    E: Keyset,
    S: SortField<E>,
    N: OutputType + From<E::Model>,
{
    let cursor_key = ctx.data::<CursorKey>()?;
    let mut connection = Connection::with_additional_fields(request.after.is_some(), page.has_next_page, count);
    connection.edges = page
        .rows
        .into_iter()
        .map(|row| Edge::new(request.cursor_of::<E>(cursor_key, &row), N::from(row)))
        .collect();
    Ok(connection)
}

/// One page of a root list.
pub async fn root_connection<E, S, N>(
    ctx: &Context<'_>,
    select: Select<E>,
    request: PageRequest<S>,
) -> async_graphql::Result<ConnectionOf<N>>
where
    E: Keyset,
    S: SortField<E>,
    N: OutputType + From<E::Model>,
{
    let db = ctx.data::<DatabaseConnection>()?;
    let count = TotalCount {
        source: CountSource::Statement(Box::new(select.as_query().clone())),
    };
    if !page_selected(ctx) {
        return Ok(unread_connection(request.after.is_some(), count));
    }
    let page = keyset::page(db, select, &request).await.gql()?;
    connection_of::<E, S, N>(ctx, page, &request, count)
}

/// One page of a parent's children along relation `R`, batched with the
/// same page of every other parent resolved at this level.
pub async fn child_connection<R, N>(
    ctx: &Context<'_>,
    parent_id: i64,
    first: Option<i32>,
    after: Option<String>,
    order: (R::Sort, Direction),
) -> async_graphql::Result<ConnectionOf<N>>
where
    R: PagedRelation,
    <R::Child as EntityTrait>::Model: Sync,
    N: OutputType + From<<R::Child as EntityTrait>::Model>,
{
    filtered_child_connection::<R, N>(ctx, parent_id, Ok(R::Filter::default()), first, after, order).await
}

/// Like [`child_connection`] for the children that pass `filter` (the
/// client's `filter` argument, or the error converting it).
pub async fn filtered_child_connection<R, N>(
    ctx: &Context<'_>,
    parent_id: i64,
    filter: Result<R::Filter, crate::error::Error>,
    first: Option<i32>,
    after: Option<String>,
    order: (R::Sort, Direction),
) -> async_graphql::Result<ConnectionOf<N>>
where
    R: PagedRelation,
    <R::Child as EntityTrait>::Model: Sync,
    N: OutputType + From<<R::Child as EntityTrait>::Model>,
{
    let filter = filter.gql()?;
    // Checked here, so that an empty range is this field's BAD_USER_INPUT
    // rather than the error of a batch shared with other parents.
    filter.condition().gql()?;
    let request = page_request::<R::Child, R::Sort>(ctx, first, after, order)?;
    let counted = filter.clone();
    let count = TotalCount {
        source: CountSource::Children(Box::new(move |loaders: &Loaders| {
            let filter = counted.clone();
            Box::pin(async move {
                Ok(loaders
                    .load_one(ChildCount::<R> { parent_id, filter })
                    .await
                    .gql()?
                    .unwrap_or(0))
            })
        })),
    };
    if !page_selected(ctx) {
        return Ok(unread_connection(request.after.is_some(), count));
    }
    let page = ctx
        .data::<Loaders>()?
        .load_one(ChildPage::<R> {
            parent_id,
            filter,
            request: request.clone(),
        })
        .await
        .gql()?
        .unwrap_or_default();
    connection_of::<R::Child, R::Sort, N>(ctx, page, &request, count)
}

/// A root list: the filtered SELECT (or the filter's error), paged.
pub async fn root_list<E, S, N>(
    ctx: &Context<'_>,
    select: Result<Select<E>, crate::error::Error>,
    first: Option<i32>,
    after: Option<String>,
    order: (S, Direction),
) -> async_graphql::Result<ConnectionOf<N>>
where
    E: Keyset,
    S: SortField<E>,
    N: OutputType + From<E::Model>,
{
    let select = select.gql()?;
    let request = page_request::<E, S>(ctx, first, after, order)?;
    root_connection::<E, S, N>(ctx, select, request).await
}
