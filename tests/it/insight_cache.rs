//! Cached insights (issue 15): a repeated insight is answered from the
//! cache with one statement (the data version); a committed write through
//! any instance makes every instance recompute; one cached result serves
//! every role, each under its own suppression rule; `/metrics` counts hits
//! and misses per insight.

use accord::auth::keys;
use entity::enums::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};
use crate::observability::{sample, scrape};

on_both_backends!(
    a_repeated_insight_is_answered_from_the_cache_until_a_write,
    a_write_through_one_instance_invalidates_another_instances_cache,
    a_cached_result_is_suppressed_for_each_viewer_by_its_own_rule,
    accounts_of_one_region_share_one_purchase_driver_analysis,
);

const QUERY: &str = r#"query($filter: InsightFilter) {
  insights(filter: $filter) {
    repeatPurchase { customersWithOrders customersWithRepeat }
    series(metrics: [ORDERS, REVENUE], period: MONTH) { metric total { value n } points { periodStart value } }
  }
}"#;

fn filter() -> Value {
    json!({ "filter": { "from": "2025-01-01", "to": "2026-06-30" } })
}

async fn counter(app: &TestApp, metric: &str, insight: &str) -> f64 {
    sample(&scrape(app).await, metric, &[("insight", insight)]).unwrap_or(0.0)
}

/// One order in the golden window by a customer with none yet.
fn new_order(external_id: &str) -> String {
    let order = json!({
        "externalId": external_id,
        "customerExternalId": "C0001",
        "channel": "ONLINE",
        "orderedAt": "2026-06-15T12:00:00Z",
        "currency": "USD",
        "amountMinor": 12_345,
        "lines": [{ "productExternalId": "P018", "quantity": 1, "unitAmountMinor": 12_345 }]
    });
    format!("{order}\n")
}

async fn a_repeated_insight_is_answered_from_the_cache_until_a_write(app: TestApp) {
    app.import_golden().await;
    app.take_statement_count();
    let first = app.data(QUERY, filter()).await;
    let computed = app.take_statement_count();
    assert!(computed > 2, "the first request computes: {computed} statements");
    // Tests share the process's metrics: counts grow by at least ours.
    let hits = counter(&app, "accord_insight_cache_hits_total", "series").await;
    let again = app.data(QUERY, filter()).await;
    assert_eq!(again, first, "the cached answer is the computed one");
    assert_eq!(
        app.take_statement_count(),
        1,
        "a cached request reads only the data version"
    );
    assert!(counter(&app, "accord_insight_cache_hits_total", "series").await > hits);

    // Another window is another question.
    let other = json!({ "filter": { "from": "2025-01-01", "to": "2026-05-31" } });
    app.data(QUERY, other).await;
    assert!(app.take_statement_count() > 2, "another window is computed");

    let (status, report) = app.bulk(&app.base_url, "orders", "", new_order("O-CACHE-1")).await;
    assert_eq!((status, &report["rejected"]), (200, &json!([])), "{report}");
    app.take_statement_count();
    let after = app.data(QUERY, filter()).await;
    assert!(app.take_statement_count() > 2, "recomputed after the write");
    let orders = |data: &Value| data["insights"]["series"][0]["total"]["value"].as_f64();
    assert_eq!(
        orders(&after).zip(orders(&first)).map(|(after, before)| after - before),
        Some(1.0),
        "the write is seen at once: {after}"
    );
}

async fn a_write_through_one_instance_invalidates_another_instances_cache(app: TestApp) {
    app.import_golden().await;
    let peer = app.peer().await;
    let on_peer = |app: &TestApp| {
        let client = app.client.clone();
        let url = format!("{}/graphql", peer.base_url);
        async move {
            let response = client
                .post(url)
                .json(&json!({ "query": QUERY, "variables": filter() }))
                .send()
                .await
                .expect("sent");
            response.json::<Value>().await.expect("JSON")["data"].clone()
        }
    };
    let before = on_peer(&app).await;
    assert_eq!(on_peer(&app).await, before, "the peer answers from its cache");

    let (status, report) = app.bulk(&app.base_url, "orders", "", new_order("O-CACHE-2")).await;
    assert_eq!((status, &report["rejected"]), (200, &json!([])), "{report}");
    let after = on_peer(&app).await;
    let revenue = |data: &Value| data["insights"]["series"][1]["total"]["value"].as_f64();
    assert_eq!(
        revenue(&after)
            .zip(revenue(&before))
            .map(|(after, before)| after - before),
        Some(12_345.0),
        "the peer recomputed after a write through the other instance: {after}"
    );
}

async fn a_cached_result_is_suppressed_for_each_viewer_by_its_own_rule(app: TestApp) {
    app.import_golden().await;
    // One day: few customers ordered, below the minimum audience size.
    let day = json!({ "filter": { "from": "2025-01-04", "to": "2025-01-04" } });
    let query = "query($filter: InsightFilter) { insights(filter: $filter) { repeatPurchase { customersWithOrders suppressed } } }";
    let mut answers = Vec::new();
    let mut statements = Vec::new();
    for role in [Role::Admin, Role::Dashboard, Role::Admin] {
        let key = keys::create(&app.db, role, &format!("cache {role}"))
            .await
            .expect("key created")
            .secret;
        app.take_statements();
        let (status, body) = app.post_as(&key, query, day.clone()).await;
        assert_eq!(status, 200, "{body}");
        let texts = app.take_statements();
        statements.push(texts.iter().filter(|text| text.contains("orders")).count());
        answers.push(body["data"]["insights"]["repeatPurchase"].clone());
    }
    let shown = answers[0]["customersWithOrders"]
        .as_i64()
        .expect("ADMIN sees the count");
    assert!((1..10).contains(&shown), "a small population: {shown}");
    assert_eq!(answers[1], json!({ "customersWithOrders": null, "suppressed": true }));
    // The later requests read the key and the data version, never the orders.
    assert_eq!(statements, [1, 0, 0], "statements reading orders, per request");
    assert_eq!(
        answers[2], answers[0],
        "ADMIN still sees what DASHBOARD's request had suppressed"
    );
}

/// `Account.purchaseDrivers` analyses the account's region over a year:
/// accounts of one region, in one request or the next, share one cached
/// analysis (it once ran for every account, uncached).
async fn accounts_of_one_region_share_one_purchase_driver_analysis(app: TestApp) {
    app.import_golden().await;
    let query = r#"{ accounts(first: 40) { nodes { region purchaseDrivers(asOf: "2026-06-30") { n rSquared } } } }"#;
    let ratings_read =
        |statements: Vec<String>| statements.iter().filter(|text| text.contains("driver_rating")).count();
    app.take_statements();
    let first = app.data(query, json!({})).await;
    let first_reads = ratings_read(app.take_statements());
    let nodes = first["accounts"]["nodes"].as_array().cloned().unwrap_or_default();
    let regions: std::collections::BTreeSet<String> = nodes
        .iter()
        .filter_map(|node| node["region"].as_str().map(str::to_owned))
        .collect();
    assert!(nodes.len() > regions.len(), "accounts share regions: {regions:?}");
    let per_analysis = first_reads / regions.len();
    assert!(per_analysis > 0, "each region analysed: {first_reads} reads");
    assert_eq!(
        first_reads,
        per_analysis * regions.len(),
        "once per region, not per account"
    );
    let second = app.data(query, json!({})).await;
    assert_eq!(second, first);
    assert_eq!(
        ratings_read(app.take_statements()),
        0,
        "the next request reads no rating"
    );
}
