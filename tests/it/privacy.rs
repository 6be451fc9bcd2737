//! What a role can learn beyond its rows (issue 11): cursors are opaque
//! (sealed under the server's key, bound to their list and order), a
//! masked field costs only that field, and an INGEST upsert answers with
//! what it wrote, never with the customer its record matched.

use std::collections::HashSet;

use accord::auth::keys;
use accord::config::ApiConfig;
use accord::db::cursor_key::CursorKey;
use accord::db::keyset::{Cursor, CursorScope, Direction, SortKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::enums::Role;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, golden_dir, on_both_backends};
use crate::records::{account, customer, ndjson, touchpoint};
use crate::ws::WsClient;

on_both_backends!(secured:
    cursors_a_masked_role_receives_hold_no_personal_data,
    a_cursor_not_sealed_for_its_list_and_order_is_bad_user_input,
    masking_nulls_the_masked_field_only,
    masked_fields_over_websocket_are_null_with_the_rest_of_data,
    an_ingest_upsert_answers_with_what_it_wrote,
);

on_both_backends!(
    every_instance_opens_the_cursors_of_another,
    a_configured_key_seals_cursors_and_another_key_refuses_them with keyed,
);

const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn keyed() -> ApiConfig {
    configured(KEY_HEX)
}

fn configured(key: &str) -> ApiConfig {
    ApiConfig {
        cursor_key: Some(CursorKey::from_hex(key).expect("a key")),
        ..ApiConfig::default()
    }
}

async fn key(app: &TestApp, role: Role) -> String {
    keys::create(&app.db, role, &format!("test {role}"))
        .await
        .expect("key created")
        .secret
}

