//! The request deadline inside SQLite. On PostgreSQL `statement_timeout`
//! bounds a statement server-side; on SQLite a statement runs on sqlx's
//! worker thread, and one still running when the request's deadline fires
//! would run to its end, holding its pooled connection, after the request
//! was answered. So every SQLite connection carries a progress handler
//! (installed when the pool opens it and re-armed each time it is handed
//! out): it interrupts the running statement once the deadline of the
//! request that took the connection has passed. The deadline is a task
//! local set around a request's execution ([`scope`]); a connection taken
//! outside a request (migrations, background jobs) runs unbounded.
//!
//! An interrupted statement (SQLite `SQLITE_INTERRUPT`) and a statement
//! PostgreSQL cancelled (SQLSTATE 57014) are the deadline's refusal:
//! [`crate::error::Error`] maps them to LIMIT_EXCEEDED, never INTERNAL.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sea_orm::DbErr;
use sea_orm::sqlx::sqlite::SqliteConnection;

/// SQLite virtual-machine steps between two looks at the clock.
const STEPS_PER_CHECK: i32 = 1_000;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Statements interrupted at their request's deadline since the process started.
static INTERRUPTED: AtomicU64 = AtomicU64::new(0);

/// Runs `future` (a request's execution) with the deadline `ends_at`.
pub async fn scope<F: Future>(ends_at: Instant, future: F) -> F::Output {
    DEADLINE.scope(ends_at, future).await
}

/// The deadline of the request running on this task, if any.
pub fn current() -> Option<Instant> {
    DEADLINE.try_with(|ends_at| *ends_at).ok()
}

/// How many SQLite statements were interrupted at a deadline.
pub fn interrupted() -> u64 {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Arms `connection` with the current request's deadline (none outside a
/// request): called when the pool opens it and before it hands it out.
pub async fn arm(connection: &mut SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    let ends_at = current();
    let mut handle = connection.lock_handle().await?;
    match ends_at {
        Some(ends_at) => handle.set_progress_handler(STEPS_PER_CHECK, move || {
            let go_on = Instant::now() < ends_at;
            if !go_on {
                INTERRUPTED.fetch_add(1, Ordering::Relaxed);
            }
            go_on
        }),
        None => handle.remove_progress_handler(),
    }
    Ok(())
}

/// Whether `error` is a statement stopped for time: SQLite's interrupt
/// (result code 9) or PostgreSQL's cancel (`statement_timeout`, 57014).
pub fn is_stopped_statement(error: &DbErr) -> bool {
    let database = match error {
        DbErr::Query(sea_orm::RuntimeErr::SqlxError(inner)) | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(inner)) => {
            inner.as_database_error()
        }
        _ => None,
    };
    database.is_some_and(|database| matches!(database.code().as_deref(), Some("9" | "57014")))
}
