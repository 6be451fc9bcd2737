//! The number of SQL statements a request makes depends on the query's
//! shape, never on how many rows it returns.

use std::io::Write;

use accord::ingest::{ImportOptions, import_path};
use serde_json::json;

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    an_account_with_contacts_orders_lines_and_products_takes_five_statements,
    the_whole_sales_context_of_an_account_takes_a_fixed_number_of_statements
);

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
