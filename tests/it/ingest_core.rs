//! The ingest core: batches of any size on both backends, strict loads that
//! never commit half a body, bounded lines, upserts that leave what the
//! record does not carry, and refusals with their HTTP status and code.

use accord::config::ApiConfig;
use accord::ingest::records::CustomerRecord;
use accord::ingest::references::References;
use accord::ingest::upsert::upsert_by_external_id;
use accord::ingest::{ImportOptions, Kind, import_path};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, golden_dir, on_both_backends};
use crate::records::{account, csv, customer, ndjson, order, product, touchpoint};

on_both_backends!(
    the_golden_customers_load_in_one_default_batch,
    ten_thousand_customers_fit_one_bulk_batch,
    ten_thousand_mixed_records_fit_one_graphql_batch with large_bodies,
    import_with_batches_of_ten_thousand_writes_everything,
    a_strict_load_with_a_broken_tail_writes_nothing,
    undecodable_and_over_long_lines_are_rejected_and_the_rest_written with short_lines,
    refusals_of_bulk_ingest_carry_their_status_and_code,
    resending_a_merged_customer_leaves_it_merged,
    values_a_database_would_refuse_are_rejected_per_line,
    the_golden_data_set_imports_as_csv,
    csv_bodies_load_with_json_cells_and_bad_rows_reported,
);

fn large_bodies() -> ApiConfig {
    let mut api = ApiConfig::default();
    api.limits.max_body_bytes = 8 * 1024 * 1024;
    api
}

fn short_lines() -> ApiConfig {
    let mut api = ApiConfig::default();
    api.ingest.max_line_bytes = 400;
    api
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count query")
        .expect("a row");
    row.try_get("", "n").expect("a count")
}

fn customers(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| customer(&format!("C{i:05}"), &format!("person{i}@example.com"), None))
        .collect()
}

fn golden_file(name: &str) -> String {
    std::fs::read_to_string(golden_dir().join(name)).expect("golden file")
}

/// The reproducer: 3,004 customers were one INSERT of too many bound values.
async fn the_golden_customers_load_in_one_default_batch(app: TestApp) {
    let url = app.base_url.clone();
    let (status, body) = app.bulk(&url, "accounts", "", golden_file("accounts.ndjson")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.bulk(&url, "customers", "", golden_file("customers.ndjson")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["written"].clone(), body["rejectedCount"].clone()),
        (json!(3004), json!(0))
    );
    assert_eq!(count(&app, "customer").await, 3004);
}

async fn ten_thousand_customers_fit_one_bulk_batch(app: TestApp) {
    let url = app.base_url.clone();
    let (status, body) = app
        .bulk(&url, "customers", "?batchSize=10000", ndjson(&customers(10_000)))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["written"], 10_000, "{body}");
    assert_eq!(count(&app, "customer").await, 10_000);
}

async fn ten_thousand_mixed_records_fit_one_graphql_batch(app: TestApp) {
    let mut batch: Vec<Value> = Vec::with_capacity(10_000);
    // Touchpoints first: the batch is written in dependency order anyway.
    for i in 0..4_000 {
        let mut touch = touchpoint(&format!("T{i:05}"), &format!("C{i:05}"), None);
        touch.as_object_mut().expect("an object").remove("accountExternalId");
        batch.push(json!({ "touchpoint": touch }));
    }
    for record in customers(6_000) {
        let mut record = record;
        record.as_object_mut().expect("an object").remove("accountExternalId");
        batch.push(json!({ "customer": record }));
    }
    let (status, body) = app
        .post(
            "mutation($batch: [IngestRecordInput!]!) { ingest(batch: $batch) { committed written rejected } }",
            json!({ "batch": batch }),
        )
        .await;
    assert_eq!(status, 200, "{}", &body.to_string()[..body.to_string().len().min(2000)]);
    assert_eq!(
        body["data"]["ingest"],
        json!({ "committed": true, "written": 10_000, "rejected": 0 }),
        "{}",
        &body.to_string()[..body.to_string().len().min(2000)]
    );
    assert_eq!(count(&app, "customer").await, 6_000);
    assert_eq!(count(&app, "touchpoint").await, 4_000);
}

