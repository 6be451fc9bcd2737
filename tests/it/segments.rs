//! Segments: rules compiled to SQL, previewed, refreshed, paged, exported.
//! Sizes are checked against counts made independently (plain SQL, or the
//! fixture file itself).

use std::io::BufRead;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, golden_dir, on_both_backends};

on_both_backends!(
    segments_define_preview_refresh_page_and_export,
    segment_rules_are_checked_with_reasons
);

const CREATE: &str = "mutation($name: String!, $rule: SegmentRuleInput!) {
    createSegment(input: { name: $name, team: MARKETING, rule: $rule }) { id name rule }
}";
const PREVIEW: &str =
    "mutation($rule: SegmentRuleInput!) { previewSegment(rule: $rule, sample: 3) { size sample { externalId } } }";
const REFRESH: &str = "mutation($id: ID!) { refreshSegment(id: $id) { size joined left segment { refreshedAt } } }";

async fn preview_size(app: &TestApp, rule: Value) -> i64 {
    app.data(PREVIEW, json!({ "rule": rule })).await["previewSegment"]["size"]
        .as_i64()
        .expect("size")
}

async fn sql_count(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql.to_owned()))
        .await
        .expect("query")
        .expect("row");
    row.try_get::<i64>("", "n").expect("n")
}

/// Customers of the fixture file whose traits satisfy `keep`.
fn fixture_customers(keep: impl Fn(&Value) -> bool) -> i64 {
    let file = std::fs::File::open(golden_dir().join("customers.ndjson")).expect("customers.ndjson");
    let lines = std::io::BufReader::new(file).lines();
    let count = lines
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
        .filter(|c| keep(&c["traits"]))
        .count();
    i64::try_from(count).unwrap_or(-1)
}

