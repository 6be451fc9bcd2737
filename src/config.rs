//! Configuration read once at start-up from command-line options, each of
//! which can also come from an environment variable (through clap; no
//! other code reads the environment). Options shared by every command
//! live here; options of one command (`serve --bind`, `import --strict`…)
//! are declared with that command in [`crate::cli`].
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ACCORD_DATABASE_URL` | `sqlite://accord.db?mode=rwc` | where the data lives (SQLite file or `postgres://…`) |
//! | `ACCORD_DB_MAX_CONNECTIONS` | `10` | connection pool size |
//! | `ACCORD_DB_STATEMENT_TIMEOUT_MS` | `30000` | PostgreSQL cancels any statement running longer (`statement_timeout`); `0` turns it off |
//! | `ACCORD_READ_DATABASE_URL` | none | `serve`: a PostgreSQL streaming replica that query operations and exports read from while it keeps up |
//! | `ACCORD_MAX_REPLICA_LAG_MS` | `5000` | `serve`: above this replay lag, reads go to the primary |
//! | `ACCORD_REPLICA_CHECK_MS` | `1000` | `serve`: how often the replica's lag is read |
//! | `ACCORD_LISTEN_DATABASE_URL` | `ACCORD_DATABASE_URL` | `serve`: the direct PostgreSQL connection that LISTENs for events (never through a transaction pooler) |
//! | `ACCORD_DB_POOLER` | `none` | `serve`: `transaction` when `ACCORD_DATABASE_URL` is a PgBouncer in transaction pooling mode |
//! | `ACCORD_BIND` | `127.0.0.1:8080` | address `serve` listens on |
//! | `ACCORD_CURRENCY` | `USD` | the one reporting currency; ingest refuses others |
//! | `ACCORD_MAX_PAGE_SIZE` | `500` | largest `first` a connection accepts |
//! | `ACCORD_OWN_BRAND` | `Shark` | the brand whose purchase intent the funnel reports |
//! | `ACCORD_CURSOR_KEY` | generated on first start, stored in the database | 64 hex characters: the key that seals cursors (all instances must share it) |
//! | `ACCORD_INSIGHT_CACHE_MIB` | `64` | memory for cached insight results, per process (`0` turns the cache off) |
//! | `ACCORD_INSIGHT_CACHE_TTL_SECONDS` | `600` | longest a cached insight result is kept (a write invalidates it at once) |
//! | `ACCORD_MIN_AUDIENCE_SIZE` | `10` | the smallest segment whose members may be exported, and the smallest population whose insight values roles without PII access see |
//! | `ACCORD_MAX_LINE_BYTES` | `1048576` | longest record line of bulk ingest and `import` (1 MiB); a longer line is rejected |
//! | `ACCORD_MAX_DEPTH` | `20` | deepest field nesting a query may have (15–32) |
//! | `ACCORD_MAX_COMPLEXITY` | `50000` | largest estimated cost of a query (a connection costs `first` × its selection) |
//! | `ACCORD_MAX_FIELDS` | `2000` | most selections (fields, aliases, fragment uses) in a query, fragments expanded |
//! | `ACCORD_MAX_BODY_BYTES` | `2097152` | largest request body (2 MiB); bulk ingest is streamed and exempt |
//! | `ACCORD_REQUEST_TIMEOUT_MS` | `30000` | deadline of one GraphQL request (HTTP, and each query or mutation over WebSocket) |
//! | `ACCORD_SHUTDOWN_GRACE_MS` | `10000` | after SIGTERM, how long requests in flight may finish before they are aborted |
//! | `ACCORD_INSIGHT_CONCURRENCY` | `50` | share of the pool (percent) insight fields may hold at once |
//! | `ACCORD_INSIGHT_WAIT_MS` | `2000` | how long an insight field waits for a place before LIMIT_EXCEEDED |
//! | `ACCORD_INSIGHT_CONCURRENCY_PER_CLIENT` | `1` | insight fields one API key (or token subject) may run at once; the rest wait their turn |
//! | `ACCORD_STRICT_LOAD_SHARE` | `30` | share of the pool (percent) `?strict=true` bulk loads may hold at once; past it, 503 with `Retry-After` |
//! | `ACCORD_INGEST_READ_TIMEOUT_MS` | `30000` | longest silence within a bulk ingest body before the upload is refused (408) |
//! | `ACCORD_WS_MAX_OPERATIONS` | `100` | operations (subscriptions, queries) open at once on one WebSocket connection |
//! | `ACCORD_WS_MAX_CONNECTIONS_PER_KEY` | `20` | WebSocket connections open at once per API key (per client address without one) |
//! | `ACCORD_WS_KEY_CHECK_MS` | `10000` | how often an open WebSocket connection checks that its API key is still active |
//! | `ACCORD_AUTH_FAILURES_PER_MINUTE` | `30` | refused credentials per client address per minute before 429 |
//! | `ACCORD_RATE_LIMIT_PER_MINUTE` | `1200` | requests per minute per API key (per client address without one); `0` turns the limit off |
//! | `ACCORD_RATE_LIMIT_BURST` | `300` | requests a client may send at once before the per-minute rate applies |
//! | `ACCORD_APQ_CACHE_SIZE` | `1000` | automatic persisted queries kept (least recently used go first); `0` turns APQ off |
//! | `ACCORD_CORS_ORIGINS` | none (`serve --demo`: `http://localhost:*`) | comma-separated origins whose pages may call the API from a browser |
//! | `ACCORD_INTROSPECTION` | off (on with `serve --demo`) | answer introspection (`__schema`, `__type`) and suggest field names in errors |
//! | `ACCORD_LOG` | `info` | log filter (`tracing` env-filter syntax) |
//! | `ACCORD_LOG_FORMAT` | `text` | `text` or `json` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | — | OTLP/HTTP base URL to export traces to (builds with the `otel` feature) |
//! | `ACCORD_DEMO` | off | `serve --demo` |
//! | `ACCORD_MIGRATE` | off | `serve --migrate`: apply pending migrations first |
//! | `ACCORD_SEED_SCALE`, `ACCORD_SEED` | `small`, `42` | `seed --scale`, `seed --seed` |
//! | `ACCORD_IMPORT_STRICT`, `ACCORD_IMPORT_BATCH_SIZE` | off, `1000` | `import --strict`, `import --batch-size` |

