//! Where each piece of work reads: the primary, or a streaming replica
//! (`ACCORD_READ_DATABASE_URL`) while it is close enough behind.
//!
//! [`Pools`] is the one place that decides. The HTTP layer asks it once per
//! request: a GraphQL query operation (insights, series, segment previews,
//! lists, lookups) and a segment export read through [`Pools::read`];
//! everything else — mutations and the reads inside them, subscriptions
//! (which read what a write just told them about), key checks, the cursor
//! key, bulk loads — uses [`Pools::primary`]. The domain keeps taking a
//! plain `&DatabaseConnection`: it is handed the pool the request was routed
//! to, so no resolver carries a flag.
//!
//! A monitor reads the replica's replay lag every
//! `ACCORD_REPLICA_CHECK_MS`: zero when the replica has replayed the WAL
//! the primary had written just before (`pg_current_wal_lsn()` against
//! `pg_last_wal_replay_lsn()`), else the time since the last transaction
//! it replayed committed (`pg_last_xact_replay_timestamp()`). Above
//! `ACCORD_MAX_REPLICA_LAG_MS`, or when the replica does not answer, reads
//! go to the primary and each one is counted as a fallback (`/metrics`). A
//! query that failed on the replica is run again on the primary (and the
//! replica marked unavailable when it no longer answers,
//! [`Pools::replica_failed`]), so a replica that goes away, or cancels a
//! query for a conflict with replay, fails no request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::task::JoinHandle;

/// The primary and, when configured, the replica reads may go to.
#[derive(Clone)]
pub struct Pools {
    primary: DatabaseConnection,
    replica: Option<Arc<Replica>>,
}

/// Which pool a read was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    Primary,
    Replica,
}

/// Why a read meant for the replica went to the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The replica's last measured lag was above the maximum.
    Lag,
    /// The replica did not answer its last check (or failed a request).
    Unavailable,
}

/// How the replica is watched.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaSettings {
    /// Reads fall back to the primary above this lag.
    pub max_lag: Duration,
    /// How often the lag is read.
    pub check_every: Duration,
}

/// What `/readyz` and `/metrics` show of the replica.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaStatus {
    /// Whether the replica answered its last check.
    pub available: bool,
    /// The lag measured at the last check that answered.
    pub lag: Duration,
    pub max_lag: Duration,
    /// Reads sent to the replica.
    pub reads: u64,
    /// Reads that went to the primary instead, by reason.
    pub fallbacks_lag: u64,
    pub fallbacks_unavailable: u64,
}

impl ReplicaStatus {
    /// Whether reads go to the replica now.
    pub fn serving(&self) -> bool {
        self.available && self.lag <= self.max_lag
    }
}

struct Replica {
    db: DatabaseConnection,
    max_lag: Duration,
    /// The replica answered its last check (starts false: no read goes to
    /// a replica before its lag is known).
    available: AtomicBool,
    lag_ms: AtomicU64,
    reads: AtomicU64,
    fallbacks_lag: AtomicU64,
    fallbacks_unavailable: AtomicU64,
    monitor: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Ok(mut monitor) = self.monitor.lock()
            && let Some(task) = monitor.take()
        {
            task.abort();
        }
    }
}

impl Pools {
    /// One database for everything (no replica).
    pub fn single(primary: DatabaseConnection) -> Self {
        Self { primary, replica: None }
    }

