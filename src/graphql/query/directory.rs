use async_graphql::{Context, ID, Object};
use entity::account;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::error::Error;
use crate::graphql::connection::{ConnectionOf, root_list};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::account::Account;
use crate::graphql::types::customer::Customer;
use crate::graphql::types::filters::{AccountFilter, CustomerFilter};
use crate::graphql::types::load_by_id;
use crate::graphql::types::node::{self, Node};
use crate::graphql::types::ordering::{AccountOrderBy, CustomerOrderBy};
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
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, AccountOrderBy::resolve(order_by)).await
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
