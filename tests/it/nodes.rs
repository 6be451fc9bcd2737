//! `node(id:)` resolves the global id of every type back to its object.

use serde_json::json;

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    node_round_trips_for_every_type,
    unknown_and_foreign_ids_are_errors_with_codes
);

async fn node_round_trips_for_every_type(app: TestApp) {
    app.import_golden().await;
    let data = app
        .data(
            "{
              accounts(first: 1) { nodes { id } }
              customers(first: 1) { nodes { id } }
              products(first: 1) { nodes { id } }
              orders(first: 1) { nodes { id } }
              campaigns(first: 1) { nodes { id } }
              touchpoints(first: 1) { nodes { id } }
              leads(first: 1) { nodes { id } }
              surveys(first: 1) { nodes { id } }
              surveyResponses(first: 1) { nodes { id } }
              productTests(first: 1) { nodes { id votes(first: 1) { nodes { id } } } }
              brandMentions(first: 1) { nodes { id } }
            }",
            json!({}),
        )
        .await;
    let mut cases = vec![
        ("Account", data["accounts"]["nodes"][0]["id"].clone()),
        ("Customer", data["customers"]["nodes"][0]["id"].clone()),
        ("Product", data["products"]["nodes"][0]["id"].clone()),
        ("Order", data["orders"]["nodes"][0]["id"].clone()),
        ("Campaign", data["campaigns"]["nodes"][0]["id"].clone()),
        ("Touchpoint", data["touchpoints"]["nodes"][0]["id"].clone()),
        ("Lead", data["leads"]["nodes"][0]["id"].clone()),
        ("Survey", data["surveys"]["nodes"][0]["id"].clone()),
        ("SurveyResponse", data["surveyResponses"]["nodes"][0]["id"].clone()),
        ("ProductTest", data["productTests"]["nodes"][0]["id"].clone()),
        (
            "ProductTestVote",
            data["productTests"]["nodes"][0]["votes"]["nodes"][0]["id"].clone(),
        ),
        ("BrandMention", data["brandMentions"]["nodes"][0]["id"].clone()),
    ];
    cases.dedup();
    assert_eq!(cases.len(), 12);
    for (type_name, id) in cases {
        assert!(id.is_string(), "{type_name} has an id");
        let node = app
            .data(
                "query($id: ID!) { node(id: $id) { __typename id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            node["node"],
            json!({ "__typename": type_name, "id": id }),
            "{type_name}"
        );
    }
}

async fn unknown_and_foreign_ids_are_errors_with_codes(app: TestApp) {
    app.import_golden().await;
    let account =
        app.data("{ accounts(first: 1) { nodes { id } } }", json!({})).await["accounts"]["nodes"][0]["id"].clone();
    let cases = [
        ("{ node(id: \"Q3VzdG9tZXI6OTk5OTk5\") { id } }", "NOT_FOUND"), // Customer:999999
        ("{ node(id: \"not-an-id\") { id } }", "BAD_USER_INPUT"),
        ("{ customer(externalId: \"C9999\") { id } }", "NOT_FOUND"),
    ];
    for (query, code) in cases {
        let (status, body) = app.post(query, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{query}: {body}");
    }
    let (status, body) = app
        .post("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": account }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap_or("").contains("Customer"),
        "{body}"
    );
}
