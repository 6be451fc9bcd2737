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
use crate::config::{ApiConfig, DatabaseConfig, LogConfig};
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
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub api: ApiConfig,
    #[command(flatten)]
    pub log: LogConfig,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API.
    Serve {
        /// Development mode: migrate, load demo data into an empty database, turn introspection on, print the GraphiQL URL.
        #[arg(long, env = "ACCORD_DEMO")]
        demo: bool,
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
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Apply pending database migrations.
    Migrate,
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
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Time every insight query against the configured database and print the figures.
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
    },
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
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id.
    Revoke { id: i64 },
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
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            let db = connect(&cli.database).await?;
            crate::db::migrate(&db).await.context("migrating")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed { scale, seed, .. } => {
            let db = connect(&cli.database).await?;
            crate::db::migrate(&db).await.context("migrating")?;
            seed_demo(
                &db,
                &cli.api,
                DemoSpec {
                    scale: scale.into(),
                    seed,
                },
            )
            .await
        }
        Command::Import {
            path,
            strict,
            batch_size,
        } => {
            let db = connect(&cli.database).await?;
            crate::db::migrate(&db).await.context("migrating")?;
            import(db, &path, strict, batch_size.into(), &cli.api).await
        }
        Command::Bench { from, to, iterations } => {
            let db = connect(&cli.database).await?;
            crate::bench::insights(db, cli.api, &from, &to, iterations).await
        }
        Command::Serve {
            demo,
            migrate,
            bind,
            insecure_no_auth,
            jwt,
        } => {
            let mut api = cli.api;
            // Development mode is for exploring the API (and what the conformance audit runs against).
            api.limits.introspection |= demo;
            api.cors_local |= demo;
            let options = ServeOptions {
                demo,
                migrate,
                insecure_no_auth,
                jwt,
            };
            serve(&cli.database, api, options, &bind).await
        }
        Command::Keys { command } => {
            let db = connect(&cli.database).await?;
            crate::db::migrate(&db).await.context("migrating")?;
            keys(&db, command).await
        }
    }
}

async fn connect(config: &DatabaseConfig) -> anyhow::Result<DatabaseConnection> {
    crate::db::connect(config)
        .await
        .with_context(|| format!("connecting to {}", redact(&config.url)))
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
    migrate: bool,
    insecure_no_auth: bool,
    jwt: JwtConfig,
}

async fn serve(database: &DatabaseConfig, api: ApiConfig, options: ServeOptions, bind: &str) -> anyhow::Result<()> {
    let ServeOptions {
        demo,
        migrate,
        insecure_no_auth,
        jwt,
    } = options;
    let jwt = JwtVerifier::from_config(&jwt).map_err(|reason| anyhow::anyhow!("JWT configuration: {reason}"))?;
    let db = connect(database).await?;
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
            &api,
            DemoSpec {
                scale: Scale::Small,
                seed: 42,
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
    let app = Application::build_with_auth(bind, db, api, auth)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let address = app.local_addr()?;
    println!("Accord is listening on http://{address}/ (the console; GraphiQL at http://{address}/graphql)");
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn keys(db: &DatabaseConnection, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { role, name } => {
            let created = crate::auth::keys::create(db, role, &name).await?;
            println!("{}", created.secret);
            eprintln!(
                "created key {} ({}, {}): store it now, it is not shown again",
                created.key.id, created.key.name, created.key.role
            );
        }
        KeysCommand::List => {
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
        KeysCommand::Revoke { id } => {
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

async fn seed_demo(db: &DatabaseConnection, api: &ApiConfig, spec: DemoSpec) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut ingestor = Ingestor::begin(db.clone(), Atomicity::PerBatch, &api.currency).await?;
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
    println!("demo data loaded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn import(
    db: DatabaseConnection,
    path: &std::path::Path,
    strict: bool,
    batch_size: usize,
    api: &ApiConfig,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // On PostgreSQL, servers' subscribers hear of what the import writes.
    let events = EventBus::for_database(&db, false).await?;
    let options = ImportOptions {
        strict,
        batch_size,
        max_line_bytes: api.max_line_bytes,
        progress: true,
        currency: api.currency.clone(),
        events: Some(events),
    };
    let report = crate::ingest::import_path(db, path, &options).await?;
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
