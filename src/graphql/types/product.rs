use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{product, product_test, product_test_vote};

use super::enums::ProductTouchpoint;
use super::load_by_id;
use super::ordering::{ProductTestOrderBy, ProductTestVoteOrderBy};
use crate::graphql::connection::{ConnectionOf, child_connection};
use crate::graphql::ids;
use crate::read::relations::{ProductTestVotes, ProductTests};

/// A product the company sells.
pub struct Product(pub product::Model);
super::wraps!(Product(product::Model));

#[Object]
impl Product {
    pub async fn id(&self) -> ID {
        ids::encode("Product", self.0.id)
    }
    /// The id in the source system; unique among products.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn category(&self) -> &str {
        &self.0.category
    }
    async fn launched_at(&self) -> DateTime<Utc> {
        self.0.launched_at
    }
    /// Consumer tests of this product's touchpoints (most recent first by default).
    async fn tests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<ProductTestOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<ProductTest>> {
        child_connection::<ProductTests, _>(ctx, self.0.id, first, after, ProductTestOrderBy::resolve(order_by)).await
    }
}

/// A consumer panel test of one variant of one product touchpoint.
pub struct ProductTest(pub product_test::Model);
super::wraps!(ProductTest(product_test::Model));

#[Object]
impl ProductTest {
    pub async fn id(&self) -> ID {
        ids::encode("ProductTest", self.0.id)
    }
    /// The id in the source system; unique among product tests.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        load_by_id::<product::Entity, _>(ctx, self.0.product_id).await
    }
    /// The part of the product tested.
    async fn touchpoint(&self) -> ProductTouchpoint {
        self.0.touchpoint.into()
    }
    async fn variant(&self) -> &str {
        &self.0.variant
    }
    async fn panel(&self) -> &str {
        &self.0.panel
    }
    async fn tested_at(&self) -> DateTime<Utc> {
        self.0.tested_at
    }
    async fn votes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<ProductTestVoteOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<ProductTestVote>> {
        child_connection::<ProductTestVotes, _>(ctx, self.0.id, first, after, ProductTestVoteOrderBy::resolve(order_by))
            .await
    }
}

/// One panelist's verdict in a product test.
pub struct ProductTestVote(pub product_test_vote::Model);
super::wraps!(ProductTestVote(product_test_vote::Model));

#[Object]
impl ProductTestVote {
    pub async fn id(&self) -> ID {
        ids::encode("ProductTestVote", self.0.id)
    }
    /// The id in the source system; unique among votes.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn test(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProductTest>> {
        load_by_id::<product_test::Entity, _>(ctx, self.0.test_id).await
    }
    async fn approved(&self) -> bool {
        self.0.approved
    }
    /// 1–5, when given.
    async fn rating(&self) -> Option<i32> {
        self.0.rating
    }
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
}
