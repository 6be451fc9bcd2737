//! Scale-out on one machine (opt-in: `ACCORD_TEST_TOPOLOGY=1`; `.ci/run`
//! runs it): a PostgreSQL primary, a `pg_basebackup -R` hot standby and a
//! PgBouncer in transaction pooling mode in front of the primary, all built
//! under a temporary directory by `tools/topology/topology.sh`, and two
//! `accord serve` processes writing through PgBouncer, reading from the
//! standby and LISTENing directly on the primary. Counts from
//! `pg_stat_statements` on each server say where statements ran.
//!
//! Everything the test starts is stopped by Drop guards, also when an
//! assertion fails.

use std::process::{Command, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::process::ServerProcess;
use crate::ws::WsClient;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/topology/topology.sh");

/// The servers of the topology; `stop` (and the directory) on drop.
struct Topology {
    dir: String,
    primary_port: u16,
    standby_port: u16,
    bouncer_port: u16,
}

impl Topology {
    fn start() -> Topology {
        let dir = std::env::temp_dir().join(format!("accord-topology-{}", std::process::id()));
        let topology = Topology {
            dir: dir.to_string_lossy().into_owned(),
            primary_port: free_port(),
            standby_port: free_port(),
            bouncer_port: free_port(),
        };
        // Owned before it starts, so that a failed start is still stopped.
        let ports = [topology.primary_port, topology.standby_port, topology.bouncer_port].map(|port| port.to_string());
        topology.run(&["start", &topology.dir, &ports[0], &ports[1], &ports[2]]);
        topology
    }

    fn run(&self, args: &[&str]) {
        let status = Command::new("bash")
            .arg(SCRIPT)
            .args(args)
            .stdin(Stdio::null())
            .status()
            .expect("bash runs the topology script");
        assert!(status.success(), "topology.sh {args:?} failed");
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Calls of statements whose text contains `pattern` on one server.
async fn calls(db: &DatabaseConnection, pattern: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COALESCE(SUM(calls), 0)::bigint AS calls FROM pg_stat_statements WHERE query ILIKE $1",
            [format!("%{pattern}%").into()],
        ))
        .await
        .expect("pg_stat_statements answers")
        .expect("one row");
    row.try_get("", "calls").expect("a count")
}

async fn reset_statements(db: &DatabaseConnection) {
    db.execute_unprepared("SELECT pg_stat_statements_reset()")
        .await
        .expect("reset");
}

/// A request with a bounded wait: a hung request fails the test.
async fn post(
    client: &reqwest::Client,
    base_url: &str,
    key: Option<&str>,
    query: &str,
) -> Result<(u16, Value), String> {
    let mut request = client
        .post(format!("{base_url}/graphql"))
        .timeout(Duration::from_secs(20))
        .json(&json!({ "query": query }));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.map_err(|error| format!("no answer: {error}"))?;
    let status = response.status().as_u16();
    let body = response
        .json::<Value>()
        .await
        .map_err(|error| format!("no JSON: {error}"))?;
    Ok((status, body))
}

const INSIGHT: &str = "{ insights { nps { overall { n nps } } } }";

fn upsert(external_id: &str) -> String {
    format!(
        "mutation {{ upsertCustomer(input: {{ externalId: \"{external_id}\", email: \"{external_id}@example.com\", name: \"T\", region: \"UK\", country: \"GB\", acquisitionChannel: \"direct\", firstSeenAt: \"2025-01-01T00:00:00Z\" }}) {{ id status }} }}"
    )
}

/// Waits (at most 5 s) until `/readyz` of `base_url` says `state`.
async fn replica_state(client: &reqwest::Client, base_url: &str, state: &str) {
    let mut ready = String::new();
    for _ in 0..50 {
        ready = client
            .get(format!("{base_url}/readyz"))
            .send()
            .await
            .expect("readyz")
            .text()
            .await
            .expect("text");
        if ready.contains(state) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never said {state:?}: {ready}");
}

/// Every error of a body carries a code.
fn errors_have_codes(body: &Value) -> bool {
    body["errors"].as_array().is_none_or(|errors| {
        errors.iter().all(|error| {
            error["extensions"]["code"]
                .as_str()
                .is_some_and(|code| !code.is_empty())
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_behind_pgbouncer_read_from_the_standby() {
    if std::env::var("ACCORD_TEST_TOPOLOGY").ok().as_deref() != Some("1") {
        eprintln!("skipped: set ACCORD_TEST_TOPOLOGY=1 to build the primary/standby/PgBouncer topology");
        return;
    }
    let topology = Topology::start();
    let primary_url = topology.url(topology.primary_port);
    let standby_url = topology.url(topology.standby_port);
    let bouncer_url = topology.url(topology.bouncer_port);
    let primary = Database::connect(&primary_url).await.expect("the primary");
    let standby = Database::connect(&standby_url).await.expect("the standby");
    accord::db::migrate(&primary).await.expect("migrated");
    let key = accord::auth::keys::create(&primary, entity::enums::Role::Admin, "topology")
        .await
        .expect("a key");

    let options = [
        "--db-pooler",
        "transaction",
        "--read-database-url",
        &standby_url,
        "--listen-database-url",
        &primary_url,
        "--replica-check-ms",
        "200",
        // The loads below send as fast as answers come (cached insights
        // come fast): the rate limit is not what this test is about.
        "--rate-limit-per-minute",
        "0",
        "--ws-key-check-ms",
        "500",
    ];
    let a = ServerProcess::start(&bouncer_url, &options, Stdio::null()).await;
    let b = ServerProcess::start(&bouncer_url, &options, Stdio::null()).await;
    let client = reqwest::Client::new();

    // Writes through A (and so through PgBouncer) reach the primary; the
    // standby replays them and serves them to B's queries.
    let (status, body) = post(&client, &a.base_url, None, &upsert("W1")).await.expect("answered");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["upsertCustomer"]["status"], "WRITTEN", "{body}");

    // Insight reads run on the standby, not the primary, once both
    // instances have seen it catch up (the lag is checked every 200 ms).
    for server in [&a, &b] {
        replica_state(&client, &server.base_url, "replica: up").await;
    }
    // "Up" allows some replay lag: wait until the standby has replayed the
    // write (and the migrations before it), or a read of a table it does not
    // have yet fails there and runs again on the primary.
    let replayed = Statement::from_string(DbBackend::Postgres, "SELECT 1 FROM customer WHERE external_id = 'W1'");
    for _ in 0..100 {
        if standby.query_one_raw(replayed.clone()).await.ok().flatten().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    reset_statements(&primary).await;
    reset_statements(&standby).await;
    for server in [&a, &b] {
        for _ in 0..5 {
            let (status, body) = post(&client, &server.base_url, None, INSIGHT).await.expect("answered");
            assert_eq!(status, 200, "{body}");
            assert!(body.get("errors").is_none(), "{body}");
        }
    }
    // Each instance computes the insight once and answers the rest from its
    // cache; every request reads the data version, on the standby too.
    let on_standby = calls(&standby, "survey_response").await;
    let on_primary = calls(&primary, "survey_response").await;
    assert_eq!(on_standby, 2, "insight statements on the standby");
    assert_eq!(on_primary, 0, "insight statements on the primary");
    let versions_on_standby = calls(&standby, "FROM data_version").await;
    assert!(
        versions_on_standby >= 10,
        "data version reads on the standby: {versions_on_standby}"
    );
    assert_eq!(
        calls(&primary, "FROM data_version").await,
        0,
        "data version reads on the primary"
    );
    // Writes run on the primary.
    let (status, body) = post(&client, &b.base_url, None, &upsert("W2")).await.expect("answered");
    assert_eq!(status, 200, "{body}");
    assert!(calls(&primary, "INSERT INTO \"customer\"").await >= 1);
    assert_eq!(calls(&standby, "INSERT INTO \"customer\"").await, 0);

    // A write through A reaches a subscriber on B (LISTEN/NOTIFY on the primary).
    let account = post(
        &client,
        &a.base_url,
        None,
        "mutation { upsertAccount(input: { externalId: \"AC1\", name: \"Acme\", kind: BUSINESS, region: \"UK\", tier: KEY, owner: \"o\" }) { id } }",
    )
    .await
    .expect("answered")
    .1["data"]["upsertAccount"]["id"]
        .clone();
    assert!(account.is_string(), "{account}");
    let customer = post(&client, &a.base_url, None, &upsert("SUB1"))
        .await
        .expect("answered")
        .1["data"]["upsertCustomer"]["id"]
        .clone();
    let mut ws = WsClient::connect(&b.base_url, json!({})).await;
    ws.subscribe(
        "touches",
        "subscription($c: ID!) { touchpointRecorded(customerId: $c) { externalId } }",
        json!({ "c": customer }),
    )
    .await;
    let mut heard = None;
    for attempt in 0..20 {
        let write = format!(
            "mutation {{ upsertTouchpoint(input: {{ externalId: \"T{attempt}\", customerExternalId: \"SUB1\", team: MARKETING, channel: \"email\", kind: CLICK, occurredAt: \"2025-02-01T00:00:00Z\" }}) {{ id }} }}"
        );
        let (status, body) = post(&client, &a.base_url, None, &write).await.expect("answered");
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        if let Some(message) = ws.next_within(Duration::from_millis(500)).await {
            heard = Some(message);
            break;
        }
    }
    let heard = heard.expect("B's subscriber heard a touchpoint written through A");
    assert!(
        heard["payload"]["data"]["touchpointRecorded"]["externalId"]
            .as_str()
            .is_some_and(|id| id.starts_with('T')),
        "{heard}"
    );

    // A key revoked (on the primary, as through any instance) stops working
    // on B within the documented delay: an instance trusts a key it verified
    // for `CACHE_SECONDS`, then asks the primary again; B closes the key's
    // WebSocket within the key-check delay (500 ms here).
    let (status, _) = post(&client, &b.base_url, Some(&key.secret), INSIGHT)
        .await
        .expect("answered");
    assert_eq!(status, 200);
    let mut keyed = WsClient::connect(
        &b.base_url,
        json!({ "Authorization": format!("Bearer {}", key.secret) }),
    )
    .await;
    accord::auth::keys::revoke(&primary, key.key.id).await.expect("revoked");
    let revoked_at = std::time::Instant::now();
    let delay = Duration::from_secs(accord::auth::CACHE_SECONDS);
    loop {
        let (status, body) = post(&client, &b.base_url, Some(&key.secret), INSIGHT)
            .await
            .expect("answered");
        if status == 401 {
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            revoked_at.elapsed() <= delay + Duration::from_secs(1),
            "B still accepts the revoked key after {:?}",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let closed = tokio::time::timeout(Duration::from_secs(5), keyed.closed()).await;
    assert_eq!(closed.expect("closed within 5 s").0, 4403);

    // The standby stops in the middle of a load: no request fails. Each
    // load runs until a second after the standby is down.
    let stopped = std::sync::Arc::new(tokio::sync::Notify::new());
    let load = |base_url: String| {
        let client = client.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut answered = 0;
            let until = stopped.notified();
            tokio::pin!(until);
            let mut ends = None;
            for _ in 0..2_000 {
                if ends.is_none() && futures::poll!(until.as_mut()).is_ready() {
                    ends = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                }
                if ends.is_some_and(|ends| tokio::time::Instant::now() > ends) {
                    break;
                }
                match post(&client, &base_url, None, INSIGHT).await {
                    Ok((200, body)) if body.get("errors").is_none() => answered += 1,
                    other => failures.push(format!("{other:?}")),
                }
            }
            (answered, failures)
        })
    };
    let loads = [load(a.base_url.clone()), load(b.base_url.clone())];
    tokio::time::sleep(Duration::from_millis(500)).await;
    topology.run(&["stop-standby", &topology.dir]);
    stopped.notify_waiters();
    for load in loads {
        let (answered, failures) = load.await.expect("the load ran");
        assert!(
            failures.is_empty(),
            "requests failed while the standby stopped: {failures:?}"
        );
        assert!(answered > 0);
    }
    replica_state(&client, &a.base_url, "replica: down").await;
    let metrics = client
        .get(format!("{}/metrics", a.base_url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("accord_db_replica_available 0"),
        "{}",
        metrics
            .lines()
            .filter(|line| line.contains("replica"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let fallbacks = metrics
        .lines()
        .find(|line| line.starts_with("accord_db_replica_fallbacks_total{reason=\"unavailable\"}"))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|count| count.parse::<u64>().ok())
        .expect("the fallback counter");
    assert!(fallbacks > 0, "{fallbacks}");

    // PgBouncer restarts while both instances serve writes: each request is
    // answered (none hangs), either done or failed with a code.
    let writes = |base_url: String, prefix: &'static str| {
        let client = client.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for n in 0..30 {
                outcomes.push(post(&client, &base_url, None, &upsert(&format!("{prefix}{n}"))).await);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            outcomes
        })
    };
    let runs = [writes(a.base_url.clone(), "RA"), writes(b.base_url.clone(), "RB")];
    tokio::time::sleep(Duration::from_millis(200)).await;
    topology.run(&["restart-bouncer", &topology.dir]);
    let mut written = 0;
    for run in runs {
        for outcome in run.await.expect("the writes ran") {
            let (status, body) = outcome.expect("every request is answered");
            assert!(errors_have_codes(&body), "{status} {body}");
            if body["data"]["upsertCustomer"]["status"] == "WRITTEN" {
                written += 1;
            }
        }
    }
    assert!(written > 0, "no write succeeded around the restart");
    // And after it, both serve as before.
    for server in [&a, &b] {
        let (status, body) = post(&client, &server.base_url, None, &upsert("AFTER"))
            .await
            .expect("answered");
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
    }
    drop((a, b));
}
