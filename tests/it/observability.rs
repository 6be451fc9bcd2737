//! Operations: `/metrics` counts GraphQL operations and root fields and
//! shows the pool; every log line of a request names its request id and
//! no log line holds query text or variables; federation entities resolve;
//! the schema's own fields are refused to roles that may not introspect.

use std::process::Stdio;
use std::time::Duration;

use accord::auth::Viewer;
use accord::config::ApiConfig;
use accord::graphql::build_schema;
use accord::graphql::loaders::DbLoader;
use entity::enums::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};
use crate::process::ServerProcess;

on_both_backends!(
    metrics_count_operations_root_fields_and_show_the_pool,
    entities_resolve_accounts_and_customers_by_global_id,
    entities_fail_one_by_one,
    every_metric_family_has_help_and_type,
    the_schema_is_refused_to_roles_that_may_not_introspect,
    log_lines_carry_the_request_id_and_never_the_query,
);

/// The value of the sample of `metric` whose labels include `labels`.
pub(crate) fn sample(metrics: &str, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (name, rest) = series.split_once('{').unwrap_or((series, ""));
        let matches = name == metric
            && labels
                .iter()
                .all(|(key, wanted)| rest.contains(&format!("{key}=\"{wanted}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

pub(crate) async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ASCII").to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.expect("a text body")
}

async fn metrics_count_operations_root_fields_and_show_the_pool(app: TestApp) {
    app.data(
        "query ObservabilityProbe { accounts(first: 1) { totalCount } }",
        json!({}),
    )
    .await;
    let (status, body) = app
        .post(
            "query ObservabilityFailure { account(externalId: \"missing\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body}");
    app.data("{ anonymousProbe: accounts(first: 1) { totalCount } }", json!({}))
        .await;

    let metrics = scrape(&app).await;
    let at_least_one = |metric: &str, labels: &[(&str, &str)]| {
        let value = sample(&metrics, metric, labels);
        assert!(
            value.is_some_and(|v| v >= 1.0),
            "{metric} {labels:?} = {value:?} in\n{metrics}"
        );
    };
    let probe = [("operation", "ObservabilityProbe")];
    let failure = [("operation", "ObservabilityFailure")];
    at_least_one("accord_graphql_operations_total", &probe);
    at_least_one("accord_graphql_operation_duration_seconds_count", &probe);
    at_least_one("accord_graphql_operations_total", &failure);
    at_least_one("accord_graphql_operation_errors_total", &failure);
    at_least_one("accord_graphql_operations_total", &[("operation", "anonymous")]);
    at_least_one(
        "accord_graphql_root_fields_total",
        &[("type", "Query"), ("field", "accounts")],
    );
    at_least_one(
        "accord_graphql_root_field_duration_seconds_count",
        &[("type", "Query"), ("field", "accounts")],
    );
    at_least_one(
        "accord_graphql_root_field_errors_total",
        &[("type", "Query"), ("field", "account")],
    );
    at_least_one(
        "accord_http_requests_total",
        &[("method", "POST"), ("route", "/graphql"), ("status", "200")],
    );
    at_least_one("accord_http_request_duration_seconds_count", &[("route", "/graphql")]);
    // The test server's pool has at most 5 connections.
    assert_eq!(
        sample(&metrics, "accord_db_pool_max_connections", &[]),
        Some(5.0),
        "{metrics}"
    );
    let idle = sample(&metrics, "accord_db_pool_connections", &[("state", "idle")]);
    let in_use = sample(&metrics, "accord_db_pool_connections", &[("state", "in_use")]);
    assert!(
        idle.zip(in_use).is_some_and(|(idle, in_use)| idle + in_use <= 5.0),
        "{metrics}"
    );
}

async fn entities_resolve_accounts_and_customers_by_global_id(app: TestApp) {
    app.import_golden().await;
    let data = app
        .data(
            "{ accounts(first: 1) { nodes { id name } } customers(first: 1) { nodes { id externalId } } }",
            json!({}),
        )
        .await;
    let account = &data["accounts"]["nodes"][0];
    let customer = &data["customers"]["nodes"][0];
    let query = "query($representations: [_Any!]!) {
        _entities(representations: $representations) {
            __typename
            ... on Account { id name }
            ... on Customer { id externalId }
        }
    }";
    let representations = json!([
        { "__typename": "Customer", "id": customer["id"] },
        { "__typename": "Account", "id": account["id"] },
    ]);
    let data = app.data(query, json!({ "representations": representations })).await;
    assert_eq!(
        data["_entities"],
        json!([
            { "__typename": "Customer", "id": customer["id"], "externalId": customer["externalId"] },
            { "__typename": "Account", "id": account["id"], "name": account["name"] },
        ])
    );

    // An id of another type is refused, not looked up.
    let wrong = json!([{ "__typename": "Account", "id": customer["id"] }]);
    let (status, body) = app.post(query, json!({ "representations": wrong })).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
}

/// A representation that cannot be resolved is null in its place with an
/// error at its index; the others resolve.
async fn entities_fail_one_by_one(app: TestApp) {
    app.import_golden().await;
    let data = app
        .data("{ accounts(first: 1) { nodes { id name } } }", json!({}))
        .await;
    let account = &data["accounts"]["nodes"][0];
    let missing = accord::graphql::ids::encode("Account", 987_654_321).to_string();
    let query = "query($representations: [_Any!]!) {
        _entities(representations: $representations) { __typename ... on Account { id name } }
    }";
    let representations = json!([
        { "__typename": "Account", "id": account["id"] },
        { "__typename": "Order", "id": account["id"] },
        { "__typename": "Account", "id": missing },
        { "__typename": "Account", "id": "not an id" },
        { "__typename": "Account", "id": account["id"] },
        { "__typename": "Account", "id": missing },
    ]);
    let (status, body) = app.post(query, json!({ "representations": representations })).await;
    assert_eq!(status, 200, "{body}");
    let found = json!({ "__typename": "Account", "id": account["id"], "name": account["name"] });
    assert_eq!(
        body["data"]["_entities"],
        json!([found, null, null, null, found, null]),
        "{body}"
    );
    let errors = body["errors"].as_array().expect("errors");
    let mut places: Vec<(Value, Value)> = errors
        .iter()
        .map(|error| (error["path"].clone(), error["extensions"]["code"].clone()))
        .collect();
    places.sort_by_key(|(path, _)| path[1].as_u64());
    assert_eq!(
        places,
        vec![
            (json!(["_entities", 1]), json!("BAD_USER_INPUT")),
            (json!(["_entities", 2]), json!("NOT_FOUND")),
            (json!(["_entities", 3]), json!("BAD_USER_INPUT")),
            (json!(["_entities", 5]), json!("NOT_FOUND")),
        ],
        "{body}"
    );
    let unknown = errors
        .iter()
        .find(|error| error["path"][1] == 1)
        .expect("the Order's error");
    assert!(
        unknown["message"]
            .as_str()
            .is_some_and(|message| message.contains("Order")),
        "{unknown}"
    );
}

/// Every sample on `/metrics` belongs to a family with `# HELP` and
/// `# TYPE` (what `promtool check metrics` requires; CI runs it too).
async fn every_metric_family_has_help_and_type(app: TestApp) {
    app.data("query HelpProbe { accounts(first: 1) { totalCount } }", json!({}))
        .await;
    app.post("{ account(externalId: \"missing\") { id } }", json!({})).await;
    let metrics = scrape(&app).await;
    let mut help = std::collections::HashSet::new();
    let mut types = std::collections::HashMap::new();
    let mut families = std::collections::BTreeSet::new();
    for line in metrics.lines().filter(|line| !line.trim().is_empty()) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("#"), Some("HELP"), Some(name)) => {
                help.insert(name.to_owned());
            }
            (Some("#"), Some("TYPE"), Some(name)) => {
                types.insert(name.to_owned(), words.next().unwrap_or("").to_owned());
            }
            (Some("#"), ..) => {}
            _ => {
                let name = line.split(['{', ' ']).next().unwrap_or(line);
                let family = if types.contains_key(name) {
                    name
                } else {
                    ["_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|suffix| name.strip_suffix(suffix))
                        .filter(|family| {
                            matches!(types.get(*family).map(String::as_str), Some("histogram" | "summary"))
                        })
                        .unwrap_or(name)
                };
                families.insert(family.to_owned());
            }
        }
    }
    for expected in [
        "accord_http_requests_total",
        "accord_http_request_duration_seconds",
        "accord_graphql_operations_total",
        "accord_graphql_operation_errors_total",
        "accord_graphql_root_fields_total",
        "accord_graphql_root_field_errors_total",
        "accord_db_pool_connections",
    ] {
        assert!(families.contains(expected), "no {expected} samples in\n{metrics}");
    }
    for family in &families {
        assert!(help.contains(family), "{family} has no # HELP in\n{metrics}");
        assert!(types.contains_key(family), "{family} has no # TYPE in\n{metrics}");
    }
}

