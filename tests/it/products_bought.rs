//! What an account or a customer bought (`productsBought`), how customers
//! rated those products (`Product.approval`, `ProductTest.approval`), and
//! the date filters of nested lists — each checked on the golden data
//! against the fixture files or the independently computed expected.json,
//! and in a bounded number of statements.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expected, golden_records, on_both_backends};

on_both_backends!(
    products_bought_match_the_orders_of_the_account_and_its_contacts,
    product_approval_matches_the_expected_test_results,
    nested_lists_take_the_root_lists_date_filters
);

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text(value))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// Per product: units, revenue, orders, first and last order time.
type Bought = BTreeMap<String, (i64, i64, i64, DateTime<Utc>, DateTime<Utc>)>;

/// The golden orders an account owns: recorded against it or placed by one of its contacts.
fn account_orders(account: &str) -> Vec<Value> {
    let contacts: HashSet<String> = golden_records("customers.ndjson")
        .iter()
        .filter(|c| text(&c["accountExternalId"]) == account)
        .map(|c| text(&c["externalId"]).to_owned())
        .collect();
    golden_records("orders.ndjson")
        .into_iter()
        .filter(|o| text(&o["accountExternalId"]) == account || contacts.contains(text(&o["customerExternalId"])))
        .collect()
}

fn bought_from(orders: &[Value], from: Option<DateTime<Utc>>) -> Bought {
    let mut bought = Bought::new();
    for order in orders
        .iter()
        .filter(|o| from.is_none_or(|from| time(&o["orderedAt"]) >= from))
    {
        let at = time(&order["orderedAt"]);
        let mut counted = HashSet::new();
        for line in order["lines"].as_array().expect("lines") {
            let product = text(&line["productExternalId"]).to_owned();
            let quantity = line["quantity"].as_i64().expect("quantity");
            let entry = bought.entry(product.clone()).or_insert((0, 0, 0, at, at));
            entry.0 += quantity;
            entry.1 += quantity * line["unitAmountMinor"].as_i64().expect("unit amount");
            if counted.insert(product) {
                entry.2 += 1;
            }
            entry.3 = entry.3.min(at);
            entry.4 = entry.4.max(at);
        }
    }
    bought
}

fn bought_of(answer: &Value) -> Bought {
    answer
        .as_array()
        .expect("productsBought")
        .iter()
        .map(|p| {
            (
                text(&p["product"]["externalId"]).to_owned(),
                (
                    p["units"].as_i64().expect("units"),
                    p["revenue"]["amountMinor"].as_str().map_or_else(
                        || p["revenue"]["amountMinor"].as_i64().expect("amount"),
                        |s| s.parse().expect("amount"),
                    ),
                    p["orders"].as_i64().expect("orders"),
                    time(&p["firstBoughtAt"]),
                    time(&p["lastBoughtAt"]),
                ),
            )
        })
        .collect()
}

const BOUGHT: &str = "product { externalId } units revenue { amountMinor } orders firstBoughtAt lastBoughtAt";

async fn products_bought_match_the_orders_of_the_account_and_its_contacts(app: TestApp) {
    app.import_golden().await;
    // The accounts with the most orders, and one whose contacts' orders name no account.
    let mut by_orders: HashMap<String, usize> = HashMap::new();
    for order in golden_records("orders.ndjson") {
        *by_orders
            .entry(text(&order["accountExternalId"]).to_owned())
            .or_default() += 1;
    }
    let mut accounts: Vec<(String, usize)> = by_orders.into_iter().filter(|(a, _)| !a.is_empty()).collect();
    accounts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let from = "2026-01-01T00:00:00Z";
    for (account, _) in accounts.iter().take(4) {
        let data = app
            .data(
                &format!("query($a: String!, $from: DateTime!) {{ account(externalId: $a) {{ all: productsBought {{ {BOUGHT} }} recent: productsBought(ordered: {{ from: $from }}) {{ {BOUGHT} }} }} }}"),
                json!({ "a": account, "from": from }),
            )
            .await;
        let orders = account_orders(account);
        let all = bought_from(&orders, None);
        assert!(all.len() >= 2, "{account}: too few products to prove anything");
        assert_eq!(bought_of(&data["account"]["all"]), all, "{account}: all time");
        assert_eq!(
            bought_of(&data["account"]["recent"]),
            bought_from(&orders, Some(time(&json!(from)))),
            "{account}: from {from}"
        );
        // Highest revenue first.
        let revenues: Vec<i64> = bought_of(&data["account"]["all"]).values().map(|v| v.1).collect();
        let listed: Vec<i64> = data["account"]["all"]
            .as_array()
            .expect("list")
            .iter()
            .map(|p| bought_of(&json!([p])).values().next().expect("one").1)
            .collect();
        let mut sorted = revenues.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(listed, sorted, "{account}: highest revenue first");
    }
    // A customer's are its own orders.
    let customer = "C1217";
    let own: Vec<Value> = golden_records("orders.ndjson")
        .into_iter()
        .filter(|o| text(&o["customerExternalId"]) == customer)
        .collect();
    let data = app
        .data(
            &format!("query($c: String!) {{ customer(externalId: $c) {{ productsBought {{ {BOUGHT} }} }} }}"),
            json!({ "c": customer }),
        )
        .await;
    assert_eq!(bought_of(&data["customer"]["productsBought"]), bought_from(&own, None));

    // The statements of a page of accounts with what they bought and its
    // tests do not grow with the page.
    let page = |first: u32| {
        format!(
            "{{ accounts(first: {first}) {{ nodes {{ productsBought {{ units product {{ approval {{ allTouchpointsApproved }} tests(first: 5) {{ nodes {{ approval {{ customerApproved }} }} }} }} }} orders(filter: {{ ordered: {{ from: \"2026-01-01T00:00:00Z\" }} }}) {{ totalCount }} }} }} }}"
        )
    };
    app.data(&page(2), json!({})).await;
    app.take_statement_count();
    app.data(&page(2), json!({})).await;
    let two = app.take_statement_count();
    app.data(&page(50), json!({})).await;
    let fifty = app.take_statement_count();
    assert_eq!(two, fifty, "statements for 2 accounts against 50");
    assert!(fifty <= 12, "{fifty} statements");
}

