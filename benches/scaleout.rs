//! A load run across instances (issue 16, item 5): the same GraphQL
//! workloads, at the same concurrency, against
//!
//! 1. one `accord serve` on the PostgreSQL primary alone (no replica), and
//! 2. two `accord serve` processes writing through PgBouncer (transaction
//!    pooling), reading from a `pg_basebackup -R` hot standby and
//!    LISTENing on the primary, the load split round-robin across both.
//!
//! The topology is `tools/topology/topology.sh` (as `tests/it/topology.rs`
//! builds it), seeded with `accord seed --demo`. Workloads:
//! - **account context**: one account, its 50 latest contacts, 5 latest
//!   orders and 5 latest survey responses (NPS) of each;
//! - **dashboard list**: the first 100 customers of a region with their
//!   order count and order total (Σ of `productsBought.revenue`, the sum
//!   of their order lines);
//! - **dashboard insights**: the README's dashboard query (every insight
//!   of one window and region).
//!
//! For each configuration and workload it prints requests, errors,
//! throughput, p50 and p99, and the share of statements each server ran
//! (`pg_stat_statements` calls, reset before each run; transaction control,
//! `SET`, `DEALLOCATE`, the replica lag monitor's and the bench's own
//! statements are left out). With
//! `promtool` on the PATH it also checks an instance's `/metrics` (with the
//! replica families) with `promtool check metrics`. It asserts nothing
//! about time; everything it starts it stops (Drop guards).
//!
//! ```sh
//! cargo build --release && cargo bench --bench scaleout
//! ACCORD_BIN=target/debug/accord ACCORD_BENCH_SECONDS=3 cargo bench --profile dev --bench scaleout
//! ```
//! Environment: `ACCORD_BIN` (default `target/release/accord`),
//! `ACCORD_BENCH_SECONDS` (10, per workload and configuration),
//! `ACCORD_BENCH_CONCURRENCY` (8), `ACCORD_BENCH_SCALE` (`small` or
//! `large`, the demo data's scale), `ACCORD_BENCH_WORKLOADS` (a comma list
//! of `account`, `list`, `insights`; all by default), `ACCORD_BENCH_VERBOSE`
//! (set: also print each run's most frequent statements per server). Needs PostgreSQL 15's
//! binaries (`ACCORD_PG_BIN`), `pg_stat_statements` and `pgbouncer`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/topology/topology.sh");
const REGIONS: [&str; 4] = ["UK", "DE", "FR", "US"];
const WARM_UP: Duration = Duration::from_secs(1);

const ACCOUNT_CONTEXT: &str = "query($account: ID!) { account(id: $account) { id name tier \
    customers(first: 50, orderBy: { field: FIRST_SEEN_AT, direction: DESC }) { nodes { id name email region \
    orders(first: 5) { nodes { id orderedAt channel amount { amountMinor currency } } } \
    surveyResponses(first: 5) { nodes { id respondedAt npsScore comment } } } } } }";

