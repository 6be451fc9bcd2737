//! The command line: `serve`, `migrate`, `seed`, `import`, `schema`.
//! Every option can also be set with the `ACCORD_*` variable named in its
//! help (see [`crate::config`]).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use crate::app::{Application, shutdown_signal};
use crate::auth::Authenticator;
use crate::auth::jwt::{JwtConfig, JwtVerifier};
use crate::config::{ApiConfig, DatabaseConfig, IngestConfig, LogConfig, Pooler, TopologyConfig};
use crate::demo::{DemoSpec, Scale};
use crate::events::EventBus;
use crate::ingest::{Atomicity, EntityKind, ImportOptions, Ingestor};
use entity::enums::Role;

#[derive(Debug, Parser)]
#[command(
    name = "accord",
    version,
    about = "One GraphQL API for sales and marketing: the single source of truth about customers."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Each subcommand takes the configuration it uses and no other, so that its
// `--help` lists its own options only (`accord schema` none at all).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API.
    Serve {
        /// Development mode: migrate, load demo data into an empty database, turn introspection on, print the GraphiQL URL.
        #[arg(long, env = "ACCORD_DEMO")]
        demo: bool,
        /// With --demo: the demo data's last day (YYYY-MM-DD), default today.
        #[arg(long, env = "ACCORD_DEMO_AS_OF", requires = "demo")]
        as_of: Option<chrono::NaiveDate>,
        /// Apply pending migrations before serving (without it, pending migrations stop the start).
        #[arg(long, env = "ACCORD_MIGRATE")]
        migrate: bool,
        /// Address to listen on.
        #[arg(long, env = "ACCORD_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Serve without authentication: every request runs as ADMIN. Never in production.
        #[arg(long, env = "ACCORD_INSECURE_NO_AUTH")]
        insecure_no_auth: bool,
        #[command(flatten)]
        jwt: JwtConfig,
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        topology: TopologyConfig,
        #[command(flatten)]
        api: ApiConfig,
        #[command(flatten)]
        log: LogConfig,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Apply pending database migrations.
    Migrate {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        log: LogConfig,
    },
    /// Load generated demo data (deterministic for a seed).
    Seed {
        /// Required: makes clear that the data is invented.
        #[arg(long, required = true)]
        demo: bool,
        /// How much data to generate.
        #[arg(long, env = "ACCORD_SEED_SCALE", value_enum, default_value = "small")]
        scale: ScaleArg,
        /// The random seed: the same seed gives the same data.
        #[arg(long, env = "ACCORD_SEED", default_value_t = 42)]
        seed: u64,
        /// The data's last day (YYYY-MM-DD), default today: every date moves so that activity ends on it.
        #[arg(long, env = "ACCORD_DEMO_AS_OF")]
        as_of: Option<chrono::NaiveDate>,
        #[command(flatten)]
        ingest: IngestConfig,
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        log: LogConfig,
    },
    /// Import NDJSON files: a directory of `<entity>.ndjson` files, or one file.
    Import {
        path: PathBuf,
        /// Write nothing at all if any record is bad.
        #[arg(long, env = "ACCORD_IMPORT_STRICT")]
        strict: bool,
        /// Records per transaction.
        #[arg(long, env = "ACCORD_IMPORT_BATCH_SIZE", default_value_t = 1000, value_parser = clap::value_parser!(u16).range(1..=10_000))]
        batch_size: u16,
        #[command(flatten)]
        ingest: IngestConfig,
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        log: LogConfig,
    },
    /// Print the GraphQL schema (SDL): the federation v2 subgraph SDL (`schema.graphql`).
    Schema {
        /// Print the SDL for client tooling instead (`schema.client.graphql`): the same types
        /// without the federation directives, which tools that are not federation routers reject.
        #[arg(long)]
        client: bool,
    },
    /// Time every insight query and a segment preview against the configured database
    /// (opened read-only: nothing is written) and print the figures.
    Bench {
        /// First day of the window the queries use.
        #[arg(long, default_value = "2025-01-01")]
        from: String,
        /// Last day of the window (and "as of" day).
        #[arg(long, default_value = "2026-06-30")]
        to: String,
        /// Runs per query.
        #[arg(long, default_value_t = 5)]
        iterations: usize,
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        api: ApiConfig,
        #[command(flatten)]
        log: LogConfig,
    },
}

