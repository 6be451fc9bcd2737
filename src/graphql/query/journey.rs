use async_graphql::{Context, Object};

use crate::graphql::connection::{ConnectionOf, root_list};
use crate::graphql::types::filters::{LeadFilter, TouchpointFilter};
use crate::graphql::types::lead::Lead;
use crate::graphql::types::ordering::{LeadOrderBy, TouchpointOrderBy};
use crate::graphql::types::touchpoint::Touchpoint;

#[derive(Default)]
pub struct JourneyQuery;

#[Object]
impl JourneyQuery {
    async fn touchpoints(
        &self,
        ctx: &Context<'_>,
        filter: Option<TouchpointFilter>,
        order_by: Option<TouchpointOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Touchpoint>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, TouchpointOrderBy::resolve(order_by)).await
    }

    async fn leads(
        &self,
        ctx: &Context<'_>,
        filter: Option<LeadFilter>,
        order_by: Option<LeadOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Lead>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, LeadOrderBy::resolve(order_by)).await
    }
}
