//! Other clients' latency while one key abuses the server (issue 11's
//! "Done means"). The real server, in process, on the demo data, with API
//! keys required and the default limits. Well-behaved clients (four
//! SALES keys, each paced at 10 requests a second, alternating a
//! customer page and an NPS insight) are timed twice for the same span:
//! alone, then while one attacker (its own keys, from another loopback
//! address) sends, as fast as it can, fragment bombs, aliased and nested
//! queries over the cost limit, the heaviest insight the limits allow,
//! strict uploads that send one line and go silent, WebSocket connections
//! filled with subscriptions, and random keys. Prints p50/p99 of both runs
//! and what the attacker got back; asserts nothing about time.
//!
//! ```sh
//! cargo bench --bench abuse
//! ACCORD_BENCH_SECONDS=30 ACCORD_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench abuse
//! ```
//! With a PostgreSQL URL it creates (and finally drops) a database
//! `accord_bench_abuse`; otherwise it uses a scratch SQLite file.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use accord::app::Application;
use accord::auth::{Authenticator, keys};
use accord::config::{ApiConfig, DatabaseConfig};
use accord::demo::{DemoSpec, Scale};
use accord::ingest::{Atomicity, Ingestor};
use entity::enums::Role;
use futures::{SinkExt as _, StreamExt as _};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::json;

#[path = "../tests/it/attacks.rs"]
mod attacks;