async fn product_approval_matches_the_expected_test_results(app: TestApp) {
    app.import_golden().await;
    let expected = expected();
    let tests = expected["productTests"]["tests"].as_array().expect("tests");
    let data = app
        .data(
            "{ products(first: 100) { nodes { externalId approval { touchpointsTested touchpointsApproved allTouchpointsApproved suppressed }
               tests(first: 50) { nodes { externalId approval { approvalThreshold customerApproved approval { n rate ciLow ciHigh } } } } } } }",
            json!({}),
        )
        .await;
    let products = data["products"]["nodes"].as_array().expect("products");
    let mut seen = 0;
    for product in products {
        let id = text(&product["externalId"]);
        let mine: Vec<&Value> = tests.iter().filter(|t| text(&t["productExternalId"]) == id).collect();
        let mut touchpoints: BTreeMap<&str, bool> = BTreeMap::new();
        for test in &mine {
            *touchpoints.entry(text(&test["touchpoint"])).or_default() |= test["customerApproved"] == json!(true);
            let answered = product["tests"]["nodes"]
                .as_array()
                .expect("tests")
                .iter()
                .find(|t| t["externalId"] == test["testExternalId"])
                .expect("the test is listed under its product");
            let approval = &answered["approval"];
            assert_eq!(approval["approval"]["n"], test["n"], "{id}");
            for field in ["rate", "ciLow", "ciHigh"] {
                let (got, want) = (approval["approval"][field].as_f64(), test[field].as_f64());
                assert!(
                    got.zip(want).is_some_and(|(g, w)| (g - w).abs() < 1e-6),
                    "{id} {field}: {got:?} against {want:?}"
                );
            }
            assert_eq!(approval["customerApproved"], test["customerApproved"], "{id}");
            seen += 1;
        }
        let approved = touchpoints.values().filter(|a| **a).count();
        let verdict = &product["approval"];
        assert_eq!(
            verdict["touchpointsTested"].as_u64(),
            u64::try_from(touchpoints.len()).ok(),
            "{id}"
        );
        assert_eq!(
            verdict["touchpointsApproved"].as_u64(),
            u64::try_from(approved).ok(),
            "{id}"
        );
        assert_eq!(
            verdict["allTouchpointsApproved"],
            json!(!touchpoints.is_empty() && approved == touchpoints.len()),
            "{id}"
        );
    }
    assert_eq!(seen, tests.len(), "every expected test was checked");
}

async fn nested_lists_take_the_root_lists_date_filters(app: TestApp) {
    app.import_golden().await;
    let account = "A0054";
    let from = time(&json!("2026-01-01T00:00:00Z"));
    let orders = account_orders(account)
        .iter()
        .filter(|o| time(&o["orderedAt"]) >= from)
        .count();
    let contacts: HashSet<String> = golden_records("customers.ndjson")
        .iter()
        .filter(|c| text(&c["accountExternalId"]) == account)
        .map(|c| text(&c["externalId"]).to_owned())
        .collect();
    let touches = golden_records("touchpoints.ndjson")
        .iter()
        .filter(|t| text(&t["accountExternalId"]) == account || contacts.contains(text(&t["customerExternalId"])))
        .filter(|t| time(&t["occurredAt"]) >= from && text(&t["team"]) == "MARKETING")
        .count();
    let responses = golden_records("survey_responses.ndjson")
        .iter()
        .filter(|r| contacts.contains(text(&r["customerExternalId"])) && time(&r["respondedAt"]) < from)
        .count();
    let data = app
        .data(
            "query($a: String!, $t: DateTime!) { account(externalId: $a) {
                orders(filter: { ordered: { from: $t } }, orderBy: { field: ORDERED_AT, direction: ASC }, first: 500) { totalCount nodes { orderedAt } }
                touchpoints(filter: { occurred: { from: $t }, team: MARKETING }) { totalCount }
                surveyResponses(filter: { responded: { before: $t } }) { totalCount }
            } }",
            json!({ "a": account, "t": "2026-01-01T00:00:00Z" }),
        )
        .await;
    let account = &data["account"];
    assert!(
        orders > 0 && touches > 0 && responses > 0,
        "the case must select something"
    );
    assert_eq!(account["orders"]["totalCount"].as_u64(), u64::try_from(orders).ok());
    assert_eq!(
        account["touchpoints"]["totalCount"].as_u64(),
        u64::try_from(touches).ok()
    );
    assert_eq!(
        account["surveyResponses"]["totalCount"].as_u64(),
        u64::try_from(responses).ok()
    );
    let times: Vec<DateTime<Utc>> = account["orders"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|o| time(&o["orderedAt"]))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "ordered by orderedAt ascending");
    assert!(times.iter().all(|t| *t >= from));
}
