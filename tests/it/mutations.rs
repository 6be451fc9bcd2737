//! Writes through GraphQL: an upsert per entity and `ingest(batch:)`.
//! Every write is read back (through the API, and by counting rows in
//! SQL) rather than trusted from the mutation's answer.

use accord::auth::Viewer;
use accord::config::ApiConfig;
use accord::graphql::build_schema;
use accord::graphql::loaders::DbLoader;
use entity::enums::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    every_entity_is_written_by_its_upsert_and_resending_changes_nothing,
    a_mixed_batch_is_written_in_one_transaction_in_any_order,
    a_batch_with_one_bad_record_writes_nothing_and_says_why,
    a_rejected_upsert_is_bad_user_input_naming_the_field,
    a_batch_over_ten_thousand_records_is_refused,
    writes_follow_the_viewers_role,
);

/// Every table a write can reach, children included. (`customer_identity`
/// is among them, but the writer does not fill it yet: see
/// [`filled`].)
const TABLES: [&str; 16] = [
    "account",
    "customer",
    "customer_identity",
    "product",
    "campaign",
    "survey",
    "orders",
    "order_line",
    "touchpoint",
    "lead",
    "survey_response",
    "brand_answer",
    "driver_rating",
    "product_test",
    "product_test_vote",
    "brand_mention",
];

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}");
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get::<i64>("", "n").expect("n")
}

/// Whether every table a full set of records fills holds rows.
/// `customer_identity` is left out until identity resolution writes it.
fn filled(counts: &[(&str, i64)]) -> bool {
    counts
        .iter()
        .all(|(table, rows)| *table == "customer_identity" || *rows > 0)
}

async fn counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push((table, count(app, table).await));
    }
    counts
}

fn account() -> Value {
    json!({ "externalId": "A1", "name": "Harbour Stores", "kind": "RETAILER", "region": "UK", "tier": "KEY", "owner": "sam" })
}

fn customer() -> Value {
    json!({
        "externalId": "C1", "accountExternalId": "A1", "email": "ada@example.com", "name": "Ada",
        "region": "UK", "country": "GB", "acquisitionChannel": "paid_search",
        "firstSeenAt": "2025-01-02T10:00:00Z", "traits": { "pets": true },
        "identities": [{ "source": "shop", "sourceId": "s-1" }]
    })
}

fn product() -> Value {
    json!({ "externalId": "P1", "sku": "K-1", "name": "Kettle", "category": "kitchen", "launchedAt": "2024-06-01T00:00:00Z" })
}

fn campaign() -> Value {
    json!({ "externalId": "CA1", "name": "Spring", "team": "MARKETING", "channel": "email", "spendMinor": 50000, "startsOn": "2025-03-01", "endsOn": "2025-03-31" })
}

fn survey() -> Value {
    json!({ "externalId": "S1", "name": "Tracker", "kind": "BRAND_TRACKER" })
}

fn order() -> Value {
    json!({
        "externalId": "O1", "customerExternalId": "C1", "accountExternalId": "A1", "channel": "RETAIL",
        "orderedAt": "2025-03-10T12:00:00Z", "currency": "USD", "amountMinor": 3500,
        "lines": [
            { "productExternalId": "P1", "quantity": 2, "unitAmountMinor": 1000 },
            { "productExternalId": "P1", "quantity": 1, "unitAmountMinor": 1500 }
        ]
    })
}

fn touchpoint() -> Value {
    json!({
        "externalId": "T1", "customerExternalId": "C1", "campaignExternalId": "CA1", "team": "MARKETING",
        "channel": "email", "kind": "EMAIL_OPEN", "occurredAt": "2025-03-05T08:00:00Z", "properties": { "subject": "Hi" }
    })
}

fn lead(stage: &str) -> Value {
    let mut lead = json!({
        "externalId": "L1", "customerExternalId": "C1", "accountExternalId": "A1", "sourceTeam": "MARKETING",
        "stage": stage, "createdAt": "2025-03-01T00:00:00Z"
    });
    if stage == "MQL" {
        lead["mqlAt"] = json!("2025-03-04T00:00:00Z");
    }
    lead
}

