//! Every GraphQL example in README.md runs, as written, against the demo
//! data that `serve --demo` loads: no errors, and no root field null (an
//! example naming an account the demo does not have would answer null).

use accord::demo::{DemoSpec, Scale};
use accord::ingest::{Atomicity, Ingestor};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(every_graphql_example_in_the_readme_runs_on_the_demo_data);

/// The ```graphql blocks of the README, in order.
fn examples() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```graphql") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "a graphql block in README.md is not closed");
    blocks
}

/// The account the README's sales example names has contacts, orders, open
/// leads, touches from every team and segments, and recent activity.
async fn the_sales_example_names_an_account_with_a_whole_story(app: &TestApp) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let marker = "account(externalId: \"";
    let start = readme.find(marker).expect("the sales example names an account") + marker.len();
    let external_id = &readme[start..start + readme[start..].find('"').expect("closing quote")];
    let data = app
        .data(
            "query($a: String!) { account(externalId: $a) { customers { totalCount } orders { totalCount } openLeads { totalCount }
               touchpointsByTeam(perTeam: 1) { team } segments { segment { name } } orderStats { daysSinceLastOrder } } }",
            json!({ "a": external_id }),
        )
        .await;
    let account = &data["account"];
    for list in ["customers", "orders", "openLeads"] {
        assert!(
            account[list]["totalCount"].as_i64() > Some(0),
            "{external_id} has no {list}: {account}"
        );
    }
    let teams: Vec<&str> = account["touchpointsByTeam"]
        .as_array()
        .expect("teams")
        .iter()
        .filter_map(|t| t["team"].as_str())
        .collect();
    assert_eq!(
        teams,
        ["MARKETING", "PRODUCT", "SALES", "SERVICE"],
        "{external_id}: touches from every team"
    );
    assert!(
        account["segments"].as_array().is_some_and(|s| !s.is_empty()),
        "{external_id}: {account}"
    );
    assert!(
        account["orderStats"]["daysSinceLastOrder"].as_i64() < Some(30),
        "{external_id}: the demo data is alive: {account}"
    );
}

async fn every_graphql_example_in_the_readme_runs_on_the_demo_data(app: TestApp) {
    let mut ingestor = Ingestor::begin(app.db.clone(), Atomicity::PerBatch, "USD")
        .await
        .expect("an ingestor");
    // As `serve --demo` seeds it: ending today, with the demo segments.
    let spec = DemoSpec {
        scale: Scale::Small,
        seed: 42,
        last_day: Some(chrono::Utc::now().date_naive()),
    };
    accord::demo::generate(spec, &mut ingestor, false)
        .await
        .expect("demo data");
    let report = ingestor.finish().await.expect("written");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected.first());
    let segments = accord::demo::segments::save(&app.db).await.expect("demo segments");
    assert!(segments.iter().all(|(_, size)| *size >= 10), "{segments:?}");
    the_sales_example_names_an_account_with_a_whole_story(&app).await;

    let examples = examples();
    assert!(examples.len() >= 4, "the README's examples were not found");
    for example in examples {
        let (status, body) = app.post(&example, json!({})).await;
        let head = example
            .lines()
            .find(|l| !l.trim_start().starts_with('#') && l.chars().any(char::is_alphabetic));
        assert_eq!(status, 200, "{head:?}: {body}");
        assert!(body.get("errors").is_none(), "{head:?}: {body}");
        let data = body["data"].as_object().expect("data");
        for (field, value) in data {
            assert_ne!(value, &Value::Null, "{head:?}: {field} is null");
        }
    }
}
