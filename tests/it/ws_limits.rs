//! WebSocket parity with HTTP (issue 11): the query limits, the body size
//! limit, the deadline and the rate limit apply to each operation; a
//! connection holds a bounded number of operations and a key a bounded
//! number of connections; a revoked key's subscriptions end; the key of
//! `connection_init` counts where credentials are not required; refused
//! credentials are rate limited per address.

use std::time::Duration;

use accord::auth::keys;
use accord::config::ApiConfig;
use entity::enums::Role;
use serde_json::{Value, json};

use crate::attacks::fragment_bomb;
use crate::budgets::with_few_auth_failures;
use crate::helpers::{TestApp, on_both_backends};
use crate::limits::{with_low_rate_limit, with_tiny_deadline};
use crate::ws::WsClient;

on_both_backends!(
    operations_have_the_query_and_size_limits_of_http,
    refusals_before_execution_are_error_messages,
    queries_have_the_request_deadline with with_tiny_deadline,
    operations_draw_on_the_rate_limit_of_their_key with with_low_rate_limit,
    operations_per_connection_and_connections_per_key_are_capped with with_few_places,
    a_revoked_key_ends_its_subscriptions with with_quick_key_checks,
    the_key_of_connection_init_counts_without_required_credentials,
    refused_credentials_close_with_4429_past_the_limit with with_few_auth_failures
);

fn with_few_places() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.ws_max_operations = 2;
    config.limits.ws_max_connections_per_key = 2;
    config
}

fn with_quick_key_checks() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.ws_key_check_ms = 100;
    config
}

/// A subscription that stays open and silent (no customer 1 is ever written).
const SILENT: &str = r#"subscription { touchpointRecorded(customerId: "Q3VzdG9tZXI6MQ==") { id } }"#;

async fn key(app: &TestApp, role: Role) -> (i64, Value) {
    let created = keys::create(&app.db, role, "ws").await.expect("key");
    (
        created.key.id,
        json!({ "Authorization": format!("Bearer {}", created.secret) }),
    )
}

/// The `next` message of operation `id` and its `complete`: the payload.
async fn answer(ws: &mut WsClient, id: &str) -> Value {
    let next = ws.next().await;
    assert_eq!(
        (next["type"].as_str(), next["id"].as_str()),
        (Some("next"), Some(id)),
        "{next}"
    );
    let complete = ws.next().await;
    assert_eq!(
        (complete["type"].as_str(), complete["id"].as_str()),
        (Some("complete"), Some(id)),
        "{complete}"
    );
    next["payload"].clone()
}

/// The `error` message graphql-transport-ws answers an operation refused
/// before it ran with (no `complete` follows): its errors, as `{"errors": …}`.
async fn refusal(ws: &mut WsClient, id: &str) -> Value {
    let error = ws.next().await;
    assert_eq!(
        (error["type"].as_str(), error["id"].as_str()),
        (Some("error"), Some(id)),
        "{error}"
    );
    let errors = &error["payload"];
    assert!(errors.as_array().is_some_and(|errors| !errors.is_empty()), "{error}");
    json!({ "errors": errors })
}

fn code(payload: &Value) -> &Value {
    &payload["errors"][0]["extensions"]["code"]
}

