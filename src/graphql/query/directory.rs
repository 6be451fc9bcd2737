use async_graphql::{Context, ID, Object};
use entity::account;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::accounts::ranking::{Rank, Ranking};
use crate::config::ApiConfig;
use crate::db::cursor_key::CursorKey;
use crate::db::keyset;
use crate::error::Error;
use crate::graphql::connection::{ConnectionOf, TotalCount, root_list};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::account::Account;
use crate::graphql::types::customer::Customer;
use crate::graphql::types::filters::{AccountFilter, CustomerFilter};
use crate::graphql::types::load_by_id;
use crate::graphql::types::node::{self, Node};
use crate::graphql::types::ordering::{AccountOrder, AccountOrderBy, CustomerOrderBy};
use crate::identity::find::{self, CustomerKey};

#[derive(Default)]
pub struct DirectoryQuery;

/// Which row a single-object lookup means: by global id or by external id,
/// exactly one of the two.
enum Lookup {
    Id(i64),
    ExternalId(String),
}

impl Lookup {
    fn new(type_name: &str, id: Option<ID>, external_id: Option<String>) -> Result<Lookup, Error> {
        match (id, external_id) {
            (Some(id), None) => Ok(Lookup::Id(ids::decode_as(&id, type_name, "id")?)),
            (None, Some(external_id)) => Ok(Lookup::ExternalId(external_id)),
            _ => Err(Error::validation("id", "give exactly one of `id` and `externalId`")),
        }
    }
}

#[Object]
impl DirectoryQuery {
    /// Any object by its global id.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        node::resolve(ctx, &id).await.map(Some)
    }

    /// One account, by global id or by external id.
    async fn account(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        external_id: Option<String>,
    ) -> async_graphql::Result<Option<Account>> {
        let found = match Lookup::new("Account", id, external_id).gql()? {
            Lookup::Id(id) => load_by_id::<account::Entity, Account>(ctx, id).await?,
            Lookup::ExternalId(key) => account::Entity::find()
                .filter(account::Column::ExternalId.eq(key))
                .one(ctx.data::<DatabaseConnection>()?)
                .await
                .gql()?
                .map(Account),
        };
        found
            .map(Some)
            .ok_or_else(|| Error::not_found("Account", "with that id"))
            .gql()
    }

    async fn accounts(
        &self,
        ctx: &Context<'_>,
        filter: Option<AccountFilter>,
        order_by: Option<AccountOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Account>> {
        let filter = filter.unwrap_or_default();
        let health_below = filter.health_below;
        let select = filter.into_domain().and_then(|filter| filter.select());
        match (AccountOrderBy::resolve(order_by), health_below) {
            (AccountOrder::Column(sort, direction), None) => {
                root_list(ctx, select, first, after, (sort, direction)).await
            }
            (order, health_below) => {
                let (by, direction) = order.ranked();
                let ranking = Ranking {
                    by,
                    direction,
                    health_below,
                    as_of: chrono::Utc::now().date_naive(),
                };
                ranked_accounts(ctx, select.gql()?, ranking, first, after).await
            }
        }
    }

    /// One customer, by global id or by external id.
    async fn customer(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        external_id: Option<String>,
    ) -> async_graphql::Result<Option<Customer>> {
        let db = ctx.data::<DatabaseConnection>()?;
        let found = match Lookup::new("Customer", id, external_id).gql()? {
            Lookup::Id(id) => find::customer(db, CustomerKey::Id(id)).await,
            Lookup::ExternalId(key) => find::customer(db, CustomerKey::ExternalId(&key)).await,
        };
        match found.gql()? {
            Some(found) => Ok(Some(Customer(found))),
            None => Err(Error::not_found("Customer", "with that id")).gql(),
        }
    }

    async fn customers(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerFilter>,
        order_by: Option<CustomerOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Customer>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, CustomerOrderBy::resolve(order_by)).await
    }
}

/// One page of accounts in a computed ranking (by health or last order, or
/// filtered by health): the whole ranking is computed, then paged after the
/// cursor, which seals the last row's rank for this order and day.
async fn ranked_accounts(
    ctx: &Context<'_>,
    select: sea_orm::Select<account::Entity>,
    ranking: Ranking,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<ConnectionOf<Account>> {
    use async_graphql::connection::{Connection, Edge};
    let first = keyset::page_size(first.map(i64::from), ctx.data::<ApiConfig>()?.max_page_size).gql()?;
    ranking.check().gql()?;
    let cursor_key = ctx.data::<CursorKey>()?;
    let list = format!("accounts:{:?}:{:?}:{}", ranking.by, ranking.direction, ranking.as_of);
    let cursor = after
        .as_deref()
        .map(|text| {
            let key = keyset::open_text_cursor(cursor_key, &list, text, "after")?;
            serde_json::from_str::<Rank>(&key).map_err(|_| keyset::not_a_cursor("after"))
        })
        .transpose()
        .gql()?;
    let ranked = ranking.rank(ctx.data::<DatabaseConnection>()?, select).await.gql()?;
    let start = match &cursor {
        Some(cursor) => ranking.start_after(&ranked, cursor).gql()?,
        None => 0,
    };
    let total = ranked.len();
    let page: Vec<_> = ranked
        .into_iter()
        .skip(start)
        .take(usize::try_from(first).unwrap_or(usize::MAX).saturating_add(1))
        .collect();
    let page = keyset::Page::from_rows(page, first);
    let mut connection =
        Connection::with_additional_fields(cursor.is_some(), page.has_next_page, TotalCount::known(total));
    for row in page.rows {
        let sealed = serde_json::to_string(&row.rank).map_err(|e| async_graphql::Error::new(e.to_string()))?;
        connection.edges.push(Edge::new(
            keyset::seal_text_cursor(cursor_key, &list, &sealed),
            Account(row.account),
        ));
    }
    Ok(connection)
}
