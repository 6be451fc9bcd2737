//! Identity resolution and merges: one person, one customer.

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};
use crate::records::{account, customer, lead, ndjson, order, product, touchpoint};

on_both_backends!(
    customers_match_by_identity_then_email,
    merging_moves_everything_to_the_survivor,
    every_lookup_of_a_merged_customer_leads_to_its_survivor,
    a_merged_customer_leaves_the_signup_cohorts
);

async fn write(app: &TestApp, entity: &str, records: &[Value]) {
    let (status, body) = app.bulk(&app.base_url, entity, "", ndjson(records)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rejectedCount"], 0, "{body}");
}

async fn customer_count(app: &TestApp) -> i64 {
    app.data("{ customers { totalCount } }", json!({})).await["customers"]["totalCount"]
        .as_i64()
        .expect("count")
}

const BY_EXTERNAL_ID: &str = "query($key: String!) {
    customer(externalId: $key) { id externalId email name identities { source sourceId } orders { totalCount } }
}";

async fn by_external_id(app: &TestApp, key: &str) -> Value {
    app.data(BY_EXTERNAL_ID, json!({ "key": key })).await["customer"].clone()
}

fn identities(customer: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = customer["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .map(|i| {
            (
                i["source"].as_str().unwrap_or_default().to_owned(),
                i["sourceId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

fn pair(source: &str, id: &str) -> (String, String) {
    (source.to_owned(), id.to_owned())
}

async fn customers_match_by_identity_then_email(app: TestApp) {
    let mut shop = customer("C1", "Ada@Example.com", None);
    shop["identities"] = json!([{ "source": "shop", "sourceId": "S1" }]);
    write(&app, "customers", &[shop]).await;

    // The CRM sends the same person under its own id; the email differs
    // only in case and surrounding space.
    let mut crm = customer("CRM-9", " ada@example.COM ", None);
    crm["name"] = json!("Ada Lovelace");
    crm["identities"] = json!([{ "source": "crm", "sourceId": "9" }]);
    write(&app, "customers", &[crm]).await;
    assert_eq!(customer_count(&app).await, 1);
    let ada = by_external_id(&app, "C1").await;
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(
        identities(&ada),
        vec![pair("accord", "CRM-9"), pair("crm", "9"), pair("shop", "S1")]
    );

    // An identity wins over the email: a record known to the shop as S1
    // with a new address is still Ada, whose email changes.
    let mut moved = customer("S-ADA", "ada@newmail.example", None);
    moved["identities"] = json!([{ "source": "shop", "sourceId": "S1" }]);
    write(&app, "customers", &[moved]).await;
    assert_eq!(customer_count(&app).await, 1);
    assert_eq!(by_external_id(&app, "C1").await["email"], "ada@newmail.example");

    // Someone else is someone else.
    write(&app, "customers", &[customer("C2", "grace@example.com", None)]).await;
    assert_eq!(customer_count(&app).await, 2);

    // Records refer to the customer by any external id it was sent under.
    write(&app, "products", &[product("P1")]).await;
    write(
        &app,
        "orders",
        &[order("O1", "CRM-9", None, "P1"), order("O2", "S-ADA", None, "P1")],
    )
    .await;
    let ada = by_external_id(&app, "C1").await;
    assert_eq!(ada["orders"]["totalCount"], 2);
    assert_eq!(by_external_id(&app, "CRM-9").await["id"], ada["id"]);

    // Two new records of one person in one batch make one customer.
    write(
        &app,
        "customers",
        &[
            customer("N1", "lin@example.com", None),
            customer("N2", "LIN@example.com", None),
        ],
    )
    .await;
    assert_eq!(customer_count(&app).await, 3);
}

const MERGE: &str = "mutation($survivor: ID!, $merged: ID!) {
    mergeCustomers(survivor: $survivor, merged: $merged) { id externalId }
}";

const HOLDINGS: &str = "query($id: ID!) {
    customer(id: $id) {
        id externalId identities { source sourceId }
        orders { totalCount } touchpoints { totalCount } leads { totalCount } surveyResponses { totalCount }
    }
}";

async fn merging_moves_everything_to_the_survivor(app: TestApp) {
    write(&app, "accounts", &[account("A1")]).await;
    let mut second = customer("C2", "grace@example.com", Some("A1"));
    second["identities"] = json!([{ "source": "crm", "sourceId": "G" }]);
    write(
        &app,
        "customers",
        &[customer("C1", "ada@example.com", Some("A1")), second],
    )
    .await;
    write(&app, "products", &[product("P1")]).await;
    write(
        &app,
        "orders",
        &[order("O1", "C1", None, "P1"), order("O2", "C2", None, "P1")],
    )
    .await;
    write(&app, "touchpoints", &[touchpoint("T2", "C2", Some("A1"))]).await;
    write(&app, "leads", &[lead("L2", "C2")]).await;
    write(
        &app,
        "surveys",
        &[json!({ "externalId": "S", "name": "NPS", "kind": "NPS" })],
    )
    .await;
    write(
        &app,
        "survey_responses",
        &[
            json!({ "externalId": "R2", "surveyExternalId": "S", "customerExternalId": "C2", "region": "UK",
                  "respondedAt": "2025-03-01T00:00:00Z", "npsScore": 9 }),
        ],
    )
    .await;
    // Both are buyers, so both are in a segment of buyers.
    let rule = json!({ "metric": { "metric": "ORDER_COUNT", "operator": "GTE", "value": 1 } });
    let segment = app
        .data(
            "mutation($rule: SegmentRuleInput!) { createSegment(input: { name: \"Buyers\", team: MARKETING, rule: $rule }) { id } }",
            json!({ "rule": rule }),
        )
        .await["createSegment"]["id"]
        .clone();
    let refresh = "mutation($id: ID!) { refreshSegment(id: $id) { size } }";
    assert_eq!(
        app.data(refresh, json!({ "id": segment })).await["refreshSegment"]["size"],
        2
    );

    let survivor = by_external_id(&app, "C1").await["id"].clone();
    let merged = by_external_id(&app, "C2").await["id"].clone();
    let result = app.data(MERGE, json!({ "survivor": survivor, "merged": merged })).await;
    assert_eq!(result["mergeCustomers"]["id"], survivor);

    let after = app.data(HOLDINGS, json!({ "id": survivor })).await["customer"].clone();
    assert_eq!(after["orders"]["totalCount"], 2);
    assert_eq!(after["touchpoints"]["totalCount"], 1);
    assert_eq!(after["leads"]["totalCount"], 1);
    assert_eq!(after["surveyResponses"]["totalCount"], 1);
    assert_eq!(identities(&after), vec![pair("crm", "G")]);
    let members = app
        .data(
            "query($id: ID!) { segment(id: $id) { members { totalCount nodes { externalId } } } }",
            json!({ "id": segment }),
        )
        .await;
    assert_eq!(
        members["segment"]["members"],
        json!({ "totalCount": 1, "nodes": [{ "externalId": "C1" }] })
    );

    // The merged id leads to the survivor, by id and as a node.
    let read = app.data(HOLDINGS, json!({ "id": merged })).await;
    assert_eq!(read["customer"]["id"], survivor);
    let node = app
        .data("query($id: ID!) { node(id: $id) { id } }", json!({ "id": merged }))
        .await;
    assert_eq!(node["node"]["id"], survivor);
    assert_eq!(customer_count(&app).await, 1);
    let contacts = app
        .data(
            "{ account(externalId: \"A1\") { customers { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        contacts["account"]["customers"]["totalCount"], 1,
        "one person, one contact"
    );

    // Records still sent under the merged external id land on the survivor.
    write(&app, "orders", &[order("O3", "C2", None, "P1")]).await;
    let after = app.data(HOLDINGS, json!({ "id": survivor })).await;
    assert_eq!(after["customer"]["orders"]["totalCount"], 3);

    // Merging again, or into itself, is refused with a reason.
    let (_, again) = app.post(MERGE, json!({ "survivor": survivor, "merged": merged })).await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "CONFLICT", "{again}");
    let (_, itself) = app
        .post(MERGE, json!({ "survivor": survivor, "merged": survivor }))
        .await;
    assert_eq!(itself["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{itself}");
}

/// Reproducer: `_entities` answered the merged row, while `node` and
/// `customer(…)` led to the survivor. Now one rule serves all four.
async fn every_lookup_of_a_merged_customer_leads_to_its_survivor(app: TestApp) {
    write(
        &app,
        "customers",
        &[
            customer("C1", "ada@example.com", None),
            customer("C2", "grace@example.com", None),
        ],
    )
    .await;
    let survivor = by_external_id(&app, "C1").await["id"].clone();
    let merged = by_external_id(&app, "C2").await["id"].clone();
    app.data(MERGE, json!({ "survivor": survivor, "merged": merged })).await;

    let by_id = app
        .data("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": merged }))
        .await;
    assert_eq!(by_id["customer"]["id"], survivor);
    assert_eq!(by_external_id(&app, "C2").await["id"], survivor);
    let node = app
        .data("query($id: ID!) { node(id: $id) { id } }", json!({ "id": merged }))
        .await;
    assert_eq!(node["node"]["id"], survivor);
    let entities = app
        .data(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id externalId } } }",
            json!({ "r": [{ "__typename": "Customer", "id": merged }] }),
        )
        .await;
    assert_eq!(entities["_entities"], json!([{ "id": survivor, "externalId": "C1" }]));
}

/// Reproducer: SIGNUP cohorts counted a merged customer beside its survivor.
async fn a_merged_customer_leaves_the_signup_cohorts(app: TestApp) {
    write(
        &app,
        "customers",
        &[
            customer("C1", "ada@example.com", None),
            customer("C2", "grace@example.com", None),
        ],
    )
    .await;
    let cohort_size = || async {
        let data = app
            .data(
                "{ insights(filter: { from: \"2025-01-01\", to: \"2025-03-31\" }) {
                    retention(cohortBy: SIGNUP, period: MONTH, mode: CLASSIC, maxOffset: 1) { cohorts { size } }
                } }",
                json!({}),
            )
            .await;
        data["insights"]["retention"]["cohorts"]
            .as_array()
            .expect("cohorts")
            .iter()
            .map(|cohort| cohort["size"].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    assert_eq!(cohort_size().await, 2);
    let survivor = by_external_id(&app, "C1").await["id"].clone();
    let merged = by_external_id(&app, "C2").await["id"].clone();
    app.data(MERGE, json!({ "survivor": survivor, "merged": merged })).await;
    assert_eq!(cohort_size().await, 1, "one person, one cohort member");
}
