//! Change events for subscriptions, and how they reach every instance.
//!
//! Writers *stage* events inside their transaction and mark them
//! *committed* afterwards. On PostgreSQL, staging is `pg_notify` on the
//! transaction itself, so the database delivers the events at commit — to
//! every instance's listener, including the writer's own — and never for a
//! rolled-back write. On SQLite (one process), committed events go straight
//! to the in-process channel.

mod listener;

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::db::sql::Sql;

/// The PostgreSQL channel that events travel on.
pub const CHANNEL: &str = "accord_events";

/// How many events an instance buffers for a slow subscriber before that
/// subscriber starts missing some (it is told how many, and goes on).
const BUFFER: usize = 4096;

/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7000;

/// Something that happened to the data, as subscribers hear of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Event {
    TouchpointRecorded {
        id: i64,
        customer_id: i64,
        account_id: Option<i64>,
    },
    OrderRecorded {
        id: i64,
        customer_id: i64,
        account_id: Option<i64>,
    },
    SegmentMembershipChanged {
        segment_id: i64,
        joined: i64,
        left: i64,
        size: i64,
    },
}

/// Publishes and delivers [`Event`]s; cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    fan_out: FanOut,
    /// Keeps the PostgreSQL listener running while any clone lives.
    _listener: Option<Arc<listener::Handle>>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus").field("fan_out", &self.fan_out).finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FanOut {
    InProcess,
    Postgres,
}

impl EventBus {
    /// A bus for one process (SQLite, tests of the domain).
    pub fn in_process() -> Self {
        Self {
            sender: broadcast::channel(BUFFER).0,
            fan_out: FanOut::InProcess,
            _listener: None,
        }
    }

    /// The bus for `db`. On PostgreSQL events go through NOTIFY; with
    /// `listen`, this instance also LISTENs and delivers them to its own
    /// subscribers (a server does; a one-off import only publishes).
    pub async fn for_database(db: &DatabaseConnection, listen: bool) -> Result<Self, DbErr> {
        let listen = if listen { Some(None) } else { None };
        Self::listening(db, listen).await
    }

    /// The bus of a server on `db` whose listener connects to `listen_url`
    /// (`ACCORD_LISTEN_DATABASE_URL`: direct to the primary when `db` goes
    /// through a transaction pooler, where LISTEN cannot hold a session), or
    /// with the settings of `db`'s own pool when `None`.
    pub async fn for_server(db: &DatabaseConnection, listen_url: Option<&str>) -> Result<Self, DbErr> {
        Self::listening(db, Some(listen_url)).await
    }

    async fn listening(db: &DatabaseConnection, listen: Option<Option<&str>>) -> Result<Self, DbErr> {
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(Self::in_process());
        }
        let sender = broadcast::channel(BUFFER).0;
        let listener = match listen {
            Some(url) => Some(Arc::new(
                listener::start(db.get_postgres_connection_pool(), url, sender.clone()).await?,
            )),
            None => None,
        };
        Ok(Self {
            sender,
            fan_out: FanOut::Postgres,
            _listener: listener,
        })
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// Attaches `events` to the write in progress on `db` (a transaction,
    /// or a connection for a write that is already committed).
    pub async fn stage(&self, db: &impl ConnectionTrait, events: &[Event]) -> Result<(), DbErr> {
        if self.fan_out != FanOut::Postgres || events.is_empty() {
            return Ok(());
        }
        let payloads = payloads(events);
        // One round trip for the whole batch of notifications.
        let mut sql = Sql::new(db.get_database_backend());
        sql.push("SELECT ");
        for (index, payload) in payloads.into_iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.push("pg_notify(").bind(CHANNEL).push(", ").bind(payload).push(")");
        }
        db.execute_raw(sql.statement()).await?;
        Ok(())
    }

    /// Tells the bus that the write carrying `events` committed.
    pub fn committed(&self, events: Vec<Event>) {
        if self.fan_out == FanOut::InProcess {
            for event in events {
                // No subscriber is not an error.
                self.sender.send(event).ok();
            }
        }
    }

    /// Publishes events of a write that has already committed.
    pub async fn publish(&self, db: &impl ConnectionTrait, events: Vec<Event>) -> Result<(), DbErr> {
        self.stage(db, &events).await?;
        self.committed(events);
        Ok(())
    }
}

/// Packs events into JSON arrays that each fit one NOTIFY payload.
fn payloads(events: &[Event]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::from("[");
    for event in events {
        let Ok(json) = serde_json::to_string(event) else {
            continue;
        };
        if current.len() > 1 && current.len() + json.len() + 2 > MAX_PAYLOAD {
            current.push(']');
            payloads.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > 1 {
        current.push(']');
        payloads.push(current);
    }
    payloads
}

/// Reads a NOTIFY payload back into events.
fn parse_payload(payload: &str) -> Result<Vec<Event>, serde_json::Error> {
    serde_json::from_str(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(id: i64) -> Event {
        Event::TouchpointRecorded {
            id,
            customer_id: id * 7,
            account_id: (id % 2 == 0).then_some(id),
        }
    }

    #[test]
    fn payloads_stay_under_the_notify_limit_and_round_trip() {
        let events: Vec<Event> = (0..1000).map(touch).collect();
        let payloads = payloads(&events);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() < MAX_PAYLOAD));
        let back: Vec<Event> = payloads
            .iter()
            .flat_map(|p| parse_payload(p).unwrap_or_default())
            .collect();
        assert_eq!(back, events);
    }

    #[tokio::test]
    async fn in_process_events_arrive_only_when_committed() {
        let bus = EventBus::in_process();
        let mut receiver = bus.subscribe();
        assert!(receiver.try_recv().is_err());
        bus.committed(vec![touch(1)]);
        assert_eq!(receiver.try_recv().ok(), Some(touch(1)));
    }
}
