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

async fn every_graphql_example_in_the_readme_runs_on_the_demo_data(app: TestApp) {
    let mut ingestor = Ingestor::begin(app.db.clone(), Atomicity::PerBatch, "USD")
        .await
        .expect("an ingestor");
    let spec = DemoSpec {
        scale: Scale::Small,
        seed: 42,
    };
    accord::demo::generate(spec, &mut ingestor, false)
        .await
        .expect("demo data");
    let report = ingestor.finish().await.expect("written");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected.first());

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
