//! Subscriptions over graphql-transport-ws. On PostgreSQL the writes go
//! through a second server instance, so the events must cross instances
//! through LISTEN/NOTIFY; on SQLite they stay in one process.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::records::{account, customer, ndjson, order, product, touchpoint};
use crate::ws::WsClient;

on_both_backends!(subscribers_hear_writes_made_through_any_instance);

async fn id_of(app: &TestApp, query: &str, key: &str) -> Value {
    let data = app.data(query, json!({ "key": key })).await;
    data.as_object()
        .and_then(|fields| fields.values().next())
        .map(|found| found["id"].clone())
        .expect("found")
}

async fn subscribers_hear_writes_made_through_any_instance(app: TestApp) {
    let peer = match app.backend {
        Backend::Postgres => Some(app.peer().await),
        Backend::Sqlite => None,
    };
    let writer = peer.as_ref().map_or(app.base_url.clone(), |peer| peer.base_url.clone());
    app.bulk(&writer, "accounts", "", ndjson(&[account("A1")])).await;
    let people = [
        customer("C1", "c1@example.com", Some("A1")),
        customer("C2", "c2@example.com", None),
    ];
    app.bulk(&writer, "customers", "", ndjson(&people)).await;
    app.bulk(&writer, "products", "", ndjson(&[product("P1")])).await;
    let c1 = id_of(&app, "query($key: String!) { customer(externalId: $key) { id } }", "C1").await;
    let a1 = id_of(&app, "query($key: String!) { account(externalId: $key) { id } }", "A1").await;
    let segment_id = app
        .data(
            "mutation { createSegment(input: { name: \"Buyers\", team: MARKETING, rule: { metric: { metric: ORDER_COUNT, operator: GTE, value: 1 } } }) { id } }",
            json!({}),
        )
        .await["createSegment"]["id"]
        .clone();

    // Subscribed on the first instance.
    let mut ws = WsClient::connect(&app.base_url, json!({})).await;
    ws.subscribe(
        "segment",
        "subscription($s: ID!) { segmentMembershipChanged(segmentId: $s) { joined left size segment { name } } }",
        json!({ "s": segment_id }),
    )
    .await;
    ws.subscribe(
        "orders",
        "subscription($a: ID!) { orderRecorded(accountId: $a) { externalId customer { externalId } } }",
        json!({ "a": a1 }),
    )
    .await;
    ws.subscribe(
        "touches",
        "subscription($c: ID!) { touchpointRecorded(customerId: $c) { externalId customer { externalId } } }",
        json!({ "c": c1 }),
    )
    .await;

    // Another customer's touchpoint is not for this subscriber; C1's are.
    // Subscribing completes asynchronously on the server, so keep writing
    // until the first event arrives.
    let mut first = None;
    for attempt in 0..20 {
        let touches = [
            touchpoint(&format!("other-{attempt}"), "C2", None),
            touchpoint(&format!("T-{attempt}"), "C1", Some("A1")),
        ];
        let (status, body) = app.bulk(&writer, "touchpoints", "", ndjson(&touches)).await;
        assert_eq!(status, 200, "{body}");
        if let Some(message) = ws.next_within(Duration::from_millis(500)).await {
            first = Some(message);
            break;
        }
    }
    let first = first.expect("a touchpoint event within 20 attempts");
    assert_eq!(first["id"], "touches", "{first}");
    let touch = &first["payload"]["data"]["touchpointRecorded"];
    assert!(
        touch["externalId"].as_str().is_some_and(|id| id.starts_with("T-")),
        "{first}"
    );
    assert_eq!(touch["customer"]["externalId"], "C1");

    // An order through the account, and a refresh that changes the segment.
    app.bulk(&writer, "orders", "", ndjson(&[order("O1", "C1", Some("A1"), "P1")]))
        .await;
    let refresh = "mutation($id: ID!) { refreshSegment(id: $id) { size } }";
    let (_, refreshed) = app
        .client
        .post(format!("{writer}/graphql"))
        .json(&json!({ "query": refresh, "variables": { "id": segment_id } }))
        .send()
        .await
        .expect("refresh sent")
        .json::<Value>()
        .await
        .map(|body| (0, body))
        .expect("JSON");
    assert_eq!(refreshed["data"]["refreshSegment"]["size"], 1, "{refreshed}");

    let mut heard: HashMap<String, Value> = HashMap::new();
    while !(heard.contains_key("orders") && heard.contains_key("segment")) {
        let message = ws.next().await;
        assert_eq!(message["type"], "next", "{message}");
        let id = message["id"].as_str().unwrap_or_default().to_owned();
        if id == "touches" {
            // A later retry of the loop above; still C1's.
            let touch = &message["payload"]["data"]["touchpointRecorded"];
            assert_eq!(touch["customer"]["externalId"], "C1", "{message}");
            continue;
        }
        heard.insert(id, message["payload"]["data"].clone());
    }
    assert_eq!(
        heard["orders"]["orderRecorded"],
        json!({ "externalId": "O1", "customer": { "externalId": "C1" } })
    );
    assert_eq!(
        heard["segment"]["segmentMembershipChanged"],
        json!({ "joined": 1, "left": 0, "size": 1, "segment": { "name": "Buyers" } })
    );
}
