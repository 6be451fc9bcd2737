//! Federation entity resolvers: a supergraph router that holds an
//! `Account` or `Customer` reference (`{ __typename, id }`) asks
//! `_entities` for the rest of it. The argument is called `id`, so the key
//! async-graphql prints is `@key(fields: "id")`: the global id every other
//! field of this API hands out.
//!
//! These resolvers are not fields of `Query`; async-graphql calls them for
//! `_entities` only, which viewers that may not introspect cannot reach
//! (see `graphql::extensions::introspection`).

use async_graphql::{Context, ID, Object};
use entity::account;

use crate::error::Error;
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::account::Account;
use crate::graphql::types::customer::Customer;
use crate::graphql::types::load_by_id;

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn account_entity(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Account> {
        let row = ids::decode_as(&id, "Account", "id").gql()?;
        load_by_id::<account::Entity, Account>(ctx, row)
            .await?
            .ok_or_else(|| Error::not_found("Account", "with that id"))
            .gql()
    }

    #[graphql(entity)]
    async fn customer_entity(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Customer> {
        // A merged customer's id leads to its survivor, as everywhere.
        let row = ids::decode_as(&id, "Customer", "id").gql()?;
        crate::graphql::types::node::customer_or_survivor(ctx, row).await
    }
}
