//! `schema.graphql` is exactly the SDL the server serves: what
//! `accord schema` prints and what `{ _service { sdl } }` answers a
//! federation router. `schema.client.graphql` beside it is what
//! `accord schema --client` prints for client tools (CI validates the
//! README's operations against it with graphql-inspector).

use std::process::Command;

use serde_json::json;

use crate::helpers::{Backend, TestApp};

fn checked_in() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    std::fs::read_to_string(path).expect("schema.graphql exists")
}

#[test]
fn schema_client_graphql_is_what_accord_schema_client_prints() {
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["schema", "--client"])
        .output()
        .expect("accord schema --client runs");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.client.graphql");
    let checked_in = std::fs::read_to_string(path).expect("schema.client.graphql exists");
    assert!(
        checked_in == printed,
        "schema.client.graphql is out of date: run `cargo run -- schema --client > schema.client.graphql`"
    );
    for federation_only in ["@link", "@key", "@shareable", "@composeDirective"] {
        assert!(
            !printed.contains(federation_only),
            "the client SDL holds {federation_only}"
        );
    }
    assert!(printed.contains("type Query"), "{printed}");
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