const DASHBOARD_LIST: &str = "query($region: String!) { customers(filter: { region: $region }, first: 100) { totalCount \
    nodes { id name country firstSeenAt orders { totalCount } productsBought { revenue { amountMinor } } } } }";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = env_or("ACCORD_BENCH_SECONDS", 10);
    let concurrency: usize = env_or("ACCORD_BENCH_CONCURRENCY", 8);
    let scale = std::env::var("ACCORD_BENCH_SCALE").unwrap_or_else(|_| "small".into());
    let binary = PathBuf::from(
        std::env::var("ACCORD_BIN")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/accord").into()),
    );
    if !binary.is_file() {
        bail!("no accord binary at {} (build it, or set ACCORD_BIN)", binary.display());
    }
    let chosen = std::env::var("ACCORD_BENCH_WORKLOADS").unwrap_or_else(|_| "account,list,insights".into());
    let insight = insight_query()?;
    let mut workloads = Vec::new();
    for name in chosen.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        workloads.push(match name {
            "account" => Workload::AccountContext,
            "list" => Workload::DashboardList,
            "insights" => Workload::DashboardInsights(insight.clone()),
            other => bail!("unknown workload {other:?} (account, list, insights)"),
        });
    }

    let logs = tempfile::tempdir()?;
    println!("building the topology (primary, hot standby, PgBouncer) …");
    let topology = Topology::start()?;
    let primary_url = topology.url(topology.primary_port);
    let standby_url = topology.url(topology.standby_port);
    let bouncer_url = topology.url(topology.bouncer_port);

    println!("seeding the demo data ({scale}) on the primary …");
    let seeded = Instant::now();
    let status = Command::new(&binary)
        .args([
            "seed",
            "--demo",
            "--scale",
            &scale,
            "--database-url",
            &primary_url,
            "--log",
            "warn",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .context("running accord seed")?;
    if !status.success() {
        bail!("accord seed --demo --scale {scale} failed");
    }
    let primary = Database::connect(&primary_url).await?;
    let standby = Database::connect(&standby_url).await?;
    primary.execute_unprepared("ANALYZE").await?;
    caught_up(&primary, &standby).await?;
    println!("seeded and replicated in {:.1} s", seeded.elapsed().as_secs_f64());

    let accounts = account_ids(&primary).await?;
    if accounts.is_empty() {
        bail!("the demo data has no account");
    }
    // The same cursor key for every instance (as a deployment would set
    // it), so no instance has to create one at start.
    let cursor_key = "5c".repeat(32);
    let common = [
        "--rate-limit-per-minute",
        "0",
        "--cursor-key",
        &cursor_key,
        // Insights queue for a place rather than fail after 2 s: the
        // bench measures throughput, not load shedding.
        "--insight-wait-ms",
        "60000",
        "--log",
        "warn,sqlx::postgres::notice=error",
    ];
    let inputs = Arc::new(Inputs { accounts });
    let span = Duration::from_secs(seconds);
    let mut report = Vec::new();

    {
        let one = Server::start(&binary, &primary_url, &common, &[], &logs.path().join("one.log")).await?;
        let bases = vec![one.base_url.clone()];
        for workload in &workloads {
            let run = measure(workload, &bases, &inputs, concurrency, span, &primary, &standby).await?;
            report.push(("1 instance, primary only", workload.name(), run));
        }
    }
    {
        let replicated = [
            "--db-pooler",
            "transaction",
            "--read-database-url",
            &standby_url,
            "--listen-database-url",
            &primary_url,
        ];
        let a = Server::start(&binary, &bouncer_url, &common, &replicated, &logs.path().join("a.log")).await?;
        let b = Server::start(&binary, &bouncer_url, &common, &replicated, &logs.path().join("b.log")).await?;
        for server in [&a, &b] {
            server.replica_up().await?;
        }
        let bases = vec![a.base_url.clone(), b.base_url.clone()];
        for workload in &workloads {
            let run = measure(workload, &bases, &inputs, concurrency, span, &primary, &standby).await?;
            report.push(("2 instances, PgBouncer + standby", workload.name(), run));
        }
        check_metrics(&a.base_url).await;
    }

    println!();
    println!(
        "{} s per run, {concurrency} concurrent clients, demo data ({scale}), binary {}",
        seconds,
        binary.display()
    );
    println!(
        "statements: pg_stat_statements calls, without transaction control, SET, DEALLOCATE and the replica lag checks"
    );
    println!(
        "{:<34} {:<20} {:>8} {:>6} {:>8} {:>8} {:>8} {:>16} {:>16}",
        "configuration",
        "workload",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p99 ms",
        "primary stmts",
        "standby stmts"
    );
    for (configuration, workload, run) in &report {
        let total = (run.primary + run.standby).max(1) as f64;
        println!(
            "{:<34} {:<20} {:>8} {:>6} {:>8.1} {:>8.1} {:>8.1} {:>16} {:>16}",
            configuration,
            workload,
            run.latencies.len(),
            run.errors,
            run.latencies.len() as f64 / run.elapsed.as_secs_f64(),
            percentile(&run.latencies, 0.50),
            percentile(&run.latencies, 0.99),
            format!("{} ({:.0}%)", run.primary, 100.0 * run.primary as f64 / total),
            format!("{} ({:.0}%)", run.standby, 100.0 * run.standby as f64 / total),
        );
    }
    for (configuration, workload, run) in &report {
        if let Some(error) = &run.first_error {
            println!("first error, {configuration}, {workload}: {error}");
        }
    }
    drop((primary, standby));
    drop(topology);
    Ok(())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The README's dashboard query (its first `graphql` block).
fn insight_query() -> anyhow::Result<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))?;
    let block = readme
        .split("```graphql\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .filter(|block| block.contains("insights("))
        .context("the README's dashboard query")?;
    Ok(block.to_owned())
}

/// The servers of `topology.sh`; `stop` (and its directory) on drop.
struct Topology {
    dir: String,
    primary_port: u16,
    standby_port: u16,
    bouncer_port: u16,
}

impl Topology {
    fn start() -> anyhow::Result<Topology> {
        let dir = std::env::temp_dir().join(format!("accord-scaleout-{}", std::process::id()));
        let topology = Topology {
            dir: dir.to_string_lossy().into_owned(),
            primary_port: free_port()?,
            standby_port: free_port()?,
            bouncer_port: free_port()?,
        };
        // Owned before it starts, so that a failed start is still stopped.
        let ports = [topology.primary_port, topology.standby_port, topology.bouncer_port].map(|port| port.to_string());
        let status = Command::new("bash")
            .arg(SCRIPT)
            .args(["start", &topology.dir, &ports[0], &ports[1], &ports[2]])
            .stdin(Stdio::null())
            .status()
            .context("bash runs the topology script")?;
        if !status.success() {
            bail!("topology.sh start failed");
        }
        Ok(topology)
    }

    fn url(&self, port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/accord")
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        Command::new("bash").arg(SCRIPT).args(["stop", &self.dir]).status().ok();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits (at most 120 s) until the standby has replayed what the primary
/// has written so far.
async fn caught_up(primary: &DatabaseConnection, standby: &DatabaseConnection) -> anyhow::Result<()> {
    let lsn: String = one(primary, "SELECT pg_current_wal_lsn()::text AS v").await?;
    let check = format!("SELECT (pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn)::text AS v");
    for _ in 0..1200 {
        if one::<String>(standby, &check).await? == "true" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the standby did not replay the seed within 120 s");
}

async fn one<T: sea_orm::TryGetable>(db: &DatabaseConnection, sql: &str) -> anyhow::Result<T> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .context("one row")?;
    Ok(row.try_get("", "v")?)
}

async fn account_ids(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    use base64::Engine as _;
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id FROM account ORDER BY id",
        ))
        .await?;
    let mut ids = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        ids.push(base64::engine::general_purpose::STANDARD.encode(format!("Account:{id}")));
    }
    Ok(ids)
}