async fn operations_have_the_query_and_size_limits_of_http(app: TestApp) {
    let mut ws = WsClient::connect(&app.base_url, json!({})).await;
    ws.subscribe("bomb", &fragment_bomb(10), json!({})).await;
    let refused = refusal(&mut ws, "bomb").await;
    assert_eq!(code(&refused), "LIMIT_EXCEEDED", "{refused}");
    let deep = format!("{}{}", "{ f ".repeat(25), "}".repeat(25));
    ws.subscribe("deep", &deep, json!({})).await;
    let refused = refusal(&mut ws, "deep").await;
    assert_eq!(code(&refused), "LIMIT_EXCEEDED", "{refused}");
    let costly = (0..30)
        .map(|i| format!("a{i}: insights {{ attribution {{ totalConversions }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    app.take_statement_count();
    ws.subscribe("costly", &format!("{{ {costly} }}"), json!({})).await;
    let refused = refusal(&mut ws, "costly").await;
    assert_eq!(code(&refused), "LIMIT_EXCEEDED", "{refused}");
    assert_eq!(app.take_statement_count(), 0, "refused before running");
    // The connection goes on after a refusal.
    ws.subscribe("fine", "{ __typename }", json!({})).await;
    assert_eq!(answer(&mut ws, "fine").await["data"]["__typename"], "Query");

    // A 10 MB message is more than the 2 MiB body limit: it is not read,
    // and the connection closes with 1009 (Message Too Big).
    let huge = json!({
        "id": "huge", "type": "subscribe",
        "payload": { "query": format!("{{ __typename }} #{}", "x".repeat(10 * 1024 * 1024)) }
    });
    // The server refuses it from its header, so the rest of it may not be sent.
    ws.send_text(huge.to_string()).await;
    let (close, reason) = ws.closed().await;
    assert_eq!(close, 1009, "{reason}");
    let health = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
}

/// graphql-transport-ws: an operation that does not parse, validate or
/// pass the query limits is answered with `error` (the GraphQL errors,
/// with their codes) and no `complete`; one that ran, errors or not, with
/// `next` and `complete`.
async fn refusals_before_execution_are_error_messages(app: TestApp) {
    let mut ws = WsClient::connect(&app.base_url, json!({})).await;
    let deep = format!("{}{}", "{ f ".repeat(25), "}".repeat(25));
    let refusals = [
        ("unknown", "{ noSuchField }".to_owned(), "GRAPHQL_VALIDATION_FAILED"),
        ("unparsable", "{ customers(first: ".to_owned(), "GRAPHQL_PARSE_FAILED"),
        ("deep", deep, "LIMIT_EXCEEDED"),
        ("bomb", fragment_bomb(10), "LIMIT_EXCEEDED"),
    ];
    for (id, query, expected) in refusals {
        ws.subscribe(id, &query, json!({})).await;
        let refused = refusal(&mut ws, id).await;
        assert_eq!(code(&refused), expected, "{id}: {refused}");
        // No `complete` for it: the next message is the next operation's.
        ws.subscribe("after", "{ __typename }", json!({})).await;
        assert_eq!(
            answer(&mut ws, "after").await["data"]["__typename"],
            "Query",
            "after {id}"
        );
    }
    // An operation that ran and failed keeps `next` with its errors, then `complete`.
    ws.subscribe("failed", r#"{ node(id: "not-an-id") { id } }"#, json!({}))
        .await;
    let failed = answer(&mut ws, "failed").await;
    assert_eq!(code(&failed), "BAD_USER_INPUT", "{failed}");
    // A refused id can be used again.
    ws.subscribe("unknown", "{ __typename }", json!({})).await;
    assert_eq!(answer(&mut ws, "unknown").await["data"]["__typename"], "Query");
}

async fn queries_have_the_request_deadline(app: TestApp) {
    app.import_golden().await;
    // The deadline is 1 ms: a query over the fixture's orders cannot finish in time.
    let query = r#"{ insights(filter: { from: "2025-01-01", to: "2026-06-30" }) {
        repeatPurchase { customersWithOrders rate { rate } } churn(thresholdDays: 180) { churned }
        rfm { summary { customers } } } }"#;
    let mut ws = WsClient::connect(&app.base_url, json!({})).await;
    ws.subscribe("slow", query, json!({})).await;
    let stopped = answer(&mut ws, "slow").await;
    assert_eq!(code(&stopped), "LIMIT_EXCEEDED", "{stopped}");
    let message = stopped["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("deadline"), "{message}");
}

async fn operations_draw_on_the_rate_limit_of_their_key(app: TestApp) {
    let (_, init) = key(&app, Role::Analyst).await;
    let mut ws = WsClient::connect(&app.base_url, init.clone()).await;
    // A burst of 3, then one a minute, for the key over WebSocket and HTTP alike.
    for id in ["1", "2", "3"] {
        ws.subscribe(id, "{ __typename }", json!({})).await;
        assert_eq!(answer(&mut ws, id).await["data"]["__typename"], "Query");
    }
    ws.subscribe("4", "{ __typename }", json!({})).await;
    let refused = refusal(&mut ws, "4").await;
    assert_eq!(code(&refused), "LIMIT_EXCEEDED", "{refused}");
    let retry_after = refused["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .expect("retryAfter in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let secret = init["Authorization"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("Bearer ");
    let (status, body) = app.post_as(secret, "{ __typename }", json!({})).await;
    assert_eq!(status, 429, "the key's bucket is shared with HTTP: {body}");
}

async fn operations_per_connection_and_connections_per_key_are_capped(app: TestApp) {
    let (_, init) = key(&app, Role::Marketing).await;
    let mut first = WsClient::connect(&app.base_url, init.clone()).await;
    first.subscribe("a", SILENT, json!({})).await;
    first.subscribe("b", SILENT, json!({})).await;
    first.subscribe("c", SILENT, json!({})).await;
    let refused = refusal(&mut first, "c").await;
    assert_eq!(code(&refused), "LIMIT_EXCEEDED", "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("2 operations"), "{message}");
    // Completing one frees its place.
    first.send(json!({ "id": "a", "type": "complete" })).await;
    first.subscribe("d", "{ __typename }", json!({})).await;
    let mut answered = first.next().await;
    if answered["id"] == "a" {
        // Some servers confirm the client's complete.
        answered = first.next().await;
    }
    assert_eq!(answered["payload"]["data"]["__typename"], "Query", "{answered}");

    let second = WsClient::connect(&app.base_url, init.clone()).await;
    let (close, reason) = WsClient::refused(&app.base_url, init.clone()).await;
    assert_eq!(close, 4429, "{reason}");
    // Another key is not affected.
    let (_, other) = key(&app, Role::Marketing).await;
    let _other = WsClient::connect(&app.base_url, other).await;
    // A closed connection gives its place back.
    drop(second);
    let mut reopened = None;
    for _ in 0..50 {
        match WsClient::try_connect(&app.base_url, init.clone()).await {
            Ok(client) => {
                reopened = Some(client);
                break;
            }
            Err((4429, _)) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(other) => panic!("refused: {other:?}"),
        }
    }
    assert!(reopened.is_some(), "the place of the closed connection came back");
}

async fn a_revoked_key_ends_its_subscriptions(app: TestApp) {
    let (id, init) = key(&app, Role::Sales).await;
    let (_, kept) = key(&app, Role::Sales).await;
    let mut revoked = WsClient::connect(&app.base_url, init).await;
    revoked.subscribe("s", SILENT, json!({})).await;
    let mut other = WsClient::connect(&app.base_url, kept).await;
    other.subscribe("s", SILENT, json!({})).await;
    keys::revoke(&app.db, id).await.expect("revoked");
    let (close, reason) = revoked.closed().await;
    assert_eq!(close, 4403, "{reason}");
    assert!(reason.contains("revoked"), "{reason}");
    // The other key's connection is still served.
    other.subscribe("q", "{ __typename }", json!({})).await;
    assert_eq!(answer(&mut other, "q").await["data"]["__typename"], "Query");
}

/// A JWT's connection ends when the token does: its `exp` (plus the
/// leeway, none here) is checked with the key checks.
mod an_expired_token_ends_its_subscriptions {
    use crate::helpers::{Backend, postgres_url};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::an_expired_token_ends_its_subscriptions(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if postgres_url().is_none() {
            eprintln!("ACCORD_TEST_POSTGRES_URL is not set: PostgreSQL variant not run");
            return;
        }
        super::an_expired_token_ends_its_subscriptions(Backend::Postgres).await;
    }
}

async fn an_expired_token_ends_its_subscriptions(backend: crate::helpers::Backend) {
    const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";
    let jwt = accord::auth::jwt::JwtConfig {
        jwt_hs256_secret: Some(SECRET.to_owned()),
        jwt_leeway_seconds: 0,
        ..Default::default()
    };
    let verifier = accord::auth::jwt::JwtVerifier::from_config(&jwt)
        .expect("a valid JWT configuration")
        .expect("a verifier");
    let app = TestApp::spawn_with_jwt(backend, with_quick_key_checks(), verifier).await;
    let token = |seconds: i64| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &json!({ "role": "SALES", "sub": "rep-1", "exp": chrono::Utc::now().timestamp() + seconds }),
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("a token")
    };
    let mut short = WsClient::connect(
        &app.base_url,
        json!({ "Authorization": format!("Bearer {}", token(2)) }),
    )
    .await;
    short.subscribe("s", SILENT, json!({})).await;
    let mut long = WsClient::connect(
        &app.base_url,
        json!({ "Authorization": format!("Bearer {}", token(600)) }),
    )
    .await;
    long.subscribe("s", SILENT, json!({})).await;
    let (close, reason) = short.closed().await;
    assert_eq!(close, 4403, "{reason}");
    assert!(reason.contains("token expired"), "{reason}");
    // The connection whose token still holds is served.
    long.subscribe("q", "{ __typename }", json!({})).await;
    assert_eq!(answer(&mut long, "q").await["data"]["__typename"], "Query");
}

async fn the_key_of_connection_init_counts_without_required_credentials(app: TestApp) {
    // This server runs requests without a credential as ADMIN (as
    // `serve --demo` does); a key sent in connection_init is used for its role.
    let query = "{ accounts(first: 1) { totalCount } }";
    let mut anonymous = WsClient::connect(&app.base_url, json!({})).await;
    anonymous.subscribe("1", query, json!({})).await;
    assert_eq!(answer(&mut anonymous, "1").await["data"]["accounts"]["totalCount"], 0);
    let (_, dashboard) = key(&app, Role::Dashboard).await;
    let mut ws = WsClient::connect(&app.base_url, dashboard).await;
    ws.subscribe("1", query, json!({})).await;
    let refused = answer(&mut ws, "1").await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let (close, reason) = WsClient::refused(&app.base_url, json!({ "Authorization": "Bearer acc_not-a-key" })).await;
    assert_eq!(close, 4403, "{reason}");
}

async fn refused_credentials_close_with_4429_past_the_limit(app: TestApp) {
    let bad = json!({ "Authorization": "Bearer acc_not-a-key" });
    for _ in 0..2 {
        let (close, reason) = WsClient::refused(&app.base_url, bad.clone()).await;
        assert_eq!(close, 4403, "{reason}");
    }
    let (close, reason) = WsClient::refused(&app.base_url, bad.clone()).await;
    assert_eq!(close, 4429, "{reason}");
    assert!(reason.contains("retry after"), "{reason}");
    // Over HTTP too, from the same address, and even for a good key.
    let (_, good) = key(&app, Role::Admin).await;
    let secret = good["Authorization"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("Bearer ");
    let (status, body) = app.post_as(secret, "{ __typename }", json!({})).await;
    assert_eq!(status, 429, "{body}");
}
