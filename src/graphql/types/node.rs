//! The Relay `Node` interface: every object with an `id` can be fetched
//! again with `node(id:)`.

use async_graphql::{Context, ID, Interface};

use super::account::Account;
use super::brand_mention::BrandMention;
use super::campaign::Campaign;
use super::customer::Customer;
use super::lead::Lead;
use super::load_by_id;
use super::order::Order;
use super::product::{Product, ProductTest, ProductTestVote};
use super::segment::Segment;
use super::survey::{Survey, SurveyResponse};
use super::touchpoint::Touchpoint;
use crate::db::keyset::Keyset;
use crate::error::Error;
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;

/// An object with a global id.
// One short-lived value per resolved node: a customer row (with its consent
// columns) is the largest variant, and boxing it buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The global id: opaque, stable, accepted by `node(id:)`."
))]
pub enum Node {
    Account(Account),
    Customer(Customer),
    Product(Product),
    Order(Order),
    Campaign(Campaign),
    Touchpoint(Touchpoint),
    Lead(Lead),
    Survey(Survey),
    SurveyResponse(SurveyResponse),
    ProductTest(ProductTest),
    ProductTestVote(ProductTestVote),
    BrandMention(BrandMention),
    Segment(Segment),
}

/// The node behind a global id: NOT_FOUND when no such row exists,
/// BAD_USER_INPUT when the id is not one of ours.
pub async fn resolve(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Node> {
    let (type_name, row) = ids::decode(id, "id").gql()?;
    async fn fetch<E, N>(ctx: &Context<'_>, type_name: &'static str, row: i64) -> async_graphql::Result<Node>
    where
        E: Keyset,
        E::Model: Sync,
        N: From<E::Model> + Into<Node>,
    {
        match load_by_id::<E, N>(ctx, row).await? {
            Some(node) => Ok(node.into()),
            None => Err(Error::not_found(type_name, row)).gql(),
        }
    }
    use entity::*;
    match type_name.as_str() {
        "Account" => fetch::<account::Entity, Account>(ctx, "Account", row).await,
        "Customer" => Ok(Node::Customer(customer_or_survivor(ctx, row).await?)),
        "Product" => fetch::<product::Entity, Product>(ctx, "Product", row).await,
        "Order" => fetch::<orders::Entity, Order>(ctx, "Order", row).await,
        "Campaign" => fetch::<campaign::Entity, Campaign>(ctx, "Campaign", row).await,
        "Touchpoint" => fetch::<touchpoint::Entity, Touchpoint>(ctx, "Touchpoint", row).await,
        "Lead" => fetch::<lead::Entity, Lead>(ctx, "Lead", row).await,
        "Survey" => fetch::<survey::Entity, Survey>(ctx, "Survey", row).await,
        "SurveyResponse" => fetch::<survey_response::Entity, SurveyResponse>(ctx, "SurveyResponse", row).await,
        "ProductTest" => fetch::<product_test::Entity, ProductTest>(ctx, "ProductTest", row).await,
        "ProductTestVote" => fetch::<product_test_vote::Entity, ProductTestVote>(ctx, "ProductTestVote", row).await,
        "BrandMention" => fetch::<brand_mention::Entity, BrandMention>(ctx, "BrandMention", row).await,
        "Segment" => fetch::<segment::Entity, Segment>(ctx, "Segment", row).await,
        _ => Err(Error::validation("id", format!("{type_name:?} is not a type with ids"))).gql(),
    }
}

/// The customer with id `row`, or its survivor when it was merged.
pub async fn customer_or_survivor(ctx: &Context<'_>, row: i64) -> async_graphql::Result<Customer> {
    let db = ctx.data::<sea_orm::DatabaseConnection>()?;
    match crate::identity::find::customer(db, crate::identity::find::CustomerKey::Id(row))
        .await
        .gql()?
    {
        Some(found) => Ok(Customer(found)),
        None => Err(Error::not_found("Customer", row)).gql(),
    }
}