fn response(nps: i64) -> Value {
    json!({
        "externalId": "R1", "surveyExternalId": "S1", "customerExternalId": "C1", "region": "UK",
        "respondedAt": "2025-03-12T09:00:00Z", "npsScore": nps, "purchaseIntent": 4, "comment": "good",
        "brands": [
            { "brand": "Own", "aware": true, "considered": true, "preferred": true },
            { "brand": "Rival", "aware": true, "considered": false, "preferred": false }
        ],
        "ratings": [{ "attribute": "price", "rating": 7 }, { "attribute": "design", "rating": 9 }]
    })
}

fn product_test() -> Value {
    json!({ "externalId": "PT1", "productExternalId": "P1", "touchpoint": "HANDLE", "variant": "A", "panel": "UK-1", "testedAt": "2025-02-01T00:00:00Z" })
}

fn vote() -> Value {
    json!({ "externalId": "V1", "testExternalId": "PT1", "approved": true, "rating": 5, "comment": "nice grip" })
}

fn mention() -> Value {
    json!({ "externalId": "M1", "brand": "Own", "channel": "social", "periodStart": "2025-03-01", "mentions": 10, "positive": 6, "neutral": 3, "negative": 1 })
}

/// (mutation field, input type, record, fields to select)
fn upserts() -> Vec<(&'static str, &'static str, Value, &'static str)> {
    vec![
        (
            "upsertAccount",
            "AccountInput",
            account(),
            "id externalId name kind tier",
        ),
        (
            "upsertCustomer",
            "CustomerInput",
            customer(),
            "id externalId email country traits account { externalId }",
        ),
        ("upsertProduct", "ProductInput", product(), "id externalId sku"),
        (
            "upsertCampaign",
            "CampaignInput",
            campaign(),
            "id externalId startsOn endsOn spend { amountMinor }",
        ),
        ("upsertSurvey", "SurveyInput", survey(), "id externalId kind"),
        (
            "upsertOrder",
            "OrderInput",
            order(),
            "id externalId channel amount { amountMinor } customer { externalId } lines { lineNo quantity product { externalId } unitAmount { amountMinor } }",
        ),
        (
            "upsertTouchpoint",
            "TouchpointInput",
            touchpoint(),
            "id externalId kind properties campaign { externalId }",
        ),
        ("upsertLead", "LeadInput", lead("LEAD"), "id externalId stage mqlAt"),
        (
            "upsertSurveyResponse",
            "SurveyResponseInput",
            response(9),
            "id externalId npsScore survey { externalId } customer { externalId } brandAnswers { brand aware considered preferred } ratings { attribute rating }",
        ),
        (
            "upsertProductTest",
            "ProductTestInput",
            product_test(),
            "id externalId touchpoint product { externalId }",
        ),
        (
            "upsertProductTestVote",
            "ProductTestVoteInput",
            vote(),
            "id externalId approved rating test { externalId }",
        ),
        (
            "upsertBrandMention",
            "BrandMentionInput",
            mention(),
            "id externalId periodStart mentions",
        ),
    ]
}

