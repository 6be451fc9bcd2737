//! What one client may hold of the server (issue 11): an idle upload is
//! stopped, strict loads hold only their share of the pool, insights only
//! theirs, refused credentials are rate limited per address, key checks
//! write `last_used_at` at most once a minute, and PostgreSQL cancels a
//! statement that outlives its budget.

use std::time::Duration;

use accord::auth::keys;
use accord::config::{ApiConfig, DatabaseConfig};
use entity::api_key;
use entity::enums::Role;
use futures::channel::mpsc;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::records::{customer, ndjson};

on_both_backends!(
    an_idle_upload_is_stopped_after_the_read_timeout with with_short_read_timeout,
    strict_loads_hold_only_their_share_of_the_pool with with_one_strict_place,
    a_strict_load_locks_nothing_before_its_first_batch,
    insights_hold_only_their_share_of_the_pool with with_one_insight_place,
    a_clients_insights_wait_for_its_own_place_first with with_one_insight_place,
    a_series_holds_a_place_for_each_statement_it_runs_at_once with with_two_insight_places,
    a_series_runs_with_one_place_when_the_gate_has_only_one with with_one_insight_place,
    refused_credentials_get_429_with_retry_after_per_address with with_few_auth_failures,
    key_checks_write_last_used_at_once_a_minute,
    postgres_cancels_a_statement_past_its_timeout
);

fn with_short_read_timeout() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.ingest_read_timeout_ms = 300;
    config
}

/// The test pool has 5 connections: 20 % is one place.
fn with_one_strict_place() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.strict_load_share = 20;
    config
}

fn with_one_insight_place() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.insight_concurrency = 20;
    config.limits.insight_wait_ms = 0;
    config
}

/// 40 % of the test pool's 5 connections.
fn with_two_insight_places() -> ApiConfig {
    let mut config = with_one_insight_place();
    config.limits.insight_concurrency = 40;
    config
}

pub(crate) fn with_few_auth_failures() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.auth_failures_per_minute = 2;
    config
}

type Chunks = mpsc::UnboundedSender<Result<Vec<u8>, std::io::Error>>;

/// Starts a bulk upload whose body is sent as the test pushes lines into
/// the returned sender (and ends when it is dropped); the task answers
/// the status, `Retry-After` and JSON body.
fn streamed_upload(app: &TestApp, query: &str) -> (Chunks, tokio::task::JoinHandle<(u16, Option<String>, Value)>) {
    let (sender, body) = mpsc::unbounded();
    let request = app
        .client
        .post(format!("{}/ingest/customers{query}", app.base_url))
        .header("content-type", "application/x-ndjson")
        // The server closes a connection whose upload it cut short; without
        // this the client could pool it and send the next request into the
        // closed socket (a broken pipe seen on CI).
        .header("connection", "close")
        .body(reqwest::Body::wrap_stream(body));
    let response = tokio::spawn(async move { answer(request).await });
    (sender, response)
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (status, retry_after, response.json().await.unwrap_or(Value::Null))
}

fn line(id: &str) -> Result<Vec<u8>, std::io::Error> {
    Ok(ndjson(&[customer(id, &format!("{id}@example.com"), None)]).into_bytes())
}

async fn customers(app: &TestApp) -> i64 {
    app.data("{ customers { totalCount } }", json!({})).await["customers"]["totalCount"]
        .as_i64()
        .expect("a count")
}

async fn an_idle_upload_is_stopped_after_the_read_timeout(app: TestApp) {
    for (query, written) in [("?strict=true", 0), ("", 1)] {
        let (sender, response) = streamed_upload(&app, query);
        sender.unbounded_send(line(&format!("C-{written}"))).expect("sent");
        // One line, then silence: the server stops waiting after 300 ms.
        let (status, _, body) = tokio::time::timeout(Duration::from_secs(20), response)
            .await
            .expect("answered while the client still holds the body open")
            .expect("the request task");
        assert_eq!(status, 408, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("nothing arrived for 300 ms"), "{message}");
        drop(sender);
        assert_eq!(customers(&app).await, written, "{query}: {message}");
    }
}

