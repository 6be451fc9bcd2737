//! The account's whole story: touches of every team, recorded against the
//! account or made to any of its contacts, and one time-ordered journey of
//! touchpoints, orders, lead stages and survey responses.

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};
use crate::records::{account, customer, lead, ndjson, order, product, touchpoint};

on_both_backends!(
    marketing_touches_of_a_contact_belong_to_the_account,
    the_journey_orders_every_kind_of_event_by_time,
    the_journey_of_many_accounts_takes_a_fixed_number_of_statements,
);

/// Account A1 with contact C1; C1 has seven MARKETING touches that name no
/// account; the account has a SALES call recorded against it; C2 (of no
/// account) has a touch that must stay out.
async fn write_account_with_marketing_contact(app: &TestApp) {
    let url = app.base_url.clone();
    app.bulk(&url, "accounts", "", ndjson(&[account("A1")])).await;
    app.bulk(
        &url,
        "customers",
        "",
        ndjson(&[
            customer("C1", "c1@example.com", Some("A1")),
            customer("C2", "c2@example.com", None),
        ]),
    )
    .await;
    let mut touches: Vec<Value> = (0..7)
        .map(|i| {
            let mut touch = touchpoint(&format!("TM{i}"), "C1", None);
            touch["occurredAt"] = json!(format!("2025-02-0{}T09:00:00Z", i + 1));
            touch
        })
        .collect();
    let mut call = touchpoint("TS1", "C1", Some("A1"));
    call["team"] = json!("SALES");
    call["kind"] = json!("CALL");
    call["channel"] = json!("phone");
    call["occurredAt"] = json!("2025-03-01T09:00:00Z");
    touches.push(call);
    touches.push(touchpoint("TX1", "C2", None));
    let (status, report) = app.bulk(&url, "touchpoints", "", ndjson(&touches)).await;
    assert_eq!(status, 200, "{report}");
}

