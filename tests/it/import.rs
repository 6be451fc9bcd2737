//! Importing the golden fixture through the real import path.

use std::io::Write;

use accord::ingest::{ImportOptions, import_path};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expected, on_both_backends};

on_both_backends!(
    golden_import_gives_the_expected_count_of_every_entity,
    importing_twice_changes_nothing,
    bad_records_are_reported_by_file_line_and_field
);

/// The number of rows of every entity, as the API reports them.
async fn counts_through_the_api(app: &TestApp) -> Value {
    let data = app
        .data(
            "{
              accounts { totalCount } customers { totalCount } products { totalCount }
              orders { totalCount } campaigns { totalCount } touchpoints { totalCount }
              leads { totalCount } surveys { totalCount } surveyResponses { totalCount }
              productTests(first: 500) { totalCount nodes { votes { totalCount } } }
              brandMentions { totalCount }
            }",
            json!({}),
        )
        .await;
    let votes: i64 = data["productTests"]["nodes"]
        .as_array()
        .expect("test nodes")
        .iter()
        .map(|test| test["votes"]["totalCount"].as_i64().expect("a count"))
        .sum();
    let count = |field: &str| data[field]["totalCount"].clone();
    json!({
        "accounts": count("accounts"),
        "customers": count("customers"),
        "products": count("products"),
        "orders": count("orders"),
        "campaigns": count("campaigns"),
        "touchpoints": count("touchpoints"),
        "leads": count("leads"),
        "surveys": count("surveys"),
        "survey_responses": count("surveyResponses"),
        "product_tests": count("productTests"),
        "product_test_votes": votes,
        "brand_mentions": count("brandMentions"),
    })
}

async fn golden_import_gives_the_expected_count_of_every_entity(app: TestApp) {
    app.import_golden().await;
    assert_eq!(counts_through_the_api(&app).await, expected()["meta"]["rowCounts"]);
}

/// Row count, largest id and a content sum of every table: equal snapshots
/// mean no row was added and none changed its id.
async fn snapshot(app: &TestApp) -> Vec<(String, i64, i64)> {
    let tables = [
        ("account", "0"),
        ("customer", "0"),
        ("product", "0"),
        ("orders", "SUM(amount_minor)"),
        ("order_line", "SUM(quantity * unit_amount_minor)"),
        ("campaign", "SUM(spend_minor)"),
        ("touchpoint", "0"),
        ("lead", "SUM(COALESCE(amount_minor, 0))"),
        ("survey", "0"),
        ("survey_response", "SUM(COALESCE(nps_score, 0))"),
        ("brand_answer", "0"),
        ("driver_rating", "SUM(rating)"),
        ("product_test", "0"),
        ("product_test_vote", "0"),
        ("brand_mention", "SUM(mentions)"),
    ];
    let mut rows = Vec::new();
    for (table, content) in tables {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE({content}, 0) AS BIGINT) AS content FROM \"{table}\""
        );
        let row = app
            .db
            .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
            .await
            .expect("snapshot query")
            .expect("one row");
        rows.push((
            table.to_owned(),
            row.try_get::<i64>("", "n").expect("n"),
            row.try_get::<i64>("", "content").expect("content"),
        ));
    }
    rows
}

async fn importing_twice_changes_nothing(app: TestApp) {
    app.import_golden().await;
    let first = snapshot(&app).await;
    let first_ids = app
        .data("{ customers(first: 3) { nodes { id externalId } } }", json!({}))
        .await;
    app.import_golden().await;
    assert_eq!(snapshot(&app).await, first);
    assert_eq!(
        app.data("{ customers(first: 3) { nodes { id externalId } } }", json!({}))
            .await,
        first_ids
    );
}

async fn bad_records_are_reported_by_file_line_and_field(app: TestApp) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut file = std::fs::File::create(dir.path().join("customers.ndjson")).expect("create file");
    let good = r#"{"externalId":"C1","accountExternalId":null,"email":"a@example.com","name":"A","phone":null,"region":"UK","country":"GB","acquisitionChannel":"direct","firstSeenAt":"2025-01-01T00:00:00Z","traits":{}}"#;
    let lines = [
        good.to_owned(),
        r#"{"externalId":"C2","#.to_owned(),
        good.replace("C1", "C3")
            .replace("\"traits\"", "\"colour\":\"red\",\"traits\""),
        good.replace("C1", "C4").replace("a@example.com", "not-an-email"),
        good.replace("C1", "C5")
            .replace("\"accountExternalId\":null", "\"accountExternalId\":\"A404\""),
        // Another person: the same email would make it the same customer.
        good.replace("C1", "C6").replace("a@example.com", "f@example.com"),
    ];
    writeln!(file, "{}", lines.join("\n")).expect("write file");
    drop(file);

    let strict = ImportOptions {
        strict: true,
        ..ImportOptions::default()
    };
    let report = import_path(app.db.clone(), dir.path(), &strict)
        .await
        .expect("import runs");
    assert!(!report.ingest.committed);
    assert_eq!(
        app.data("{ customers { totalCount } }", json!({})).await["customers"]["totalCount"],
        0
    );

    let report = import_path(app.db.clone(), dir.path(), &ImportOptions::default())
        .await
        .expect("import runs");
    let mut rejected: Vec<(u64, String)> = report
        .ingest
        .rejected
        .iter()
        .map(|r| (r.line, r.error.field.clone()))
        .collect();
    rejected.sort();
    assert_eq!(
        rejected,
        vec![
            (2, "record".to_owned()),
            (3, "colour".to_owned()),
            (4, "email".to_owned()),
            (5, "accountExternalId".to_owned()),
        ]
    );
    let unknown_field = report
        .ingest
        .rejected
        .iter()
        .find(|r| r.line == 3)
        .expect("line 3 rejected");
    assert!(
        unknown_field.error.message.contains("colour"),
        "{}",
        unknown_field.error.message
    );
    let file = report.file_of(unknown_field).expect("the file is known");
    assert!(file.ends_with("customers.ndjson"));
    let data = app.data("{ customers { nodes { externalId } } }", json!({})).await;
    assert_eq!(
        data["customers"]["nodes"],
        json!([{ "externalId": "C1" }, { "externalId": "C6" }])
    );
}
