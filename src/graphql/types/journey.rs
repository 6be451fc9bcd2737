//! `journey` on accounts and customers: one time-ordered connection of
//! every kind of event (see [`crate::read::journey`]), batched across
//! parents by the [`JourneyOf`] loader.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Object};
use chrono::{DateTime, Utc};

use super::customer::Customer;
use super::enums::LeadStage;
use super::filters::TimeRange;
use super::lead::Lead;
use super::load_by_id;
use super::order::Order;
use super::survey::SurveyResponse;
use super::touchpoint::Touchpoint;
use crate::config::ApiConfig;
use crate::db::cursor_key::CursorKey;
use crate::db::keyset::{Direction, page_size};
use crate::graphql::connection::SortDirection;
use crate::graphql::error::IntoGraphql;
use crate::graphql::loaders::{JourneyOf, Loaders};
use crate::read::journey::{self, Event, JourneyRequest};
use crate::read::links::Owner;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::read::journey::EventKind")]
pub enum JourneyEventKind {
    Touchpoint,
    Order,
    /// A lead reached a stage (LEAD when created, then MQL, SQL, OPPORTUNITY, WON or LOST).
    LeadStage,
    SurveyResponse,
}

/// Which events a journey holds.
#[derive(Debug, Clone, Default, InputObject)]
pub struct JourneyFilter {
    /// Events in this time range.
    pub occurred: Option<TimeRange>,
    /// Only these kinds; all when left out or empty.
    pub kinds: Option<Vec<JourneyEventKind>>,
}

/// One event of a journey, with the customer it concerns. Exactly one of
/// `touchpoint`, `order`, `lead` and `surveyResponse` is set, by `kind`.
pub struct JourneyEvent(Event);

#[Object]
impl JourneyEvent {
    async fn kind(&self) -> JourneyEventKind {
        self.0.kind.into()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// The customer (contact) the event concerns.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        load_by_id::<entity::customer::Entity, _>(ctx, self.0.customer_id).await
    }
    /// The touchpoint, for TOUCHPOINT events (its team and campaign are on it).
    async fn touchpoint(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Touchpoint>> {
        self.source(ctx).await
    }
    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        self.source(ctx).await
    }
    /// The lead, for LEAD_STAGE events.
    async fn lead(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Lead>> {
        self.source(ctx).await
    }
    /// The stage the lead reached, for LEAD_STAGE events.
    async fn lead_stage(&self) -> Option<LeadStage> {
        self.0.lead_stage.map(Into::into)
    }
    /// The response (NPS score, comment), for SURVEY_RESPONSE events.
    async fn survey_response(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SurveyResponse>> {
        self.source(ctx).await
    }
}

/// The row behind an event of kind `kind`, or nothing for other kinds.
trait EventSource: Sized {
    type Entity: crate::db::keyset::Keyset<Model: Sync>;
    const KIND: journey::EventKind;
}

macro_rules! event_source {
    ($($object:ty => $entity:ident as $kind:ident),+ $(,)?) => {
        $(impl EventSource for $object {
            type Entity = entity::$entity::Entity;
            const KIND: journey::EventKind = journey::EventKind::$kind;
        })+
    };
}

event_source!(
    Touchpoint => touchpoint as Touchpoint,
    Order => orders as Order,
    Lead => lead as LeadStage,
    SurveyResponse => survey_response as SurveyResponse,
);

impl JourneyEvent {
    async fn source<N>(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<N>>
    where
        N: EventSource + From<<N::Entity as sea_orm::EntityTrait>::Model>,
    {
        if self.0.kind != N::KIND {
            return Ok(None);
        }
        load_by_id::<N::Entity, N>(ctx, self.0.source_id).await
    }
}

/// A page of events, most recent first by default.
pub type JourneyConnection = Connection<String, JourneyEvent>;

/// The `journey` field of an account (`Owner::Account`) or a customer.
pub(crate) async fn journey(
    ctx: &Context<'_>,
    owner: Owner,
    parent_id: i64,
    first: Option<i32>,
    after: Option<String>,
    direction: SortDirection,
    filter: Option<JourneyFilter>,
) -> async_graphql::Result<JourneyConnection> {
    let max_page_size = ctx.data::<ApiConfig>()?.max_page_size;
    let cursor_key = ctx.data::<CursorKey>()?;
    let filter = filter.unwrap_or_default();
    let direction: Direction = direction.into();
    let request = page_size(first.map(i64::from), max_page_size)
        .and_then(|first| {
            JourneyRequest::new(
                first,
                after.as_deref(),
                cursor_key,
                direction,
                filter.occurred.into(),
                filter.kinds.unwrap_or_default().into_iter().map(Into::into).collect(),
            )
        })
        .gql()?;
    let loaders = ctx.data::<Loaders>()?;
    let page = loaders
        .load_one(JourneyOf {
            owner,
            parent_id,
            request: request.clone(),
        })
        .await
        .gql()?
        .unwrap_or_default();
    let mut connection = Connection::new(request.after.is_some(), page.has_next_page);
    connection.edges = page
        .rows
        .into_iter()
        .map(|event| Edge::new(event.cursor(cursor_key, direction), JourneyEvent(event)))
        .collect();
    Ok(connection)
}