/// Runs `query` on the server's schema, with introspection configured on,
/// as a viewer of `role` (the HTTP path to a viewer is covered in `access`).
async fn as_role(app: &TestApp, role: Role, query: &str) -> Value {
    let mut api = ApiConfig::default();
    api.limits.introspection = true;
    let schema = build_schema(
        app.db.clone(),
        api,
        accord::events::EventBus::in_process(),
        accord::db::cursor_key::CursorKey::generate(),
    );
    let request = async_graphql::Request::new(query)
        .data(Viewer {
            role,
            api_key_id: None,
            subject: None,
            expires_at: None,
        })
        .data(DbLoader::for_request(app.db.clone()));
    serde_json::to_value(schema.execute(request).await).expect("response serialises")
}

async fn the_schema_is_refused_to_roles_that_may_not_introspect(app: TestApp) {
    let schema_queries = [
        ("__schema", "{ __schema { queryType { name } } }"),
        ("__type", "{ __type(name: \"Account\") { name } }"),
        ("_service", "{ _service { sdl } }"),
        (
            "_entities",
            "{ _entities(representations: [{ __typename: \"Account\", id: \"QWNjb3VudDox\" }]) { __typename } }",
        ),
    ];
    for role in [Role::Dashboard, Role::Ingest] {
        for (field, query) in schema_queries {
            let body = as_role(&app, role, query).await;
            assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{role}: {body}");
            assert_eq!(body["errors"][0]["path"], json!([field]), "{role}: {body}");
        }
        // __typename is not the schema: clients need it for unions.
        let body = as_role(&app, role, "{ __typename }").await;
        assert_eq!(body, json!({ "data": { "__typename": "Query" } }), "{role}");
    }
    for role in [Role::Admin, Role::Sales, Role::Marketing, Role::Analyst] {
        for (_, query) in &schema_queries[..3] {
            let body = as_role(&app, role, query).await;
            assert!(body.get("errors").is_none(), "{role}: {body}");
        }
    }
}

