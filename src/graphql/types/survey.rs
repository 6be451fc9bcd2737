use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{brand_answer, driver_rating, survey, survey_response};

use super::customer::Customer;
use super::enums::SurveyKind;
use super::ordering::SurveyResponseOrderBy;
use super::{load_by_id, load_children, load_optional};
use crate::graphql::connection::{ConnectionOf, child_connection};
use crate::graphql::ids;
use crate::read::relations::{ResponseBrandAnswers, ResponseDriverRatings, SurveyResponses};

/// A survey: NPS, brand tracker or purchase-driver study.
pub struct Survey(pub survey::Model);
super::wraps!(Survey(survey::Model));

#[Object]
impl Survey {
    pub async fn id(&self) -> ID {
        ids::encode("Survey", self.0.id)
    }
    /// The id in the source system; unique among surveys.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> SurveyKind {
        self.0.kind.into()
    }
    /// The survey's responses (most recent first by default).
    async fn responses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<SurveyResponseOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<SurveyResponse>> {
        child_connection::<SurveyResponses, _>(ctx, self.0.id, first, after, SurveyResponseOrderBy::resolve(order_by))
            .await
    }
}

/// One respondent's answers. Panel respondents may be anonymous.
pub struct SurveyResponse(pub survey_response::Model);
super::wraps!(SurveyResponse(survey_response::Model));

#[Object]
impl SurveyResponse {
    pub async fn id(&self) -> ID {
        ids::encode("SurveyResponse", self.0.id)
    }
    /// The id in the source system; unique among responses.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn survey(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Survey>> {
        load_by_id::<survey::Entity, _>(ctx, self.0.survey_id).await
    }
    /// The respondent, unless anonymous.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        load_optional::<entity::customer::Entity, _>(ctx, self.0.customer_id).await
    }
    /// The respondent's region as the survey recorded it.
    async fn region(&self) -> &str {
        &self.0.region
    }
    async fn responded_at(&self) -> DateTime<Utc> {
        self.0.responded_at
    }
    /// 0–10.
    async fn nps_score(&self) -> Option<i32> {
        self.0.nps_score
    }
    /// 1–5: intent to buy the own brand.
    async fn purchase_intent(&self) -> Option<i32> {
        self.0.purchase_intent
    }
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
    /// The brands the respondent rated along the funnel.
    async fn brand_answers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BrandAnswer>> {
        load_children::<ResponseBrandAnswers, _>(ctx, self.0.id).await
    }
    /// The product attributes the respondent rated.
    async fn ratings(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DriverRating>> {
        load_children::<ResponseDriverRatings, _>(ctx, self.0.id).await
    }
}

/// Where one brand stands in one respondent's funnel.
pub struct BrandAnswer(pub brand_answer::Model);
super::wraps!(BrandAnswer(brand_answer::Model));

#[Object]
impl BrandAnswer {
    async fn brand(&self) -> &str {
        &self.0.brand
    }
    async fn aware(&self) -> bool {
        self.0.aware
    }
    async fn considered(&self) -> bool {
        self.0.considered
    }
    async fn preferred(&self) -> bool {
        self.0.preferred
    }
}

/// A rating (1–10) of one product attribute.
pub struct DriverRating(pub driver_rating::Model);
super::wraps!(DriverRating(driver_rating::Model));

#[Object]
impl DriverRating {
    async fn attribute(&self) -> &str {
        &self.0.attribute
    }
    async fn rating(&self) -> i32 {
        self.0.rating
    }
}