/// Statements a server ran since its last reset, leaving out transaction
/// control and session statements (the pooler's `BEGIN`/`COMMIT`,
/// `SET LOCAL`, PgBouncer's `DEALLOCATE ALL`), the replica lag monitor's
/// (`pg_current_wal_lsn()` on the primary, `pg_last_wal_replay_lsn()` on
/// the standby, once a `ACCORD_REPLICA_CHECK_MS` per instance) and the
/// bench's own.
const WORK_STATEMENTS: &str = "SELECT COALESCE(SUM(calls), 0)::bigint AS v FROM pg_stat_statements \
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'accord') \
    AND query !~* '^\\s*(BEGIN|COMMIT|ROLLBACK|START|SET|RESET|DEALLOCATE|DISCARD|SHOW)\\M' \
    AND query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%pg_last_wal_replay_lsn%' \
    AND query NOT ILIKE '%pg_current_wal_lsn%'";

/// The most frequent of [`WORK_STATEMENTS`] (`ACCORD_BENCH_VERBOSE`).
const TOP_STATEMENTS: &str = "SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements \
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'accord') \
    AND query !~* '^\\s*(BEGIN|COMMIT|ROLLBACK|START|SET|RESET|DEALLOCATE|DISCARD|SHOW)\\M' \
    AND query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%pg_last_wal_replay_lsn%' \
    AND query NOT ILIKE '%pg_current_wal_lsn%' \
    ORDER BY calls DESC LIMIT 6";

