use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{product, product_test, product_test_vote};

use super::enums::ProductTouchpoint;
use super::insights::{FromInsight, Rate, suppression};
use super::load_by_id;
use super::ordering::{ProductTestOrderBy, ProductTestVoteOrderBy};
use crate::graphql::connection::{ConnectionOf, child_connection};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::loaders::{Loaders, ProductTestResultsOf, TestResultOf, Threshold};
use crate::insights::product_tests as domain;
use crate::read::relations::{ProductTestVotes, ProductTests};

/// A test's verdict: its approval with the Wilson interval, and whether
/// customers approved it, by the definition of `insights.productTests`.
#[derive(Debug, Clone, SimpleObject)]
pub struct TestApproval {
    pub approval_threshold: f64,
    /// approved votes / votes; its `n` (the votes) is the test's population.
    pub approval: Rate,
    /// The interval's lower bound is at least the threshold; null when suppressed.
    pub customer_approved: Option<bool>,
    pub rating_n: Option<i64>,
    pub mean_rating: Option<f64>,
    /// True when the votes are below the minimum audience size for this viewer: the figures are then null.
    pub suppressed: bool,
}

impl TestApproval {
    fn new(result: Option<domain::TestResult>, approval_threshold: f64, rule: super::insights::Suppression) -> Self {
        let result = result.map_or_else(
            || (crate::insights::stats::proportion(0, 0), false, 0, None),
            |r| (r.approval, r.customer_approved, r.rating_n, r.mean_rating),
        );
        let (approval, approved, rating_n, mean_rating) = result;
        let votes = approval.n;
        Self {
            approval_threshold,
            approval: Rate::from_insight(approval, rule),
            customer_approved: rule.shown(votes, approved),
            rating_n: rule.shown(votes, rating_n),
            mean_rating: rule.shown(votes, mean_rating).flatten(),
            suppressed: rule.hides(votes),
        }
    }
}

/// Whether customers approved every tested touchpoint of a product.
#[derive(Debug, Clone, SimpleObject)]
pub struct ProductApproval {
    pub approval_threshold: f64,
    /// Touchpoints (KNOB, PACKAGING, …) with at least one test.
    pub touchpoints_tested: Option<i64>,
    /// Touchpoints with at least one variant customers approved.
    pub touchpoints_approved: Option<i64>,
    /// Every tested touchpoint was approved (false when none was tested).
    pub all_touchpoints_approved: Option<bool>,
    /// True when a test's votes are below the minimum audience size for this viewer: the figures are then null.
    pub suppressed: bool,
}

/// The threshold checked here, so that a bad one is this field's error.
fn threshold(approval_threshold: f64) -> async_graphql::Result<Threshold> {
    domain::check_threshold(approval_threshold).gql()?;
    Ok(Threshold::new(approval_threshold))
}

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
    /// Whether customers approved every tested touchpoint of this product
    /// (over all its tests, whatever their date).
    async fn approval(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0.7)] approval_threshold: f64,
    ) -> async_graphql::Result<ProductApproval> {
        let key = ProductTestResultsOf {
            product_id: self.0.id,
            threshold: threshold(approval_threshold)?,
        };
        let results = ctx.data::<Loaders>()?.load_one(key).await.gql()?.unwrap_or_default();
        let rule = suppression(ctx)?;
        let hidden = results.iter().any(|result| rule.hides(result.approval.n));
        let verdict = domain::product_approval(&results);
        let shown = |value| (!hidden).then_some(value);
        Ok(ProductApproval {
            approval_threshold,
            touchpoints_tested: shown(verdict.touchpoints_tested),
            touchpoints_approved: shown(verdict.touchpoints_approved),
            all_touchpoints_approved: (!hidden).then(|| verdict.all_approved()),
            suppressed: hidden,
        })
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
    /// The test's approval and verdict, as `insights.productTests` defines
    /// them (default threshold 0.70).
    async fn approval(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0.7)] approval_threshold: f64,
    ) -> async_graphql::Result<TestApproval> {
        let key = TestResultOf {
            test_id: self.0.id,
            threshold: threshold(approval_threshold)?,
        };
        let result = ctx.data::<Loaders>()?.load_one(key).await.gql()?;
        Ok(TestApproval::new(result, approval_threshold, suppression(ctx)?))
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

/// One product an account or a customer bought: its lines over their
/// orders (see `productsBought`).
pub struct ProductBought(pub crate::read::purchases::ProductBought);

#[Object]
impl ProductBought {
    /// The product, with its tests (`product { approval { allTouchpointsApproved } tests { … } }`).
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        load_by_id::<product::Entity, _>(ctx, self.0.product_id).await
    }
    /// Units over every line of the product.
    async fn units(&self) -> i64 {
        self.0.units
    }
    /// Σ quantity × unit amount of its lines.
    async fn revenue(&self, ctx: &Context<'_>) -> async_graphql::Result<crate::graphql::scalars::Money> {
        super::money(ctx, self.0.revenue_minor)
    }
    /// Orders with at least one line of the product.
    async fn orders(&self) -> i64 {
        self.0.orders
    }
    async fn first_bought_at(&self) -> DateTime<Utc> {
        self.0.first_bought_at
    }
    async fn last_bought_at(&self) -> DateTime<Utc> {
        self.0.last_bought_at
    }
}

/// The products `owner`'s row `parent_id` bought, through the request's loader.
pub(crate) async fn products_bought(
    ctx: &Context<'_>,
    owner: crate::read::links::Owner,
    parent_id: i64,
    ordered: Option<super::filters::TimeRange>,
) -> async_graphql::Result<Vec<ProductBought>> {
    let ordered: crate::read::TimeRange = ordered.into();
    // Checked here, so that an empty range is this field's error.
    ordered.condition(entity::orders::Column::OrderedAt, "ordered").gql()?;
    let key = crate::graphql::loaders::ProductsBoughtOf {
        owner,
        parent_id,
        ordered,
    };
    let bought = ctx.data::<Loaders>()?.load_one(key).await.gql()?.unwrap_or_default();
    Ok(bought.into_iter().map(ProductBought).collect())
}
