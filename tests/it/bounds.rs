//! The bounds of values on both backends: money is a 64-bit `BigInt` in
//! and out, and every day a client names lies in one range
//! (0001-01-01 to 9999-12-30) so that SQLite and PostgreSQL count alike;
//! strings with a NUL character or over 10,000 characters are refused.

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};
use crate::records::{account, customer, ndjson, order, product};

on_both_backends!(
    money_beyond_32_bits_goes_in_and_out,
    totals_beyond_64_bits_are_refused_not_wrapped,
    days_have_one_range_on_both_backends,
    strings_postgres_cannot_hold_are_refused_naming_the_argument,
    segment_rule_numbers_near_the_float_limit_are_refused
);

/// An order of `amount` minor units in one line.
fn big_order(id: &str, amount: i64) -> Value {
    let mut record = order(id, "c1", None, "p1");
    record["amountMinor"] = json!(amount);
    record["lines"][0]["unitAmountMinor"] = json!(amount);
    record
}

async fn load(app: &TestApp, entity: &str, records: &[Value]) -> Value {
    let (status, report) = app.bulk(&app.base_url, entity, "", ndjson(records)).await;
    assert_eq!(status, 200, "{report}");
    report
}

async fn seed(app: &TestApp) {
    load(app, "accounts", &[account("a1")]).await;
    load(app, "customers", &[customer("c1", "c1@example.com", None)]).await;
    load(app, "products", &[product("p1")]).await;
}

const WINDOW: &str = r#"filter: { from: "2025-01-01", to: "2025-12-31" }"#;