/// One `accord serve` process; killed on drop.
struct Server {
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl Server {
    async fn start(
        binary: &Path,
        database_url: &str,
        common: &[&str],
        options: &[&str],
        log: &Path,
    ) -> anyhow::Result<Server> {
        let port = free_port()?;
        let child = Command::new(binary)
            .args(["serve", "--insecure-no-auth", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .args(common)
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(log)?)
            .spawn()
            .context("starting accord serve")?;
        // Owned from here on, so that a failed start still kills it.
        let server = Server {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if client
                .get(format!("{}/readyz", server.base_url))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success())
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("accord serve never became ready; its log:\n{}", server.log_text())
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (at most 10 s) until `/readyz` says the replica is up.
    async fn replica_up(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let mut ready = String::new();
        for _ in 0..100 {
            ready = client
                .get(format!("{}/readyz", self.base_url))
                .send()
                .await?
                .text()
                .await?;
            if ready.contains("replica: up") {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{}: /readyz never said the replica is up: {ready}", self.base_url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

enum Workload {
    AccountContext,
    DashboardList,
    DashboardInsights(String),
}

impl Workload {
    fn name(&self) -> &'static str {
        match self {
            Workload::AccountContext => "account context",
            Workload::DashboardList => "dashboard list",
            Workload::DashboardInsights(_) => "dashboard insights",
        }
    }

    /// The `n`th request's body.
    fn request(&self, inputs: &Inputs, n: usize) -> Value {
        match self {
            Workload::AccountContext => json!({
                "query": ACCOUNT_CONTEXT,
                "variables": { "account": inputs.accounts[n % inputs.accounts.len()] },
            }),
            Workload::DashboardList => json!({
                "query": DASHBOARD_LIST,
                "variables": { "region": REGIONS[n % REGIONS.len()] },
            }),
            Workload::DashboardInsights(query) => json!({ "query": query }),
        }
    }
}

struct Inputs {
    accounts: Vec<String>,
}

struct Run {
    latencies: Vec<f64>,
    errors: u64,
    elapsed: Duration,
    first_error: Option<String>,
    primary: i64,
    standby: i64,
}

/// A warm-up, a statement-count reset on both servers, then `concurrency`
/// clients sending `workload` for `span`, the `n`th request of the run to
/// `bases[n % bases.len()]`.
async fn measure(
    workload: &Workload,
    bases: &[String],
    inputs: &Arc<Inputs>,
    concurrency: usize,
    span: Duration,
    primary: &DatabaseConnection,
    standby: &DatabaseConnection,
) -> anyhow::Result<Run> {
    println!(
        "{} instance(s), {}: {} s …",
        bases.len(),
        workload.name(),
        span.as_secs()
    );
    load(workload, bases, inputs, concurrency, WARM_UP).await;
    for server in [primary, standby] {
        server.execute_unprepared("SELECT pg_stat_statements_reset()").await?;
    }
    let started = Instant::now();
    let (latencies, errors, first_error) = load(workload, bases, inputs, concurrency, span).await;
    let elapsed = started.elapsed();
    if std::env::var_os("ACCORD_BENCH_VERBOSE").is_some() {
        for (name, server) in [("primary", primary), ("standby", standby)] {
            for row in server
                .query_all_raw(Statement::from_string(DbBackend::Postgres, TOP_STATEMENTS))
                .await?
            {
                let calls: i64 = row.try_get("", "calls")?;
                let query: String = row.try_get("", "query")?;
                println!("  {name} {calls:>7}  {query}");
            }
        }
    }
    Ok(Run {
        latencies,
        errors,
        elapsed,
        first_error,
        primary: one(primary, WORK_STATEMENTS).await?,
        standby: one(standby, WORK_STATEMENTS).await?,
    })
}

async fn load(
    workload: &Workload,
    bases: &[String],
    inputs: &Arc<Inputs>,
    concurrency: usize,
    span: Duration,
) -> (Vec<f64>, u64, Option<String>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_default();
    let next = Arc::new(AtomicUsize::new(0));
    let end = Instant::now() + span;
    let bodies: Arc<Vec<Value>> = Arc::new((0..1024).map(|n| workload.request(inputs, n)).collect());
    let clients = (0..concurrency).map(|_| {
        let (client, next, bodies) = (client.clone(), next.clone(), bodies.clone());
        let urls: Vec<String> = bases.iter().map(|base| format!("{base}/graphql")).collect();
        tokio::spawn(async move {
            let (mut latencies, mut errors, mut first_error) = (Vec::new(), 0, None);
            while Instant::now() < end {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                let outcome = match client
                    .post(&urls[n % urls.len()])
                    .json(&bodies[n % bodies.len()])
                    .send()
                    .await
                {
                    Ok(response) => {
                        let status = response.status();
                        match response.json::<Value>().await {
                            Ok(body) if status.is_success() && body.get("errors").is_none() => Ok(()),
                            Ok(body) => Err(format!("{status}: {}", body["errors"][0])),
                            Err(error) => Err(format!("{status}: {error}")),
                        }
                    }
                    Err(error) => Err(error.without_url().to_string()),
                };
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                if let Err(error) = outcome {
                    errors += 1;
                    first_error.get_or_insert(error);
                }
            }
            (latencies, errors, first_error)
        })
    });
    let (mut latencies, mut errors, mut first_error) = (Vec::new(), 0, None);
    for (some, failed, error) in futures::future::join_all(clients).await.into_iter().flatten() {
        latencies.extend(some);
        errors += failed;
        if first_error.is_none() {
            first_error = error;
        }
    }
    latencies.sort_by(f64::total_cmp);
    (latencies, errors, first_error)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// `promtool check metrics` on an instance's `/metrics`, when promtool is
/// on the PATH.
async fn check_metrics(base_url: &str) {
    let metrics = match reqwest::get(format!("{base_url}/metrics")).await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(error) => {
            println!("promtool: /metrics did not answer: {error}");
            return;
        }
    };
    let families = metrics
        .lines()
        .filter(|line| line.starts_with("# TYPE accord_db_replica"))
        .count();
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        println!("promtool not found: /metrics not checked");
        return;
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write as _;
        stdin.write_all(metrics.as_bytes()).ok();
    }
    match child.wait_with_output() {
        Ok(output) => {
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            if output.status.success() && said.trim().is_empty() {
                println!(
                    "promtool check metrics: no problems ({} lines, {families} replica families)",
                    metrics.lines().count()
                );
            } else {
                println!("promtool check metrics ({}):\n{}", output.status, said.trim_end());
            }
        }
        Err(error) => println!("promtool did not run: {error}"),
    }
}
