//! Production limits: queries too deep, too wide or too costly are refused
//! before they run; batches, large bodies, slow requests and floods of
//! requests are refused with JSON errors; persisted queries; and two
//! conformance rules (every error has a code, a failed field is null).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use accord::config::ApiConfig;

use crate::attacks::fragment_bomb;
use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    deep_wide_and_costly_queries_are_refused_before_they_run,
    fragment_fan_out_is_refused_at_once_and_health_stays_up,
    expensive_fields_lists_and_aliases_add_up,
    introspection_is_off_unless_configured,
    introspection_works_where_configured with with_introspection,
    batches_and_large_bodies_are_refused,
    a_request_past_its_deadline_is_stopped with with_tiny_deadline,
    too_many_requests_get_429_with_retry_after with with_low_rate_limit,
    persisted_queries_register_and_run_over_post_and_get,
    argument_errors_are_bad_user_input_naming_the_argument,
    a_failed_field_is_null_in_data
);

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

fn with_introspection() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.introspection = true;
    config
}

pub(crate) fn with_tiny_deadline() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.request_timeout_ms = 1;
    config
}

pub(crate) fn with_low_rate_limit() -> ApiConfig {
    let mut config = ApiConfig::default();
    config.limits.rate_limit_per_minute = 1;
    config.limits.rate_limit_burst = 3;
    config
}

/// POSTs `body` as JSON accepting `accept`; the status and the JSON body.
async fn post_json(app: &TestApp, accept: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .header("accept", accept)
        .json(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["code"]
}

/// Asserts that `query` is refused with LIMIT_EXCEEDED, as a request error,
/// without a single SQL statement run.
async fn assert_refused_before_running(app: &TestApp, query: &str) -> Value {
    app.take_statement_count();
    let (status, body) = post_json(app, GRAPHQL_RESPONSE_JSON, &json!({ "query": query })).await;
    assert_eq!(status, 400, "{body:.300}");
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body:.300}");
    assert!(body.get("data").is_none(), "{body:.300}");
    assert_eq!(app.take_statement_count(), 0, "nothing ran");
    let (status, body) = app.post(query, json!({})).await;
    assert_eq!(status, 200, "application/json answers 200: {body:.300}");
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body:.300}");
    body
}

/// `{ f { f { … } } }` with `depth` levels of fields.
fn nested(depth: usize) -> String {
    format!("{{ {}x{} }}", "f { ".repeat(depth - 1), " }".repeat(depth - 1))
}

async fn deep_wide_and_costly_queries_are_refused_before_they_run(app: TestApp) {
    app.import_golden().await;
    // Deeper than the limit (20), than async-graphql's 32, than the parser's 64.
    for depth in [25, 50, 100] {
        let body = assert_refused_before_running(&app, &nested(depth)).await;
        if depth == 25 {
            let message = body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("25") && message.contains("20"), "{message}");
        }
    }
    // Far deeper, in as few bytes as possible: refused by the parser, which survives.
    let compact = format!("{{{}x{}}}", "a{".repeat(500_000), "}".repeat(500_000));
    let body = assert_refused_before_running(&app, &compact).await;
    assert!(body.to_string().len() < 1_000, "the refusal does not echo the query");
    // 10,000 aliases of a field that would query the database.
    let aliases: String = (0..10_000)
        .map(|i| format!("a{i}: accounts(first: 1) {{ totalCount }} "))
        .collect();
    assert_refused_before_running(&app, &format!("{{ {aliases}}}")).await;
    // … also when hidden in a fragment spread many times.
    let spreads: String = (0..3_000).map(|i| format!("a{i}: accounts {{ ...count }} ")).collect();
    assert_refused_before_running(
        &app,
        &format!("{{ {spreads}}} fragment count on AccountConnection {{ totalCount }}"),
    )
    .await;
    // Two pages of 500 nested: 250,000 customers at most.
    let body = assert_refused_before_running(
        &app,
        "{ accounts(first: 500) { nodes { customers(first: 500) { nodes { name } } } } }",
    )
    .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("cost"), "{message}");
    // The same through a variable.
    app.take_statement_count();
    let (_, body) = app
        .post(
            "query($n: Int) { accounts(first: 500) { nodes { customers(first: $n) { nodes { name } } } } }",
            json!({ "n": 500 }),
        )
        .await;
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body:.300}");
    assert_eq!(app.take_statement_count(), 0);

    // What a dashboard asks for passes.
    let data = app
        .data(
            "{ accounts(first: 100) { totalCount nodes { name region tier
                 health { score components { name score } }
                 orderStats { daysSinceLastOrder last90Days { orders } }
                 customers(first: 10) { totalCount nodes { externalId name } }
                 orders(first: 5) { nodes { externalId } } } } }",
            json!({}),
        )
        .await;
    assert!(data["accounts"]["totalCount"].as_i64().unwrap_or(0) > 0, "{data}");
    // Fifteen levels are allowed.
    let (_, body) = app.post(&nested(15), json!({})).await;
    assert_eq!(
        code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "past the limits, to validation: {body}"
    );
}

