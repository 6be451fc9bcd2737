use async_graphql::{Context, ID, Json, Object};
use chrono::{DateTime, Utc};
use entity::touchpoint;

use super::account::Account;
use super::campaign::Campaign;
use super::customer::Customer;
use super::enums::{Team, TouchpointKind};
use super::{load_by_id, load_optional};
use crate::graphql::ids;

/// One step of a customer's journey.
pub struct Touchpoint(pub touchpoint::Model);
super::wraps!(Touchpoint(touchpoint::Model));

#[Object]
impl Touchpoint {
    pub async fn id(&self) -> ID {
        ids::encode("Touchpoint", self.0.id)
    }
    /// The id in the source system; unique among touchpoints.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        load_by_id::<entity::customer::Entity, _>(ctx, self.0.customer_id).await
    }
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        load_optional::<entity::account::Entity, _>(ctx, self.0.account_id).await
    }
    async fn campaign(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Campaign>> {
        load_optional::<entity::campaign::Entity, _>(ctx, self.0.campaign_id).await
    }
    async fn team(&self) -> Team {
        self.0.team.into()
    }
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    async fn kind(&self) -> TouchpointKind {
        self.0.kind.into()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// Source-specific details (utm_campaign, page, topic…).
    async fn properties(&self) -> Json<&serde_json::Value> {
        Json(&self.0.properties)
    }
}