const DATABASE: &str = "accord_bench_abuse";
const VICTIMS: usize = 4;
const VICTIM_INTERVAL: Duration = Duration::from_millis(100);
const ATTACKERS: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("ACCORD_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let scratch = tempfile::tempdir()?;
    let (url, admin) = match std::env::var("ACCORD_BENCH_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let admin = Database::connect(&admin_url).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
                .await?;
            admin.execute_unprepared(&format!("CREATE DATABASE {DATABASE}")).await?;
            let Some((base, _)) = admin_url.rsplit_once('/') else {
                anyhow::bail!("cannot place a database in {admin_url}");
            };
            (format!("{base}/{DATABASE}"), Some(admin))
        }
        _ => (
            format!("sqlite://{}?mode=rwc", scratch.path().join("abuse.db").display()),
            None,
        ),
    };
    let db = accord::db::connect(&DatabaseConfig {
        url: url.clone(),
        max_connections: 10,
        statement_timeout_ms: 30_000,
    })
    .await?;
    accord::db::migrate(&db).await?;
    seed(&db).await?;

    let api = ApiConfig::default();
    let auth = Authenticator::new(db.clone(), true, None);
    let app = Application::build_with_auth("127.0.0.1:0", db.clone(), api, auth).await?;
    let address = app.local_addr()?;
    tokio::spawn(app.run_until(std::future::pending()));
    let base = format!("http://{address}");

    let mut victims = Vec::new();
    for i in 0..VICTIMS {
        victims.push(keys::create(&db, Role::Sales, &format!("victim {i}")).await?.secret);
    }
    let attacker = keys::create(&db, Role::Dashboard, "attacker").await?.secret;
    let uploader = keys::create(&db, Role::Ingest, "attacker uploads").await?.secret;
    let span = Duration::from_secs(seconds);
    let backend = if admin.is_some() { "PostgreSQL" } else { "SQLite" };
    println!("{backend}, demo data, {VICTIMS} clients at 10 requests/s each, {seconds} s per run");

    let alone = victim_load(&base, &victims, span).await;
    let outcomes = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let attack = {
        let attack = Attack {
            base: base.clone(),
            ws: format!("ws://{address}/graphql/ws"),
            key: attacker,
            uploader,
            outcomes: outcomes.clone(),
        };
        tokio::spawn(async move { attack.run(span + Duration::from_secs(2)).await })
    };
    // The attack has its upload and WebSocket places by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked = victim_load(&base, &victims, span).await;
    attack.await?;

    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9}",
        "well-behaved clients", "requests", "failed", "p50 ms", "p99 ms"
    );
    for (name, run) in [("alone", &alone), ("while one key attacks", &attacked)] {
        println!(
            "{:<28} {:>9} {:>9} {:>9.1} {:>9.1}",
            name,
            run.latencies.len(),
            run.failed,
            percentile(&run.latencies, 0.50),
            percentile(&run.latencies, 0.99)
        );
    }
    println!(
        "p99 under attack / alone: {:.2}x",
        percentile(&attacked.latencies, 0.99) / percentile(&alone.latencies, 0.99)
    );
    println!("what the attacker got back:");
    for (outcome, count) in outcomes.lock().map(|o| o.clone()).unwrap_or_default() {
        println!("  {count:>7}  {outcome}");
    }

    db.close().await.ok();
    if let Some(admin) = admin {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

async fn seed(db: &DatabaseConnection) -> anyhow::Result<()> {
    let mut ingestor = Ingestor::begin(db.clone(), Atomicity::PerBatch, "USD").await?;
    accord::demo::generate(
        DemoSpec {
            scale: Scale::Small,
            seed: 42,
            last_day: None,
        },
        &mut ingestor,
        false,
    )
    .await?;
    ingestor.finish().await?;
    Ok(())
}

struct Run {
    latencies: Vec<f64>,
    failed: u64,
}

/// Each client paced at one request per [`VICTIM_INTERVAL`] for `span`.
async fn victim_load(base: &str, keys: &[String], span: Duration) -> Run {
    let queries = [
        "{ customers(first: 20) { nodes { id region firstSeenAt } } }",
        "{ insights { nps { overall { n nps ciLow ciHigh } } } }",
    ];
    let clients = keys.iter().cloned().map(|key| {
        let base = base.to_owned();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut ticks = tokio::time::interval(VICTIM_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let end = Instant::now() + span;
            let (mut latencies, mut failed, mut i) = (Vec::new(), 0, 0);
            while Instant::now() < end {
                ticks.tick().await;
                let started = Instant::now();
                let response = client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&key)
                    .json(&json!({ "query": queries[i % queries.len()] }))
                    .send()
                    .await;
                let failure = match response {
                    Ok(response) => {
                        let status = response.status();
                        match response.json::<serde_json::Value>().await {
                            Ok(body) if status.is_success() && body.get("errors").is_none() => None,
                            Ok(body) => Some(format!("{status}: {}", body["errors"][0]["message"])),
                            Err(error) => Some(format!("{status}: {error}")),
                        }
                    }
                    Err(error) => Some(error.without_url().to_string()),
                };
                let ok = failure.is_none();
                if let Some(failure) = failure
                    && failed == 0
                {
                    eprintln!("a well-behaved request failed: {failure}");
                }
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                failed += u64::from(!ok);
                i += 1;
            }
            (latencies, failed)
        })
    });
    let mut run = Run {
        latencies: Vec::new(),
        failed: 0,
    };
    for (latencies, failed) in futures::future::join_all(clients).await.into_iter().flatten() {
        run.latencies.extend(latencies);
        run.failed += failed;
    }
    run.latencies.sort_by(f64::total_cmp);
    run
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[derive(Clone)]
struct Attack {
    base: String,
    ws: String,
    key: String,
    uploader: String,
    outcomes: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Attack {
    async fn run(self, span: Duration) {
        let end = Instant::now() + span;
        let mut tasks = Vec::new();
        for worker in 0..ATTACKERS {
            let attack = self.clone();
            tasks.push(tokio::spawn(async move { attack.requests(worker, end).await }));
        }
        for _ in 0..10 {
            let attack = self.clone();
            tasks.push(tokio::spawn(async move { attack.idle_uploads(end).await }));
        }
        for _ in 0..25 {
            let attack = self.clone();
            tasks.push(tokio::spawn(async move { attack.subscriptions(end).await }));
        }
        futures::future::join_all(tasks).await;
    }

    fn note(&self, outcome: String) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            *outcomes.entry(outcome).or_default() += 1;
        }
    }

    /// A client bound to 127.0.0.2: the attacker's own address.
    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
            .build()
            .unwrap_or_default()
    }

    async fn requests(&self, worker: usize, end: Instant) {
        let client = Self::client();
        let abusive = [
            ("fragment bomb", attacks::fragment_bomb(10), Some(&self.key)),
            (
                "300 aliased attributions",
                format!(
                    "{{ insights {{ {} }} }}",
                    (0..300)
                        .map(|i| format!("a{i}: attribution {{ conversions }}"))
                        .collect::<String>()
                ),
                Some(&self.key),
            ),
            (
                "nested lists over the cost limit",
                "{ accounts(first: 20) { nodes { touchpointsByTeam(perTeam: 100) { touchpoints { customer { \
                 orders(first: 100) { nodes { lines { product { name } } } } } } } } } }"
                    .to_owned(),
                Some(&self.key),
            ),
            (
                "the heaviest allowed insight",
                "{ insights { attribution(conversion: WON_LEAD) { conversions models { model byTeam { key creditMinor } } } } }".to_owned(),
                Some(&self.key),
            ),
            ("a random key", "{ __typename }".to_owned(), None),
        ];
        let mut i = worker;
        while Instant::now() < end {
            let (name, query, key) = &abusive[i % abusive.len()];
            i += 1;
            let key = key
                .cloned()
                .unwrap_or_else(|| format!("{}{:032x}", keys::PREFIX, rand_like(i)));
            let response = client
                .post(format!("{}/graphql", self.base))
                .bearer_auth(&key)
                .json(&json!({ "query": query }))
                .send()
                .await;
            let outcome = match response {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body: serde_json::Value = response.json().await.unwrap_or_default();
                    let code = body["errors"][0]["extensions"]["code"]
                        .as_str()
                        .unwrap_or("ok")
                        .to_owned();
                    format!("{name}: {status} {code}")
                }
                Err(error) => format!("{name}: {}", error.without_url()),
            };
            self.note(outcome);
        }
    }

    /// A strict upload that sends one line and then nothing, again and
    /// again: each is cut off by the read timeout.
    async fn idle_uploads(&self, end: Instant) {
        let client = Self::client();
        while Instant::now() < end {
            let (sender, body) = futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
            let line = br#"{"externalId":"IDLE","email":"idle@example.com","name":"Idle","region":"UK","country":"GB","acquisitionChannel":"direct","firstSeenAt":"2025-01-01T00:00:00Z"}"#;
            sender.unbounded_send(Ok([&line[..], b"\n"].concat())).ok();
            let request = client
                .post(format!("{}/ingest/customers?strict=true", self.base))
                .bearer_auth(&self.uploader)
                .header("content-type", "application/x-ndjson")
                .header("connection", "close")
                .body(reqwest::Body::wrap_stream(body));
            let left = end.saturating_duration_since(Instant::now());
            let outcome = match tokio::time::timeout(left, request.send()).await {
                Ok(Ok(response)) => format!("idle strict upload: {}", response.status().as_u16()),
                Ok(Err(error)) => format!("idle strict upload: {}", error.without_url()),
                Err(_) => "idle strict upload: still open at the end".to_owned(),
            };
            drop(sender);
            self.note(outcome);
        }
    }

    /// A WebSocket connection filled with subscriptions, held to the end.
    async fn subscriptions(&self, end: Instant) {
        let request =
            match tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(self.ws.as_str()) {
                Ok(mut request) => {
                    request.headers_mut().insert(
                        "sec-websocket-protocol",
                        "graphql-transport-ws".parse().expect("a header value"),
                    );
                    request
                }
                Err(_) => return,
            };
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
            self.note("websocket: connection refused".to_owned());
            return;
        };
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", self.key) } });
        if socket.send(init.to_string().into()).await.is_err() {
            return;
        }
        for id in 0..3000 {
            let subscribe = json!({
                "id": id.to_string(),
                "type": "subscribe",
                "payload": { "query": "subscription { touchpointRecorded(customerId: \"Q3VzdG9tZXI6MQ==\") { id } }" },
            });
            if socket.send(subscribe.to_string().into()).await.is_err() {
                break;
            }
        }
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, socket.next()).await {
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) => {
                    let message: serde_json::Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                    let code = message["payload"][0]["extensions"]["code"].as_str().unwrap_or("");
                    self.note(format!("websocket: {} {code}", message["type"].as_str().unwrap_or("?")));
                }
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame)))) => {
                    let code = frame.map(|frame| u16::from(frame.code)).unwrap_or_default();
                    self.note(format!("websocket: closed {code}"));
                    return;
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) | Err(_) => return,
            }
        }
    }
}

/// A different made-up key per call: no cache can answer it.
fn rand_like(salt: usize) -> u128 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    nanos ^ ((salt as u128) << 100)
}
