//! The `Subscription` root: change events as they happen, on whichever
//! instance the write was made (see [`crate::events`]).

use async_graphql::{Context, ID, Object, Subscription};
use entity::{orders, touchpoint};
use futures::{Stream, StreamExt};
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::error::IntoGraphql;
use super::ids;
use super::types::load_by_id;
use super::types::order::Order;
use super::types::segment::Segment;
use super::types::touchpoint::Touchpoint;
use crate::auth::Viewer;
use crate::error::Error;
use crate::events::{Event, EventBus};

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Touchpoints as they are recorded, for one account or one customer
    /// (give exactly one of the two).
    async fn touchpoint_recorded(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
        customer_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = Touchpoint> + use<>> {
        let wanted = match (account_id, customer_id) {
            (Some(id), None) => Party::Account(ids::decode_as(&id, "Account", "accountId").gql()?),
            (None, Some(id)) => Party::Customer(ids::decode_as(&id, "Customer", "customerId").gql()?),
            _ => {
                return Err(Error::validation(
                    "accountId",
                    "give exactly one of accountId and customerId",
                ))
                .gql();
            }
        };
        let db = ctx.data::<DatabaseConnection>()?.clone();
        Ok(events(ctx)?.filter_map(move |event| {
            let db = db.clone();
            async move {
                match event {
                    Event::TouchpointRecorded {
                        id,
                        customer_id,
                        account_id,
                    } if wanted.matches(customer_id, account_id) => {
                        fetch::<touchpoint::Entity>(&db, id).await.map(Touchpoint)
                    }
                    _ => None,
                }
            }
        }))
    }

    /// Orders as they are recorded for one account (the retail partner or
    /// business customer they were sold through or to).
    async fn order_recorded(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Order> + use<>> {
        let wanted = ids::decode_as(&account_id, "Account", "accountId").gql()?;
        let db = ctx.data::<DatabaseConnection>()?.clone();
        Ok(events(ctx)?.filter_map(move |event| {
            let db = db.clone();
            async move {
                match event {
                    Event::OrderRecorded { id, account_id, .. } if account_id == Some(wanted) => {
                        fetch::<orders::Entity>(&db, id).await.map(Order)
                    }
                    _ => None,
                }
            }
        }))
    }

    /// A segment's membership after each refresh that changed it.
    async fn segment_membership_changed(
        &self,
        ctx: &Context<'_>,
        segment_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = SegmentMembershipChange> + use<>> {
        let wanted = ids::decode_as(&segment_id, "Segment", "segmentId").gql()?;
        Ok(events(ctx)?.filter_map(move |event| async move {
            match event {
                Event::SegmentMembershipChanged {
                    segment_id,
                    joined,
                    left,
                    size,
                } if segment_id == wanted => Some(SegmentMembershipChange {
                    segment_id,
                    joined,
                    left,
                    size,
                }),
                _ => None,
            }
        }))
    }
}

/// Whose touchpoints a subscriber wants.
#[derive(Clone, Copy)]
enum Party {
    Account(i64),
    Customer(i64),
}

impl Party {
    fn matches(self, customer_id: i64, account_id: Option<i64>) -> bool {
        match self {
            Party::Account(id) => account_id == Some(id),
            Party::Customer(id) => customer_id == id,
        }
    }
}

/// This instance's events from now on. A subscriber too slow to keep up
/// skips what it missed rather than closing.
fn events(ctx: &Context<'_>) -> async_graphql::Result<impl Stream<Item = Event> + use<>> {
    // Subscription roots do not pass through the access extension's
    // resolve hook, so the rule of `graphql::access` is applied here.
    let viewer = ctx.data::<Viewer>()?;
    if !viewer.may_read_records() {
        return Err(Error::Forbidden(format!(
            "role {} may not subscribe to record changes",
            viewer.role
        )))
        .gql();
    }
    let receiver = ctx.data::<EventBus>()?.subscribe();
    Ok(BroadcastStream::new(receiver).filter_map(|item| async move {
        match item {
            Ok(event) => Some(event),
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                tracing::warn!(missed, "a subscriber fell behind and skipped events");
                None
            }
        }
    }))
}

/// The row an event names, or nothing when it is gone or unreadable (the
/// subscriber then simply does not hear of it).
async fn fetch<E>(db: &DatabaseConnection, id: i64) -> Option<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    match E::find_by_id(id).one(db).await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, id, "cannot load the row of an event");
            None
        }
    }
}

/// How a segment's membership changed in one refresh.
pub struct SegmentMembershipChange {
    segment_id: i64,
    joined: i64,
    left: i64,
    size: i64,
}

#[Object]
impl SegmentMembershipChange {
    async fn segment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Segment>> {
        load_by_id::<entity::segment::Entity, Segment>(ctx, self.segment_id).await
    }
    /// Customers who entered the segment in this refresh.
    async fn joined(&self) -> i64 {
        self.joined
    }
    /// Customers who left it.
    async fn left(&self) -> i64 {
        self.left
    }
    /// Members after the refresh.
    async fn size(&self) -> i64 {
        self.size
    }
}