use clap::{Args, ValueEnum};

use crate::db::cursor_key::CursorKey;

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL: an SQLite file (`sqlite://accord.db?mode=rwc`) or PostgreSQL (`postgres://user@host/db`).
    #[arg(
        long = "database-url",
        env = "ACCORD_DATABASE_URL",
        default_value = "sqlite://accord.db?mode=rwc"
    )]
    pub url: String,

    /// Maximum number of pooled database connections.
    #[arg(long = "db-max-connections", env = "ACCORD_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub max_connections: u32,

    /// PostgreSQL: the longest any one statement may run, in milliseconds, before the server
    /// cancels it (`statement_timeout` on every pooled connection), so that a request stopped at
    /// its deadline leaves no query running behind it. 0 turns it off (e.g. for a long migration).
    #[arg(
        long = "db-statement-timeout-ms",
        env = "ACCORD_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub statement_timeout_ms: u64,
}

/// How `serve` reaches PostgreSQL at scale: a read replica, a pooler in
/// front of the primary, a direct connection for LISTEN (README,
/// "Scale-out"). Commands other than `serve` connect to
/// `ACCORD_DATABASE_URL` only.
#[derive(Debug, Clone, Args)]
pub struct TopologyConfig {
    /// A PostgreSQL streaming replica (hot standby) of the primary: GraphQL query operations
    /// and segment exports read from it while its replay lag is within `--max-replica-lag-ms`.
    #[arg(long = "read-database-url", env = "ACCORD_READ_DATABASE_URL", hide_env_values = true)]
    pub read_url: Option<String>,

