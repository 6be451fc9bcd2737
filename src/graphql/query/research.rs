use async_graphql::{Context, Object};

use crate::graphql::connection::{ConnectionOf, root_list};
use crate::graphql::types::brand_mention::BrandMention;
use crate::graphql::types::filters::{BrandMentionFilter, ProductTestFilter, SurveyFilter, SurveyResponseFilter};
use crate::graphql::types::ordering::{BrandMentionOrderBy, ProductTestOrderBy, SurveyOrderBy, SurveyResponseOrderBy};
use crate::graphql::types::product::ProductTest;
use crate::graphql::types::survey::{Survey, SurveyResponse};

#[derive(Default)]
pub struct ResearchQuery;

#[Object]
impl ResearchQuery {
    async fn surveys(
        &self,
        ctx: &Context<'_>,
        filter: Option<SurveyFilter>,
        order_by: Option<SurveyOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<Survey>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, SurveyOrderBy::resolve(order_by)).await
    }

    async fn survey_responses(
        &self,
        ctx: &Context<'_>,
        filter: Option<SurveyResponseFilter>,
        order_by: Option<SurveyResponseOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<SurveyResponse>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, SurveyResponseOrderBy::resolve(order_by)).await
    }

    async fn product_tests(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductTestFilter>,
        order_by: Option<ProductTestOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<ProductTest>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, ProductTestOrderBy::resolve(order_by)).await
    }

    async fn brand_mentions(
        &self,
        ctx: &Context<'_>,
        filter: Option<BrandMentionFilter>,
        order_by: Option<BrandMentionOrderBy>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConnectionOf<BrandMention>> {
        let select = filter
            .unwrap_or_default()
            .into_domain()
            .and_then(|filter| filter.select());
        root_list(ctx, select, first, after, BrandMentionOrderBy::resolve(order_by)).await
    }
}