/// Runs upsert `field` and returns the written object (`selection` of it),
/// checking that the payload's `id` and `externalId` are the object's.
async fn upsert(app: &TestApp, field: &str, input_type: &str, input: &Value, selection: &str) -> Value {
    // upsertSurveyResponse answers the object in `surveyResponse`.
    let object = field.strip_prefix("upsert").map(lower_first).unwrap_or_default();
    let query = format!(
        "mutation($input: {input_type}!) {{ {field}(input: $input) {{ id externalId status {object} {{ id {selection} }} }} }}"
    );
    let payload = app.data(&query, json!({ "input": input })).await[field].clone();
    assert_eq!(payload["externalId"], input["externalId"], "{field}: {payload}");
    assert_eq!(payload["status"], "WRITTEN", "{field}: {payload}");
    assert_eq!(payload["id"], payload[&object]["id"], "{field}: {payload}");
    payload[&object].clone()
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The object behind a global id, read back through `node`.
async fn node(app: &TestApp, id: &Value, type_name: &str, selection: &str) -> Value {
    let query = format!("query($id: ID!) {{ node(id: $id) {{ __typename ... on {type_name} {{ {selection} }} }} }}");
    let data = app.data(&query, json!({ "id": id })).await;
    assert_eq!(data["node"]["__typename"], type_name, "{data}");
    data["node"].clone()
}

async fn every_entity_is_written_by_its_upsert_and_resending_changes_nothing(app: TestApp) {
    let mut ids = Vec::new();
    for (field, input_type, input, selection) in upserts() {
        let written = upsert(&app, field, input_type, &input, selection).await;
        assert_eq!(written["externalId"], input["externalId"], "{field}: {written}");
        ids.push(written["id"].clone());
    }

    // Read back through node(id:), independently of the mutations' answers.
    let stored_order = node(
        &app,
        &ids[5],
        "Order",
        "amount { amountMinor } customer { externalId } account { externalId } lines { lineNo quantity unitAmount { amountMinor } product { externalId } }",
    )
    .await;
    assert_eq!(stored_order["amount"]["amountMinor"], 3500);
    assert_eq!(stored_order["customer"]["externalId"], "C1");
    assert_eq!(stored_order["account"]["externalId"], "A1");
    assert_eq!(
        stored_order["lines"],
        json!([
            { "lineNo": 0, "quantity": 2, "unitAmount": { "amountMinor": 1000 }, "product": { "externalId": "P1" } },
            { "lineNo": 1, "quantity": 1, "unitAmount": { "amountMinor": 1500 }, "product": { "externalId": "P1" } }
        ])
    );
    let stored_customer = node(&app, &ids[1], "Customer", "email traits account { externalId }").await;
    assert_eq!(stored_customer["email"], "ada@example.com");
    assert_eq!(stored_customer["traits"], json!({ "pets": true }));
    assert_eq!(stored_customer["account"]["externalId"], "A1");
    let stored_response = node(
        &app,
        &ids[8],
        "SurveyResponse",
        "npsScore purchaseIntent brandAnswers { brand aware considered preferred } ratings { attribute rating }",
    )
    .await;
    assert_eq!(stored_response["npsScore"], 9);
    let mut brands = stored_response["brandAnswers"].as_array().cloned().unwrap_or_default();
    brands.sort_by_key(|b| b["brand"].as_str().map(str::to_owned));
    assert_eq!(
        brands,
        vec![
            json!({ "brand": "Own", "aware": true, "considered": true, "preferred": true }),
            json!({ "brand": "Rival", "aware": true, "considered": false, "preferred": false })
        ]
    );
    assert_eq!(stored_response["ratings"].as_array().map(Vec::len), Some(2));
    let stored_touchpoint = node(&app, &ids[6], "Touchpoint", "kind properties campaign { externalId }").await;
    assert_eq!(
        stored_touchpoint,
        json!({ "__typename": "Touchpoint", "kind": "EMAIL_OPEN", "properties": { "subject": "Hi" }, "campaign": { "externalId": "CA1" } })
    );
    let stored_vote = node(
        &app,
        &ids[10],
        "ProductTestVote",
        "approved rating test { externalId product { externalId } }",
    )
    .await;
    assert_eq!(stored_vote["test"]["product"]["externalId"], "P1");
    assert_eq!(stored_vote["rating"], 5);
    let stored_mention = node(&app, &ids[11], "BrandMention", "periodStart mentions negative").await;
    assert_eq!(stored_mention["periodStart"], "2025-03-01");
    let stored_campaign = node(&app, &ids[3], "Campaign", "startsOn endsOn spend { amountMinor }").await;
    assert_eq!(stored_campaign["endsOn"], "2025-03-31");

    let before = counts(&app).await;
    assert!(filled(&before), "{before:?}");
    assert_eq!(
        before.iter().find(|(t, _)| *t == "order_line").map(|(_, n)| *n),
        Some(2)
    );

    // The lead moves on: same lead, new stage.
    let moved = upsert(&app, "upsertLead", "LeadInput", &lead("MQL"), "id stage mqlAt").await;
    assert_eq!(moved["id"], ids[7]);
    let stored_lead = node(&app, &ids[7], "Lead", "stage mqlAt").await;
    assert_eq!(stored_lead["stage"], "MQL");
    assert_eq!(stored_lead["mqlAt"], "2025-03-04T00:00:00+00:00");

    // Re-sending every record leaves the same rows with the same ids.
    for ((field, input_type, input, _), id) in upserts().into_iter().zip(&ids) {
        let input = if field == "upsertLead" { lead("MQL") } else { input };
        let again = upsert(&app, field, input_type, &input, "id").await;
        assert_eq!(&again["id"], id, "{field}");
    }
    assert_eq!(counts(&app).await, before);

    // A re-sent order replaces its lines; a re-sent response its answers.
    let mut one_line = order();
    one_line["amountMinor"] = json!(1000);
    one_line["lines"] = json!([{ "productExternalId": "P1", "quantity": 1, "unitAmountMinor": 1000 }]);
    let replaced = upsert(&app, "upsertOrder", "OrderInput", &one_line, "id lines { quantity }").await;
    assert_eq!(replaced["id"], ids[5]);
    assert_eq!(count(&app, "order_line").await, 1);
    let mut fewer = response(3);
    fewer["brands"] = json!([]);
    upsert(&app, "upsertSurveyResponse", "SurveyResponseInput", &fewer, "id").await;
    assert_eq!(count(&app, "brand_answer").await, 0);
    assert_eq!(node(&app, &ids[8], "SurveyResponse", "npsScore").await["npsScore"], 3);
}

const INGEST: &str = "mutation($batch: [IngestRecordInput!]!) {
    ingest(batch: $batch) {
        committed written rejected notWritten
        results { index entity externalId status id field message }
    }
}";