    /// The largest replay lag, in milliseconds, at which reads still go to the replica;
    /// above it (or while the replica does not answer) they go to the primary.
    #[arg(
        long = "max-replica-lag-ms",
        env = "ACCORD_MAX_REPLICA_LAG_MS",
        default_value_t = 5_000
    )]
    pub max_replica_lag_ms: u64,

    /// How often the replica's replay lag is read, in milliseconds.
    #[arg(long = "replica-check-ms", env = "ACCORD_REPLICA_CHECK_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub replica_check_ms: u64,

    /// The PostgreSQL connection that LISTENs for events from every instance: direct to the
    /// primary, not through a transaction pooler. Defaults to the database URL.
    #[arg(
        long = "listen-database-url",
        env = "ACCORD_LISTEN_DATABASE_URL",
        hide_env_values = true
    )]
    pub listen_url: Option<String>,

    /// What the database URL points at: `none` (PostgreSQL or SQLite itself) or `transaction`
    /// (a PgBouncer in transaction pooling mode: each pooled checkout runs in one transaction,
    /// no statement is cached across transactions, no startup options are sent).
    #[arg(long = "db-pooler", env = "ACCORD_DB_POOLER", value_enum, default_value = "none")]
    pub pooler: Pooler,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        Self {
            read_url: None,
            max_replica_lag_ms: 5_000,
            replica_check_ms: 1_000,
            listen_url: None,
            pooler: Pooler::None,
        }
    }
}

/// What sits between Accord and the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Pooler {
    /// Nothing: the URL is the database.
    None,
    /// PgBouncer (or another pooler) in transaction pooling mode.
    Transaction,
}

/// How the API behaves, whatever serves it.
#[derive(Debug, Clone, Args)]
pub struct ApiConfig {
    /// How records are read (the currency, the longest line); see [`IngestConfig`].
    #[command(flatten)]
    pub ingest: IngestConfig,

    /// The largest page (`first`) a connection accepts; more is an error, never a silent cut.
    #[arg(long, env = "ACCORD_MAX_PAGE_SIZE", default_value_t = 500)]
    pub max_page_size: u64,

    /// The company's own brand: the brand funnel reports purchase intent for it.
    #[arg(long, env = "ACCORD_OWN_BRAND", default_value = "Shark")]
    pub own_brand: String,

    /// The key cursors are sealed under (authenticated encryption), as 64 hexadecimal characters,
    /// e.g. from `openssl rand -hex 32`. When unset, a key is generated on first start and kept
    /// in the database, so every instance on it agrees. Changing it invalidates every cursor.
    #[arg(long, env = "ACCORD_CURSOR_KEY", value_parser = CursorKey::from_hex, hide_env_values = true)]
    pub cursor_key: Option<CursorKey>,

    /// The smallest segment whose members may be exported, so an export cannot single out a person;
    /// also the smallest number of customers or respondents an insight value shown to a role without
    /// PII access may describe (smaller ones are null with `suppressed: true`).
    #[arg(long, env = "ACCORD_MIN_AUDIENCE_SIZE", default_value_t = 10)]
    pub min_audience_size: i64,

    /// Memory for cached insight results in this process, in MiB; `0` turns the cache off. A
    /// committed write (through any instance) invalidates every cached result at once.
    #[arg(long, env = "ACCORD_INSIGHT_CACHE_MIB", default_value_t = 64)]
    pub insight_cache_mib: u64,

    /// The longest a cached insight result is kept, in seconds: a bound on staleness for writes
    /// made around Accord (by hand in SQL), which do not advance the data version.
    #[arg(long, env = "ACCORD_INSIGHT_CACHE_TTL_SECONDS", default_value_t = 600)]
    pub insight_cache_ttl_seconds: u64,

    /// Origins whose pages may call the API from a browser (CORS), comma-separated,
    /// e.g. `https://dash.example.com`; none by default.
    #[arg(long = "cors-origins", env = "ACCORD_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Whether pages on this machine (`http://localhost:*`) may call the API too: `serve --demo`.
    #[arg(skip)]
    pub cors_local: bool,

    /// What one request may ask for; see [`LimitsConfig`].
    #[command(flatten)]
    pub limits: LimitsConfig,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            ingest: IngestConfig::default(),
            max_page_size: 500,
            own_brand: "Shark".to_owned(),
            cursor_key: None,
            min_audience_size: 10,
            insight_cache_mib: 64,
            insight_cache_ttl_seconds: 600,
            cors_origins: Vec::new(),
            cors_local: false,
            limits: LimitsConfig::default(),
        }
    }
}