async fn marketing_touches_of_a_contact_belong_to_the_account(app: TestApp) {
    write_account_with_marketing_contact(&app).await;
    let data = app
        .data(
            r#"{ account(externalId: "A1") {
                touchpointsByTeam(perTeam: 10) { team touchpoints { externalId } }
                touchpoints(first: 20) { totalCount nodes { externalId team } }
                health(asOf: "2025-03-01") { components { name basis } }
            } }"#,
            json!({}),
        )
        .await;
    let account = &data["account"];
    let teams: Vec<(&str, usize)> = account["touchpointsByTeam"]
        .as_array()
        .expect("teams")
        .iter()
        .map(|team| {
            (
                team["team"].as_str().unwrap_or_default(),
                team["touchpoints"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    assert_eq!(teams, vec![("MARKETING", 7), ("SALES", 1)], "{account}");
    assert_eq!(account["touchpoints"]["totalCount"], 8);
    let ids: Vec<&str> = account["touchpoints"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|node| node["externalId"].as_str())
        .collect();
    assert_eq!(ids, vec!["TS1", "TM6", "TM5", "TM4", "TM3", "TM2", "TM1", "TM0"]);
    // Health counts the contact's touches too: the call and the February
    // touches after 2025-01-31 (the 30 days up to 2025-03-01).
    let engagement = account["health"]["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == "engagement")
        .expect("engagement")["basis"]
        .clone();
    assert_eq!(engagement, "8 touchpoints in the last 30 days");
}

/// Adds to the account of [`write_account_with_marketing_contact`]: an
/// order of C1 naming no account, a lead of C1 that reached MQL, and an
/// NPS response of C1; plus the same for C2, who is no contact.
async fn write_other_events(app: &TestApp) {
    let url = app.base_url.clone();
    app.bulk(&url, "products", "", ndjson(&[product("P1")])).await;
    let (status, report) = app
        .bulk(
            &url,
            "orders",
            "",
            ndjson(&[order("O1", "C1", None, "P1"), order("OX", "C2", None, "P1")]),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    app.bulk(&url, "leads", "", ndjson(&[lead("L1", "C1"), lead("LX", "C2")]))
        .await;
    app.bulk(
        &url,
        "surveys",
        "",
        ndjson(&[json!({ "externalId": "S1", "name": "NPS", "kind": "NPS" })]),
    )
    .await;
    let response = |id: &str, customer: &str| {
        json!({
            "externalId": id, "surveyExternalId": "S1", "customerExternalId": customer, "region": "UK",
            "respondedAt": "2025-04-01T10:00:00Z", "npsScore": 9, "purchaseIntent": null,
            "comment": "Great kettle", "brands": [], "ratings": []
        })
    };
    let (status, report) = app
        .bulk(
            &url,
            "survey_responses",
            "",
            ndjson(&[response("R1", "C1"), response("RX", "C2")]),
        )
        .await;
    assert_eq!(status, 200, "{report}");
}

const JOURNEY: &str = r#"query($first: Int, $after: String, $filter: JourneyFilter) {
  account(externalId: "A1") {
    journey(first: $first, after: $after, filter: $filter) {
      pageInfo { hasNextPage endCursor }
      nodes {
        kind occurredAt leadStage customer { externalId }
        touchpoint { externalId team campaign { name } }
        order { externalId }
        lead { externalId }
        surveyResponse { npsScore comment }
      }
    }
  }
}"#;

/// `(kind, occurredAt, the source's id or stage)` of each event.
fn events(data: &Value) -> Vec<(String, String, String)> {
    data["account"]["journey"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|event| {
            let what = event["touchpoint"]["externalId"]
                .as_str()
                .or(event["order"]["externalId"].as_str())
                .or(event["leadStage"].as_str())
                .or(event["surveyResponse"]["comment"].as_str())
                .unwrap_or_default();
            assert_eq!(event["customer"]["externalId"], "C1", "{event}");
            (
                event["kind"].as_str().unwrap_or_default().to_owned(),
                event["occurredAt"].as_str().unwrap_or_default()[..10].to_owned(),
                what.to_owned(),
            )
        })
        .collect()
}

async fn the_journey_orders_every_kind_of_event_by_time(app: TestApp) {
    write_account_with_marketing_contact(&app).await;
    write_other_events(&app).await;
    let data = app.data(JOURNEY, json!({ "first": 20 })).await;
    let all = events(&data);
    let expected: Vec<(String, String, String)> = [
        ("SURVEY_RESPONSE", "2025-04-01", "Great kettle"),
        ("ORDER", "2025-03-01", "O1"),
        ("TOUCHPOINT", "2025-03-01", "TS1"),
        ("TOUCHPOINT", "2025-02-07", "TM6"),
        ("TOUCHPOINT", "2025-02-06", "TM5"),
        ("TOUCHPOINT", "2025-02-05", "TM4"),
        ("TOUCHPOINT", "2025-02-04", "TM3"),
        ("TOUCHPOINT", "2025-02-03", "TM2"),
        ("LEAD_STAGE", "2025-02-02", "MQL"),
        ("TOUCHPOINT", "2025-02-02", "TM1"),
        ("LEAD_STAGE", "2025-02-01", "LEAD"),
        ("TOUCHPOINT", "2025-02-01", "TM0"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(all.len(), expected.len(), "{all:?}");
    // Same-time events are ordered by event id, which depends on row ids:
    // compare times in order, and the set of events.
    let times: Vec<&String> = all.iter().map(|e| &e.1).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "most recent first");
    let mut got = all.clone();
    got.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(data["account"]["journey"]["pageInfo"]["hasNextPage"], false);

    // Pages of 5 walk the same events in the same order, without gaps or repeats.
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let page = app.data(JOURNEY, json!({ "first": 5, "after": after })).await;
        walked.extend(events(&page));
        let info = &page["account"]["journey"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(walked, all);

    // Filters: a time range and kinds.
    let filtered = app
        .data(
            JOURNEY,
            json!({ "filter": { "occurred": { "from": "2025-02-02T00:00:00Z", "before": "2025-03-01T12:00:00Z" },
                                "kinds": ["LEAD_STAGE", "ORDER"] } }),
        )
        .await;
    let kinds: Vec<(String, String)> = events(&filtered).into_iter().map(|e| (e.0, e.2)).collect();
    assert_eq!(
        kinds,
        vec![
            ("ORDER".to_owned(), "O1".to_owned()),
            ("LEAD_STAGE".to_owned(), "MQL".to_owned())
        ]
    );

    // The customer's journey is the same story for one person.
    let customer = app
        .data(
            r#"{ customer(externalId: "C2") { journey { nodes { kind } } } }"#,
            json!({}),
        )
        .await;
    let mut kinds: Vec<&str> = customer["customer"]["journey"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    // The touch and the lead's creation share a time: their order is the ids'.
    kinds[3..].sort_unstable();
    assert_eq!(
        kinds,
        vec!["SURVEY_RESPONSE", "ORDER", "LEAD_STAGE", "LEAD_STAGE", "TOUCHPOINT"]
    );

    // A cursor of another list is refused.
    let (_, body) = app.post(JOURNEY, json!({ "after": "bm90LWEtY3Vyc29y" })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
}

async fn the_journey_of_many_accounts_takes_a_fixed_number_of_statements(app: TestApp) {
    app.import_golden().await;
    let query = r#"query($n: Int!) { accounts(first: $n) { nodes {
        externalId
        journey(first: 10) { nodes { kind occurredAt customer { externalId }
            touchpoint { team campaign { name } } order { amount { amount } } lead { stage } surveyResponse { npsScore } } }
    } } }"#;
    for n in [50, 5] {
        app.take_statement_count();
        let data = app.data(query, json!({ "n": n })).await;
        let statements = app.take_statement_count();
        let accounts = data["accounts"]["nodes"].as_array().expect("accounts");
        assert_eq!(accounts.len(), n);
        assert!(
            accounts
                .iter()
                .any(|a| a["journey"]["nodes"].as_array().is_some_and(|e| e.len() == 10))
        );
        // The accounts; their journeys; the customers; the touchpoints and
        // their campaigns; the orders; the leads; the responses: one each,
        // when the page holds that kind (the first five accounts' latest
        // events hold no survey response).
        let expected = if n == 50 { 8 } else { 7 };
        assert_eq!(statements, expected, "{n} accounts");
    }
}
