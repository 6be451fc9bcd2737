//! Accounts a rep can act on: `accounts` ordered by health or by the last
//! order and filtered by a health bound, owner and tier, checked against the
//! same accounts' own `health` and `orderStats` fields; paging, refusals and
//! the statement count of a ranked page.

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    accounts_rank_by_health_and_last_order_and_filter_by_health,
    ranked_account_pages_follow_their_cursors_and_refuse_foreign_ones
);

const FIELDS: &str =
    "externalId owner tier health { score components { name basis } } orderStats { daysSinceLastOrder }";

async fn accounts(app: &TestApp, arguments: &str) -> Value {
    app.data(
        &format!(
            "{{ accounts({arguments}) {{ totalCount nodes {{ {FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        ),
        json!({}),
    )
    .await["accounts"]
        .clone()
}

fn nodes(list: &Value) -> Vec<Value> {
    list["nodes"].as_array().expect("nodes").clone()
}

fn score(account: &Value) -> f64 {
    account["health"]["score"].as_f64().expect("score")
}

async fn accounts_rank_by_health_and_last_order_and_filter_by_health(app: TestApp) {
    app.import_golden().await;
    let all = accounts(&app, "first: 500").await;
    let every = nodes(&all);
    assert_eq!(every.len(), 200);

    let by_health = accounts(&app, "first: 500, orderBy: { field: HEALTH, direction: ASC }").await;
    assert_eq!(by_health["totalCount"], all["totalCount"]);
    let scores: Vec<f64> = nodes(&by_health).iter().map(score).collect();
    assert_eq!(scores.len(), 200);
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "ascending health: {scores:?}");
    assert!(scores.first() < scores.last(), "the data must separate accounts");

    let recent_first = accounts(&app, "first: 500, orderBy: { field: LAST_ORDER_AT, direction: DESC }").await;
    let days: Vec<Option<i64>> = nodes(&recent_first)
        .iter()
        .map(|a| a["orderStats"]["daysSinceLastOrder"].as_i64())
        .collect();
    let ordered = days.windows(2).all(|w| match (w[0], w[1]) {
        (Some(a), Some(b)) => a <= b,
        (None, Some(_)) => false,
        _ => true,
    });
    assert!(ordered, "most recent order first, accounts without one last: {days:?}");

    // A rep's at-risk accounts: one owner, one tier, health below a bound.
    let owner = every[0]["owner"].as_str().expect("owner").to_owned();
    let median = scores[scores.len() / 2];
    let at_risk = accounts(
        &app,
        &format!("first: 500, orderBy: {{ field: HEALTH, direction: ASC }}, filter: {{ owner: {owner:?}, healthBelow: {median} }}"),
    )
    .await;
    let expected: Vec<&str> = {
        let mut found: Vec<(f64, &str)> = every
            .iter()
            .filter(|a| a["owner"] == json!(owner) && score(a) < median)
            .map(|a| (score(a), a["externalId"].as_str().unwrap_or_default()))
            .collect();
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        found.into_iter().map(|(_, id)| id).collect()
    };
    let found: Vec<Value> = nodes(&at_risk);
    assert!(!expected.is_empty(), "the owner has accounts below the median");
    assert_eq!(at_risk["totalCount"].as_u64(), u64::try_from(expected.len()).ok());
    let mut found_ids: Vec<&str> = found
        .iter()
        .map(|a| a["externalId"].as_str().unwrap_or_default())
        .collect();
    let mut expected_ids = expected.clone();
    found_ids.sort_unstable();
    expected_ids.sort_unstable();
    assert_eq!(found_ids, expected_ids);
    // healthBelow with a column order keeps the column order.
    let by_name = accounts(
        &app,
        &format!("first: 500, orderBy: {{ field: NAME }}, filter: {{ healthBelow: {median} }}"),
    )
    .await;
    assert!(nodes(&by_name).iter().all(|a| score(a) < median));

    // Health bases speak the reporting currency, not minor units.
    let basis = every[0]["health"]["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == "value_trend")
        .and_then(|c| c["basis"].as_str())
        .expect("value trend basis")
        .to_owned();
    assert!(basis.contains(" USD") && !basis.contains("minor"), "{basis}");

    // A ranked page reads the same number of statements for 5 accounts or 100.
    let page = |first: u32| {
        format!(
            "{{ accounts(first: {first}, orderBy: {{ field: HEALTH }}, filter: {{ healthBelow: 99 }}) {{ totalCount nodes {{ {FIELDS} }} }} }}"
        )
    };
    app.data(&page(5), json!({})).await;
    app.take_statement_count();
    app.data(&page(5), json!({})).await;
    let five = app.take_statement_count();
    app.data(&page(100), json!({})).await;
    assert_eq!(
        app.take_statement_count(),
        five,
        "statements for 5 ranked accounts against 100"
    );
}

async fn ranked_account_pages_follow_their_cursors_and_refuse_foreign_ones(app: TestApp) {
    app.import_golden().await;
    let order = "orderBy: { field: HEALTH, direction: DESC }";
    let whole: Vec<Value> = nodes(&accounts(&app, &format!("first: 500, {order}")).await);
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let page = accounts(&app, &format!("first: 7, {order}{after}")).await;
        paged.extend(nodes(&page));
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = format!(", after: {}", page["pageInfo"]["endCursor"]);
    }
    let ids = |list: &[Value]| -> Vec<String> { list.iter().map(|a| a["externalId"].to_string()).collect() };
    assert_eq!(ids(&paged), ids(&whole), "pages of 7 concatenate to the whole ranking");

    // A cursor of the name order, or of the other direction, is not one of this list's.
    let by_name = accounts(&app, "first: 2, orderBy: { field: NAME }").await;
    let ascending = accounts(&app, "first: 2, orderBy: { field: HEALTH, direction: ASC }").await;
    for foreign in [&by_name["pageInfo"]["endCursor"], &ascending["pageInfo"]["endCursor"]] {
        let (status, body) = app
            .post(
                &format!("{{ accounts(first: 2, {order}, after: {foreign}) {{ nodes {{ externalId }} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
    }
    let (_, body) = app
        .post(
            "{ accounts(filter: { healthBelow: 101 }) { nodes { externalId } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "filter.healthBelow", "{body}");
}