async fn money_beyond_32_bits_goes_in_and_out(app: TestApp) {
    seed(&app).await;
    load(&app, "orders", &[big_order("o1", 2_000_000_000)]).await;
    // Through GraphQL, as a string of digits (for clients whose numbers are doubles).
    let written = app
        .data(
            "mutation($input: OrderInput!) { upsertOrder(input: $input) { status } }",
            json!({ "input": {
                "externalId": "o2", "customerExternalId": "c1", "channel": "ONLINE",
                "orderedAt": "2025-03-02T10:00:00Z", "currency": "USD", "amountMinor": "2500000000",
                "lines": [{ "productExternalId": "p1", "quantity": 1, "unitAmountMinor": "2500000000" }]
            }}),
        )
        .await;
    assert_eq!(written["upsertOrder"]["status"], "WRITTEN");

    let data = app
        .data(
            &format!(
                "{{ insights({WINDOW}) {{ clv {{ overall {{ customers totalMinor }} }} }}
                   orders(first: 5) {{ nodes {{ amount {{ amountMinor }} }} }} }}"
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        data["insights"]["clv"]["overall"]["totalMinor"],
        json!(4_500_000_000_i64)
    );
    let mut amounts: Vec<i64> = data["orders"]["nodes"]
        .as_array()
        .expect("orders")
        .iter()
        .filter_map(|order| order["amount"]["amountMinor"].as_i64())
        .collect();
    amounts.sort_unstable();
    assert_eq!(amounts, [2_000_000_000, 2_500_000_000]);

    // Not a 64-bit integer: refused as input, naming the argument.
    let (status, body) = app
        .post(
            "mutation($input: OrderInput!) { upsertOrder(input: $input) { status } }",
            json!({ "input": {
                "externalId": "o3", "customerExternalId": "c1", "channel": "ONLINE",
                "orderedAt": "2025-03-02T10:00:00Z", "currency": "USD", "amountMinor": "12.5",
                "lines": [{ "productExternalId": "p1", "quantity": 1, "unitAmountMinor": 1 }]
            }}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input", "{body}");
}

async fn totals_beyond_64_bits_are_refused_not_wrapped(app: TestApp) {
    seed(&app).await;
    // 9,300 orders at the largest amount ingest accepts (10^15) sum to
    // 9.3 × 10^18, past i64::MAX.
    let orders: Vec<Value> = (0..9_300)
        .map(|i| big_order(&format!("o{i}"), 1_000_000_000_000_000))
        .collect();
    let report = load(&app, "orders", &orders).await;
    assert_eq!(report["written"], json!(9_300), "{report}");
    for insight in ["clv { overall { totalMinor } }", "attribution { totalValueMinor }"] {
        let (status, body) = app
            .post(&format!("{{ insights({WINDOW}) {{ {insight} }} }}"), json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
            "{insight}: {body}"
        );
        assert!(
            body["errors"][0]["message"].as_str().unwrap_or("").contains("64 bits"),
            "{body}"
        );
    }
}

async fn days_have_one_range_on_both_backends(app: TestApp) {
    seed(&app).await;
    load(&app, "orders", &[big_order("o1", 2500)]).await;

    // The last day accepted counts what a near window counts.
    let orders = |to: &str| {
        format!(
            r#"{{ insights(filter: {{ from: "2025-01-01", to: "{to}" }}) {{ clv {{ overall {{ customers }} }} }} }}"#
        )
    };
    let near = app.data(&orders("2025-12-31"), json!({})).await;
    let far = app.data(&orders("9999-12-30"), json!({})).await;
    assert_eq!(near["insights"]["clv"]["overall"]["customers"], json!(1));
    assert_eq!(far, near);

    // A later day is refused, naming the argument, on both backends alike.
    let (status, body) = app.post(&orders("9999-12-31"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert_eq!(body["errors"][0]["extensions"]["field"], "filter", "{body}");
    assert!(
        message.contains("9999-12-31") && message.contains("9999-12-30"),
        "{body}"
    );

    let (_, body) = app
        .post(
            r#"{ orders(first: 1, filter: { ordered: { before: "+10000-01-01T00:00:00Z" } }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");

    // A record's instant outside the range is refused per record, naming the field.
    let mut late = big_order("o2", 2500);
    late["orderedAt"] = json!("+10000-01-01T00:00:00Z");
    let report = load(&app, "orders", &[late, big_order("o3", 2500)]).await;
    assert_eq!(report["written"], json!(1), "{report}");
    let rejected = report["rejected"].to_string();
    assert!(
        rejected.contains("orderedAt") && rejected.contains("9999-12-30"),
        "{report}"
    );
}

/// Reproducer (found by the fuzzer on PostgreSQL): a NUL character in a
/// filter was INTERNAL there and an empty answer on SQLite.
async fn strings_postgres_cannot_hold_are_refused_naming_the_argument(app: TestApp) {
    seed(&app).await;
    let cases = [
        (
            r#"{ surveyResponses(first: 1, filter: { region: "a\u0000b" }) { totalCount } }"#.to_owned(),
            json!({}),
            "filter.region",
        ),
        (
            r#"{ customers(first: 1, filter: { region: "\u0000" }) { totalCount } }"#.to_owned(),
            json!({}),
            "filter.region",
        ),
        (
            "query($id: String!) { customer(externalId: $id) { id } }".to_owned(),
            json!({ "id": "x".repeat(10_001) }),
            "$id",
        ),
    ];
    for (query, variables, field) in cases {
        let (status, body) = app.post(&query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // The same filter without the NUL answers.
    let fine = app
        .data(
            r#"{ customers(first: 1, filter: { region: "UK" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(fine["customers"]["totalCount"], json!(1));
}

/// Reproducer (found by the fuzzer on PostgreSQL): a rule value near
/// f64::MAX was stored, then could not be read back (INTERNAL).
async fn segment_rule_numbers_near_the_float_limit_are_refused(app: TestApp) {
    let create = "mutation($rule: SegmentRuleInput!) { createSegment(input: { name: \"s\", team: MARKETING, rule: $rule }) { id } }";
    let metric =
        json!({ "metric": { "metric": "ORDER_COUNT", "operator": "GT", "value": -1.797_693_134_862_315_5e308 } });
    let trait_rule = json!({ "trait": { "field": "traits.size", "operator": "EQ", "value": 1e300 } });
    for rule in [metric, trait_rule] {
        let (status, body) = app.post(create, json!({ "rule": rule })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert!(
            body["errors"][0]["message"].as_str().unwrap_or("").contains("value"),
            "{body}"
        );
    }
    let fine = json!({ "metric": { "metric": "ORDER_COUNT", "operator": "GT", "value": 2 } });
    let created = app.data(create, json!({ "rule": fine })).await;
    assert!(created["createSegment"]["id"].is_string(), "{created}");
}
