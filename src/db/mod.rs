//! Database access: connecting (with the settings each backend needs) and
//! migrating. Queries live with the domain modules that own them.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseConnectionType, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::DatabaseConfig;

pub mod cursor_key;
pub mod customer_parts;
pub mod data_version;
pub mod dates;
pub mod deadline;
pub mod keyset;
pub mod pooler;
pub mod pools;
pub mod sql;

/// Opens a pool on `config.url`. SQLite files are created when missing and
/// run in WAL mode so readers do not block the writer; PostgreSQL sessions
/// get the configured `statement_timeout`.
pub async fn connect(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(config, true)).await
}

/// A pool that cannot write, for `accord bench`, which must not change the
/// database it measures: SQLite opened read-only (and never created),
/// PostgreSQL sessions whose transactions are read-only
/// (`default_transaction_read_only`), so a write is refused by the database
/// itself.
pub async fn connect_read_only(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(config, false)).await
}

/// A pool on a read replica: it may be down when Accord starts or go away
/// later, so it connects lazily and gives up on a connection within two
/// seconds (the request then runs on the primary, see [`pools`]), and its
/// transactions are read-only.
pub async fn connect_replica(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(config, false);
    options
        .min_connections(0)
        .connect_timeout(Duration::from_secs(2))
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy(true);
    Database::connect(options).await
}

fn options(config: &DatabaseConfig, writable: bool) -> ConnectOptions {
    let mut options = ConnectOptions::new(config.url.clone());
    let statement_timeout_ms = config.statement_timeout_ms;
    options
        .max_connections(config.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // The request deadline interrupts a running SQLite statement (see [`deadline`]).
        .map_sqlx_sqlite_before_acquire(|connection, _| {
            Box::pin(async move {
                deadline::arm(connection).await?;
                Ok(true)
            })
        })
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|connection, _| Box::pin(async move { deadline::arm(connection).await }))
        })
        .map_sqlx_sqlite_opts(move |sqlite| {
            let sqlite = sqlite.busy_timeout(Duration::from_secs(30)).foreign_keys(true);
            if writable {
                sqlite
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .create_if_missing(true)
            } else {
                sqlite.read_only(true).create_if_missing(false)
            }
        })
        .map_sqlx_postgres_opts(move |postgres| {
            // A request aborted at its deadline drops its query future, but
            // PostgreSQL would finish the statement anyway: the server cancels it.
            let postgres = if statement_timeout_ms > 0 {
                postgres.options([("statement_timeout", statement_timeout_ms)])
            } else {
                postgres
            };
            if writable {
                postgres
            } else {
                postgres.options([("default_transaction_read_only", "on")])
            }
        });
    options
}

/// Refreshes the planner's statistics after a bulk load. Until
/// autovacuum gets to it (minutes after a large load), PostgreSQL plans
/// from the estimates of the tables before the load and loops where it
/// should hash: on the freshly seeded large demo data a segment refresh
/// took 11.2 s, 3.7 s once analysed. SQLite's planner reads the same
/// statistics (`sqlite_stat1`).
pub async fn analyze(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("ANALYZE").await.map(|_| ())
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at `BEGIN` (`BEGIN IMMEDIATE`): a transaction that reads first and then
/// writes could otherwise fail at once with "database is locked" when another
/// writer got there in between, because SQLite cannot wait for a lock upgrade
/// without risking deadlock. Waiting at `BEGIN` uses the busy timeout instead.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Applies every pending migration.
///
/// On SQLite the migrations run on a connection of their own, never on the
/// pool's: the migrator spreads its statements over pooled connections,
/// and a connection that read the schema halfway through (between two
/// `ALTER TABLE`s) would later prepare a statement against that stale
/// schema; SQLite re-prepares it at its first step with more columns than
/// sqlx recorded, and sqlx's row reader panics (an index out of bounds on
/// its worker thread).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if let DatabaseConnectionType::SqlxSqlitePoolConnection(_) = &db.inner {
        let options = (*db.get_sqlite_connection_pool().connect_options()).clone();
        let own = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|error| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(error.into())))?;
        let own = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(own);
        let migrated = Migrator::up(&own, None).await;
        own.close().await?;
        return migrated;
    }
    Migrator::up(db, None).await
}

/// The most connections the pool of `db` opens (1 for a connection that is not a pool).
pub fn pool_max_connections(db: &DatabaseConnection) -> u32 {
    match &db.inner {
        DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
            db.get_sqlite_connection_pool().options().get_max_connections()
        }
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            db.get_postgres_connection_pool().options().get_max_connections()
        }
        _ => 1,
    }
}

/// How many of a pool of `pool_size` connections `percent` percent is,
/// at least one: the places a budget (insights, strict loads) may hold.
pub fn pool_share(pool_size: u32, percent: u8) -> usize {
    let share = u64::from(pool_size) * u64::from(percent) / 100;
    usize::try_from(share).unwrap_or(usize::MAX).max(1)
}

/// Whether the database answers a trivial query (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