impl Command {
    /// How this command logs (`schema` prints the SDL only: the defaults).
    pub fn log(&self) -> Option<&LogConfig> {
        match self {
            Command::Serve { log, .. }
            | Command::Migrate { log, .. }
            | Command::Seed { log, .. }
            | Command::Import { log, .. }
            | Command::Bench { log, .. } => Some(log),
            Command::Keys { command } => Some(command.log()),
            Command::Schema { .. } => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it (the only time it is shown).
    Create {
        /// ADMIN, SALES, MARKETING, ANALYST, DASHBOARD or INGEST.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Who or what holds the key, e.g. "crm-sync".
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        log: LogConfig,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        log: LogConfig,
    },
    /// Revoke a key by its id.
    Revoke {
        id: i64,
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        log: LogConfig,
    },
}

impl KeysCommand {
    fn log(&self) -> &LogConfig {
        match self {
            KeysCommand::Create { log, .. } | KeysCommand::List { log, .. } | KeysCommand::Revoke { log, .. } => log,
        }
    }

    fn database(&self) -> &DatabaseConfig {
        match self {
            KeysCommand::Create { database, .. }
            | KeysCommand::List { database, .. }
            | KeysCommand::Revoke { database, .. } => database,
        }
    }
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(&text.to_ascii_uppercase()).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        format!("{text:?} is not a role; one of {}", roles.join(", "))
    })
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScaleArg {
    /// About 2,000 customers: for trying the API.
    Small,
    /// 300,000 customers, over a million orders and two million touchpoints: for benchmarks.
    Large,
}

impl From<ScaleArg> for Scale {
    fn from(scale: ScaleArg) -> Self {
        match scale {
            ScaleArg::Small => Scale::Small,
            ScaleArg::Large => Scale::Large,
        }
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Schema { client } => {
            let sdl = if client {
                crate::graphql::client_sdl()
            } else {
                crate::graphql::sdl()
            };
            print!("{sdl}");
            Ok(())
        }
        Command::Migrate { database, .. } => {
            let db = connect(&database).await?;
            crate::db::migrate(&db).await.context("migrating")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed {
            scale,
            seed,
            as_of,
            ingest,
            database,
            ..
        } => {
            let db = connect(&database).await?;
            crate::db::migrate(&db).await.context("migrating")?;
            seed_demo(
                &db,
                &ingest.currency,
                DemoSpec {
                    scale: scale.into(),
                    seed,
                    last_day: Some(as_of.unwrap_or_else(|| chrono::Utc::now().date_naive())),
                },
            )
            .await
        }
        Command::Import {
            path,
            strict,
            batch_size,
            ingest,
            database,
            ..
        } => {
            let db = connect(&database).await?;
            crate::db::migrate(&db).await.context("migrating")?;
            import(db, &path, strict, batch_size.into(), &ingest).await
        }
        Command::Bench {
            from,
            to,
            iterations,
            database,
            api,
            ..
        } => {
            // Read-only: the benchmark must not change what it measures.
            check_scheme(&database.url)?;
            let db = match crate::db::connect_read_only(&database).await {
                Ok(db) => db,
                Err(error) => return Err(connect_error(&database.url, &error).await),
            };
            crate::bench::insights(db, api, &from, &to, iterations).await
        }
        Command::Serve {
            demo,
            as_of,
            migrate,
            bind,
            insecure_no_auth,
            jwt,
            database,
            topology,
            mut api,
            ..
        } => {
            // Development mode is for exploring the API (and what the conformance audit runs against).
            api.limits.introspection |= demo;
            api.cors_local |= demo;
            let options = ServeOptions {
                demo,
                as_of,
                migrate,
                insecure_no_auth,
                jwt,
                topology,
            };
            serve(&database, api, options, &bind).await
        }
        Command::Keys { command } => {
            let db = connect(command.database()).await?;
            crate::db::migrate(&db).await.context("migrating")?;
            keys(&db, command).await
        }
    }
}

async fn connect(config: &DatabaseConfig) -> anyhow::Result<DatabaseConnection> {
    check_scheme(&config.url)?;
    match crate::db::connect(config).await {
        Ok(db) => Ok(db),
        Err(error) => Err(connect_error(&config.url, &error).await),
    }
}

/// The primary `serve` writes to: directly, or through a transaction
/// pooler (whose pool is lazy, so it is asked once here).
async fn connect_primary(config: &DatabaseConfig, pooler: Pooler) -> anyhow::Result<DatabaseConnection> {
    if pooler == Pooler::None {
        return connect(config).await;
    }
    if !is_postgres(&config.url) {
        anyhow::bail!("--db-pooler transaction needs a postgres:// database URL (a PgBouncer)");
    }
    let db = crate::db::pooler::connect(config).map_err(|error| anyhow::anyhow!("{}: {error}", redact(&config.url)))?;
    if let Err(error) = db.ping().await {
        return Err(connect_error(&config.url, &error).await);
    }
    Ok(db)
}

/// The primary and, with `--read-database-url`, the replica reads may go to.
async fn open_pools(
    database: &DatabaseConfig,
    topology: &TopologyConfig,
    primary: DatabaseConnection,
) -> anyhow::Result<crate::db::pools::Pools> {
    use crate::db::pools::{Pools, ReplicaSettings};
    let Some(read_url) = &topology.read_url else {
        return Ok(Pools::single(primary));
    };
    if !is_postgres(read_url) || primary.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        anyhow::bail!("a read replica (--read-database-url) needs PostgreSQL for both the primary and the replica");
    }
    let replica_config = DatabaseConfig {
        url: read_url.clone(),
        ..database.clone()
    };
    // Lazy: a replica that is down at start leaves reads on the primary
    // until it answers.
    let replica = crate::db::connect_replica(&replica_config)
        .await
        .map_err(|error| anyhow::anyhow!("{}: {error}", redact(read_url)))?;
    let settings = ReplicaSettings {
        max_lag: std::time::Duration::from_millis(topology.max_replica_lag_ms),
        check_every: std::time::Duration::from_millis(topology.replica_check_ms),
    };
    Ok(Pools::with_replica(primary, replica, settings).await)
}

fn is_postgres(url: &str) -> bool {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    matches!(scheme.as_deref(), Some("postgres" | "postgresql"))
}

/// Refuses a URL of a database Accord does not speak before trying it.
fn check_scheme(url: &str) -> anyhow::Result<()> {
    match url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase()) {
        Some(scheme) if matches!(scheme.as_str(), "sqlite" | "postgres" | "postgresql") => Ok(()),
        Some(scheme) => anyhow::bail!("unsupported scheme {scheme}; use sqlite:// or postgres://"),
        None => anyhow::bail!(
            "{} is not a database URL; use sqlite://FILE or postgres://USER@HOST/DB",
            redact(url)
        ),
    }
}

