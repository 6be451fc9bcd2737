use async_graphql::{Context, ID, Object};
use entity::account;

use super::customer::Customer;
use super::enums::{AccountKind, AccountTier};
use super::lead::Lead;
use super::order::Order;
use super::ordering::{CustomerOrderBy, LeadOrderBy, OrderOrderBy, TouchpointOrderBy};
use super::touchpoint::Touchpoint;
use crate::graphql::connection::{ConnectionOf, child_connection};
use crate::graphql::ids;
use crate::read::relations::{AccountCustomers, AccountLeads, AccountOrders, AccountTouchpoints};

/// A retail partner, distributor or business customer: what sales sells to.
pub struct Account(pub account::Model);
super::wraps!(Account(account::Model));

#[Object]
impl Account {
    pub async fn id(&self) -> ID {
        ids::encode("Account", self.0.id)
    }
    /// The id in the source system; unique among accounts.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> AccountKind {
        self.0.kind.into()
    }
    async fn region(&self) -> &str {
        &self.0.region
    }
    async fn tier(&self) -> AccountTier {
        self.0.tier.into()
    }
    /// The sales rep who owns the account.
    async fn owner(&self) -> &str {
        &self.0.owner
    }
    /// The account's contacts.
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<CustomerOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Customer>> {
        child_connection::<AccountCustomers, _>(ctx, self.0.id, first, after, CustomerOrderBy::resolve(order_by)).await
    }
    /// Orders sold through this account (most recent first by default).
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<OrderOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Order>> {
        child_connection::<AccountOrders, _>(ctx, self.0.id, first, after, OrderOrderBy::resolve(order_by)).await
    }
    /// Touchpoints recorded against this account (most recent first by default).
    async fn touchpoints(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<TouchpointOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Touchpoint>> {
        child_connection::<AccountTouchpoints, _>(ctx, self.0.id, first, after, TouchpointOrderBy::resolve(order_by))
            .await
    }
    /// Leads of this account (newest first by default).
    async fn leads(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<LeadOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Lead>> {
        child_connection::<AccountLeads, _>(ctx, self.0.id, first, after, LeadOrderBy::resolve(order_by)).await
    }
}
