//! The PostgreSQL side of fan-out: one LISTEN connection per instance that
//! forwards every notification to the instance's subscribers.

use std::time::Duration;

use sea_orm::DbErr;
use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::{CHANNEL, Event, parse_payload};

/// Stops the listener when the last [`super::EventBus`] clone goes.
pub struct Handle(JoinHandle<()>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// LISTENs (on a connection to `url`, or one like `pool`'s) before
/// returning, so that no event committed after the bus exists is missed.
pub async fn start(pool: &PgPool, url: Option<&str>, sender: broadcast::Sender<Event>) -> Result<Handle, DbErr> {
    let connected = match url {
        Some(url) => PgListener::connect(url).await,
        None => PgListener::connect_with(pool).await,
    };
    let mut listener = connected.map_err(|e| DbErr::Custom(format!("cannot open the event listener: {e}")))?;
    listener
        .listen(CHANNEL)
        .await
        .map_err(|e| DbErr::Custom(format!("cannot LISTEN for events: {e}")))?;
    Ok(Handle(tokio::spawn(forward(listener, sender))))
}

async fn forward(mut listener: PgListener, sender: broadcast::Sender<Event>) {
    loop {
        match listener.recv().await {
            Ok(notification) => match parse_payload(notification.payload()) {
                Ok(events) => {
                    for event in events {
                        sender.send(event).ok();
                    }
                }
                Err(error) => tracing::warn!(%error, "ignoring an event payload that does not parse"),
            },
            Err(error) => {
                // recv() reconnects by itself on the next call; events sent
                // while it was away are lost, which subscribers tolerate
                // (they are notifications, not the record).
                tracing::warn!(%error, "event listener lost its connection; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
