//! Consent to contact, per channel: ingested through every write path
//! (bulk NDJSON and CSV, `accord import`, `upsertCustomer`, `ingest(batch:)`), kept newest
//! first by `updatedAt`, refused per line when out of the set, and applied
//! to segment member pages and exports (the CSV export requires the
//! channel). Expected audiences are counted independently: in SQL, and
//! from the consent the test itself gave.

use std::collections::BTreeSet;
use std::io::BufRead;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, golden_dir, on_both_backends};
use crate::records::{csv, customer, ndjson};

on_both_backends!(
    consent_is_ingested_by_every_path_and_never_goes_back_in_time,
    a_consent_value_out_of_the_set_is_refused_per_line,
    exports_and_member_pages_hold_only_customers_who_granted_the_channel
);

/// One channel's consent as a record carries it.
pub fn given(status: &str, updated_at: &str, source: &str) -> Value {
    json!({ "status": status, "updatedAt": updated_at, "source": source })
}

/// A test customer with `consent`.
fn with_consent(id: &str, consent: Value) -> Value {
    let mut record = customer(id, &format!("{}@example.com", id.to_lowercase()), None);
    record["consent"] = consent;
    record
}

/// The stored consent of a customer, read straight from the table:
/// (status, updated_at as RFC 3339 or "", source or "") per channel.
async fn stored(app: &TestApp, external_id: &str, channel: &str) -> (String, String, String) {
    let row = entity::customer::Entity::find()
        .filter(entity::customer::Column::ExternalId.eq(external_id))
        .one(&app.db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("customer {external_id}"));
    let (status, at, source) = match channel {
        "email" => (
            row.consent_email,
            row.consent_email_updated_at,
            row.consent_email_source,
        ),
        "sms" => (row.consent_sms, row.consent_sms_updated_at, row.consent_sms_source),
        _ => (
            row.consent_phone,
            row.consent_phone_updated_at,
            row.consent_phone_source,
        ),
    };
    (
        status.to_string(),
        at.map(|at| at.to_rfc3339()).unwrap_or_default(),
        source.unwrap_or_default(),
    )
}

fn expect(status: &str, at: &str, source: &str) -> (String, String, String) {
    let at = if at.is_empty() {
        String::new()
    } else {
        chrono::DateTime::parse_from_rfc3339(at)
            .expect("a time")
            .with_timezone(&chrono::Utc)
            .to_rfc3339()
    };
    (status.to_owned(), at, source.to_owned())
}

const UPSERT: &str = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { id status } }";
const INGEST: &str = "mutation($batch: [IngestRecordInput!]!) {
    ingest(batch: $batch) { committed written rejected results { index status field message } }
}";