/// What failed when connecting, in one line: the address refused, the
/// database's own refusal (a wrong password, a missing database), or the
/// driver's message; never the URL's password.
async fn connect_error(url: &str, error: &sea_orm::DbErr) -> anyhow::Error {
    use sea_orm::sqlx::Error as Sqlx;
    let at = redact(url);
    let sqlx = match error {
        sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(sqlx)) => Some(sqlx.as_ref()),
        _ => None,
    };
    match sqlx {
        Some(Sqlx::Io(io)) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            anyhow::anyhow!(
                "connection refused at {} (is the database server running?)",
                address(url)
            )
        }
        Some(Sqlx::Io(io)) => anyhow::anyhow!("cannot reach {}: {io}", address(url)),
        Some(Sqlx::Tls(tls)) => anyhow::anyhow!("TLS with {} failed: {tls}", address(url)),
        Some(Sqlx::Database(refusal)) => anyhow::anyhow!("{at}: {}", refusal.message()),
        // The pool retries a refused connection until its timeout and
        // then reports only the timeout: ask the address once more.
        Some(Sqlx::PoolTimedOut) if refuses_connections(url).await => {
            anyhow::anyhow!(
                "connection refused at {} (is the database server running?)",
                address(url)
            )
        }
        Some(Sqlx::PoolTimedOut) => anyhow::anyhow!("no connection to {at} within 10 s"),
        Some(Sqlx::Configuration(reason)) => anyhow::anyhow!("bad database URL {at}: {reason}"),
        _ => anyhow::anyhow!("cannot connect to {at}: {error}"),
    }
}