async fn segments_define_preview_refresh_page_and_export(app: TestApp) {
    app.import_golden().await;
    // Three in four customers granted email: the export holds only those.
    let granted = json!({ "email": crate::consent::given("GRANTED", "2026-01-01T00:00:00Z", "form") });
    crate::consent::give_golden_consent(&app, |index| if index % 4 == 0 { json!({}) } else { granted.clone() }).await;
    let uk_paid = json!({ "all": [
        { "trait": { "field": "region", "operator": "EQ", "value": "UK" } },
        { "trait": { "field": "acquisitionChannel", "operator": "IN", "value": ["paid_search", "social"] } }
    ] });
    let expected_uk_paid = sql_count(&app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customer WHERE region = 'UK' AND acquisition_channel IN ('paid_search', 'social')").await;
    assert!(expected_uk_paid >= 10);
    assert_eq!(preview_size(&app, uk_paid.clone()).await, expected_uk_paid);

    // Traits, checked against the fixture file itself.
    let pets = json!({ "any": [
        { "trait": { "field": "traits.interests", "operator": "CONTAINS", "value": "pets" } },
        { "trait": { "field": "traits.pets", "operator": "EQ", "value": true } }
    ] });
    let expected_pets = fixture_customers(|traits| {
        traits["pets"] == json!(true)
            || traits["interests"]
                .as_array()
                .is_some_and(|list| list.contains(&json!("pets")))
    });
    assert_eq!(preview_size(&app, pets.clone()).await, expected_pets);
    let total = sql_count(&app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customer").await;
    assert_eq!(preview_size(&app, json!({ "not": pets })).await, total - expected_pets);

    // A metric with a window, against plain SQL.
    let loyal = json!({ "metric": { "metric": "ORDER_COUNT", "operator": "GTE", "value": 5 } });
    let expected_loyal = sql_count(&app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) >= 5) loyal").await;
    assert_eq!(preview_size(&app, loyal.clone()).await, expected_loyal);
    let top_rfm = json!({ "metric": { "metric": "RFM_F", "operator": "EQ", "value": 5 } });
    let buyers = sql_count(
        &app,
        "SELECT CAST(COUNT(DISTINCT customer_id) AS BIGINT) AS n FROM orders",
    )
    .await;
    assert_eq!(
        preview_size(&app, top_rfm).await,
        buyers / 5,
        "NTILE(5) puts a fifth of buyers in the top score"
    );

    // Create, refresh, refresh again, page, compose, export.
    let created = app.data(CREATE, json!({ "name": "UK paid", "rule": uk_paid })).await;
    let id = created["createSegment"]["id"].clone();
    let node = app
        .data(
            "query($id: ID!) { node(id: $id) { __typename id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"], json!({ "__typename": "Segment", "id": id }));
    let first = app.data(REFRESH, json!({ "id": id })).await["refreshSegment"].clone();
    assert_eq!(
        (first["size"].as_i64(), first["joined"].as_i64(), first["left"].as_i64()),
        (Some(expected_uk_paid), Some(expected_uk_paid), Some(0))
    );
    let second = app.data(REFRESH, json!({ "id": id })).await["refreshSegment"].clone();
    assert_eq!((second["joined"].as_i64(), second["left"].as_i64()), (Some(0), Some(0)));
    let segment = app
        .data("query($id: ID!) { segment(id: $id) { size sizeHistory { size joined left } members(first: 500) { totalCount nodes { region } } membersCsvPath(channel: EMAIL) } }", json!({ "id": id }))
        .await["segment"]
        .clone();
    assert_eq!(segment["size"].as_i64(), Some(expected_uk_paid));
    assert_eq!(segment["sizeHistory"].as_array().map(Vec::len), Some(2));
    assert_eq!(segment["members"]["totalCount"].as_i64(), Some(expected_uk_paid));
    assert!(
        segment["members"]["nodes"]
            .as_array()
            .is_some_and(|nodes| nodes.iter().all(|n| n["region"] == "UK"))
    );

    let loyal_uk = json!({ "all": [{ "inSegment": id }, loyal] });
    let composed = app
        .data(CREATE, json!({ "name": "Loyal UK paid", "rule": loyal_uk }))
        .await["createSegment"]["id"]
        .clone();
    let expected_both = sql_count(&app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customer c WHERE region = 'UK' AND acquisition_channel IN ('paid_search', 'social') AND (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id) >= 5").await;
    assert_eq!(
        app.data(REFRESH, json!({ "id": composed })).await["refreshSegment"]["size"].as_i64(),
        Some(expected_both)
    );

    // A segment may not include itself, even through another one.
    let (_, body) = app
        .post(
            "mutation($id: ID!, $rule: SegmentRuleInput!) { updateSegment(id: $id, input: { rule: $rule }) { id } }",
            json!({ "id": id, "rule": { "inSegment": composed } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    // Nor be deleted while another refers to it.
    let (_, body) = app
        .post("mutation($id: ID!) { deleteSegment(id: $id) }", json!({ "id": id }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "CONFLICT", "{body}");

    // Export: streamed CSV with a header and one line per member who
    // granted email; without a channel it is refused.
    let expected_export = sql_count(&app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customer WHERE region = 'UK' AND acquisition_channel IN ('paid_search', 'social') AND consent_email = 'GRANTED'").await;
    assert!(expected_export >= 10 && expected_export < expected_uk_paid);
    let path = segment["membersCsvPath"].as_str().expect("path").to_owned();
    let bare = path.trim_end_matches("?channel=EMAIL");
    let refused = app
        .client
        .get(format!("{}{bare}", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status().as_u16(), 400);
    let response = app
        .client
        .get(format!("{}{path}", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/csv"))
    );
    let text = response.text().await.expect("text");
    assert!(text.starts_with("external_id,email,name,phone,region,country,joined_at\n"));
    assert_eq!(i64::try_from(text.lines().count()).ok(), Some(expected_export + 1));
    // The export of personal data is audited with its row count.
    let audited = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("exportSegmentMembers"))
        .all(&app.db)
        .await
        .expect("audit log");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert!(
        audited[0].target.ends_with(&format!(": {expected_export} rows")),
        "{audited:?}"
    );

    // Below the minimum audience size, the export is refused.
    let tiny = json!({ "trait": { "field": "traits.companySize", "operator": "EQ", "value": "nothing-like-this" } });
    let tiny_id = app.data(CREATE, json!({ "name": "Nobody", "rule": tiny })).await["createSegment"]["id"].clone();
    app.data(REFRESH, json!({ "id": tiny_id })).await;
    let tiny_path = app
        .data(
            "query($id: ID!) { segment(id: $id) { membersCsvPath(channel: EMAIL) } }",
            json!({ "id": tiny_id }),
        )
        .await["segment"]["membersCsvPath"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refused = app
        .client
        .get(format!("{}{tiny_path}", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status().as_u16(), 403);

    // Sales sees which segments an account's contacts are in.
    let account = sql_count(&app, "SELECT MIN(c.account_id) AS n FROM segment_member m JOIN customer c ON c.id = m.customer_id WHERE c.account_id IS NOT NULL").await;
    let data = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Account { segments { contacts segment { name } } } } }",
            json!({ "id": encode("Account", account) }),
        )
        .await;
    let names: Vec<&str> = data["node"]["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .filter_map(|s| s["segment"]["name"].as_str())
        .collect();
    assert!(names.contains(&"UK paid"), "{data}");
}

pub(crate) fn encode(type_name: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{type_name}:{id}"))
}

async fn segment_rules_are_checked_with_reasons(app: TestApp) {
    let cases = [
        (
            json!({ "trait": { "field": "colour", "operator": "EQ", "value": "red" } }),
            "rule.trait.field",
            "acquisitionChannel",
        ),
        (
            json!({ "trait": { "field": "region", "operator": "IN", "value": "UK" } }),
            "rule.trait.value",
            "list of strings",
        ),
        (
            json!({ "trait": { "field": "region", "operator": "GT", "value": 3 } }),
            "rule.trait.operator",
            "numbers",
        ),
        (
            json!({ "metric": { "metric": "ORDER_COUNT", "operator": "CONTAINS", "value": 1 } }),
            "rule.metric.operator",
            "GTE",
        ),
        (
            json!({ "metric": { "metric": "RFM_R", "operator": "EQ", "value": 9 } }),
            "rule.metric.value",
            "1 to 5",
        ),
        (json!({ "all": [] }), "rule.all", "at least one"),
        (
            json!({ "inSegment": encode("Segment", 999) }),
            "rule.inSegment",
            "does not exist",
        ),
    ];
    for (rule, field, hint) in cases {
        let (status, body) = app.post(PREVIEW, json!({ "rule": rule })).await;
        assert_eq!(status, 200, "{body}");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{rule}: {body}");
        assert_eq!(error["extensions"]["field"], field, "{rule}: {body}");
        assert!(
            error["message"].as_str().is_some_and(|m| m.contains(hint)),
            "{rule}: {body}"
        );
    }
    // Unknown metrics and operators are refused by the schema itself.
    let (_, body) = app
        .post(
            PREVIEW,
            json!({ "rule": { "metric": { "metric": "KARMA", "operator": "EQ", "value": 1 } } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    // Two fields of a @oneOf input are refused too.
    let (_, body) = app.post(PREVIEW, json!({ "rule": { "all": [], "any": [] } })).await;
    assert!(body["errors"][0]["extensions"]["code"].is_string(), "{body}");
}
