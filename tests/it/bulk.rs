//! `POST /ingest/{entity}`: NDJSON bulk loads, reported by line.

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};
use crate::records::{account, customer, ndjson, touchpoint};

on_both_backends!(bulk_loads_report_rejected_lines_and_resending_changes_nothing);

async fn touchpoint_count(app: &TestApp) -> i64 {
    app.data("{ touchpoints { totalCount } }", json!({})).await["touchpoints"]["totalCount"]
        .as_i64()
        .expect("count")
}

fn rejected(body: &Value) -> Vec<(i64, String)> {
    body["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap_or(0),
                r["field"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn bulk_loads_report_rejected_lines_and_resending_changes_nothing(app: TestApp) {
    let url = app.base_url.clone();
    let (status, body) = app.bulk(&url, "accounts", "", ndjson(&[account("A1")])).await;
    assert_eq!((status, body["written"].clone()), (200, json!(1)), "{body}");
    let customers = [
        customer("C1", "c1@example.com", Some("A1")),
        customer("C2", "c2@example.com", None),
    ];
    app.bulk(&url, "customers", "", ndjson(&customers)).await;

    let mut bad_kind = touchpoint("T4", "C1", None);
    bad_kind["kind"] = json!("TELEPATHY");
    let body = format!(
        "{}{{\"externalId\": \"T2\",\n{}{}{}",
        ndjson(&[touchpoint("T1", "C1", Some("A1"))]),
        ndjson(&[touchpoint("T3", "C404", None)]),
        ndjson(&[bad_kind]),
        ndjson(&[touchpoint("T5", "C2", None)]),
    );
    let (status, report) = app.bulk(&url, "touchpoints", "?batchSize=2", body.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["lines"].clone(), report["written"].clone()),
        (json!(5), json!(2))
    );
    assert_eq!(report["rejectedCount"], 3);
    assert_eq!(
        rejected(&report),
        vec![
            (2, "record".to_owned()),
            (3, "customerExternalId".to_owned()),
            (4, "kind".to_owned())
        ]
    );
    assert!(
        report["rejected"][1]["message"].as_str().unwrap_or("").contains("C404"),
        "{report}"
    );
    assert_eq!(touchpoint_count(&app).await, 2);

    // Re-sending the same load leaves the same state.
    let (_, again) = app.bulk(&url, "touchpoints", "?batchSize=2", body.clone()).await;
    assert_eq!(again["written"], 2);
    assert_eq!(touchpoint_count(&app).await, 2);

    // Strict: one bad line and nothing is written.
    let strict = format!(
        "{}{}",
        ndjson(&[touchpoint("T6", "C1", None)]),
        ndjson(&[touchpoint("T7", "C404", None)])
    );
    let (status, report) = app.bulk(&url, "touchpoints", "?strict=true", strict).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(report["committed"], false);
    assert_eq!(touchpoint_count(&app).await, 2);

    // Requests that cannot be served say why.
    let (status, report) = app.bulk(&url, "telegrams", "", String::new()).await;
    assert_eq!(
        (status, report["errors"][0]["extensions"]["code"].clone()),
        (404, json!("NOT_FOUND"))
    );
    let (status, _) = app.bulk(&url, "touchpoints", "?batchSize=0", String::new()).await;
    assert_eq!(status, 400);
    let response = app
        .client
        .post(format!("{url}/ingest/touchpoints"))
        .header("content-type", "application/xml")
        .body("<a/>")
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status().as_u16(), 415);
}
