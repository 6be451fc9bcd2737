use async_graphql::{Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{customer, customer_identity};

use super::account::Account;
use super::enums::ConsentStatus;
use super::filters::{LeadFilter, OrderFilter, SurveyResponseFilter, TimeRange, TouchpointFilter};
use super::journey::{JourneyConnection, JourneyFilter, journey};
use super::lead::Lead;
use super::order::Order;
use super::ordering::{LeadOrderBy, OrderOrderBy, SurveyResponseOrderBy, TouchpointOrderBy};
use super::predictive_clv::{CustomerPrediction, predicted};
use super::product::{ProductBought, products_bought};
use super::survey::SurveyResponse;
use super::touchpoint::Touchpoint;
use super::{load_children, load_optional};
use crate::auth::Viewer;
use crate::error::Error;
use crate::graphql::connection::{ConnectionOf, SortDirection, filtered_child_connection};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::scalars::Date;
use crate::read::links::Owner;
use crate::read::relations::{
    CustomerIdentities, CustomerLeads, CustomerOrders, CustomerSurveyResponses, CustomerTouchpoints,
};

/// A customer's consent to contact, per channel.
#[derive(SimpleObject)]
pub struct Consent {
    pub email: ChannelConsent,
    pub sms: ChannelConsent,
    pub phone: ChannelConsent,
}

/// One channel's consent: the newest the sources sent.
#[derive(SimpleObject)]
pub struct ChannelConsent {
    pub status: ConsentStatus,
    /// When the source recorded it; null when no source sent this channel.
    pub updated_at: Option<DateTime<Utc>>,
    /// Which source sent it.
    pub source: Option<String>,
}

/// A person: a consumer or a business contact. `email`, `name` and `phone`
/// are personal data, readable only by roles with PII access.
pub struct Customer(pub customer::Model);
super::wraps!(Customer(customer::Model));

impl Customer {
    /// Hands out a PII field only to viewers allowed to read it.
    fn pii<T>(ctx: &Context<'_>, field: &str, value: T) -> async_graphql::Result<T> {
        let viewer = ctx.data::<Viewer>()?;
        if viewer.may_read_pii() {
            Ok(value)
        } else {
            Err(Error::Forbidden(format!("role {} may not read {field}", viewer.role))).gql()
        }
    }
}

#[Object]
impl Customer {
    pub async fn id(&self) -> ID {
        ids::encode("Customer", self.0.id)
    }
    /// The id in the source system; unique among customers.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    /// Personal data.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Self::pii(ctx, "email", Some(self.0.email.as_str()))
    }
    /// Personal data.
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Self::pii(ctx, "name", Some(self.0.name.as_str()))
    }
    /// Personal data.
    async fn phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Self::pii(ctx, "phone", self.0.phone.as_deref())
    }
    /// The customer's ids in source systems. Source `accord` lists the
    /// other external ids that records matched to this customer came with.
    async fn identities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CustomerIdentity>> {
        load_children::<CustomerIdentities, CustomerIdentity>(ctx, self.0.id).await
    }
    /// The customer this one was merged into, when it was; reading a merged
    /// customer by id leads to that survivor.
    async fn merged_into(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        load_optional::<customer::Entity, _>(ctx, self.0.merged_into_id).await
    }
    async fn region(&self) -> &str {
        &self.0.region
    }
    /// ISO 3166 alpha-2.
    async fn country(&self) -> &str {
        &self.0.country
    }
    async fn acquisition_channel(&self) -> &str {
        &self.0.acquisition_channel
    }
    /// Free-form attributes from source systems.
    async fn traits(&self) -> Json<&serde_json::Value> {
        Json(&self.0.traits)
    }
    async fn first_seen_at(&self) -> DateTime<Utc> {
        self.0.first_seen_at
    }
    /// Consent to contact, per channel. Not personal data: it says whether
    /// to contact the customer, not how, so every role that reads customers
    /// sees it (ANALYST too, to size a reachable audience).
    async fn consent(&self) -> Consent {
        let c = &self.0;
        let channel = |status: entity::enums::ConsentStatus, updated_at, source: &Option<String>| ChannelConsent {
            status: status.into(),
            updated_at,
            source: source.clone(),
        };
        Consent {
            email: channel(c.consent_email, c.consent_email_updated_at, &c.consent_email_source),
            sms: channel(c.consent_sms, c.consent_sms_updated_at, &c.consent_sms_source),
            phone: channel(c.consent_phone, c.consent_phone_updated_at, &c.consent_phone_source),
        }
    }
    /// The account this person is a contact of, if any.
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Account>> {
        load_optional::<entity::account::Entity, _>(ctx, self.0.account_id).await
    }
    /// Predictive CLV: the BG/NBD and Gamma-Gamma models fitted over every
    /// customer's orders on or before `asOf` (default today), applied to
    /// this customer; null when the customer has no order by then. See
    /// `insights.predictiveClv` for the definitions.
    async fn predicted(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
        #[graphql(default = 12)] horizon_months: i64,
        #[graphql(default = 0.01)] monthly_discount_rate: f64,
    ) -> async_graphql::Result<Option<CustomerPrediction>> {
        predicted(ctx, self.0.id, as_of, horizon_months, monthly_discount_rate).await
    }
    /// The customer's orders (most recent first by default), filtered like the root `orders` list.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<OrderOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Order>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<CustomerOrders, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            OrderOrderBy::resolve(order_by),
        )
        .await
    }
    /// What the customer bought, per product (highest revenue first), in
    /// orders placed in `ordered` (all when left out).
    async fn products_bought(
        &self,
        ctx: &Context<'_>,
        ordered: Option<TimeRange>,
    ) -> async_graphql::Result<Vec<ProductBought>> {
        products_bought(ctx, Owner::Customer, self.0.id, ordered).await
    }
    /// The customer's touchpoints (most recent first by default), filtered like the root `touchpoints` list.
    async fn touchpoints(
        &self,
        ctx: &Context<'_>,
        filter: Option<TouchpointFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<TouchpointOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Touchpoint>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<CustomerTouchpoints, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            TouchpointOrderBy::resolve(order_by),
        )
        .await
    }
    /// Everything that happened with this customer in time order (most
    /// recent first by default): touchpoints, orders, lead stages and survey responses.
    async fn journey(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default_with = "SortDirection::Desc")] direction: SortDirection,
        filter: Option<JourneyFilter>,
    ) -> async_graphql::Result<JourneyConnection> {
        journey(ctx, Owner::Customer, self.0.id, first, after, direction, filter).await
    }
    /// The customer's leads (newest first by default), filtered like the root `leads` list.
    async fn leads(
        &self,
        ctx: &Context<'_>,
        filter: Option<LeadFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<LeadOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Lead>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<CustomerLeads, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            LeadOrderBy::resolve(order_by),
        )
        .await
    }
    /// The customer's survey answers (most recent first by default),
    /// filtered like the root `surveyResponses` list.
    async fn survey_responses(
        &self,
        ctx: &Context<'_>,
        filter: Option<SurveyResponseFilter>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<SurveyResponseOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<SurveyResponse>> {
        let filter = filter.unwrap_or_default().into_domain();
        filtered_child_connection::<CustomerSurveyResponses, _>(
            ctx,
            self.0.id,
            filter,
            first,
            after,
            SurveyResponseOrderBy::resolve(order_by),
        )
        .await
    }
}

/// One source system's id for a customer.
pub struct CustomerIdentity(pub customer_identity::Model);
super::wraps!(CustomerIdentity(customer_identity::Model));

#[Object]
impl CustomerIdentity {
    /// The source system (`shop`, `crm`, …).
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The customer's id in that system.
    async fn source_id(&self) -> &str {
        &self.0.source_id
    }
}