async fn a_mixed_batch_is_written_in_one_transaction_in_any_order(app: TestApp) {
    // Children before their parents: the batch is written in dependency order.
    let batch = json!([
        { "order": order() },
        { "surveyResponse": response(10) },
        { "customer": customer() },
        { "productTestVote": vote() },
        { "lead": lead("LEAD") },
        { "account": account() },
        { "product": product() },
        { "survey": survey() },
        { "productTest": product_test() },
        { "campaign": campaign() },
        { "touchpoint": touchpoint() },
        { "brandMention": mention() },
    ]);
    let result = app.data(INGEST, json!({ "batch": batch })).await["ingest"].clone();
    assert_eq!(result["committed"], true, "{result}");
    assert_eq!(
        (&result["written"], &result["rejected"], &result["notWritten"]),
        (&json!(12), &json!(0), &json!(0))
    );
    let results = result["results"].as_array().cloned().unwrap_or_default();
    let entities: Vec<&str> = results.iter().filter_map(|r| r["entity"].as_str()).collect();
    assert_eq!(
        entities,
        [
            "ORDER",
            "SURVEY_RESPONSE",
            "CUSTOMER",
            "PRODUCT_TEST_VOTE",
            "LEAD",
            "ACCOUNT",
            "PRODUCT",
            "SURVEY",
            "PRODUCT_TEST",
            "CAMPAIGN",
            "TOUCHPOINT",
            "BRAND_MENTION"
        ]
    );
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["index"], json!(index));
        assert_eq!(result["status"], "WRITTEN");
        assert!(result["field"].is_null() && result["message"].is_null());
    }
    // The ids are the objects' global ids.
    let stored_order = node(&app, &results[0]["id"], "Order", "externalId lines { quantity }").await;
    assert_eq!(stored_order["externalId"], "O1");
    assert_eq!(stored_order["lines"].as_array().map(Vec::len), Some(2));
    let stored_customer = node(&app, &results[2]["id"], "Customer", "externalId orders { totalCount }").await;
    assert_eq!(stored_customer["orders"]["totalCount"], 1);
    let written = counts(&app).await;
    assert!(filled(&written), "{written:?}");

    // Sent again, the batch changes nothing and reports the same ids.
    let again = app.data(INGEST, json!({ "batch": batch })).await["ingest"].clone();
    let ids = |result: &Value| -> Vec<Value> {
        result["results"]
            .as_array()
            .map(|r| r.iter().map(|r| r["id"].clone()).collect())
            .unwrap_or_default()
    };
    assert_eq!(ids(&again), ids(&result));
    assert_eq!(counts(&app).await, written);

    // The same external id twice: the later record wins, both point at one row.
    let twice = json!([
        { "survey": { "externalId": "S2", "name": "first", "kind": "NPS" } },
        { "survey": { "externalId": "S2", "name": "second", "kind": "NPS" } }
    ]);
    let result = app.data(INGEST, json!({ "batch": twice })).await["ingest"].clone();
    assert_eq!(result["results"][0]["id"], result["results"][1]["id"]);
    let stored_survey = node(&app, &result["results"][0]["id"], "Survey", "name").await;
    assert_eq!(stored_survey["name"], "second");
}