async fn strict_loads_hold_only_their_share_of_the_pool(app: TestApp) {
    let (mut sender, mut held) = streamed_upload(&app, "?strict=true&batchSize=1");
    sender.unbounded_send(line("HELD-1")).expect("sent");
    // Once the held load has its place, another strict load is refused at
    // once; until then it may still get through (and the held one, arriving
    // second, is the one refused: it is started again).
    let mut refused = None;
    for attempt in 0..100 {
        if held.is_finished() {
            let (status, _, body) = held.await.expect("the request task");
            assert_eq!(status, 503, "the held load ended early: {body}");
            (sender, held) = streamed_upload(&app, "?strict=true&batchSize=1");
            sender.unbounded_send(line("HELD-1")).expect("sent");
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let request = app
            .client
            .post(format!("{}/ingest/customers?strict=true", app.base_url))
            .header("content-type", "application/x-ndjson")
            .body(ndjson(&[customer(
                &format!("B-{attempt}"),
                &format!("b{attempt}@example.com"),
                None,
            )]));
        let (status, retry_after, body) = answer(request).await;
        if status == 503 {
            refused = Some((retry_after, body));
            break;
        }
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (retry_after, body) = refused.expect("a second strict load is refused while the first holds its place");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{body}");
    assert!(
        retry_after.is_some_and(|seconds| seconds.parse::<u64>().is_ok()),
        "{body}"
    );
    // Everyone else is served meanwhile.
    let ready = app
        .client
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(ready.status(), 200);
    assert!(customers(&app).await >= 0);
    // The held load finishes and commits everything it sent.
    sender.unbounded_send(line("HELD-2")).expect("sent");
    drop(sender);
    let (status, _, body) = held.await.expect("the request task");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["written"], 2, "{body}");
    let held_rows = app
        .data(
            r#"{ a: customer(externalId: "HELD-1") { id } b: customer(externalId: "HELD-2") { id } }"#,
            json!({}),
        )
        .await;
    assert!(
        held_rows["a"]["id"].is_string() && held_rows["b"]["id"].is_string(),
        "{held_rows}"
    );
}

/// A strict upload that has sent less than a batch holds no write
/// transaction: on SQLite one would lock out every other writer until the
/// upload ended or timed out.
async fn a_strict_load_locks_nothing_before_its_first_batch(app: TestApp) {
    let (sender, held) = streamed_upload(&app, "?strict=true");
    sender.unbounded_send(line("SLOW-1")).expect("sent");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let request = app
        .client
        .post(format!("{}/ingest/customers", app.base_url))
        .header("content-type", "application/x-ndjson")
        .body(ndjson(&[customer("OTHER-1", "other1@example.com", None)]));
    let (status, _, body) = answer(request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["written"], 1, "{body}");
    assert!(
        !held.is_finished(),
        "the other write waited for the strict upload to end"
    );
    // The strict upload then commits what it sent.
    sender.unbounded_send(line("SLOW-2")).expect("sent");
    drop(sender);
    let (status, _, body) = held.await.expect("the request task");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["written"], 2, "{body}");
    assert_eq!(customers(&app).await, 3);
}

