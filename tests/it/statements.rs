//! The number of SQL statements a request makes depends on the query's
//! shape, never on how many rows it returns.

use std::io::Write;

use accord::ingest::{ImportOptions, import_path};
use serde_json::json;

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(an_account_with_contacts_orders_lines_and_products_takes_five_statements);

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
    let mut customers = std::fs::File::create(dir.join("customers.ndjson")).expect("file");
    let mut orders = std::fs::File::create(dir.join("orders.ndjson")).expect("file");
    for c in 0..contacts {
        writeln!(customers, r#"{{"externalId":"C{c:03}","accountExternalId":"A1","email":"c{c}@example.com","name":"Contact {c}","phone":null,"region":"UK","country":"GB","acquisitionChannel":"direct","firstSeenAt":"2024-06-01T00:00:00Z","traits":{{}}}}"#).expect("write");
        for o in 0..7 {
            let (a, b) = (o % 4, (o + 1) % 4);
            writeln!(orders, r#"{{"externalId":"O{c:03}-{o}","customerExternalId":"C{c:03}","accountExternalId":"A1","channel":"DIRECT_SALES","orderedAt":"2025-0{}-1{o}T10:00:00Z","currency":"USD","amountMinor":300,"lines":[{{"productExternalId":"P{a}","quantity":1,"unitAmountMinor":100}},{{"productExternalId":"P{b}","quantity":2,"unitAmountMinor":100}}]}}"#, 1 + o % 9).expect("write");
        }
    }
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
    let dir = tempfile::tempdir().expect("temporary directory");
    write_account(dir.path(), 60);
    let report = import_path(app.db.clone(), dir.path(), &ImportOptions::default())
        .await
        .expect("import");
    assert!(report.ingest.rejected.is_empty(), "{:?}", report.ingest.rejected);

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
