//! `schema.graphql` is exactly the SDL the server serves: what
//! `accord schema` prints and what `{ _service { sdl } }` answers a
//! federation router.

use std::process::Command;

use serde_json::json;

use crate::helpers::{Backend, TestApp};

fn checked_in() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    std::fs::read_to_string(path).expect("schema.graphql exists")
}

#[test]
fn schema_graphql_is_what_accord_schema_prints() {
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("schema")
        .output()
        .expect("accord schema runs");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    assert_eq!(printed, accord::graphql::sdl(), "the binary prints the served schema");
    assert!(
        checked_in() == printed,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_graphql_is_what_the_server_serves_to_federation() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let data = app.data("{ _service { sdl } }", json!({})).await;
    let served = data["_service"]["sdl"].as_str().expect("an SDL string");
    assert!(
        checked_in() == served,
        "schema.graphql is not what `_service {{ sdl }}` serves: run `cargo run -- schema > schema.graphql`"
    );
    assert!(
        served.contains("extend schema @link(") && served.contains("url: \"https://specs.apollo.dev/federation/v2."),
        "not a federation v2 subgraph"
    );
    for entity in ["type Account", "type Customer"] {
        assert!(
            served.contains(&format!("{entity} implements Node @key(fields: \"id\")")),
            "{entity} is not an entity keyed by id"
        );
    }
}