/// How records are read, by the server's bulk ingest and by `accord import`
/// and `accord seed`.
#[derive(Debug, Clone, Args)]
pub struct IngestConfig {
    /// The reporting currency: all money is stored and shown in it.
    #[arg(long, env = "ACCORD_CURRENCY", default_value = "USD")]
    pub currency: String,

    /// The longest line (one record) bulk ingest and `import` accept, in bytes; a longer line is rejected.
    #[arg(long, env = "ACCORD_MAX_LINE_BYTES", default_value_t = crate::ingest::stream::DEFAULT_MAX_LINE_BYTES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_line_bytes: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            currency: "USD".to_owned(),
            max_line_bytes: crate::ingest::stream::DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// What one request may ask for. A request over a limit is refused before
/// it runs, with `extensions.code` LIMIT_EXCEEDED (README, "Limits").
#[derive(Debug, Clone, Args)]
pub struct LimitsConfig {
    /// The deepest field nesting a query may have. Never below 15, so that the standard
    /// introspection query works; at most 32, the nesting async-graphql parses at all.
    #[arg(long, env = "ACCORD_MAX_DEPTH", default_value_t = 20, value_parser = clap::value_parser!(u16).range(15..=32))]
    pub max_depth: u16,

    /// The largest estimated cost of a query: each field costs 1, and the items of a
    /// connection cost its page size (`first`, 100 when left out) times their selection.
    #[arg(long, env = "ACCORD_MAX_COMPLEXITY", default_value_t = 50_000)]
    pub max_complexity: u64,

    /// The most selections (fields, aliases, fragment uses) a query may make, counted with
    /// its fragments expanded: refuses alias flooding before validation.
    #[arg(long, env = "ACCORD_MAX_FIELDS", default_value_t = 2_000)]
    pub max_fields: u32,

    /// The largest request body in bytes (413 above it). Bulk ingest bodies are streamed and not limited.
    #[arg(long, env = "ACCORD_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// The deadline of one GraphQL request, in milliseconds: over HTTP, and each query or mutation
    /// over WebSocket. A slower request is stopped at its next await and answered with
    /// LIMIT_EXCEEDED (504 under application/graphql-response+json).
    #[arg(long = "request-timeout-ms", env = "ACCORD_REQUEST_TIMEOUT_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: u64,