async fn import_with_batches_of_ten_thousand_writes_everything(app: TestApp) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("customers.ndjson");
    std::fs::write(&file, ndjson(&customers(10_000))).expect("written");
    let options = ImportOptions {
        batch_size: 10_000,
        ..ImportOptions::default()
    };
    let report = import_path(app.db.clone(), &file, &options).await.expect("import");
    assert!(report.ingest.rejected.is_empty(), "{:?}", report.ingest.rejected);
    assert_eq!(report.ingest.written(accord::ingest::EntityKind::Customers), 10_000);
    assert_eq!(count(&app, "customer").await, 10_000);
}

/// Reproducer: a strict load of 5,500 good lines and one invalid UTF-8
/// line answered 400 but left 5,000 rows.
async fn a_strict_load_with_a_broken_tail_writes_nothing(app: TestApp) {
    let url = app.base_url.clone();
    let mut body = ndjson(&customers(5_500)).into_bytes();
    body.extend_from_slice(b"{\"externalId\": \"\xff\xfe\"}\n");
    let response = app
        .client
        .post(format!("{url}/ingest/customers?strict=true"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    let report: Value = response.json().await.expect("JSON");
    assert_eq!(status, 422, "{report}");
    assert_eq!(report["committed"], false);
    assert_eq!(report["rejected"][0]["line"], 5_501, "{report}");
    assert_eq!(count(&app, "customer").await, 0, "a strict load commits all or nothing");

    // A client that goes away half-way through a strict load leaves nothing either.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let request = app
        .client
        .post(format!("{url}/ingest/customers?strict=true&batchSize=100"))
        .header("content-type", "application/x-ndjson")
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    let upload = tokio::spawn(request);
    sender
        .send(Ok(ndjson(&customers(500)).into_bytes()))
        .await
        .expect("sent a chunk");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sender
        .send(Err(std::io::Error::other("the client went away")))
        .await
        .expect("sent the failure");
    let _ = upload.await;
    // The server finishes the aborted load in its own time.
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(count(&app, "customer").await, 0, "nothing of an aborted strict load");
    }
}

async fn undecodable_and_over_long_lines_are_rejected_and_the_rest_written(app: TestApp) {
    let url = app.base_url.clone();
    let mut long = customer("LONG", "long@example.com", None);
    long["traits"] = json!({ "note": "x".repeat(1_000) });
    let mut body = ndjson(&[customer("C1", "c1@example.com", None)]).into_bytes();
    body.extend_from_slice(b"\xff\xfe not text\n");
    body.extend_from_slice(ndjson(&[long, customer("C2", "c2@example.com", None)]).as_bytes());
    let response = app
        .client
        .post(format!("{url}/ingest/customers"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let report: Value = response.json().await.expect("JSON");
    assert_eq!(
        (report["lines"].clone(), report["written"].clone()),
        (json!(4), json!(2)),
        "{report}"
    );
    let lines: Vec<(i64, String)> = report["rejected"]
        .as_array()
        .expect("rejections")
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap_or(0),
                r["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert_eq!(lines[0].0, 2);
    assert!(lines[0].1.contains("not valid UTF-8"), "{report}");
    assert_eq!(lines[1].0, 3);
    assert!(lines[1].1.contains("ACCORD_MAX_LINE_BYTES"), "{report}");
    assert_eq!(count(&app, "customer").await, 2);
}

async fn refusals_of_bulk_ingest_carry_their_status_and_code(app: TestApp) {
    let url = app.base_url.clone();
    let refusal = |body: &Value| {
        (
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            body["errors"][0]["extensions"]["field"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        )
    };
    let (status, body) = app.bulk(&url, "customers", "?batchSize=0", String::new()).await;
    assert_eq!(
        (status, refusal(&body)),
        (400, ("BAD_USER_INPUT".to_owned(), "batchSize".to_owned()))
    );
    let (status, body) = app.bulk(&url, "unicorns", "", String::new()).await;
    assert_eq!((status, refusal(&body).0), (404, "NOT_FOUND".to_owned()), "{body}");
    // A bad record in a strict load: nothing written, the record named.
    let mut bad = customer("C1", "c1@example.com", None);
    bad["country"] = json!(42);
    let (status, body) = app
        .bulk(&url, "customers", "?strict=true", ndjson(&[account("A1"), bad]))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["rejectedCount"], 2, "{body}");
}

/// An upsert writes only the columns its record carries: re-sending a
/// merged customer's row never clears `merged_into_id`, even when the
/// merge committed after identity resolution chose the row.
async fn resending_a_merged_customer_leaves_it_merged(app: TestApp) {
    let url = app.base_url.clone();
    let (status, _) = app
        .bulk(
            &url,
            "customers",
            "",
            ndjson(&[
                customer("C1", "ada@example.com", None),
                customer("C2", "grace@example.com", None),
            ]),
        )
        .await;
    assert_eq!(status, 200);
    let id_of = |key: &'static str| {
        let app = &app;
        async move {
            app.data(
                "query($key: String!) { customer(externalId: $key) { id } }",
                json!({ "key": key }),
            )
            .await["customer"]["id"]
                .clone()
        }
    };
    let (survivor, merged) = (id_of("C1").await, id_of("C2").await);
    app.data(
        "mutation($s: ID!, $m: ID!) { mergeCustomers(survivor: $s, merged: $m) { id } }",
        json!({ "s": survivor, "m": merged }),
    )
    .await;
    // The row identity resolution would have picked before the merge.
    let record: CustomerRecord =
        serde_json::from_value(customer("C2", "grace@example.com", None)).expect("a customer record");
    let row = record.row(&References::default()).expect("a row");
    upsert_by_external_id(&app.db, vec![row]).await.expect("upserted");
    let still_merged = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT merged_into_id FROM customer WHERE external_id = 'C2'".to_owned(),
        ))
        .await
        .expect("query")
        .expect("a row");
    let merged_into: Option<i64> = still_merged.try_get("", "merged_into_id").expect("a column");
    assert!(merged_into.is_some(), "the upsert undid the merge");
    // And through the API the merged customer still leads to its survivor.
    assert_eq!(id_of("C2").await, survivor);
}

/// Reproducer: a NUL byte, a 10,000-character external id or an amount
/// beyond the maximum was a 500 that lost the whole batch on PostgreSQL.
async fn values_a_database_would_refuse_are_rejected_per_line(app: TestApp) {
    let url = app.base_url.clone();
    let mut nul = customer("C1", "c1@example.com", None);
    nul["name"] = json!("Ada\u{0}Lovelace");
    let mut nul_in_traits = customer("C2", "c2@example.com", None);
    nul_in_traits["traits"] = json!({ "note": "a\u{0}b" });
    let long_id = customer(&"x".repeat(10_000), "c3@example.com", None);
    let good = customer("C4", "c4@example.com", None);
    let (status, body) = app
        .bulk(&url, "customers", "", ndjson(&[nul, nul_in_traits, long_id, good]))
        .await;
    assert_eq!(status, 200, "{body}");
    let fields: Vec<(i64, String)> = body["rejected"]
        .as_array()
        .expect("rejections")
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap_or(0),
                r["field"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            (1, "name".to_owned()),
            (2, "traits.note".to_owned()),
            (3, "externalId".to_owned())
        ],
        "{body}"
    );
    assert_eq!(body["written"], 1);

    let (_, products) = app
        .bulk(&url, "products", "", ndjson(&[crate::records::product("P1")]))
        .await;
    assert_eq!(products["written"], 1, "{products}");
    let mut huge = crate::records::order("O1", "C4", None, "P1");
    huge["amountMinor"] = json!(4_611_686_018_427_387_904_i64);
    huge["lines"][0]["unitAmountMinor"] = json!(4_611_686_018_427_387_904_i64);
    let (status, body) = app.bulk(&url, "orders", "", ndjson(&[huge])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rejected"][0]["field"], "amountMinor", "{body}");
    assert_eq!(count(&app, "orders").await, 0);
}

fn golden_records(file: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .expect("golden file")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("a golden record"))
        .collect()
}