/// Whether the server address of `url` refuses a TCP connection.
async fn refuses_connections(url: &str) -> bool {
    if url.starts_with("sqlite:") {
        return false;
    }
    let attempt = tokio::net::TcpStream::connect(address(url));
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(3), attempt).await,
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused
    )
}

/// `host:port` of a server URL (PostgreSQL's default port when none is
/// given), or the file of an SQLite URL.
fn address(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact(url);
    };
    if scheme.eq_ignore_ascii_case("sqlite") {
        return rest.split('?').next().unwrap_or(rest).to_owned();
    }
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.contains(':') && !host.ends_with(']') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// How `serve` starts.
struct ServeOptions {
    demo: bool,
    /// The demo data's last day; today when not given.
    as_of: Option<chrono::NaiveDate>,
    migrate: bool,
    insecure_no_auth: bool,
    jwt: JwtConfig,
    /// A read replica, a pooler, a direct LISTEN connection.
    topology: TopologyConfig,
}

async fn serve(database: &DatabaseConfig, api: ApiConfig, options: ServeOptions, bind: &str) -> anyhow::Result<()> {
    let ServeOptions {
        demo,
        as_of,
        migrate,
        insecure_no_auth,
        jwt,
        topology,
    } = options;
    let jwt = JwtVerifier::from_config(&jwt).map_err(|reason| anyhow::anyhow!("JWT configuration: {reason}"))?;
    let db = connect_primary(database, topology.pooler).await?;
    if demo || migrate {
        crate::db::migrate(&db).await.context("migrating")?;
    } else {
        let pending = Migrator::get_pending_migrations(&db)
            .await
            .context("reading migrations")?;
        if !pending.is_empty() {
            anyhow::bail!(
                "{} migration(s) pending: run `accord migrate` first, or serve with --migrate",
                pending.len()
            );
        }
    }
    if demo && entity::customer::Entity::find().count(&db).await? == 0 {
        println!("empty database: loading the small demo data set…");
        seed_demo(
            &db,
            &api.ingest.currency,
            DemoSpec {
                scale: Scale::Small,
                seed: 42,
                last_day: Some(as_of.unwrap_or_else(|| chrono::Utc::now().date_naive())),
            },
        )
        .await?;
    }
    let auth = if insecure_no_auth || demo {
        let why = if insecure_no_auth {
            "--insecure-no-auth"
        } else {
            "--demo"
        };
        tracing::warn!("{why}: requests without a key run as ADMIN; never expose this server");
        println!("WARNING: {why}: AUTHENTICATION IS OFF for requests without a key; every such request is ADMIN");
        Authenticator::new(db.clone(), false, jwt)
    } else {
        let has_jwt = jwt.is_some();
        crate::auth::check_configured(&db, has_jwt).await?;
        Authenticator::new(db.clone(), true, jwt)
    };
    let pools = open_pools(database, &topology, db).await?;
    let listen_url = topology.listen_url.as_deref();
    let app = Application::build_with_pools(bind, pools, listen_url, api, auth)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let address = app.local_addr()?;
    println!("Accord is listening on http://{address}/ (the console; GraphiQL at http://{address}/graphql)");
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn keys(db: &DatabaseConnection, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { role, name, .. } => {
            let created = crate::auth::keys::create(db, role, &name).await?;
            println!("{}", created.secret);
            eprintln!(
                "created key {} ({}, {}): store it now, it is not shown again",
                created.key.id, created.key.name, created.key.role
            );
        }
        KeysCommand::List { .. } => {
            println!(
                "{:>5}  {:<10} {:<24} {:<20} {:<20} revoked",
                "id", "role", "name", "created", "last used"
            );
            let shown = |at: Option<chrono::DateTime<chrono::Utc>>| {
                at.map_or("-".to_owned(), |at| at.format("%Y-%m-%d %H:%M:%S").to_string())
            };
            for key in crate::auth::keys::list(db).await? {
                println!(
                    "{:>5}  {:<10} {:<24} {:<20} {:<20} {}",
                    key.id,
                    key.role.as_str(),
                    key.name,
                    shown(Some(key.created_at)),
                    shown(key.last_used_at),
                    shown(key.revoked_at)
                );
            }
        }
        KeysCommand::Revoke { id, .. } => {
            let key = crate::auth::keys::revoke(db, id).await?;
            println!(
                "revoked key {} ({}); servers stop accepting it within {} s",
                key.id,
                key.name,
                crate::auth::CACHE_SECONDS
            );
        }
    }
    Ok(())
}