async fn consent_is_ingested_by_every_path_and_never_goes_back_in_time(app: TestApp) {
    let url = app.base_url.clone();
    let (t1, t2, t3) = ("2026-03-01T10:00:00Z", "2026-04-01T10:00:00Z", "2026-05-01T10:00:00Z");

    // Bulk NDJSON: one customer with every channel, one with none.
    let body = ndjson(&[
        with_consent(
            "K1",
            json!({ "email": given("GRANTED", t2, "preference_centre"), "sms": given("DENIED", t2, "checkout"),
                    "phone": given("UNKNOWN", t2, "crm") }),
        ),
        customer("K2", "k2@example.com", None),
    ]);
    let (status, report) = app.bulk(&url, "customers", "", body).await;
    assert_eq!((status, &report["written"]), (200, &json!(2)), "{report}");
    assert_eq!(
        stored(&app, "K1", "email").await,
        expect("GRANTED", t2, "preference_centre")
    );
    assert_eq!(stored(&app, "K1", "sms").await, expect("DENIED", t2, "checkout"));
    assert_eq!(stored(&app, "K1", "phone").await, expect("UNKNOWN", t2, "crm"));
    assert_eq!(stored(&app, "K2", "email").await, expect("UNKNOWN", "", ""));

    // Bulk CSV: consent is a JSON cell, like identities.
    let response = app
        .client
        .post(format!("{url}/ingest/customers"))
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv(&[with_consent(
            "K3",
            json!({ "sms": given("GRANTED", t1, "sms_keyword") }),
        )]))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let report: Value = response.json().await.expect("JSON");
    assert_eq!(report["written"], 1, "{report}");
    assert_eq!(stored(&app, "K3", "sms").await, expect("GRANTED", t1, "sms_keyword"));
    assert_eq!(stored(&app, "K3", "email").await, expect("UNKNOWN", "", ""));

    // `accord import`'s reader: a CSV file in a directory.
    let dir = tempfile::tempdir().expect("a directory");
    let file = csv(&[with_consent(
        "K7",
        json!({ "email": given("GRANTED", t1, "shop_checkout") }),
    )]);
    std::fs::write(dir.path().join("customers.csv"), file).expect("written");
    let imported = accord::ingest::import_path(app.db.clone(), dir.path(), &accord::ingest::ImportOptions::default())
        .await
        .expect("import");
    assert!(imported.ingest.rejected.is_empty(), "{:?}", imported.ingest.rejected);
    assert_eq!(
        stored(&app, "K7", "email").await,
        expect("GRANTED", t1, "shop_checkout")
    );

    // upsertCustomer and ingest(batch:), read back through GraphQL.
    let input = with_consent("K4", json!({ "email": given("DENIED", t1, "unsubscribe_link") }));
    app.data(UPSERT, json!({ "input": input })).await;
    let batch = json!([{ "customer": with_consent("K5", json!({ "phone": given("GRANTED", t1, "call_centre") })) }]);
    let result = app.data(INGEST, json!({ "batch": batch })).await["ingest"].clone();
    assert_eq!(result["committed"], true, "{result}");
    let read = app
        .data(
            "{ k4: customer(externalId: \"K4\") { consent { email { status updatedAt source } sms { status updatedAt source } } }
               k5: customer(externalId: \"K5\") { consent { phone { status source } } } }",
            json!({}),
        )
        .await;
    assert_eq!(read["k4"]["consent"]["email"]["status"], "DENIED", "{read}");
    assert_eq!(read["k4"]["consent"]["email"]["source"], "unsubscribe_link", "{read}");
    assert_eq!(
        read["k4"]["consent"]["sms"],
        json!({ "status": "UNKNOWN", "updatedAt": null, "source": null })
    );
    assert_eq!(
        read["k5"]["consent"]["phone"],
        json!({ "status": "GRANTED", "source": "call_centre" })
    );

    // Newer wins per channel; older is ignored, on every path.
    let newer = with_consent("K1", json!({ "email": given("DENIED", t3, "unsubscribe_link") }));
    app.bulk(&url, "customers", "", ndjson(&[newer])).await;
    assert_eq!(
        stored(&app, "K1", "email").await,
        expect("DENIED", t3, "unsubscribe_link")
    );
    assert_eq!(
        stored(&app, "K1", "sms").await,
        expect("DENIED", t2, "checkout"),
        "a channel left out is kept"
    );
    let older = with_consent(
        "K1",
        json!({ "email": given("GRANTED", t1, "old_import"), "sms": given("GRANTED", t3, "sms_keyword") }),
    );
    let (status, report) = app
        .bulk(&url, "customers", "", ndjson(std::slice::from_ref(&older)))
        .await;
    assert_eq!((status, &report["written"]), (200, &json!(1)), "{report}");
    assert_eq!(
        stored(&app, "K1", "email").await,
        expect("DENIED", t3, "unsubscribe_link"),
        "older consent does not overwrite newer"
    );
    assert_eq!(stored(&app, "K1", "sms").await, expect("GRANTED", t3, "sms_keyword"));
    app.data(UPSERT, json!({ "input": older })).await;
    assert_eq!(
        stored(&app, "K1", "email").await,
        expect("DENIED", t3, "unsubscribe_link")
    );
    let mut renamed = with_consent("K1", json!({ "email": given("GRANTED", t1, "old_import") }));
    renamed["name"] = json!("Renamed");
    let batch = json!([{ "customer": renamed }]);
    app.data(INGEST, json!({ "batch": batch })).await;
    assert_eq!(
        stored(&app, "K1", "email").await,
        expect("DENIED", t3, "unsubscribe_link")
    );
    let name = app.data("{ customer(externalId: \"K1\") { name } }", json!({})).await;
    assert_eq!(
        name["customer"]["name"], "Renamed",
        "the record's other fields are written"
    );

    // A record without consent leaves it as stored.
    app.bulk(&url, "customers", "", ndjson(&[customer("K1", "k1@example.com", None)]))
        .await;
    assert_eq!(
        stored(&app, "K1", "email").await,
        expect("DENIED", t3, "unsubscribe_link")
    );
    // The same time again is not older: the later record wins the tie.
    let tie = with_consent("K1", json!({ "email": given("GRANTED", t3, "support_ticket") }));
    app.bulk(&url, "customers", "", ndjson(&[tie])).await;
    assert_eq!(
        stored(&app, "K1", "email").await,
        expect("GRANTED", t3, "support_ticket")
    );

    // Newer then older in one batch (one row): the newer stays per channel.
    let body = ndjson(&[
        with_consent("K6", json!({ "email": given("DENIED", t3, "unsubscribe_link") })),
        with_consent(
            "K6",
            json!({ "email": given("GRANTED", t1, "old_import"), "sms": given("GRANTED", t1, "form") }),
        ),
    ]);
    let (status, report) = app.bulk(&url, "customers", "", body).await;
    assert_eq!((status, &report["rejectedCount"]), (200, &json!(0)), "{report}");
    assert_eq!(
        stored(&app, "K6", "email").await,
        expect("DENIED", t3, "unsubscribe_link")
    );
    assert_eq!(stored(&app, "K6", "sms").await, expect("GRANTED", t1, "form"));
}