    /// Reads may go to `replica`; its lag is checked once before this
    /// returns and then every `settings.check_every` while any clone lives.
    pub async fn with_replica(
        primary: DatabaseConnection,
        replica: DatabaseConnection,
        settings: ReplicaSettings,
    ) -> Self {
        let replica = Arc::new(Replica {
            db: replica,
            max_lag: settings.max_lag,
            available: AtomicBool::new(false),
            lag_ms: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            fallbacks_lag: AtomicU64::new(0),
            fallbacks_unavailable: AtomicU64::new(0),
            monitor: std::sync::Mutex::new(None),
        });
        check(&primary, &replica).await;
        // The monitor holds the replica weakly, so dropping the last
        // `Pools` ends it (and `Replica::drop` aborts it at once).
        let weak = Arc::downgrade(&replica);
        let monitor_primary = primary.clone();
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(settings.check_every);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                let Some(replica) = weak.upgrade() else { return };
                check(&monitor_primary, &replica).await;
            }
        });
        if let Ok(mut monitor) = replica.monitor.lock() {
            *monitor = Some(task);
        }
        Self {
            primary,
            replica: Some(replica),
        }
    }

    /// Where writes, reads inside writes and reads that must see the
    /// latest write go.
    pub fn primary(&self) -> &DatabaseConnection {
        &self.primary
    }

    /// Where a read that may be a little stale goes: the replica while it
    /// answers and is within the maximum lag, else the primary (counted).
    pub fn read(&self) -> (&DatabaseConnection, ReadFrom) {
        let Some(replica) = &self.replica else {
            return (&self.primary, ReadFrom::Primary);
        };
        match replica.fallback() {
            None => {
                replica.reads.fetch_add(1, Ordering::Relaxed);
                (&replica.db, ReadFrom::Replica)
            }
            Some(Fallback::Lag) => {
                replica.fallbacks_lag.fetch_add(1, Ordering::Relaxed);
                (&self.primary, ReadFrom::Primary)
            }
            Some(Fallback::Unavailable) => {
                replica.fallbacks_unavailable.fetch_add(1, Ordering::Relaxed);
                (&self.primary, ReadFrom::Primary)
            }
        }
    }

    /// Called when a request routed to the replica failed (the caller runs
    /// it again on the primary): when the replica no longer answers, it is
    /// marked unavailable until its next check answers, and `true` says so.
    pub async fn replica_failed(&self) -> bool {
        let Some(replica) = &self.replica else {
            return false;
        };
        let answers = tokio::time::timeout(Duration::from_secs(2), replica.db.ping())
            .await
            .is_ok_and(|ping| ping.is_ok());
        if answers {
            return false;
        }
        tracing::warn!("the read replica stopped answering: reading from the primary");
        replica.available.store(false, Ordering::Relaxed);
        replica.fallbacks_unavailable.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// The replica's state, when there is one.
    pub fn replica_status(&self) -> Option<ReplicaStatus> {
        self.replica.as_ref().map(|replica| ReplicaStatus {
            available: replica.available.load(Ordering::Relaxed),
            lag: Duration::from_millis(replica.lag_ms.load(Ordering::Relaxed)),
            max_lag: replica.max_lag,
            reads: replica.reads.load(Ordering::Relaxed),
            fallbacks_lag: replica.fallbacks_lag.load(Ordering::Relaxed),
            fallbacks_unavailable: replica.fallbacks_unavailable.load(Ordering::Relaxed),
        })
    }

    /// The replica's pool, for its gauges.
    pub fn replica_pool(&self) -> Option<&DatabaseConnection> {
        self.replica.as_ref().map(|replica| &replica.db)
    }
}

impl Replica {
    fn fallback(&self) -> Option<Fallback> {
        if !self.available.load(Ordering::Relaxed) {
            Some(Fallback::Unavailable)
        } else if Duration::from_millis(self.lag_ms.load(Ordering::Relaxed)) > self.max_lag {
            Some(Fallback::Lag)
        } else {
            None
        }
    }
}

/// Reads the replica's lag and records it (or that it did not answer).
async fn check(primary: &DatabaseConnection, replica: &Replica) {
    // A check must not outlast its interval by much: a replica whose host
    // went silent times out here instead of holding the monitor.
    let measured = tokio::time::timeout(Duration::from_secs(3), replay_lag(primary, &replica.db)).await;
    match measured {
        Ok(Ok(Some(lag))) => {
            replica
                .lag_ms
                .store(u64::try_from(lag.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
            if !replica.available.swap(true, Ordering::Relaxed) {
                tracing::info!(
                    lag_ms = lag.as_millis(),
                    "the read replica answers: reads go to it while it keeps up"
                );
            }
        }
        // The primary did not say where its WAL is: keep what is known.
        Ok(Ok(None)) => {}
        Ok(Err(error)) => {
            if replica.available.swap(false, Ordering::Relaxed) {
                tracing::warn!(%error, "the read replica does not answer: reading from the primary");
            }
        }
        Err(_) => {
            if replica.available.swap(false, Ordering::Relaxed) {
                tracing::warn!("the read replica's lag check timed out: reading from the primary");
            }
        }
    }
}

/// The replica's replay lag: `Ok(None)` when the primary cannot be asked
/// where its WAL is, an error when the replica does not answer. A "replica"
/// that is not in recovery (the primary itself, say) has no lag.
async fn replay_lag(primary: &DatabaseConnection, replica: &DatabaseConnection) -> Result<Option<Duration>, DbErr> {
    let Ok(Some(row)) = primary
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_current_wal_lsn()::text AS lsn",
        ))
        .await
    else {
        return Ok(None);
    };
    let primary_lsn: String = row.try_get("", "lsn")?;
    let row = replica
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_is_in_recovery() AS standby, \
                    COALESCE(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), $1::pg_lsn) >= 0, false) AS caught_up, \
                    (EXTRACT(EPOCH FROM (clock_timestamp() - pg_last_xact_replay_timestamp())) * 1000)::float8 AS behind_ms",
            [primary_lsn.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the lag query returned no row".to_owned()))?;
    let standby: bool = row.try_get("", "standby")?;
    let caught_up: bool = row.try_get("", "caught_up")?;
    if !standby || caught_up {
        return Ok(Some(Duration::ZERO));
    }
    // Behind, and no transaction replayed yet: as far behind as can be.
    let behind_ms: Option<f64> = row.try_get("", "behind_ms")?;
    Ok(Some(match behind_ms {
        Some(ms) if ms.is_finite() => Duration::from_secs_f64(ms.max(0.0) / 1000.0),
        _ => Duration::MAX,
    }))
}
