use async_graphql::{Context, ID, Object};
use entity::account;

use super::account_context::{
    Health, OrderStats, TeamTouchpoints, health_of, nps_of, order_stats, stats_of, touchpoints_by_team,
};
use super::customer::Customer;
use super::enums::{AccountKind, AccountTier};
use super::filters::{LeadFilter, OrderFilter, SurveyResponseFilter, TimeRange, TouchpointFilter};
use super::insights::{DriverBlock, DriverOutcome, FromInsight, NpsScore, suppression};
use super::journey::{JourneyConnection, JourneyFilter, journey};
use super::lead::Lead;
use super::order::Order;
use super::ordering::{CustomerOrderBy, LeadOrderBy, OrderOrderBy, SurveyResponseOrderBy, TouchpointOrderBy};
use super::product::{ProductBought, products_bought};
use super::segment::{AccountSegment, Segment};
use super::survey::SurveyResponse;
use super::touchpoint::Touchpoint;
use crate::graphql::connection::{ConnectionOf, SortDirection, child_connection, filtered_child_connection};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::loaders::AccountSegmentsOf;
use crate::graphql::scalars::Date;
use crate::insights::scope::{Scope, Window};
use crate::read::links::Owner;
use crate::read::relations::{
    AccountCustomers, AccountLeads, AccountOpenLeads, AccountOrders, AccountSurveyResponses, AccountTouchpoints,
};

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
    /// Orders sold through this account (most recent first by default),
    /// filtered like the root `orders` list.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<OrderOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Order>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<AccountOrders, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            OrderOrderBy::resolve(order_by),
        )
        .await
    }
    /// What the account bought, per product (highest revenue first): over
    /// the orders recorded against it or placed by any of its contacts,
    /// placed in `ordered` (all when left out).
    async fn products_bought(
        &self,
        ctx: &Context<'_>,
        ordered: Option<TimeRange>,
    ) -> async_graphql::Result<Vec<ProductBought>> {
        products_bought(ctx, Owner::Account, self.0.id, ordered).await
    }
    /// Touchpoints recorded against this account or made to any of its
    /// contacts, from every team (most recent first by default), filtered
    /// like the root `touchpoints` list.
    async fn touchpoints(
        &self,
        ctx: &Context<'_>,
        filter: Option<TouchpointFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<TouchpointOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Touchpoint>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<AccountTouchpoints, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            TouchpointOrderBy::resolve(order_by),
        )
        .await
    }
    /// The survey answers of the account's contacts (most recent first by
    /// default), filtered like the root `surveyResponses` list.
    async fn survey_responses(
        &self,
        ctx: &Context<'_>,
        filter: Option<SurveyResponseFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<SurveyResponseOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<SurveyResponse>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<AccountSurveyResponses, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            SurveyResponseOrderBy::resolve(order_by),
        )
        .await
    }
    /// The account's whole story in time order (most recent first by
    /// default): touchpoints of every team, orders, lead stages and survey
    /// responses, of the account and of all its contacts.
    async fn journey(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default_with = "SortDirection::Desc")] direction: SortDirection,
        filter: Option<JourneyFilter>,
    ) -> async_graphql::Result<JourneyConnection> {
        journey(ctx, Owner::Account, self.0.id, first, after, direction, filter).await
    }
    /// Leads of this account (newest first by default), filtered like the root `leads` list.
    async fn leads(
        &self,
        ctx: &Context<'_>,
        filter: Option<LeadFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<LeadOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Lead>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<AccountLeads, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            LeadOrderBy::resolve(order_by),
        )
        .await
    }
    /// Leads of this account that are neither won nor lost (newest first by default).
    async fn open_leads(
        &self,
        ctx: &Context<'_>,
        filter: Option<LeadFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<LeadOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Lead>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<AccountOpenLeads, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            LeadOrderBy::resolve(order_by),
        )
        .await
    }
    /// Orders and value over the last 30, 90 and 365 days up to `asOf` (default today).
    async fn order_stats(&self, ctx: &Context<'_>, as_of: Option<Date>) -> async_graphql::Result<OrderStats> {
        let stats = stats_of(ctx, self.0.id, as_of).await?;
        order_stats(ctx, &stats)
    }
    /// NPS of the account's contacts (every scored response up to `asOf`), with its interval.
    async fn nps(&self, ctx: &Context<'_>, as_of: Option<Date>) -> async_graphql::Result<NpsScore> {
        Ok(nps_of(&stats_of(ctx, self.0.id, as_of).await?, suppression(ctx)?))
    }
    /// Health 0–100 with each component and the formula.
    async fn health(&self, ctx: &Context<'_>, as_of: Option<Date>) -> async_graphql::Result<Health> {
        health_of(ctx, &stats_of(ctx, self.0.id, as_of).await?)
    }
    /// The latest touchpoints of each team that touched the account or any of its contacts.
    async fn touchpoints_by_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5, validator(minimum = 1, maximum = 100))] per_team: u64,
    ) -> async_graphql::Result<Vec<TeamTouchpoints>> {
        touchpoints_by_team(ctx, self.0.id, per_team).await
    }
    /// What drives purchase intent in the account's region over the year up to `asOf`.
    async fn purchase_drivers(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
        #[graphql(default_with = "DriverOutcome::PurchaseIntent")] outcome: DriverOutcome,
    ) -> async_graphql::Result<DriverBlock> {
        let db = ctx.data::<sea_orm::DatabaseConnection>()?;
        let to = as_of.map_or_else(|| chrono::Utc::now().date_naive(), |date| date.0);
        let mut scope = Scope::new(Window::year_ending(to));
        scope.region = Some(self.0.region.clone());
        // One entry per region and year, shared with `insights { purchaseDrivers }`
        // over the same scope: a page of accounts analyses each region once.
        let outcome = outcome.into();
        let no_attributes: &[String] = &[];
        let drivers = crate::insights::drivers::purchase_drivers(db, &scope, outcome, no_attributes);
        let drivers =
            crate::graphql::query::insights::cached(ctx, "purchaseDrivers", &scope, (outcome, no_attributes), drivers)
                .await?;
        Ok(DriverBlock::from_insight(drivers.overall, suppression(ctx)?))
    }
    /// The segments the account's contacts belong to (as of each segment's last refresh).
    async fn segments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AccountSegment>> {
        let loaders = ctx.data::<crate::graphql::loaders::Loaders>()?;
        let memberships = loaders
            .load_one(AccountSegmentsOf(self.0.id))
            .await
            .gql()?
            .unwrap_or_default();
        let rule = suppression(ctx)?;
        // Loaded together so that the batch loader reads them in one statement.
        let loads = memberships
            .iter()
            .map(|(segment_id, _)| super::load_by_id::<entity::segment::Entity, Segment>(ctx, *segment_id));
        let found = futures::future::try_join_all(loads).await?;
        Ok(found
            .into_iter()
            .zip(memberships)
            .filter_map(|(segment, (_, contacts))| {
                segment.map(|segment| AccountSegment {
                    segment,
                    contacts: rule.shown(contacts, contacts),
                    suppressed: rule.hides(contacts),
                })
            })
            .collect())
    }
}