async fn a_consent_value_out_of_the_set_is_refused_per_line(app: TestApp) {
    let url = app.base_url.clone();
    let good = with_consent(
        "B1",
        json!({ "email": given("GRANTED", "2026-01-01T00:00:00Z", "form") }),
    );
    let bad_status = with_consent("B2", json!({ "email": given("MAYBE", "2026-01-01T00:00:00Z", "form") }));
    let bad_channel = with_consent("B3", json!({ "fax": given("GRANTED", "2026-01-01T00:00:00Z", "form") }));
    let no_source = with_consent("B4", json!({ "sms": given("GRANTED", "2026-01-01T00:00:00Z", " ") }));
    let records = [good, bad_status, bad_channel, no_source];
    let rejected = |report: &Value| -> Vec<(i64, String, String)> {
        report["rejected"]
            .as_array()
            .expect("rejections")
            .iter()
            .map(|r| {
                (
                    r["line"].as_i64().unwrap_or(0),
                    r["field"].as_str().unwrap_or("").to_owned(),
                    r["message"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    let check = |report: &Value, first_line: i64| {
        assert_eq!(report["written"], 1, "{report}");
        let found = rejected(report);
        let lines: Vec<i64> = found.iter().map(|(line, _, _)| *line).collect();
        assert_eq!(lines, vec![first_line + 1, first_line + 2, first_line + 3], "{report}");
        assert_eq!(found[0].1, "consent.email.status", "{report}");
        assert!(found[1].1.starts_with("consent"), "{report}");
        assert_eq!(found[2].1, "consent.sms.source", "{report}");
        assert!(
            found[0].2.contains("MAYBE") && found[0].2.contains("GRANTED"),
            "{report}"
        );
        assert!(found[1].2.contains("fax"), "{report}");
    };

    let (status, report) = app.bulk(&url, "customers", "", ndjson(&records)).await;
    assert_eq!(status, 200, "{report}");
    check(&report, 1);

    let response = app
        .client
        .post(format!("{url}/ingest/customers"))
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv(&records))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let report: Value = response.json().await.expect("JSON");
    // Line 1 is the header.
    check(&report, 2);
    let stored = sql_count(&app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customer").await;
    assert_eq!(stored, 1, "only the good record is written");

    // Through GraphQL the set is the schema's enum: a validation error.
    let mut input = with_consent(
        "B5",
        json!({ "email": given("GRANTED", "2026-01-01T00:00:00Z", "form") }),
    );
    input["consent"]["email"]["status"] = json!("MAYBE");
    let (_, body) = app.post(UPSERT, json!({ "input": input })).await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("input.consent.email.status") && message.contains("MAYBE"),
        "{message}"
    );
    let stored = sql_count(&app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customer").await;
    assert_eq!(stored, 1, "nothing more is written");
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

async fn sql_ids(app: &TestApp, sql: &str) -> BTreeSet<String> {
    let rows = app
        .db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql.to_owned()))
        .await
        .expect("query");
    rows.iter()
        .map(|row| row.try_get::<String>("", "external_id").expect("external_id"))
        .collect()
}

/// Re-sends the golden customers with the consent `consent` gives each
/// (by its line index, 0-based) through bulk NDJSON; returns the external
/// ids that got each consent, so a test can count its audience itself.
pub async fn give_golden_consent(app: &TestApp, consent: impl Fn(usize) -> Value) -> Vec<(String, Value)> {
    let file = std::fs::File::open(golden_dir().join("customers.ndjson")).expect("customers.ndjson");
    let mut given = Vec::new();
    let mut body = String::new();
    for (index, line) in std::io::BufReader::new(file).lines().map_while(Result::ok).enumerate() {
        let mut record: Value = serde_json::from_str(&line).expect("a customer");
        let consent = consent(index);
        given.push((
            record["externalId"].as_str().unwrap_or_default().to_owned(),
            consent.clone(),
        ));
        record["consent"] = consent;
        body.push_str(&format!("{record}\n"));
    }
    let (status, report) = app.bulk(&app.base_url, "customers", "", body).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rejectedCount"], 0, "{report}");
    given
}

async fn exports_and_member_pages_hold_only_customers_who_granted_the_channel(app: TestApp) {
    app.import_golden().await;
    let at = "2026-02-01T00:00:00Z";
    let given = give_golden_consent(&app, |index| match index % 3 {
        0 => json!({}),
        1 => json!({ "email": given("GRANTED", at, "form"), "sms": given(if index % 40 == 1 { "GRANTED" } else { "DENIED" }, at, "form") }),
        _ => json!({ "email": given(if index % 2 == 0 { "GRANTED" } else { "DENIED" }, at, "form") }),
    })
    .await;

    let rule = json!({ "all": [
        { "trait": { "field": "region", "operator": "EQ", "value": "UK" } },
        { "trait": { "field": "acquisitionChannel", "operator": "IN", "value": ["paid_search", "social"] } }
    ] });
    let created = app
        .data(
            "mutation($rule: SegmentRuleInput!) { createSegment(input: { name: \"UK paid\", team: MARKETING, rule: $rule }) { id } }",
            json!({ "rule": rule }),
        )
        .await;
    let id = created["createSegment"]["id"].clone();
    let size = app
        .data(
            "mutation($id: ID!) { refreshSegment(id: $id) { size } }",
            json!({ "id": id }),
        )
        .await["refreshSegment"]["size"]
        .as_i64()
        .expect("size");

    // The audience, twice independently: in SQL, and from the consent given.
    let uk_paid = "region = 'UK' AND acquisition_channel IN ('paid_search', 'social')";
    let granted_email = sql_ids(
        &app,
        &format!("SELECT external_id FROM customer WHERE {uk_paid} AND consent_email = 'GRANTED'"),
    )
    .await;
    let uk_paid_ids = sql_ids(&app, &format!("SELECT external_id FROM customer WHERE {uk_paid}")).await;
    let from_given: BTreeSet<String> = given
        .iter()
        .filter(|(id, consent)| uk_paid_ids.contains(id) && consent["email"]["status"] == "GRANTED")
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(granted_email, from_given);
    let expected = i64::try_from(granted_email.len()).unwrap_or(-1);
    assert!(
        expected >= 10 && expected < size,
        "the fixture's audience ({expected} of {size}) tests the filter"
    );
    let expected_sms = sql_count(
        &app,
        &format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM customer WHERE {uk_paid} AND consent_sms = 'GRANTED'"),
    )
    .await;
    assert!(
        (1..10).contains(&expected_sms),
        "{expected_sms} SMS grants: fewer than the minimum audience"
    );

    // Member pages: all members, or only those who granted the channel.
    let segment = app
        .data(
            "query($id: ID!) { segment(id: $id) {
                all: members(first: 500) { totalCount }
                email: members(first: 500, channel: EMAIL) { totalCount nodes { externalId consent { email { status } } } }
                sms: members(first: 500, channel: SMS) { totalCount }
                membersCsvPath(channel: EMAIL)
            } }",
            json!({ "id": id }),
        )
        .await["segment"]
        .clone();
    assert_eq!(segment["all"]["totalCount"].as_i64(), Some(size));
    assert_eq!(segment["email"]["totalCount"].as_i64(), Some(expected));
    assert_eq!(segment["sms"]["totalCount"].as_i64(), Some(expected_sms));
    let paged: BTreeSet<String> = segment["email"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["externalId"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(paged, granted_email);

    // The CSV export: exactly the members who granted email.
    let path = segment["membersCsvPath"].as_str().expect("a path").to_owned();
    assert!(path.ends_with("/members.csv?channel=EMAIL"), "{path}");
    let response = app
        .client
        .get(format!("{}{path}", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let exported: BTreeSet<String> = reader
        .records()
        .map(|row| row.expect("a CSV row")[0].to_owned())
        .collect();
    assert_eq!(exported, granted_email);
    assert_eq!(i64::try_from(text.lines().count()).ok(), Some(expected + 1));

    // Without a channel, or with one out of the set, it is refused naming it.
    let bare = path.trim_end_matches("?channel=EMAIL").to_owned();
    for query in ["", "?channel=", "?channel=FAX"] {
        let response = app
            .client
            .get(format!("{}{bare}{query}", app.base_url))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "channel", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("channel") && m.contains("EMAIL")),
            "{body}"
        );
    }
    // Fewer grants than the minimum audience: refused, though the segment is larger.
    let response = app
        .client
        .get(format!("{}{bare}?channel=SMS", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 403);

    // One audit row, for the export that ran, with the rows it sent.
    let audited = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("exportSegmentMembers"))
        .all(&app.db)
        .await
        .expect("audit log");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert!(
        audited[0].target.ends_with(&format!("channel EMAIL: {expected} rows")),
        "{audited:?}"
    );
}
