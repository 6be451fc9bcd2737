use async_graphql::{Context, ID, Object};
use entity::campaign;

use super::enums::Team;
use super::money;
use super::ordering::TouchpointOrderBy;
use super::touchpoint::Touchpoint;
use crate::graphql::connection::{ConnectionOf, child_connection};
use crate::graphql::ids;
use crate::graphql::scalars::{Date, Money};
use crate::read::relations::CampaignTouchpoints;

/// A marketing or sales campaign.
pub struct Campaign(pub campaign::Model);
super::wraps!(Campaign(campaign::Model));

#[Object]
impl Campaign {
    pub async fn id(&self) -> ID {
        ids::encode("Campaign", self.0.id)
    }
    /// The id in the source system; unique among campaigns.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn team(&self) -> Team {
        self.0.team.into()
    }
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    async fn spend(&self, ctx: &Context<'_>) -> async_graphql::Result<Money> {
        money(ctx, self.0.spend_minor)
    }
    /// First day, inclusive.
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    /// Last day, inclusive.
    async fn ends_on(&self) -> Date {
        Date(self.0.ends_on)
    }
    /// Touchpoints the campaign produced (most recent first by default).
    async fn touchpoints(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<TouchpointOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Touchpoint>> {
        child_connection::<CampaignTouchpoints, _>(ctx, self.0.id, first, after, TouchpointOrderBy::resolve(order_by))
            .await
    }
}