    /// After SIGTERM or Ctrl-C, how long requests in flight may still finish, in milliseconds;
    /// then they are aborted and the server stops.
    #[arg(
        long = "shutdown-grace-ms",
        env = "ACCORD_SHUTDOWN_GRACE_MS",
        default_value_t = 10_000
    )]
    pub shutdown_grace_ms: u64,

    /// The share of the connection pool, in percent, that insight fields may hold at once
    /// (at least one connection), so that one client's dashboards cannot take the whole pool.
    #[arg(long, env = "ACCORD_INSIGHT_CONCURRENCY", default_value_t = 50, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub insight_concurrency: u8,

    /// How long an insight field waits for a place among them, in milliseconds, before it is
    /// refused with LIMIT_EXCEEDED.
    #[arg(long = "insight-wait-ms", env = "ACCORD_INSIGHT_WAIT_MS", default_value_t = 2_000)]
    pub insight_wait_ms: u64,

    /// How many of those places one client (an API key, or a token's subject) may hold at once:
    /// its further insights wait their turn, so one client's burst of heavy insights leaves the
    /// other places, and the CPU behind them, to everyone else.
    #[arg(long, env = "ACCORD_INSIGHT_CONCURRENCY_PER_CLIENT", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub insight_concurrency_per_client: u32,

    /// The share of the connection pool, in percent, that `?strict=true` bulk loads may hold at
    /// once (at least one connection): a strict load keeps one transaction open for its whole body.
    /// A strict load over it is answered 503 with `Retry-After`; other requests are not affected.
    #[arg(long, env = "ACCORD_STRICT_LOAD_SHARE", default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub strict_load_share: u8,

    /// The longest a bulk ingest body may stay silent (no bytes arriving), in milliseconds;
    /// then the upload is refused with 408 and a strict one writes nothing.
    #[arg(long = "ingest-read-timeout-ms", env = "ACCORD_INGEST_READ_TIMEOUT_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub ingest_read_timeout_ms: u64,

    /// The most operations (subscriptions, and queries or mutations still running) one WebSocket
    /// connection may have open at once; one more is answered with LIMIT_EXCEEDED.
    #[arg(long = "ws-max-operations", env = "ACCORD_WS_MAX_OPERATIONS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_max_operations: u32,

    /// The most WebSocket connections open at once per API key (per client address for
    /// connections without one); one more is closed with 4429.
    #[arg(long = "ws-max-connections-per-key", env = "ACCORD_WS_MAX_CONNECTIONS_PER_KEY", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_max_connections_per_key: u32,

    /// How often an open WebSocket connection checks that its API key is still active, in
    /// milliseconds: a revoked key's connection is closed with 4403 within this time.
    #[arg(long = "ws-key-check-ms", env = "ACCORD_WS_KEY_CHECK_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_key_check_ms: u64,

    /// Refused credentials (unknown, revoked or malformed keys) per client address per minute;
    /// past it, 429 with `Retry-After` (WebSocket: `connection_init` refused) without a database lookup.
    #[arg(long, env = "ACCORD_AUTH_FAILURES_PER_MINUTE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_failures_per_minute: u32,

    /// Requests per minute per API key, or per client address for requests without a key;
    /// 0 turns rate limiting off. Over it: 429 with `Retry-After`.
    #[arg(long, env = "ACCORD_RATE_LIMIT_PER_MINUTE", default_value_t = 1_200)]
    pub rate_limit_per_minute: u32,

    /// How many requests a client may send at once before the per-minute rate applies.
    #[arg(long, env = "ACCORD_RATE_LIMIT_BURST", default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_burst: u32,

    /// How many automatic persisted queries are kept (least recently used are dropped); 0 turns APQ off.
    #[arg(long, env = "ACCORD_APQ_CACHE_SIZE", default_value_t = 1_000)]
    pub apq_cache_size: usize,

    /// Answer introspection (`__schema`, `__type`) and suggest field names in validation errors.
    /// Off by default; `serve --demo` turns it on.
    #[arg(long, env = "ACCORD_INTROSPECTION")]
    pub introspection: bool,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_depth: 20,
            max_complexity: 50_000,
            max_fields: 2_000,
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_ms: 30_000,
            shutdown_grace_ms: 10_000,
            insight_concurrency: 50,
            insight_wait_ms: 2_000,
            insight_concurrency_per_client: 1,
            strict_load_share: 30,
            ingest_read_timeout_ms: 30_000,
            ws_max_operations: 100,
            ws_max_connections_per_key: 20,
            ws_key_check_ms: 10_000,
            auth_failures_per_minute: 30,
            rate_limit_per_minute: 1_200,
            rate_limit_burst: 300,
            apq_cache_size: 1_000,
            introspection: false,
        }
    }
}

impl LimitsConfig {
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.request_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.shutdown_grace_ms)
    }

    pub fn ingest_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.ingest_read_timeout_ms)
    }

    pub fn ws_key_check(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.ws_key_check_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logging.
#[derive(Debug, Clone, Args)]
pub struct LogConfig {
    /// Log filter, e.g. `info` or `accord=debug,sea_orm=warn`.
    #[arg(long = "log", env = "ACCORD_LOG", default_value = "info")]
    pub filter: String,

    /// Log line format.
    #[arg(long = "log-format", env = "ACCORD_LOG_FORMAT", value_enum, default_value = "text")]
    pub format: LogFormat,

    /// OpenTelemetry: the OTLP/HTTP base URL to export traces to (e.g.
    /// `http://collector:4318`); only builds with the `otel` feature export.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

/// The defaults of the flags: for commands that take no logging options.
impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info".to_owned(),
            format: LogFormat::Text,
            otlp_endpoint: None,
        }
    }
}