/// Every golden file converted to CSV imports to the same rows as its NDJSON.
async fn the_golden_data_set_imports_as_csv(app: TestApp) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut expected = Vec::new();
    let mut amount_minor = 0;
    for kind in accord::ingest::EntityKind::ALL {
        let source = golden_dir().join(format!("{}.ndjson", kind.file_stem()));
        if !source.is_file() {
            continue;
        }
        let records = golden_records(&source);
        if *kind == accord::ingest::EntityKind::Orders {
            amount_minor = records.iter().filter_map(|r| r["amountMinor"].as_i64()).sum();
        }
        expected.push((*kind, records.len() as u64));
        std::fs::write(dir.path().join(format!("{}.csv", kind.file_stem())), csv(&records)).expect("written");
    }
    let report = import_path(app.db.clone(), dir.path(), &ImportOptions::default())
        .await
        .expect("import");
    assert!(
        report.ingest.rejected.is_empty(),
        "{:?}",
        &report.ingest.rejected[..report.ingest.rejected.len().min(5)]
    );
    for (kind, records) in expected {
        assert_eq!(report.ingest.written(kind), records, "{}", kind.file_stem());
    }
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT CAST(SUM(amount_minor) AS BIGINT) AS total, (SELECT COUNT(*) FROM order_line) AS lines FROM orders"
                .to_owned(),
        ))
        .await
        .expect("a sum")
        .expect("a row");
    let total: i64 = row.try_get("", "total").expect("a total");
    assert_eq!(total, amount_minor, "amounts survive CSV");
    let lines: i64 = row.try_get("", "lines").expect("a line count");
    let order_lines: usize = golden_records(&golden_dir().join("orders.ndjson"))
        .iter()
        .map(|order| order["lines"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(lines as usize, order_lines, "order lines come from JSON cells");
}

async fn csv_bodies_load_with_json_cells_and_bad_rows_reported(app: TestApp) {
    let url = app.base_url.clone();
    let post = |entity: &'static str, body: String| {
        app.client
            .post(format!("{url}/ingest/{entity}"))
            .header("content-type", "text/csv; charset=utf-8")
            .body(body)
            .send()
    };
    let response = post("customers", csv(&[customer("C1", "c1@example.com", None)]))
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let response = post("products", csv(&[product("P1")])).await.expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let mut bad = order("O2", "C1", None, "P1");
    bad["lines"][0]["quantity"] = json!("two");
    let mut body = csv(&[order("O1", "C1", None, "P1"), bad]);
    body.push_str("O3,C1\n");
    let response = post("orders", body).await.expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let report: Value = response.json().await.expect("JSON");
    assert_eq!(report["written"], 1, "{report}");
    let rejected: Vec<(Value, Value)> = report["rejected"]
        .as_array()
        .expect("rejections")
        .iter()
        .map(|r| (r["line"].clone(), r["field"].clone()))
        .collect();
    assert_eq!(
        rejected,
        vec![(json!(3), json!("lines[0].quantity")), (json!(4), json!("record"))],
        "{report}"
    );
    assert_eq!(count(&app, "order_line").await, 1);

    // A header that names no field stops the load before any row.
    let response = post("customers", "externalId,,name\nC9,x,y\n".to_owned())
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.expect("JSON");
    assert!(error.to_string().contains("column 2 has no name"), "{error}");
    assert_eq!(count(&app, "customer").await, 1);
}
