use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{order_line, orders};

use super::account::Account;
use super::customer::Customer;
use super::enums::OrderChannel;
use super::product::Product;
use super::{load_by_id, load_children, load_optional, money};
use crate::graphql::ids;
use crate::graphql::scalars::Money;
use crate::read::relations::OrderLines;

/// A purchase, in any channel.
pub struct Order(pub orders::Model);
super::wraps!(Order(orders::Model));

#[Object]
impl Order {
    pub async fn id(&self) -> ID {
        ids::encode("Order", self.0.id)
    }
    /// The id in the source system; unique among orders.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        load_by_id::<entity::customer::Entity, _>(ctx, self.0.customer_id).await
    }
    /// The retail partner or account the order sold through.
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        load_optional::<entity::account::Entity, _>(ctx, self.0.account_id).await
    }
    async fn channel(&self) -> OrderChannel {
        self.0.channel.into()
    }
    /// The order total: always the sum of its lines.
    async fn amount(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        money(ctx, self.0.amount_minor)
    }
    async fn ordered_at(&self) -> DateTime<Utc> {
        self.0.ordered_at
    }
    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderLine>> {
        load_children::<OrderLines, _>(ctx, self.0.id).await
    }
}

/// One product line of an order.
pub struct OrderLine(pub order_line::Model);
super::wraps!(OrderLine(order_line::Model));

#[Object]
impl OrderLine {
    /// Position in the order, from 0.
    async fn line_no(&self) -> i32 {
        self.0.line_no
    }
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        load_by_id::<entity::product::Entity, _>(ctx, self.0.product_id).await
    }
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    async fn unit_amount(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        money(ctx, self.0.unit_amount_minor)
    }
    /// quantity × unit amount.
    async fn amount(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        money(ctx, self.0.unit_amount_minor.saturating_mul(i64::from(self.0.quantity)))
    }
}
