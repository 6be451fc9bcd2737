use async_graphql::{Context, ID, InputObject, Object};
use entity::customer;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::Viewer;
use crate::error::Error;
use crate::events::{Event, EventBus};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::customer::Customer;
use crate::graphql::types::enums::Team;
use crate::graphql::types::segment::{Segment, SegmentPreview, SegmentRefresh, SegmentRuleInput};
use crate::segments::{self, NewSegment, SegmentChanges};

#[derive(Default)]
pub struct SegmentMutation;

#[derive(InputObject)]
pub struct CreateSegmentInput {
    pub name: String,
    pub description: Option<String>,
    pub team: Team,
    pub rule: SegmentRuleInput,
}

#[derive(InputObject)]
pub struct UpdateSegmentInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub team: Option<Team>,
    pub rule: Option<SegmentRuleInput>,
}

/// Refuses viewers who may not manage segments.
fn may_manage(ctx: &Context<'_>) -> async_graphql::Result<()> {
    let viewer = ctx.data::<Viewer>()?;
    if viewer.may_manage_segments() {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "role {} may not manage segments",
            viewer.role
        )))
        .gql()
    }
}

fn segment_id(id: &ID) -> async_graphql::Result<i64> {
    ids::decode_as(id, "Segment", "id").gql()
}

#[Object]
impl SegmentMutation {
    async fn create_segment(&self, ctx: &Context<'_>, input: CreateSegmentInput) -> async_graphql::Result<Segment> {
        may_manage(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let new = NewSegment {
            name: input.name,
            description: input.description,
            team: input.team.touch_team("input.team").gql()?,
            rule: input.rule.into_rule().gql()?,
        };
        Ok(segments::create(db, new).await.gql()?.into())
    }

    async fn update_segment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateSegmentInput,
    ) -> async_graphql::Result<Segment> {
        may_manage(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let changes = SegmentChanges {
            name: input.name,
            description: input.description,
            team: input.team.map(|team| team.touch_team("input.team")).transpose().gql()?,
            rule: input.rule.map(SegmentRuleInput::into_rule).transpose().gql()?,
        };
        Ok(segments::update(db, segment_id(&id)?, changes).await.gql()?.into())
    }

    /// Deletes a segment no other segment refers to; returns its id.
    async fn delete_segment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        may_manage(ctx)?;
        segments::delete(ctx.data::<DatabaseConnection>()?, segment_id(&id)?)
            .await
            .gql()?;
        Ok(id)
    }

    /// The size and a sample of a rule's audience now; nothing is saved.
    async fn preview_segment(
        &self,
        ctx: &Context<'_>,
        rule: SegmentRuleInput,
        #[graphql(default = 20, validator(minimum = 0, maximum = 100))] sample: u64,
    ) -> async_graphql::Result<SegmentPreview> {
        may_manage(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let (size, ids) = segments::preview(db, &rule.into_rule().gql()?, sample).await.gql()?;
        let mut customers = customer::Entity::find()
            .filter(customer::Column::Id.is_in(ids.clone()))
            .all(db)
            .await
            .gql()?;
        customers.sort_by_key(|c| ids.iter().position(|id| *id == c.id));
        Ok(SegmentPreview {
            size,
            sample: customers.into_iter().map(Customer::from).collect(),
        })
    }

    /// Re-evaluates the rule, stores the members and records the size.
    async fn refresh_segment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<SegmentRefresh> {
        may_manage(ctx)?;
        let db = ctx.data::<DatabaseConnection>()?;
        let id = segment_id(&id)?;
        let refresh = segments::refresh(db, id).await.gql()?;
        if refresh.joined > 0 || refresh.left > 0 {
            let change = Event::SegmentMembershipChanged {
                segment_id: id,
                joined: refresh.joined,
                left: refresh.left,
                size: refresh.size,
            };
            // The refresh has committed; a lost notification must not undo it.
            if let Err(error) = ctx.data::<EventBus>()?.publish(db, vec![change]).await {
                tracing::warn!(%error, segment = id, "cannot announce a segment's new membership");
            }
        }
        let segment = segments::find(db, id).await.gql()?;
        Ok(SegmentRefresh {
            segment: segment.into(),
            size: refresh.size,
            joined: refresh.joined,
            left: refresh.left,
        })
    }
}
