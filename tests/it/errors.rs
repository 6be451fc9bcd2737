//! Bad requests get GraphQL errors with `extensions.code` and the HTTP
//! status the GraphQL-over-HTTP specification gives for the media type
//! the client accepts.

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    request_errors_get_codes_and_spec_statuses,
    execution_errors_get_codes_and_200,
    syntax_errors_point_at_the_error_in_one_line,
    two_anonymous_operations_fail_validation
);

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

async fn raw_post(app: &TestApp, accept: &str, content_type: &str, body: &str) -> (u16, String, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .header("accept", accept)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, media, body)
}

async fn request_errors_get_codes_and_spec_statuses(app: TestApp) {
    // (body, status with graphql-response+json, status with application/json, code)
    let cases = [
        (r#"{"query": "{ accounts { totalCount }"#, 400, 400, "BAD_REQUEST"),
        (
            r#"{"query": "{ accounts { totalCount "}"#,
            400,
            200,
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            r#"{"query": "{ accounts { colour } }"}"#,
            400,
            200,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            r#"{"query": "{ accounts(first: \"ten\") { totalCount } }"}"#,
            400,
            200,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (r#"[{"query": "{ accounts { totalCount } }"}]"#, 400, 400, "BAD_REQUEST"),
    ];
    for (body, graphql_status, json_status, code) in cases {
        let (status, media, response) = raw_post(&app, GRAPHQL_RESPONSE_JSON, "application/json", body).await;
        assert_eq!(status, graphql_status, "{body}: {response}");
        assert!(media.starts_with(GRAPHQL_RESPONSE_JSON), "{media}");
        assert_eq!(response["errors"][0]["extensions"]["code"], code, "{body}: {response}");
        assert!(
            response.get("data").is_none(),
            "no data for a request error: {response}"
        );

        let (status, media, response) = raw_post(&app, "application/json", "application/json", body).await;
        assert_eq!(status, json_status, "{body}: {response}");
        assert!(media.starts_with("application/json"), "{media}");
        assert_eq!(response["errors"][0]["extensions"]["code"], code, "{body}: {response}");
    }
    let (status, _, _) = raw_post(&app, "application/json", "text/plain", r#"{"query": "{ __typename }"}"#).await;
    assert_eq!(status, 415);
}

async fn execution_errors_get_codes_and_200(app: TestApp) {
    app.import_golden().await;
    let cases = [
        ("{ accounts(first: 501) { totalCount } }", "BAD_USER_INPUT", "first"),
        ("{ accounts(first: -1) { totalCount } }", "BAD_USER_INPUT", "first"),
        (
            "{ accounts(after: \"bm90IGEgY3Vyc29y\") { totalCount } }",
            "BAD_USER_INPUT",
            "after",
        ),
        (
            "{ orders(filter: {ordered: {from: \"2026-01-01T00:00:00Z\", before: \"2025-01-01T00:00:00Z\"}}) { totalCount } }",
            "BAD_USER_INPUT",
            "ordered",
        ),
    ];
    for (query, code, field) in cases {
        let (status, body) = app.post(query, json!({})).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{query}: {body}");
        assert!(body["data"].is_null() || body["data"].is_object(), "{body}");
    }
    // A cursor of one order cannot continue another.
    let data = app
        .data("{ orders(first: 1) { pageInfo { endCursor } } }", json!({}))
        .await;
    let cursor = data["orders"]["pageInfo"]["endCursor"].clone();
    let (_, body) = app
        .post(
            "query($after: String) { orders(first: 1, after: $after, orderBy: {field: AMOUNT}) { totalCount } }",
            json!({ "after": cursor }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
}

/// A syntax error names its line and column in one line of text and in
/// `locations`, over HTTP as in any GraphQL response.
async fn syntax_errors_point_at_the_error_in_one_line(app: TestApp) {
    for (query, line, column) in [
        ("{ accounts { totalCount }", 1, 26),
        ("query {\n  accounts(first: 1) {\n    totalCount\n  }\n  ]\n}", 5, 3),
    ] {
        let body = json!({ "query": query }).to_string();
        let (status, _, response) = raw_post(&app, GRAPHQL_RESPONSE_JSON, "application/json", &body).await;
        assert_eq!(status, 400, "{query}: {response}");
        let error = &response["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
            "{query}: {response}"
        );
        assert_eq!(
            error["locations"],
            json!([{ "line": line, "column": column }]),
            "{query}: {response}"
        );
        let message = error["message"].as_str().expect("a message");
        assert!(!message.contains('\n'), "{query}: not one line: {message:?}");
        assert!(message.contains(&format!("line {line}, column {column}")), "{message}");
        assert!(message.contains("expected"), "{message}");
    }
}

/// Two anonymous operations parse; the specification's Lone Anonymous
/// Operation rule refuses them, so it is a validation error.
async fn two_anonymous_operations_fail_validation(app: TestApp) {
    for query in [
        "{ a: __typename } { b: __typename }",
        "query { __typename }\nquery Named { __typename }",
    ] {
        let body = json!({ "query": query }).to_string();
        let (status, _, response) = raw_post(&app, GRAPHQL_RESPONSE_JSON, "application/json", &body).await;
        assert_eq!(status, 400, "{query}: {response}");
        let error = &response["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{query}: {response}"
        );
        assert!(
            error["locations"]
                .as_array()
                .is_some_and(|locations| locations.len() == 2),
            "{query}: {response}"
        );
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("anonymous") && !m.contains('\n')),
            "{response}"
        );
    }
}