async fn insights_hold_only_their_share_of_the_pool(app: TestApp) {
    // One place and no wait: of twenty insights resolved side by side, those
    // that find the place taken fail with LIMIT_EXCEEDED instead of queueing
    // for connections.
    let aliases: String = (0..20)
        .map(|i| format!(" a{i}: insights {{ repeatPurchase {{ customersWithOrders }} }}"))
        .collect();
    let (status, body) = app.post(&format!("{{{aliases} }}"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    assert!(!errors.is_empty(), "{body}");
    for error in &errors {
        assert_eq!(error["extensions"]["code"], "LIMIT_EXCEEDED", "{body}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains("waited 0 ms"), "{message}");
        assert_eq!(error["path"][1], "repeatPurchase", "{body}");
    }
    // One at a time, each is served.
    for alias in ["a", "b"] {
        let data = app
            .data(
                &format!("{{ {alias}: insights {{ repeatPurchase {{ customersWithOrders }} }} }}"),
                json!({}),
            )
            .await;
        assert!(data[alias]["repeatPurchase"].is_object(), "{data}");
    }
}

/// A series scans as `PARTS` statements side by side, each on a pooled
/// connection of its own, so it takes as many places: beside it, with two
/// places and no wait, the next insight finds none; two one-statement
/// insights fit.
async fn a_series_holds_a_place_for_each_statement_it_runs_at_once(app: TestApp) {
    assert_eq!(accord::db::customer_parts::PARTS, 2);
    let series = "series(metrics: [ORDERS], period: MONTH) { metric }";
    let (status, body) = app
        .post(
            &format!("{{ insights {{ {series} nps {{ overall {{ n }} }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // (`nps` is non-null: its error takes `insights` with it.)
    assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["insights", "nps"]), "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");

    let data = app
        .data(
            "{ insights { nps { overall { n } } repeatPurchase { customersWithOrders } } }",
            json!({}),
        )
        .await;
    assert!(data["insights"]["repeatPurchase"].is_object(), "{data}");
}

/// The gate never asks for more places than it has.
async fn a_series_runs_with_one_place_when_the_gate_has_only_one(app: TestApp) {
    let data = app
        .data(
            "{ insights { series(metrics: [ORDERS], period: MONTH) { metric } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["insights"]["series"][0]["metric"], "ORDERS", "{data}");
}

async fn a_clients_insights_wait_for_its_own_place_first(app: TestApp) {
    // The same twenty insights from one API key: the key holds one place at
    // a time (ACCORD_INSIGHT_CONCURRENCY_PER_CLIENT = 1), so they run one
    // after another, and each then finds the shared place free — none is
    // refused. Without the key (a server without authentication, above) they
    // race for the shared place and all but one are refused.
    let key = keys::create(&app.db, Role::Analyst, "dashboard").await.expect("key");
    let aliases: String = (0..20)
        .map(|i| format!(" a{i}: insights {{ repeatPurchase {{ customersWithOrders }} }}"))
        .collect();
    let (status, body) = app.post_as(&key.secret, &format!("{{{aliases} }}"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    for i in 0..20 {
        assert!(body["data"][format!("a{i}")]["repeatPurchase"].is_object(), "{body}");
    }
}

async fn refused_credentials_get_429_with_retry_after_per_address(app: TestApp) {
    for _ in 0..2 {
        let (status, body) = app.post_as("acc_not-a-key", "{ __typename }", json!({})).await;
        assert_eq!(status, 401, "{body}");
    }
    let statements = app.take_statement_count();
    let request = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .bearer_auth("acc_another-bad-key")
        .json(&json!({ "query": "{ __typename }" }));
    let (status, retry_after, body) = answer(request).await;
    assert_eq!(status, 429, "{body}");
    assert!(retry_after.is_some_and(|seconds| seconds.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))));
    assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{body}");
    // While blocked, credentials are not even looked up (a good one neither).
    let good = keys::create(&app.db, Role::Admin, "good").await.expect("key");
    app.take_statement_count();
    let (status, _) = app.post_as(&good.secret, "{ __typename }", json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(
        app.take_statement_count(),
        0,
        "after {statements} statements for the refusals"
    );
    // Requests without a credential still pass (probes, the console).
    let health = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
}

async fn last_used_at(app: &TestApp, id: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    api_key::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read")
        .and_then(|key| key.last_used_at)
}

async fn key_checks_write_last_used_at_once_a_minute(app: TestApp) {
    let created = keys::create(&app.db, Role::Analyst, "busy").await.expect("key");
    let (status, _) = app.post_as(&created.secret, "{ __typename }", json!({})).await;
    assert_eq!(status, 200);
    // Written in the background, not by the request.
    let mut first = None;
    for _ in 0..100 {
        first = last_used_at(&app, created.key.id).await;
        if first.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = first.expect("last_used_at written after the first use");
    for _ in 0..20 {
        let (status, _) = app.post_as(&created.secret, "{ __typename }", json!({})).await;
        assert_eq!(status, 200);
    }
    // Time for any write the requests would have started to land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(last_used_at(&app, created.key.id).await, Some(first), "written once");
}

async fn postgres_cancels_a_statement_past_its_timeout(app: TestApp) {
    if app.backend != Backend::Postgres {
        return;
    }
    let db = accord::db::connect(&DatabaseConfig {
        url: app.database_url.clone(),
        max_connections: 1,
        statement_timeout_ms: 200,
    })
    .await
    .expect("connect");
    let error = db
        .execute_unprepared("SELECT pg_sleep(5)")
        .await
        .expect_err("cancelled at 200 ms");
    assert!(error.to_string().contains("statement timeout"), "{error}");
    db.execute_unprepared("SELECT 1").await.expect("the connection goes on");
}
