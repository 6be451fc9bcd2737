//! `schema.graphql` is exactly the SDL the server serves.

use std::process::Command;

#[test]
fn schema_graphql_is_what_accord_schema_prints() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).expect("schema.graphql exists");
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .arg("schema")
        .output()
        .expect("accord schema runs");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    assert_eq!(printed, accord::graphql::sdl(), "the binary prints the served schema");
    assert!(
        checked_in == printed,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}
