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
//! | `ACCORD_BIND` | `127.0.0.1:8080` | address `serve` listens on |
//! | `ACCORD_CURRENCY` | `USD` | the one reporting currency; ingest refuses others |
//! | `ACCORD_MAX_PAGE_SIZE` | `500` | largest `first` a connection accepts |
//! | `ACCORD_OWN_BRAND` | `Shark` | the brand whose purchase intent the funnel reports |
//! | `ACCORD_MIN_AUDIENCE_SIZE` | `10` | the smallest segment whose members may be exported |
//! | `ACCORD_LOG` | `info` | log filter (`tracing` env-filter syntax) |
//! | `ACCORD_LOG_FORMAT` | `text` | `text` or `json` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | — | OTLP/HTTP base URL to export traces to (builds with the `otel` feature) |
//! | `ACCORD_DEMO` | off | `serve --demo` |
//! | `ACCORD_MIGRATE` | off | `serve --migrate`: apply pending migrations first |
//! | `ACCORD_SEED_SCALE`, `ACCORD_SEED` | `small`, `42` | `seed --scale`, `seed --seed` |
//! | `ACCORD_IMPORT_STRICT`, `ACCORD_IMPORT_BATCH_SIZE` | off, `1000` | `import --strict`, `import --batch-size` |

use clap::{Args, ValueEnum};

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL: an SQLite file (`sqlite://accord.db?mode=rwc`) or PostgreSQL (`postgres://user@host/db`).
    #[arg(
        long = "database-url",
        env = "ACCORD_DATABASE_URL",
        default_value = "sqlite://accord.db?mode=rwc",
        global = true
    )]
    pub url: String,

    /// Maximum number of pooled database connections.
    #[arg(
        long = "db-max-connections",
        env = "ACCORD_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub max_connections: u32,
}

/// How the API behaves, whatever serves it.
#[derive(Debug, Clone, Args)]
pub struct ApiConfig {
    /// The reporting currency: all money is stored and shown in it.
    #[arg(long, env = "ACCORD_CURRENCY", default_value = "USD", global = true)]
    pub currency: String,

    /// The largest page (`first`) a connection accepts; more is an error, never a silent cut.
    #[arg(long, env = "ACCORD_MAX_PAGE_SIZE", default_value_t = 500, global = true)]
    pub max_page_size: u64,

    /// The company's own brand: the brand funnel reports purchase intent for it.
    #[arg(long, env = "ACCORD_OWN_BRAND", default_value = "Shark", global = true)]
    pub own_brand: String,

    /// The smallest segment whose members may be exported, so an export cannot single out a person.
    #[arg(long, env = "ACCORD_MIN_AUDIENCE_SIZE", default_value_t = 10, global = true)]
    pub min_audience_size: i64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            currency: "USD".to_owned(),
            max_page_size: 500,
            own_brand: "Shark".to_owned(),
            min_audience_size: 10,
        }
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
    #[arg(long = "log", env = "ACCORD_LOG", default_value = "info", global = true)]
    pub filter: String,

    /// Log line format.
    #[arg(
        long = "log-format",
        env = "ACCORD_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub format: LogFormat,

    /// OpenTelemetry: the OTLP/HTTP base URL to export traces to (e.g.
    /// `http://collector:4318`); only builds with the `otel` feature export.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
}