async fn a_batch_with_one_bad_record_writes_nothing_and_says_why(app: TestApp) {
    let mut wrong_currency = order();
    wrong_currency["currency"] = json!("EUR");
    let mut wrong_total = order();
    wrong_total["amountMinor"] = json!(3499);
    let mut unknown_customer = touchpoint();
    unknown_customer["customerExternalId"] = json!("C-nobody");
    let mut unknown_product = order();
    unknown_product["lines"][1]["productExternalId"] = json!("P-nothing");
    let mut not_closed = lead("WON");
    not_closed["amountMinor"] = json!(100);
    // (bad record, field, words the reason must contain)
    let cases = [
        (
            json!({ "surveyResponse": response(11) }),
            "npsScore",
            "out of range 0..=10",
        ),
        (json!({ "order": wrong_currency }), "currency", "reporting currency"),
        (json!({ "order": wrong_total }), "amountMinor", "sum of quantity"),
        (
            json!({ "touchpoint": unknown_customer }),
            "customerExternalId",
            "C-nobody",
        ),
        (
            json!({ "order": unknown_product }),
            "lines[1].productExternalId",
            "P-nothing",
        ),
        (json!({ "lead": not_closed }), "closedAt", "WON or LOST"),
    ];
    for (bad, field, reason) in cases {
        let batch = json!([
            { "account": account() },
            { "customer": customer() },
            { "product": product() },
            { "survey": survey() },
            { "campaign": campaign() },
            bad,
            { "brandMention": mention() },
        ]);
        let result = app.data(INGEST, json!({ "batch": batch })).await["ingest"].clone();
        assert_eq!(result["committed"], false, "{result}");
        assert_eq!(
            (&result["written"], &result["rejected"], &result["notWritten"]),
            (&json!(0), &json!(1), &json!(6)),
            "{result}"
        );
        let results = result["results"].as_array().cloned().unwrap_or_default();
        let rejected = &results[5];
        assert_eq!(rejected["index"], 5);
        assert_eq!(rejected["status"], "REJECTED");
        assert_eq!(rejected["field"], field, "{rejected}");
        assert!(
            rejected["message"].as_str().is_some_and(|m| m.contains(reason)),
            "{rejected}"
        );
        assert!(rejected["id"].is_null());
        for other in results.iter().filter(|r| r["index"] != 5) {
            assert_eq!(other["status"], "NOT_WRITTEN", "{other}");
            assert!(other["id"].is_null() && other["field"].is_null());
        }
        assert!(counts(&app).await.iter().all(|(_, n)| *n == 0), "{field}");
    }

    // An unknown enum value never reaches the writer: the schema refuses
    // the request, naming the record and the field, and nothing is written.
    let mut bad_stage = lead("LEAD");
    bad_stage["stage"] = json!("MAYBE");
    let batch = json!([{ "account": account() }, { "customer": customer() }, { "lead": bad_stage }]);
    let (status, body) = app.post(INGEST, json!({ "batch": batch })).await;
    assert_eq!(status, 200, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("batch.2.lead.stage") && message.contains("MAYBE"),
        "{message}"
    );
    assert!(counts(&app).await.iter().all(|(_, n)| *n == 0));
}

