//! Paging through every connection visits each row exactly once.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    paging_through_every_root_connection_visits_each_row_once,
    paging_a_nested_connection_visits_each_child_once
);

/// Pages through `field` with `first` and returns the ids seen and the total count.
async fn page_through(app: &TestApp, field: &str, args: &str, first: i64) -> (Vec<String>, i64) {
    let query = format!(
        "query($first: Int!, $after: String) {{
            list: {field}(first: $first, after: $after{args}) {{
                totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ id }} }}
            }}
        }}"
    );
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.data(&query, json!({ "first": first, "after": after })).await;
        let list = &data["list"];
        let total = list["totalCount"].as_i64().expect("totalCount");
        for edge in list["edges"].as_array().expect("edges") {
            ids.push(edge["node"]["id"].as_str().expect("id").to_owned());
        }
        if !list["pageInfo"]["hasNextPage"].as_bool().expect("hasNextPage") {
            return (ids, total);
        }
        after = list["pageInfo"]["endCursor"].clone();
        assert!(
            ids.len() <= usize::try_from(total).unwrap_or(0),
            "{field} pages past its total"
        );
    }
}

fn assert_each_once(field: &str, ids: &[String], total: i64) {
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{field}: a row was visited twice");
    assert_eq!(
        i64::try_from(ids.len()).unwrap_or(-1),
        total,
        "{field}: rows were skipped"
    );
}

async fn paging_through_every_root_connection_visits_each_row_once(app: TestApp) {
    app.import_golden().await;
    let lists = [
        ("accounts", ", orderBy: {field: NAME}"),
        ("customers", ""),
        ("customers", ", orderBy: {field: FIRST_SEEN_AT, direction: DESC}"),
        ("products", ""),
        ("orders", ""),
        ("orders", ", orderBy: {field: AMOUNT}"),
        ("orders", ", filter: {region: \"UK\", channel: RETAIL}"),
        ("campaigns", ""),
        ("touchpoints", ""),
        ("leads", ""),
        ("surveys", ""),
        ("surveyResponses", ""),
        ("productTests", ""),
        ("brandMentions", ", orderBy: {field: MENTIONS, direction: DESC}"),
    ];
    for (field, args) in lists {
        let (ids, total) = page_through(&app, field, args, 500).await;
        assert!(total > 0, "{field}{args} is empty");
        assert_each_once(&format!("{field}{args}"), &ids, total);
    }
}

async fn paging_a_nested_connection_visits_each_child_once(app: TestApp) {
    app.import_golden().await;
    // The customer with the most orders, found through the API's own sort.
    let customers = app
        .data(
            "{ customers(first: 500) { nodes { id orders(first: 0) { totalCount } } } }",
            json!({}),
        )
        .await;
    let busiest = customers["customers"]["nodes"]
        .as_array()
        .expect("customers")
        .iter()
        .max_by_key(|c| c["orders"]["totalCount"].as_i64())
        .expect("a customer")
        .clone();
    let total = busiest["orders"]["totalCount"].as_i64().expect("count");
    assert!(total >= 3, "the busiest customer should have a few orders");
    let query = "query($id: ID!, $after: String) {
        customer(id: $id) { orders(first: 2, after: $after, orderBy: {field: ORDERED_AT}) {
            pageInfo { hasNextPage endCursor } nodes { id }
        } }
    }";
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.data(query, json!({ "id": busiest["id"], "after": after })).await;
        let orders = &data["customer"]["orders"];
        ids.extend(
            orders["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| n["id"].as_str().expect("id").to_owned()),
        );
        if !orders["pageInfo"]["hasNextPage"].as_bool().expect("hasNextPage") {
            break;
        }
        after = orders["pageInfo"]["endCursor"].clone();
    }
    assert_each_once("customer.orders", &ids, total);
}