async fn log_lines_carry_the_request_id_and_never_the_query(app: TestApp) {
    const SECRET: &str = "hunter2-in-a-query";
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("a log file");
    let options = ["--log", "debug", "--log-format", "json"];
    let server = ServerProcess::start(&app.database_url, &options, Stdio::from(log)).await;
    let graphql = format!("{}/graphql", server.base_url);

    // A query holding a secret in its text, one in its variables, and one
    // in a GET query string; the first fails, so an error is logged too
    // if anything logs errors with their input.
    let post = app
        .client
        .post(&graphql)
        .json(&json!({
            "query": format!("query Leaky($key: String) {{ a: account(externalId: \"{SECRET}\") {{ id }} b: customer(externalId: $key) {{ id }} }}"),
            "variables": { "key": SECRET },
        }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(post.status(), 200);
    let request_id = post.headers()["x-request-id"].to_str().expect("ASCII").to_owned();
    assert!(!request_id.is_empty());
    let get = app
        .client
        .get(&graphql)
        .query(&[("query", format!("{{ account(externalId: \"{SECRET}\") {{ id }} }}"))])
        .header("accept", "application/json")
        .send()
        .await
        .expect("request sent");
    assert_eq!(get.status(), 200);
    // Logging is synchronous, but give the response line a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(server);

    let log = std::fs::read_to_string(&log_path).expect("the log");
    assert!(!log.contains(SECRET), "a secret reached the log:\n{log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("a JSON log line: {line}")))
        .collect();
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|line| request_id_of(line) == Some(request_id.as_str()))
        .collect();
    assert!(
        of_request
            .iter()
            .any(|line| line["fields"]["message"] == "request finished" && line["fields"]["status"] == 200),
        "no access-log line for {request_id}:\n{log}"
    );
    // Every line written inside a request's span names its request id.
    for line in &lines {
        if let Some(id) = request_id_of(line) {
            assert!(!id.is_empty(), "a request's log line without its id: {line}");
        }
    }
}

/// The request id of the request span a JSON log line was written in.
fn request_id_of(line: &Value) -> Option<&str> {
    let spans = line["spans"].as_array()?;
    let request = spans.iter().find(|span| span["name"] == "request")?;
    Some(request["request_id"].as_str().unwrap_or(""))
}
