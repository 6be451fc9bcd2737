//! Connecting through a transaction-pooling PgBouncer
//! (`ACCORD_DB_POOLER=transaction`).
//!
//! In transaction pooling a client holds a server connection only while a
//! transaction is open; between transactions every Sync may land on another
//! server. sqlx prepares each statement in one round trip (Parse, Describe,
//! Sync) and binds it in the next (Bind, Execute, Sync), so a statement run
//! outside a transaction could be prepared on one server and executed on
//! another. PgBouncer before 1.21 (Debian 12 ships 1.18) does not track
//! prepared statements, so Accord itself keeps each checkout of a pooled
//! connection inside one transaction: `BEGIN` when the pool hands it out,
//! `COMMIT` when it comes back. A statement and its preparation then share
//! one server connection. sea-orm's own transactions run inside that one
//! (PostgreSQL only warns about the nested `BEGIN`); their `COMMIT` ends it.
//!
//! The rest is set so that no session state crosses transactions:
//! - statements are not cached (`statement_cache_capacity(0)`), since the
//!   next transaction may run on a server that never saw them; PgBouncer
//!   must drop what a transaction prepared before another client gets the
//!   server (`server_reset_query = DEALLOCATE ALL`,
//!   `server_reset_query_always = 1`), as sqlx's statement names repeat
//!   across clients;
//! - no startup parameters PgBouncer refuses: no `options`, no
//!   `extra_float_digits`; the statement timeout is `SET LOCAL` in each
//!   transaction instead.
//!
//! LISTEN cannot work through transaction pooling (the session that
//! listens ends with its transaction): the listener connects directly
//! (`ACCORD_LISTEN_DATABASE_URL`).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::{AssertSqlSafe, Executor as _, PgPool, raw_sql};
use sea_orm::{DatabaseConnection, DbErr, SqlxPostgresConnector};

use crate::config::DatabaseConfig;

/// A pool on `config.url` (a PgBouncer in transaction mode) whose every
/// checkout is one transaction.
pub fn connect(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool(config)?))
}

fn pool(config: &DatabaseConfig) -> Result<PgPool, DbErr> {
    let options: PgConnectOptions = config
        .url
        .parse()
        .map_err(|error| DbErr::Custom(format!("bad database URL: {error}")))?;
    let options = options.statement_cache_capacity(0).extra_float_digits(None);
    let begin: Arc<str> = if config.statement_timeout_ms > 0 {
        format!("BEGIN; SET LOCAL statement_timeout = {}", config.statement_timeout_ms).into()
    } else {
        "BEGIN".into()
    };
    let on_connect = begin.clone();
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        // No idle connection is opened ahead: one would sit in an open
        // transaction, holding a server connection of the pooler.
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        // A new connection's first checkout does not pass `before_acquire`.
        .after_connect(move |connection, _| {
            let begin = on_connect.clone();
            Box::pin(async move {
                connection.execute(raw_sql(AssertSqlSafe(begin.to_string()))).await?;
                Ok(())
            })
        })
        .before_acquire(move |connection, _| {
            let begin = begin.clone();
            Box::pin(async move {
                connection.execute(raw_sql(AssertSqlSafe(begin.to_string()))).await?;
                Ok(true)
            })
        })
        .after_release(|connection, _| {
            Box::pin(async move {
                // Ends the checkout's transaction (a failed one rolls back).
                connection.execute(raw_sql("COMMIT")).await?;
                Ok(true)
            })
        })
        .connect_lazy_with(options);
    Ok(pool)
}