/// Far longer than a refusal takes, far shorter than expanding the
/// fragments: a hang detector, not a timing.
const HANG: std::time::Duration = std::time::Duration::from_secs(20);

async fn fragment_fan_out_is_refused_at_once_and_health_stays_up(app: TestApp) {
    for levels in [9, 10] {
        let query = fragment_bomb(levels);
        assert!(query.len() < 1_000, "{}", query.len());
        let refused = tokio::time::timeout(HANG, assert_refused_before_running(&app, &query)).await;
        let body = refused.expect("refused, not left running");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("selections"), "{message}");
    }
    // Several at once, and the probe still answers meanwhile.
    let bombs: Vec<_> = (0..4)
        .map(|_| {
            let client = app.client.clone();
            let url = format!("{}/graphql", app.base_url);
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({ "query": fragment_bomb(10) }))
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
            })
        })
        .collect();
    let health = tokio::time::timeout(HANG, app.client.get(format!("{}/healthz", app.base_url)).send())
        .await
        .expect("/healthz answers while bombs arrive")
        .expect("sent");
    assert_eq!(health.status(), 200);
    for bomb in bombs {
        let status = tokio::time::timeout(HANG, bomb).await.expect("refused in time");
        assert_eq!(status.ok().and_then(Result::ok), Some(200), "refused with a body");
    }
    // A chain of fragments too deep for async-graphql's recursive walks,
    // and a cycle, are refused by Accord's walk before they get there.
    let chain: String = (1..=5_000)
        .map(|i| format!(" fragment f{i} on Query {{ ...f{} }}", i - 1))
        .collect();
    let query = format!("{{ ...f5000 }} fragment f0 on Query {{ __typename }}{chain}");
    let body = assert_refused_before_running(&app, &query).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("32"), "{message}");
    let (_, body) = app
        .post(
            "{ ...a } fragment a on Query { ...b } fragment b on Query { ...a }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
}

async fn expensive_fields_lists_and_aliases_add_up(app: TestApp) {
    app.import_golden().await;
    // Aliases of a field that scans, `count` times inside `wrap`, cost too much.
    let refused_aliased = |count: usize, wrap: &'static str, field: &'static str| {
        let aliases: String = (0..count).map(|i| format!("a{i}: {field} ")).collect();
        let query = wrap.replace("{}", &aliases);
        let app = &app;
        async move {
            let body = assert_refused_before_running(app, &query).await;
            let message = body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("cost"), "{message}");
        }
    };
    // 300 aliased attributions: each scans every touch of the window.
    refused_aliased(300, "{ insights { {} } }", "attribution { conversions }").await;
    // Series weigh what they scan too (they once cost 1 each, so 100
    // aliased daily series of three metrics ran).
    let series = "series(metrics: [REVENUE, TOUCHPOINTS, CHURN_RATE], period: DAY) { metric }";
    refused_aliased(100, "{ insights { {} } }", series).await;
    // So do segment previews: each evaluates its rule over every customer.
    let preview =
        r#"previewSegment(rule: { trait: { field: "region", operator: EQ, value: "UK" } }, sample: 1) { size }"#;
    refused_aliased(60, "mutation { {} }", preview).await;
    // Plain lists multiply: teams × perTeam touchpoints × orders × lines.
    assert_refused_before_running(
        &app,
        "{ accounts(first: 20) { nodes { touchpointsByTeam(perTeam: 100) { touchpoints { customer {
             orders(first: 100) { nodes { lines { product { name } } } } } } } } } }",
    )
    .await;
    // A dashboard's insights, each once, still run.
    let data = app
        .data(
            "{ insights { attribution { conversions } nps { overall { n } } clv { overall { customers } }
                 retention { cohorts { size } } churn { churned } } }",
            json!({}),
        )
        .await;
    assert!(data["insights"]["attribution"]["conversions"].is_number(), "{data}");
}