async fn seed_demo(db: &DatabaseConnection, currency: &str, spec: DemoSpec) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut ingestor = Ingestor::begin(db.clone(), Atomicity::PerBatch, currency).await?;
    crate::demo::generate(spec, &mut ingestor, true).await?;
    let report = ingestor.finish().await?;
    if let Some(rejection) = report.rejected.first() {
        anyhow::bail!(
            "the demo generator produced {} invalid record(s); first: {} line {}: {}",
            report.rejected.len(),
            rejection.kind,
            rejection.line,
            rejection.error
        );
    }
    for &kind in EntityKind::ALL {
        println!("{:>20} {:>10}", kind.file_stem(), report.written(kind));
    }
    crate::db::analyze(db).await?;
    for (name, size) in crate::demo::segments::save(db).await? {
        println!("{:>20} {size:>10}  {name}", "segment");
    }
    if let Some(last_day) = spec.last_day {
        println!("the demo data's last day is {last_day}");
    }
    println!("demo data loaded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn import(
    db: DatabaseConnection,
    path: &std::path::Path,
    strict: bool,
    batch_size: usize,
    ingest: &IngestConfig,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // On PostgreSQL, servers' subscribers hear of what the import writes.
    let events = EventBus::for_database(&db, false).await?;
    let options = ImportOptions {
        strict,
        batch_size,
        max_line_bytes: ingest.max_line_bytes,
        progress: true,
        currency: ingest.currency.clone(),
        events: Some(events),
    };
    let report = crate::ingest::import_path(db.clone(), path, &options).await?;
    if report.ingest.committed {
        crate::db::analyze(&db).await?;
    }
    for (kind, file) in &report.files {
        println!(
            "{:>20} {:>10} written  ({})",
            kind.file_stem(),
            report.ingest.written(*kind),
            file.display()
        );
    }
    const SHOWN: usize = 50;
    for rejection in report.ingest.rejected.iter().take(SHOWN) {
        let file = report
            .file_of(rejection)
            .map(|f| f.display().to_string())
            .unwrap_or_default();
        eprintln!("{file}:{}: {}", rejection.line, rejection.error);
    }
    let rejected = report.ingest.rejected.len();
    if rejected > SHOWN {
        eprintln!("… and {} more rejected record(s)", rejected - SHOWN);
    }
    println!("import finished in {:.1} s", started.elapsed().as_secs_f64());
    if rejected > 0 {
        if report.ingest.committed {
            anyhow::bail!("{rejected} record(s) rejected; the others were written");
        }
        anyhow::bail!("{rejected} record(s) rejected; --strict: nothing was written");
    }
    Ok(())
}