/// The `extensions.code` and `extensions.field` of the first error.
fn refusal(body: &Value) -> (String, String) {
    let extensions = &body["errors"][0]["extensions"];
    (
        extensions["code"].as_str().unwrap_or_default().to_owned(),
        extensions["field"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The names and emails of the golden fixture's customers.
fn golden_personal_data() -> Vec<String> {
    let text = std::fs::read_to_string(golden_dir().join("customers.ndjson")).expect("customers");
    let mut found = Vec::new();
    for line in text.lines() {
        let record: Value = serde_json::from_str(line).expect("JSON");
        for field in ["name", "email", "phone"] {
            if let Some(value) = record[field].as_str() {
                found.push(value.to_owned());
                found.push(value.to_lowercase());
            }
        }
    }
    assert!(found.len() > 3000, "{} values", found.len());
    found
}

/// Pages through the connection at `path` of `query` (which takes `$after`)
/// as `secret`, returning every cursor received and the ids of the rows.
async fn page_through(app: &TestApp, secret: &str, query: &str, path: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut cursors = Vec::new();
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let (status, body) = app.post_as(secret, query, json!({ "after": after })).await;
        assert_eq!(status, 200, "{body}");
        let list = path.iter().fold(&body["data"], |value, key| &value[*key]);
        let edges = list["edges"].as_array().unwrap_or_else(|| panic!("{query}: {body}"));
        for edge in edges {
            cursors.push(edge["cursor"].as_str().expect("cursor").to_owned());
            ids.push(edge["node"]["id"].as_str().unwrap_or_default().to_owned());
        }
        if let Some(end) = list["pageInfo"]["endCursor"].as_str() {
            cursors.push(end.to_owned());
        }
        if list["pageInfo"]["hasNextPage"] != json!(true) {
            return (cursors, ids);
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
}

async fn cursors_a_masked_role_receives_hold_no_personal_data(app: TestApp) {
    app.import_golden().await;
    let analyst = key(&app, Role::Analyst).await;
    let lists = [
        (
            "query($after: String) { customers(first: 500, after: $after, orderBy: {field: NAME}) { pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }",
            vec!["customers"],
        ),
        (
            "query($after: String) { customers(first: 500, after: $after, orderBy: {field: NAME, direction: DESC}) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
            vec!["customers"],
        ),
        (
            "query($after: String) { accounts(first: 50, after: $after, orderBy: {field: NAME}) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
            vec!["accounts"],
        ),
        (
            "query($after: String) { account(externalId: \"A0155\") { customers(first: 2, after: $after, orderBy: {field: NAME}) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } } }",
            vec!["account", "customers"],
        ),
        (
            "query($after: String) { customer(externalId: \"C0002\") { journey(first: 3, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { kind } } } } }",
            vec!["customer", "journey"],
        ),
        (
            "query($after: String) { insights { rfm { customers(first: 500, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { customerExternalId } } } } } }",
            vec!["insights", "rfm", "customers"],
        ),
    ];
    let values = golden_personal_data();
    let personal: HashSet<&[u8]> = values.iter().map(|value| value.as_bytes()).collect();
    let lengths: HashSet<usize> = personal.iter().map(|value| value.len()).collect();
    let mut seen = 0;
    for (query, path) in lists {
        let (cursors, ids) = page_through(&app, &analyst, query, &path).await;
        assert!(cursors.len() > 1, "{query}: {} cursors", cursors.len());
        seen += cursors.len();
        // Paging still reaches each row once.
        let distinct: HashSet<&String> = ids.iter().filter(|id| !id.is_empty()).collect();
        assert_eq!(
            distinct.len(),
            ids.iter().filter(|id| !id.is_empty()).count(),
            "{query}: a row twice"
        );
        for cursor in &cursors {
            let bytes = URL_SAFE_NO_PAD
                .decode(cursor)
                .unwrap_or_else(|error| panic!("{cursor} is not base64url: {error}"));
            // Not the old readable JSON (`{"s":…,"k":…}`). Looking for `"k"`
            // in the bytes instead would fail by chance on ciphertext.
            assert!(
                serde_json::from_slice::<Value>(&bytes).is_err(),
                "{query}: a readable cursor: {}",
                String::from_utf8_lossy(&bytes)
            );
            for length in &lengths {
                if let Some(window) = bytes.windows(*length).find(|window| personal.contains(*window)) {
                    panic!("{query}: the cursor {cursor} holds {}", String::from_utf8_lossy(window));
                }
            }
        }
    }
    assert!(seen > 20, "{seen} cursors checked");
}

/// The end cursor of the first page of the connection at `path`.
async fn end_cursor(app: &TestApp, secret: &str, query: &str, path: &[&str]) -> String {
    let (_, body) = app.post_as(secret, query, json!({})).await;
    let list = path.iter().fold(&body["data"], |value, key| &value[*key]);
    list["pageInfo"]["endCursor"]
        .as_str()
        .unwrap_or_else(|| panic!("{query}: {body}"))
        .to_owned()
}

async fn a_cursor_not_sealed_for_its_list_and_order_is_bad_user_input(app: TestApp) {
    write_people(&app).await;
    let analyst = key(&app, Role::Analyst).await;
    let by_name = end_cursor(
        &app,
        &analyst,
        "{ customers(first: 1, orderBy: {field: NAME}) { pageInfo { endCursor } } }",
        &["customers"],
    )
    .await;
    let accounts = end_cursor(
        &app,
        &analyst,
        "{ accounts(first: 1, orderBy: {field: NAME}) { pageInfo { endCursor } } }",
        &["accounts"],
    )
    .await;
    let journey = end_cursor(
        &app,
        &analyst,
        "{ customer(externalId: \"C1\") { journey(first: 1) { pageInfo { endCursor } } } }",
        &["customer", "journey"],
    )
    .await;

    // The cursor continues the list it came from.
    let customers_by_name =
        "query($after: String) { customers(first: 1, after: $after, orderBy: {field: NAME}) { nodes { externalId } } }";
    let (_, body) = app
        .post_as(&analyst, customers_by_name, json!({ "after": by_name }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["customers"]["nodes"][0]["externalId"], "C2", "{body}");

    let mut tampered = by_name.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    // The cursor of the issue: readable JSON naming a sort key.
    let readable = URL_SAFE_NO_PAD.encode(r#"{"s":"Name","d":"Asc","k":{"Text":"Max Meyer"},"i":1}"#);
    // A well-formed cursor for this very list, sealed under another key (an old one).
    let scope = CursorScope {
        list: "customer",
        sort: "Name",
        direction: Direction::Asc,
    };
    let old_key = Cursor::new(SortKey::Text("M".to_owned()), 0).seal(&CursorKey::generate(), scope);
    let cases = [
        ("tampered", customers_by_name, tampered),
        ("readable", customers_by_name, readable),
        ("under another key", customers_by_name, old_key),
        ("of accounts", customers_by_name, accounts.clone()),
        ("of a journey", customers_by_name, journey.clone()),
        (
            "of another order",
            "query($after: String) { customers(first: 1, after: $after, orderBy: {field: FIRST_SEEN_AT}) { totalCount } }",
            by_name.clone(),
        ),
        (
            "of another direction",
            "query($after: String) { customers(first: 1, after: $after, orderBy: {field: NAME, direction: DESC}) { totalCount } }",
            by_name.clone(),
        ),
        (
            "of customers, on accounts",
            "query($after: String) { accounts(first: 1, after: $after, orderBy: {field: NAME}) { totalCount } }",
            by_name.clone(),
        ),
        (
            "of customers, on a nested list",
            "query($after: String) { account(externalId: \"A1\") { customers(first: 1, after: $after) { totalCount } } }",
            by_name.clone(),
        ),
        (
            "of customers, on a journey",
            "query($after: String) { customer(externalId: \"C1\") { journey(first: 1, after: $after) { edges { cursor } } } }",
            by_name.clone(),
        ),
        (
            "of customers, on RFM rows",
            "query($after: String) { insights { rfm { customers(first: 1, after: $after) { edges { cursor } } } } }",
            by_name.clone(),
        ),
    ];
    for (what, query, cursor) in cases {
        let (status, body) = app.post_as(&analyst, query, json!({ "after": cursor })).await;
        assert_eq!(status, 200, "{what}: {body}");
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".to_owned(), "after".to_owned()),
            "{what}: {body}"
        );
    }

    // The same cursor, sealed under the key this server stored, opens: the
    // binding is the list and the order, nothing else.
    let stored = entity::server_secret::Entity::find_by_id("cursor_key".to_owned())
        .one(&app.db)
        .await
        .expect("read")
        .expect("the server stored its key");
    let server_key = CursorKey::from_hex(&stored.value).expect("a key");
    let crafted = Cursor::new(SortKey::Text("Person C1".to_owned()), i64::MAX).seal(&server_key, scope);
    let (_, body) = app
        .post_as(&analyst, customers_by_name, json!({ "after": crafted }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["customers"]["nodes"][0]["externalId"], "C2", "{body}");
}

/// The end cursor of the first page of accounts on `base_url`, and the
/// answer to continuing from it on `other_url`.
async fn continue_elsewhere(app: &TestApp, base_url: &str, other_url: &str) -> Value {
    let first = "{ accounts(first: 1) { pageInfo { endCursor } } }";
    let body: Value = app
        .client
        .post(format!("{base_url}/graphql"))
        .json(&json!({ "query": first }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    let cursor = body["data"]["accounts"]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string(), "{body}");
    let next = "query($after: String) { accounts(first: 1, after: $after) { nodes { externalId } } }";
    app.client
        .post(format!("{other_url}/graphql"))
        .json(&json!({ "query": next, "variables": { "after": cursor } }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON")
}

async fn write_accounts(app: &TestApp) {
    let (status, body) = app
        .bulk(&app.base_url, "accounts", "", ndjson(&[account("A1"), account("A2")]))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn every_instance_opens_the_cursors_of_another(app: TestApp) {
    write_accounts(&app).await;
    // No ACCORD_CURSOR_KEY: both instances read the key the first stored.
    let peer = app.peer().await;
    let body = continue_elsewhere(&app, &app.base_url, &peer.base_url).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["accounts"]["nodes"][0]["externalId"], "A2", "{body}");
    let stored = entity::server_secret::Entity::find().all(&app.db).await.expect("read");
    assert_eq!(stored.len(), 1, "one stored key");
}

async fn a_configured_key_seals_cursors_and_another_key_refuses_them(app: TestApp) {
    write_accounts(&app).await;
    let same = app.peer_with(keyed()).await;
    let body = continue_elsewhere(&app, &app.base_url, &same.base_url).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["accounts"]["nodes"][0]["externalId"], "A2", "{body}");
    // A server whose key changed refuses the old cursors, and so does one
    // that reads the stored key: the configured key is the one in use.
    let rotated = app.peer_with(configured(&"ab".repeat(32))).await;
    let stored = app.peer().await;
    for other in [&rotated.base_url, &stored.base_url] {
        let body = continue_elsewhere(&app, &app.base_url, other).await;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".to_owned(), "after".to_owned()),
            "{body}"
        );
    }
}

/// Writes customers C1, C2 (of account A1) and C3, and a touchpoint of
/// C1, as ADMIN.
async fn write_people(app: &TestApp) {
    let admin = key(app, Role::Admin).await;
    for (entity, records) in [
        ("accounts", vec![account("A1")]),
        (
            "customers",
            vec![
                customer("C1", "c1@example.com", Some("A1")),
                customer("C2", "c2@example.com", Some("A1")),
                customer("C3", "c3@example.com", None),
            ],
        ),
        ("touchpoints", vec![touchpoint("T1", "C1", Some("A1"))]),
    ] {
        let response = app
            .client
            .post(format!("{}/ingest/{entity}", app.base_url))
            .bearer_auth(&admin)
            .header("content-type", "application/x-ndjson")
            .body(ndjson(&records))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status().as_u16(), 200);
    }
}

/// The masked-field cases: a query and the `data` a role without PII
/// access must get, with one FORBIDDEN error per masked value.
fn masked_cases() -> Vec<(String, Value, usize)> {
    let mut cases = vec![
        // The reproducer of the issue: `a` survives `b`'s masked emails.
        (
            "{ a: customers(first: 1) { totalCount } b: customers(first: 2) { nodes { email } } }".to_owned(),
            json!({ "a": { "totalCount": 3 }, "b": { "nodes": [{ "email": null }, { "email": null }] } }),
            2,
        ),
        // Nested lists, with aliases at every level.
        (
            "{ accounts { nodes { people: customers { nodes { mail: email who: name } } } } }".to_owned(),
            json!({ "accounts": { "nodes": [{ "people": { "nodes": [
                { "mail": null, "who": null }, { "mail": null, "who": null }
            ] } }] } }),
            4,
        ),
        (
            "{ account(externalId: \"A1\") { customers(first: 1) { totalCount nodes { phone } } } }".to_owned(),
            json!({ "account": { "customers": { "totalCount": 2, "nodes": [{ "phone": null }] } } }),
            1,
        ),
        // A single object whose only field is masked stays an object.
        (
            "{ customer(externalId: \"C3\") { email } }".to_owned(),
            json!({ "customer": { "email": null } }),
            1,
        ),
    ];
    for field in ["email", "name", "phone"] {
        cases.push((
            format!("{{ customers(first: 3) {{ nodes {{ {field} externalId }} }} }}"),
            json!({ "customers": { "nodes": [
                { field: null, "externalId": "C1" }, { field: null, "externalId": "C2" }, { field: null, "externalId": "C3" }
            ] } }),
            3,
        ));
    }
    cases
}

fn assert_masked(body: &Value, expected: &Value, errors: usize, case: &str) {
    assert_eq!(&body["data"], expected, "{case}: {body}");
    let refused = body["errors"].as_array().map(Vec::as_slice).unwrap_or_default();
    assert_eq!(refused.len(), errors, "{case}: {body}");
    for error in refused {
        assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{case}: {body}");
        // Each error names the masked field's own position.
        let last = error["path"].as_array().and_then(|path| path.last()).cloned();
        assert!(
            matches!(
                last.as_ref().and_then(Value::as_str),
                Some("email" | "name" | "phone" | "mail" | "who")
            ),
            "{case}: {error}"
        );
    }
}

async fn masking_nulls_the_masked_field_only(app: TestApp) {
    write_people(&app).await;
    let analyst = key(&app, Role::Analyst).await;
    for (query, expected, errors) in masked_cases() {
        let (status, body) = app.post_as(&analyst, &query, json!({})).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_masked(&body, &expected, errors, &query);
    }
    // A role with PII access reads the same fields, with no error.
    let sales = key(&app, Role::Sales).await;
    let (_, body) = app
        .post_as(&sales, "{ customers(first: 2) { nodes { email } } }", json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["customers"]["nodes"][0]["email"], "c1@example.com");
}

async fn masked_fields_over_websocket_are_null_with_the_rest_of_data(app: TestApp) {
    write_people(&app).await;
    let analyst = key(&app, Role::Analyst).await;
    let mut socket = WsClient::connect(&app.base_url, json!({ "Authorization": format!("Bearer {analyst}") })).await;
    for (index, (query, expected, errors)) in masked_cases().into_iter().enumerate() {
        let id = index.to_string();
        socket.subscribe(&id, &query, json!({})).await;
        let message = socket.next().await;
        assert_eq!(message["type"], "next", "{query}: {message}");
        assert_eq!(message["id"], id.as_str());
        assert_masked(&message["payload"], &expected, errors, &query);
        let complete = socket.next().await;
        assert_eq!(complete["type"], "complete", "{query}: {complete}");
    }
}

async fn an_ingest_upsert_answers_with_what_it_wrote(app: TestApp) {
    write_people(&app).await;
    let ingest = key(&app, Role::Ingest).await;
    let upsert = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) {
        id externalId status customer { externalId name region traits identities { source sourceId } }
    } }";
    // Another customer's email, spaces and case changed: identity resolution
    // writes to C1, and the answer says so without showing C1.
    let mut matching = customer("C9", "  C1@Example.COM ", None);
    matching["region"] = json!("FR");
    let (status, body) = app.post_as(&ingest, upsert, json!({ "input": matching })).await;
    assert_eq!(status, 200, "{body}");
    let answer = &body["data"]["upsertCustomer"];
    assert_eq!(answer["externalId"], "C9", "{body}");
    assert_eq!(answer["status"], "MATCHED", "{body}");
    assert!(answer["id"].is_string(), "{body}");
    assert_eq!(answer["customer"], Value::Null, "{body}");
    assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");
    assert_eq!(
        body["errors"][0]["path"],
        json!(["upsertCustomer", "customer"]),
        "{body}"
    );
    let text = body.to_string();
    for private in ["\"C1\"", "Person C1", "c1@example.com"] {
        assert!(!text.contains(private), "{private} in {text}");
    }

    // A new customer is WRITTEN under its own external id.
    let fresh = customer("C10", "new@example.com", None);
    let (_, body) = app.post_as(&ingest, upsert, json!({ "input": fresh })).await;
    assert_eq!(body["data"]["upsertCustomer"]["status"], "WRITTEN", "{body}");
    assert_eq!(body["data"]["upsertCustomer"]["externalId"], "C10", "{body}");

    // A role that may read records gets the written object in the payload,
    // the same one the INGEST answer's id names.
    let admin = key(&app, Role::Admin).await;
    let (_, body) = app.post_as(&admin, upsert, json!({ "input": matching })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["upsertCustomer"]["status"], "MATCHED", "{body}");
    assert_eq!(body["data"]["upsertCustomer"]["customer"]["externalId"], "C1", "{body}");
    assert_eq!(body["data"]["upsertCustomer"]["id"], answer["id"], "{body}");
}