async fn introspection_is_off_unless_configured(app: TestApp) {
    let (status, body) = post_json(
        &app,
        GRAPHQL_RESPONSE_JSON,
        &json!({ "query": "{ __schema { queryType { name } } }" }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let (_, body) = app.post("{ __type(name: \"Account\") { name } }", json!({})).await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    // No suggestions either.
    let (_, body) = app.post("{ acounts { totalCount } }", json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("Did you mean"), "{message}");
    // __typename is not introspection.
    assert_eq!(
        app.data("{ __typename }", json!({})).await,
        json!({ "__typename": "Query" })
    );
}

/// The introspection query GraphiQL and code generators send.
const INTROSPECTION_QUERY: &str = "query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}";

async fn introspection_works_where_configured(app: TestApp) {
    let data = app.data(INTROSPECTION_QUERY, json!({})).await;
    let types = data["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "Account"), "Account is described");
    // Suggestions come with introspection.
    let (_, body) = app.post("{ acounts { totalCount } }", json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Did you mean"), "{message}");
}

async fn batches_and_large_bodies_are_refused(app: TestApp) {
    let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    for accept in [GRAPHQL_RESPONSE_JSON, "application/json"] {
        let (status, body) = post_json(&app, accept, &batch).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(code(&body), "BAD_REQUEST", "{body}");
    }

    // 3 MiB: over the 2 MiB limit, announced by Content-Length…
    let padding = " ".repeat(3 * 1024 * 1024);
    let large = format!(r#"{{"query": "{{ __typename {padding}}}"}}"#);
    let response = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .header("content-type", "application/json")
        .body(large.clone())
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body}");

    // … or streamed without a length. Only just over the limit, and the
    // bytes past it in a last chunk of their own: the server answers and
    // closes once it has read past 2 MiB, and bytes it never read would make
    // the close a reset that can discard its answer before the client reads
    // it (seen on CI); ending with the chunk that crosses the limit leaves
    // nothing unread.
    let limit = 2 * 1024 * 1024;
    let (head, tail) = (r#"{"query": "{ __typename "#, r#"}"}"#);
    let padding = " ".repeat(limit - head.len() - tail.len() + 16);
    let just_over = format!("{head}{padding}{tail}");
    let (within, past) = just_over.split_at(limit);
    let chunks: Vec<Result<String, std::io::Error>> = within
        .as_bytes()
        .chunks(64 * 1024)
        .chain([past.as_bytes()])
        .map(|chunk| Ok(String::from_utf8_lossy(chunk).into_owned()))
        .collect();
    let response = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body}");
}

async fn a_request_past_its_deadline_is_stopped(app: TestApp) {
    app.import_golden().await;
    // The deadline is 1 ms: a query over the fixture's orders cannot finish in time.
    let query = r#"{ insights(filter: { from: "2025-01-01", to: "2026-06-30" }) {
        repeatPurchase { customersWithOrders rate { rate } } churn(thresholdDays: 180) { churned }
        rfm { summary { customers } } } }"#;
    let (status, body) = post_json(&app, GRAPHQL_RESPONSE_JSON, &json!({ "query": query })).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let (status, body) = app.post(query, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body}");
}

async fn too_many_requests_get_429_with_retry_after(app: TestApp) {
    // A burst of 3, then one a minute.
    for _ in 0..3 {
        assert_eq!(app.data("{ __typename }", json!({})).await["__typename"], "Query");
    }
    let response = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body}");
    // Probes are not limited.
    let health = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .expect("request sent");
    assert_eq!(health.status().as_u16(), 200);
}

async fn persisted_queries_register_and_run_over_post_and_get(app: TestApp) {
    let query = "{ accounts { totalCount } }";
    let hash = format!("{:x}", Sha256::digest(query.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });

    let (_, body) = app.post_body(json!({ "extensions": extensions })).await;
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");

    let (status, body) = app.post_body(json!({ "query": query, "extensions": extensions })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["accounts"]["totalCount"], 0, "{body}");

    let (status, body) = app.post_body(json!({ "extensions": extensions })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["accounts"]["totalCount"], 0, "{body}");

    let response = app
        .client
        .get(format!("{}/graphql", app.base_url))
        .query(&[("extensions", extensions.to_string())])
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["data"]["accounts"]["totalCount"], 0, "{body}");

    // A hash that is not the query's is refused.
    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "00" } });
    let (_, body) = app.post_body(json!({ "query": query, "extensions": wrong })).await;
    assert_eq!(code(&body), "BAD_REQUEST", "{body}");
}

async fn argument_errors_are_bad_user_input_naming_the_argument(app: TestApp) {
    let (status, body) = app
        .post("{ accounts(first: -180794302154691) { totalCount } }", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");

    let rule = json!({ "trait": { "field": "region", "operator": "EQ", "value": "UK" } });
    let (_, body) = app
        .post(
            "mutation($rule: SegmentRuleInput!) { previewSegment(rule: $rule, sample: 61573) { size } }",
            json!({ "rule": rule }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "sample", "{body}");
}

async fn a_failed_field_is_null_in_data(app: TestApp) {
    app.import_golden().await;
    // A nullable field that fails is null beside its siblings.
    let (_, body) = app
        .post(
            r#"{ known: account(externalId: "A0001") { name } unknown: account(externalId: "nope") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"],
        json!({ "known": { "name": "Blue Stores" }, "unknown": null }),
        "{body}"
    );
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    // Also when it is the only field.
    let (_, body) = app.post(r#"{ account(externalId: "nope") { name } }"#, json!({})).await;
    assert_eq!(body["data"], json!({ "account": null }), "{body}");

    // `customers` is non-null, so its failure nulls the account (nullable).
    let (_, body) = app
        .post(
            r#"{ account(externalId: "A0001") { name customers(first: 501) { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(body["data"], json!({ "account": null }), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["account", "customers"]), "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");

    // A root connection is non-null: its failure makes data null.
    let (_, body) = app.post("{ accounts(first: 501) { totalCount } }", json!({})).await;
    assert!(body.get("data").is_some_and(Value::is_null), "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}