async fn a_rejected_upsert_is_bad_user_input_naming_the_field(app: TestApp) {
    upsert(&app, "upsertSurvey", "SurveyInput", &survey(), "id").await;
    let query = "mutation($input: SurveyResponseInput!) { upsertSurveyResponse(input: $input) { id } }";
    let mut anonymous = response(11);
    anonymous["customerExternalId"] = Value::Null;
    let (status, body) = app.post(query, json!({ "input": anonymous })).await;
    assert_eq!(status, 200, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(error["extensions"]["field"], "input.npsScore", "{body}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("11")), "{body}");
    assert_eq!(count(&app, "survey_response").await, 0);

    let mut bad_rating = response(8);
    bad_rating["customerExternalId"] = Value::Null;
    bad_rating["ratings"][1]["rating"] = json!(0);
    let (_, body) = app.post(query, json!({ "input": bad_rating })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.ratings[1].rating",
        "{body}"
    );

    // The product exists, the customer does not.
    upsert(&app, "upsertProduct", "ProductInput", &product(), "id").await;
    let (_, body) = app
        .post(
            "mutation($input: OrderInput!) { upsertOrder(input: $input) { id } }",
            json!({ "input": order() }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.customerExternalId",
        "{body}"
    );
    assert_eq!(count(&app, "orders").await, 0);
}

async fn a_batch_over_ten_thousand_records_is_refused(app: TestApp) {
    let batch: Vec<Value> = (0..10_001)
        .map(|i| json!({ "survey": { "externalId": format!("S{i}"), "name": "n", "kind": "NPS" } }))
        .collect();
    let (status, body) = app.post(INGEST, json!({ "batch": batch })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("10000")),
        "{body}"
    );
    assert_eq!(count(&app, "survey").await, 0);
}

/// Runs a request as a viewer of `role`. Authentication over HTTP does not
/// exist yet (every HTTP request is ADMIN), so roles are tested on the
/// schema the server runs, with the viewer set directly.
async fn as_role(app: &TestApp, role: Role, query: &str, variables: Value) -> Value {
    let schema = build_schema(
        app.db.clone(),
        ApiConfig::default(),
        accord::events::EventBus::in_process(),
        accord::db::cursor_key::CursorKey::generate(),
    );
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(Viewer {
            role,
            api_key_id: None,
            subject: None,
            expires_at: None,
        })
        .data(DbLoader::for_request(app.db.clone()));
    let response = schema.execute(request).await;
    serde_json::to_value(&response).expect("response serialises")
}

async fn writes_follow_the_viewers_role(app: TestApp) {
    let mut contact = customer();
    contact["accountExternalId"] = Value::Null;
    upsert(&app, "upsertCustomer", "CustomerInput", &contact, "id").await;
    let touchpoint_query = "mutation($input: TouchpointInput!) { upsertTouchpoint(input: $input) { externalId } }";
    let mut plain_touchpoint = touchpoint();
    plain_touchpoint["campaignExternalId"] = Value::Null;

    // SALES records touchpoints and leads, nothing else.
    let body = as_role(
        &app,
        Role::Sales,
        touchpoint_query,
        json!({ "input": plain_touchpoint }),
    )
    .await;
    assert_eq!(body["data"]["upsertTouchpoint"]["externalId"], "T1", "{body}");
    let body = as_role(
        &app,
        Role::Sales,
        "mutation($input: AccountInput!) { upsertAccount(input: $input) { id } }",
        json!({ "input": account() }),
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    // A batch with one kind the viewer may not write is refused whole.
    let mut second_lead = lead("LEAD");
    second_lead["accountExternalId"] = Value::Null;
    let batch = json!([{ "lead": second_lead }, { "campaign": campaign() }]);
    let body = as_role(&app, Role::Sales, INGEST, json!({ "batch": batch })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert_eq!((count(&app, "lead").await, count(&app, "campaign").await), (0, 0));

    // MARKETING writes campaigns; ANALYST and DASHBOARD write nothing; INGEST everything.
    let campaign_query = "mutation($input: CampaignInput!) { upsertCampaign(input: $input) { externalId } }";
    let body = as_role(&app, Role::Marketing, campaign_query, json!({ "input": campaign() })).await;
    assert_eq!(body["data"]["upsertCampaign"]["externalId"], "CA1", "{body}");
    for role in [Role::Analyst, Role::Dashboard] {
        let body = as_role(&app, role, campaign_query, json!({ "input": campaign() })).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{role}: {body}");
    }
    let body = as_role(&app, Role::Ingest, INGEST, json!({ "batch": batch })).await;
    assert_eq!(body["data"]["ingest"]["committed"], true, "{body}");
    assert_eq!((count(&app, "lead").await, count(&app, "touchpoint").await), (1, 1));
}
