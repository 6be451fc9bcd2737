use async_graphql::{Context, ID, Object};

use crate::graphql::connection::{ConnectionOf, root_list};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::load_by_id;
use crate::graphql::types::ordering::SegmentOrderBy;
use crate::graphql::types::segment::Segment;

#[derive(Default)]
pub struct SegmentQuery;

#[Object]
impl SegmentQuery {
    async fn segment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Segment>> {
        let row = ids::decode_as(&id, "Segment", "id").gql()?;
        let found = load_by_id::<entity::segment::Entity, Segment>(ctx, row).await?;
        found
            .map(Some)
            .ok_or_else(|| crate::error::Error::not_found("Segment", "with that id"))
            .gql()
    }

    async fn segments(
        &self,
        ctx: &Context<'_>,
        order_by: Option<SegmentOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Segment>> {
        let select = Ok(<entity::segment::Entity as sea_orm::EntityTrait>::find());
        root_list(ctx, select, first, after, SegmentOrderBy::resolve(order_by)).await
    }
}
