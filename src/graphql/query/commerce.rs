use async_graphql::{Context, Object};

use crate::graphql::connection::{ConnectionOf, root_list};
use crate::graphql::types::campaign::Campaign;
use crate::graphql::types::filters::{CampaignFilter, OrderFilter, ProductFilter};
use crate::graphql::types::order::Order;
use crate::graphql::types::ordering::{CampaignOrderBy, OrderOrderBy, ProductOrderBy};
use crate::graphql::types::product::Product;

#[derive(Default)]
pub struct CommerceQuery;

#[Object]
impl CommerceQuery {
    async fn products(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductFilter>,
        order_by: Option<ProductOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Product>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, ProductOrderBy::resolve(order_by)).await
    }

    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        order_by: Option<OrderOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Order>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, OrderOrderBy::resolve(order_by)).await
    }

    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        filter: Option<CampaignFilter>,
        order_by: Option<CampaignOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Campaign>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, CampaignOrderBy::resolve(order_by)).await
    }
}
