use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::lead;

use super::account::Account;
use super::customer::Customer;
use super::enums::{LeadStage, Team};
use super::{load_by_id, load_optional, money};
use crate::graphql::ids;
use crate::graphql::scalars::Money;

/// A lead in the revenue cycle that marketing and sales share.
pub struct Lead(pub lead::Model);
super::wraps!(Lead(lead::Model));

#[Object]
impl Lead {
    pub async fn id(&self) -> ID {
        ids::encode("Lead", self.0.id)
    }
    /// The id in the source system; unique among leads.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        load_by_id::<entity::customer::Entity, _>(ctx, self.0.customer_id).await
    }
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        load_optional::<entity::account::Entity, _>(ctx, self.0.account_id).await
    }
    /// The team that sourced the lead: MARKETING, SALES or PARTNER.
    async fn source_team(&self) -> Team {
        self.0.source_team.into()
    }
    /// The current stage.
    async fn stage(&self) -> LeadStage {
        self.0.stage.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn mql_at(&self) -> Option<DateTime<Utc>> {
        self.0.mql_at
    }
    async fn sql_at(&self) -> Option<DateTime<Utc>> {
        self.0.sql_at
    }
    async fn opportunity_at(&self) -> Option<DateTime<Utc>> {
        self.0.opportunity_at
    }
    /// When the lead was won or lost.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// Revenue when won; pipeline value on open or lost opportunities.
    async fn amount(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Money>> {
        self.0.amount_minor.map(|amount| money(ctx, amount)).transpose()
    }
}
