//! The number of SQL statements a request makes depends on the query's
//! shape, never on how many rows it returns.

use std::collections::BTreeSet;
use std::io::Write;

use accord::config::ApiConfig;
use accord::ingest::{ImportOptions, import_path};
use serde_json::json;

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    an_account_with_contacts_orders_lines_and_products_takes_five_statements,
    the_whole_sales_context_of_an_account_takes_a_fixed_number_of_statements with without_insight_cache,
    a_connection_asked_for_its_total_count_alone_runs_only_the_count,
    a_connection_reads_its_page_when_a_fragment_or_page_info_selects_it,
    batches_of_any_size_run_the_same_statement_texts with without_insight_cache
);

/// These tests count the statements of the read path on every request.
/// The sales context's `purchaseDrivers` is an insight: with the cache on,
/// requests after the first read the data version instead of the ratings
/// (`insight_cache::accounts_of_one_region_share_one_purchase_driver_analysis`).
fn without_insight_cache() -> ApiConfig {
    ApiConfig {
        insight_cache_mib: 0,
        ..ApiConfig::default()
    }
}

/// One account with `contacts` contacts, each with 7 orders of 2 lines.
fn write_account(dir: &std::path::Path, contacts: usize) {
    let mut accounts = std::fs::File::create(dir.join("accounts.ndjson")).expect("file");
    writeln!(
        accounts,
        r#"{{"externalId":"A1","name":"Big Account","kind":"BUSINESS","region":"UK","tier":"KEY","owner":"Sam"}}"#
    )
    .expect("write");
    let mut products = std::fs::File::create(dir.join("products.ndjson")).expect("file");
    for p in 0..4 {
        writeln!(products, r#"{{"externalId":"P{p}","sku":"SKU-{p}","name":"Product {p}","category":"kitchen","launchedAt":"2024-01-01T00:00:00Z"}}"#).expect("write");
    }
    let mut leads = std::fs::File::create(dir.join("leads.ndjson")).expect("file");
    let mut touchpoints = std::fs::File::create(dir.join("touchpoints.ndjson")).expect("file");
    let mut customers = std::fs::File::create(dir.join("customers.ndjson")).expect("file");
    let mut orders = std::fs::File::create(dir.join("orders.ndjson")).expect("file");
    for c in 0..contacts {
        writeln!(customers, r#"{{"externalId":"C{c:03}","accountExternalId":"A1","email":"c{c}@example.com","name":"Contact {c}","phone":null,"region":"UK","country":"GB","acquisitionChannel":"direct","firstSeenAt":"2024-06-01T00:00:00Z","traits":{{}}}}"#).expect("write");
        writeln!(leads, r#"{{"externalId":"L{c:03}-open","customerExternalId":"C{c:03}","accountExternalId":"A1","sourceTeam":"SALES","stage":"SQL","createdAt":"2025-03-01T10:00:00Z","mqlAt":"2025-03-02T10:00:00Z","sqlAt":"2025-03-05T10:00:00Z","opportunityAt":null,"closedAt":null,"amountMinor":null}}"#).expect("write");
        writeln!(leads, r#"{{"externalId":"L{c:03}-won","customerExternalId":"C{c:03}","accountExternalId":"A1","sourceTeam":"MARKETING","stage":"WON","createdAt":"2025-02-01T10:00:00Z","mqlAt":"2025-02-02T10:00:00Z","sqlAt":"2025-02-03T10:00:00Z","opportunityAt":"2025-02-04T10:00:00Z","closedAt":"2025-02-20T10:00:00Z","amountMinor":50000}}"#).expect("write");
        for (t, team) in ["SALES", "SERVICE", "SALES"].iter().enumerate() {
            writeln!(touchpoints, r#"{{"externalId":"T{c:03}-{t}","customerExternalId":"C{c:03}","accountExternalId":"A1","campaignExternalId":null,"team":"{team}","channel":"phone","kind":"CALL","occurredAt":"2025-06-0{}T10:{c:02}:00Z","properties":{{}}}}"#, t + 1).expect("write");
        }
        for o in 0..7 {
            let (a, b) = (o % 4, (o + 1) % 4);
            writeln!(orders, r#"{{"externalId":"O{c:03}-{o}","customerExternalId":"C{c:03}","accountExternalId":"A1","channel":"DIRECT_SALES","orderedAt":"2025-0{}-1{o}T10:00:00Z","currency":"USD","amountMinor":300,"lines":[{{"productExternalId":"P{a}","quantity":1,"unitAmountMinor":100}},{{"productExternalId":"P{b}","quantity":2,"unitAmountMinor":100}}]}}"#, 1 + o % 9).expect("write");
        }
    }
}

/// Imports the account of [`write_account`] through the real import path.
async fn import_account(app: &TestApp, contacts: usize) {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_account(dir.path(), contacts);
    let report = import_path(app.db.clone(), dir.path(), &ImportOptions::default())
        .await
        .expect("import");
    assert!(report.ingest.rejected.is_empty(), "{:?}", report.ingest.rejected);
}

const ACCOUNT_CONTEXT: &str = "query($id: String!, $contacts: Int!) {
  account(externalId: $id) {
    name
    customers(first: $contacts) {
      nodes {
        externalId
        orders(first: 5) { nodes { externalId lines { quantity product { sku } } } }
      }
    }
  }
}";

async fn an_account_with_contacts_orders_lines_and_products_takes_five_statements(app: TestApp) {
    import_account(&app, 60).await;

    // Statements: the account; its contacts' page; their orders' pages;
    // the orders' lines; the lines' products. One each, however many rows.
    for contacts in [50, 10, 1] {
        app.take_statement_count();
        let data = app
            .data(ACCOUNT_CONTEXT, json!({ "id": "A1", "contacts": contacts }))
            .await;
        let statements = app.take_statement_count();
        let nodes = data["account"]["customers"]["nodes"].as_array().expect("contacts");
        assert_eq!(nodes.len(), contacts);
        assert!(
            nodes
                .iter()
                .all(|n| n["orders"]["nodes"].as_array().map(Vec::len) == Some(5))
        );
        assert_eq!(statements, 5, "{contacts} contacts");
    }
}

const SALES_CONTEXT: &str = "query($id: String!, $contacts: Int!) {
  account(externalId: $id) {
    name tier owner
    customers(first: $contacts) { nodes { name email orders(first: 5) { nodes { amount { amount } lines { product { name } } } } } }
    orderStats(asOf: \"2025-12-31\") { daysSinceLastOrder last30Days { orders value { amount } } last90Days { orders } last365Days { orders } }
    nps(asOf: \"2025-12-31\") { n nps ciLow ciHigh }
    health(asOf: \"2025-12-31\") { score components { name weight score basis } formula }
    openLeads(first: 10) { totalCount nodes { stage createdAt } }
    touchpointsByTeam(perTeam: 2) { team touchpoints { occurredAt kind } }
    purchaseDrivers(asOf: \"2025-12-31\") { n attributes { attribute importance } }
  }
}";

async fn the_whole_sales_context_of_an_account_takes_a_fixed_number_of_statements(app: TestApp) {
    import_account(&app, 60).await;

    // The account; contacts; their orders; lines; products; the account's
    // stats (order stats, NPS and health share one); open leads and their
    // count; touchpoints by team; the region's rated attributes (none here,
    // so no second statement for their sums).
    for contacts in [50, 5] {
        app.take_statement_count();
        let data = app
            .data(SALES_CONTEXT, json!({ "id": "A1", "contacts": contacts }))
            .await;
        let statements = app.take_statement_count();
        let account = &data["account"];
        assert_eq!(account["customers"]["nodes"].as_array().map(Vec::len), Some(contacts));
        assert_eq!(account["openLeads"]["totalCount"], 60);
        let teams: Vec<&str> = account["touchpointsByTeam"]
            .as_array()
            .expect("teams")
            .iter()
            .filter_map(|t| t["team"].as_str())
            .collect();
        assert_eq!(teams, vec!["SALES", "SERVICE"]);
        assert!(
            account["touchpointsByTeam"][0]["touchpoints"]
                .as_array()
                .is_some_and(|t| t.len() == 2)
        );
        let weights: f64 = account["health"]["components"]
            .as_array()
            .expect("components")
            .iter()
            .filter_map(|c| c["weight"].as_f64())
            .sum();
        assert!((weights - 1.0).abs() < 1e-9);
        assert_eq!(statements, 10, "{contacts} contacts");
    }
}

/// Whether `sql` reads a page of rows (a keyset page: ordered, limited or
/// ranked per parent) rather than counting them.
fn reads_a_page(sql: &str) -> bool {
    let sql = sql.to_uppercase();
    sql.contains("ROW_NUMBER") || sql.contains("LIMIT")
}

fn counts(sql: &str) -> bool {
    sql.to_uppercase().contains("COUNT(*)")
}

async fn a_connection_asked_for_its_total_count_alone_runs_only_the_count(app: TestApp) {
    import_account(&app, 12).await;

    // A root list: the count and nothing else.
    app.take_statements();
    let data = app.data("{ customers { totalCount } }", json!({})).await;
    assert_eq!(data["customers"]["totalCount"], 12);
    let statements = app.take_statements();
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert!(
        counts(&statements[0]) && !reads_a_page(&statements[0]),
        "{statements:#?}"
    );

    // Nested lists, under an alias: the account, the page of contacts
    // (their nodes are selected), then one count of all their orders.
    let data = app
        .data(
            r#"{ account(externalId: "A1") {
                contacts: customers(first: 10) { totalCount }
                customers(first: 10) { nodes { placed: orders { totalCount } } }
            } }"#,
            json!({}),
        )
        .await;
    let account = &data["account"];
    assert_eq!(account["contacts"]["totalCount"], 12);
    let nodes = account["customers"]["nodes"].as_array().expect("contacts");
    assert_eq!(nodes.len(), 10);
    assert!(nodes.iter().all(|node| node["placed"]["totalCount"] == 7));
    let statements = app.take_statements();
    let pages: Vec<&String> = statements.iter().filter(|sql| reads_a_page(sql)).collect();
    // The account is looked up by external id (one row, LIMIT 1); the
    // only page read is the contacts'.
    assert_eq!(statements.len(), 4, "{statements:#?}");
    assert_eq!(pages.len(), 2, "{statements:#?}");
    assert_eq!(
        statements.iter().filter(|sql| counts(sql)).count(),
        2,
        "{statements:#?}"
    );
    assert!(
        !statements
            .iter()
            .any(|sql| sql.contains("\"orders\"") && reads_a_page(sql)),
        "{statements:#?}"
    );
}

async fn a_connection_reads_its_page_when_a_fragment_or_page_info_selects_it(app: TestApp) {
    import_account(&app, 12).await;

    let data = app
        .data(
            r#"query {
                account(externalId: "A1") {
                    customers(first: 5) { totalCount ...Contacts }
                    more: customers(first: 5) { ... on CustomerConnection { pageInfo { hasNextPage } } }
                    all: customers(first: 20) { pageInfo { hasNextPage hasPreviousPage } }
                }
                customers(first: 12) { pageInfo { hasNextPage endCursor } }
            }
            fragment Contacts on CustomerConnection { edges { node { externalId } } }"#,
            json!({}),
        )
        .await;
    let account = &data["account"];
    assert_eq!(account["customers"]["totalCount"], 12);
    assert_eq!(account["customers"]["edges"].as_array().map(Vec::len), Some(5));
    assert_eq!(account["more"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(account["all"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(account["all"]["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(data["customers"]["pageInfo"]["hasNextPage"], false);
    assert!(data["customers"]["pageInfo"]["endCursor"].is_string());
}

/// A query whose loaders batch one key per contact at each level.
const CONTACTS_CONTEXT: &str = "query($id: String!, $contacts: Int!) {
  account(externalId: $id) {
    customers(first: $contacts) {
      nodes {
        externalId
        orders(first: 5) { totalCount nodes { externalId lines { quantity product { sku } } } }
        surveyResponses(first: 5) { totalCount nodes { npsScore } }
      }
    }
  }
}";

async fn batches_of_any_size_run_the_same_statement_texts(app: TestApp) {
    import_account(&app, 60).await;

    let sorted = |mut statements: Vec<String>| {
        statements.sort();
        statements
    };
    // 3 and 7 keys through each loader.
    app.take_statements();
    app.data(CONTACTS_CONTEXT, json!({ "id": "A1", "contacts": 3 })).await;
    let three = sorted(app.take_statements());
    app.data(CONTACTS_CONTEXT, json!({ "id": "A1", "contacts": 7 })).await;
    let seven = sorted(app.take_statements());
    // The whole sales context, once, then for every number of contacts
    // from 1 to 20.
    app.data(SALES_CONTEXT, json!({ "id": "A1", "contacts": 20 })).await;
    let one: BTreeSet<String> = app.take_statements().into_iter().collect();
    for contacts in 1..=20 {
        app.data(SALES_CONTEXT, json!({ "id": "A1", "contacts": contacts }))
            .await;
    }
    let all: BTreeSet<String> = app.take_statements().into_iter().collect();
    eprintln!(
        "{:?}: {} distinct statement texts over 20 sales-context requests, {} in one",
        app.backend,
        all.len(),
        one.len()
    );

    // The keys are bound as one value, so the texts do not depend on how many.
    assert_eq!(three, seven);
    assert!(three.len() >= 6, "{three:#?}");
    assert_eq!(all, one);
}
