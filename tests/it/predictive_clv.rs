//! `insights.predictiveClv` and `customer.predicted` against the golden
//! fixture's expected-v2.json `predictiveClv` (computed with `lifetimes`
//! 0.11.3, see tools/oracle/predictive_clv.py): parameters, log-likelihoods
//! and predictions within 1e-3 relative, counts and days exactly.

use std::collections::BTreeMap;

use accord::auth::keys;
use entity::enums::Role;
use serde_json::{Value, json};

use crate::golden;
use crate::helpers::{TestApp, expected_v2, on_both_backends};

on_both_backends!(
    predictive_clv_reproduces_lifetimes,
    customer_predictions_reproduce_lifetimes,
    predictive_clv_refuses_bad_input
);
on_both_backends!(secured: small_predictive_clv_groups_are_suppressed);

/// fixtures README §6: optimisers differ, so 1e-3 relative.
fn model_tolerance(_: &str, expected: f64) -> f64 {
    (1e-3 * expected.abs()).max(1e-9)
}

const GROUP: &str =
    "key customers totalClv averageClv totalExpectedPurchases averageExpectedPurchases averagePAlive suppressed";

fn query() -> String {
    format!(
        r#"query($filter: InsightFilter, $horizon: Int = 12, $rate: Float = 0.01) {{ insights(filter: $filter) {{
            predictiveClv(horizonMonths: $horizon, monthlyDiscountRate: $rate) {{
                asOf horizonMonths monthlyDiscountRate purchaseDays repeatCustomers
                bgnbd {{ r alpha a b logLikelihood }}
                gammaGamma {{ p q v logLikelihood }}
                overall {{ {GROUP} }} byRegion {{ {GROUP} }} byAccount {{ {GROUP} }} bySegment {{ {GROUP} }}
                definition {{ metric formula parameters {{ name value }} }}
            }} }} }}"#
    )
}

fn whole_window() -> Value {
    json!({ "from": "2025-01-01", "to": "2026-06-30" })
}

/// Creates and refreshes a segment of the customers of one region.
async fn region_segment(app: &TestApp, region: &str) -> String {
    let created = app
        .data(
            "mutation($rule: SegmentRuleInput!) { createSegment(input: { name: \"Region\", team: MARKETING, rule: $rule }) { id } }",
            json!({ "rule": { "trait": { "field": "region", "operator": "IN", "value": [region] } } }),
        )
        .await;
    let id = created["createSegment"]["id"].as_str().unwrap_or_default().to_owned();
    app.data(
        "mutation($id: ID!) { refreshSegment(id: $id) { size } }",
        json!({ "id": id }),
    )
    .await;
    id
}

/// The number inside a global id (`base64("Segment:12")` → "12").
fn raw_id(global: &str) -> String {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(global)
        .unwrap_or_default();
    String::from_utf8_lossy(&decoded)
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn predictive_clv_reproduces_lifetimes(app: TestApp) {
    app.import_golden().await;
    let segment = region_segment(&app, "UK").await;
    let expected = expected_v2()["predictiveClv"].clone();
    let data = app
        .data(
            &query(),
            json!({ "filter": whole_window(), "horizon": 12, "rate": 0.01 }),
        )
        .await;
    let found = &data["insights"]["predictiveClv"];
    let mut differences = Vec::new();
    let mut compare = |path: &str, expected: &Value, actual: &Value| {
        golden::compare(path, expected, actual, &mut differences, &model_tolerance);
    };
    compare("asOf", &expected["observationPeriodEnd"], &found["asOf"]);
    compare(
        "repeatCustomers",
        &expected["repeatCustomers"],
        &found["repeatCustomers"],
    );
    compare("customers", &expected["customers"], &found["overall"]["customers"]);
    let bgnbd = &expected["bgnbd"];
    compare(
        "bgnbd",
        &json!({ "r": bgnbd["r"], "alpha": bgnbd["alpha"], "a": bgnbd["a"], "b": bgnbd["b"],
            "logLikelihood": bgnbd["logLikelihood"] }),
        &found["bgnbd"],
    );
    let gg = &expected["gammaGamma"];
    compare(
        "gammaGamma",
        &json!({ "p": gg["p"], "q": gg["q"], "v": gg["v"], "logLikelihood": gg["logLikelihood"] }),
        &found["gammaGamma"],
    );
    let overall = &found["overall"];
    let customers = overall["customers"].as_f64().unwrap_or(f64::NAN);
    let totals = &expected["totals"];
    compare(
        "totals",
        &json!({ "clv": totals["clv"], "expectedPurchases90": totals["expectedPurchases90"], "pAlive": totals["pAlive"] }),
        &json!({ "clv": overall["totalClv"], "expectedPurchases90": overall["totalExpectedPurchases"],
            "pAlive": overall["averagePAlive"].as_f64().map(|average| average * customers) }),
    );
    let regions: Vec<Value> = found["byRegion"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            json!({ "region": g["key"], "customers": g["customers"], "averageClv": g["averageClv"],
                "totalClv": g["totalClv"], "averageExpectedPurchases90": g["averageExpectedPurchases"],
                "averagePAlive": g["averagePAlive"] })
        })
        .collect();
    compare("byRegion", &expected["byRegion"], &Value::Array(regions));
    golden::assert_no_differences("expected-v2.json predictiveClv", &differences);

    // The segment of UK customers groups exactly the UK region's customers.
    let by_segment = found["bySegment"].as_array().cloned().unwrap_or_default();
    let uk = found["byRegion"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["key"] == "UK")
        .cloned()
        .unwrap_or_default();
    assert_eq!(by_segment.len(), 1, "{by_segment:?}");
    assert_eq!(by_segment[0]["key"], raw_id(&segment));
    assert_eq!(by_segment[0]["customers"], uk["customers"]);
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap_or(f64::NAN) - b.as_f64().unwrap_or(0.0)).abs() < 1e-6;
    assert!(
        close(&by_segment[0]["totalClv"], &uk["totalClv"]),
        "{by_segment:?} vs {uk}"
    );

    // Accounts partition the customers who are contacts of one.
    let accounts = found["byAccount"].as_array().cloned().unwrap_or_default();
    assert!(accounts.len() > 10, "{}", accounts.len());
    let contacts: i64 = accounts.iter().map(|g| g["customers"].as_i64().unwrap_or(0)).sum();
    assert!(contacts > 0 && contacts < expected["customers"].as_i64().unwrap_or(0));

    assert_eq!(found["definition"]["metric"], "predictive_clv");
    let parameters = found["definition"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for parameter in [
        json!({ "name": "asOf", "value": "2026-06-30" }),
        json!({ "name": "horizonMonths", "value": "12" }),
        json!({ "name": "monthlyDiscountRate", "value": "0.01" }),
    ] {
        assert!(parameters.contains(&parameter), "{parameter} not in {parameters:?}");
    }

    // A longer horizon and no discount add value; the fit is the same.
    let longer = app
        .data(
            &query(),
            json!({ "filter": whole_window(), "horizon": 24, "rate": 0.0 }),
        )
        .await;
    let longer = &longer["insights"]["predictiveClv"];
    assert_eq!(longer["bgnbd"], found["bgnbd"]);
    assert!(longer["overall"]["totalClv"].as_f64() > found["overall"]["totalClv"].as_f64());
}

async fn customer_predictions_reproduce_lifetimes(app: TestApp) {
    app.import_golden().await;
    let expected = expected_v2()["predictiveClv"]["customersSample"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(expected.len(), 53);
    // One request for every sampled customer: one fit, shared by the loader.
    let fields = "predicted(asOf: \"2026-06-30\") { asOf frequency recency t monetaryValue \
                  expectedPurchases(days: 90) pAlive expectedAverageProfit clv suppressed }";
    let selections: String = expected
        .iter()
        .enumerate()
        .map(|(index, row)| {
            format!(
                "c{index}: customer(externalId: {}) {{ externalId {fields} }} ",
                row["customerExternalId"]
            )
        })
        .collect();
    app.take_statements();
    let data = app.data(&format!("{{ {selections} }}"), json!({})).await;
    let fitted_over = |statements: Vec<String>| statements.iter().filter(|text| text.contains("orders")).count();
    assert!(fitted_over(app.take_statements()) > 0, "the first request fits");
    let mut differences = Vec::new();
    for (index, row) in expected.iter().enumerate() {
        let found = &data[format!("c{index}")];
        assert_eq!(found["externalId"], row["customerExternalId"]);
        let predicted = &found["predicted"];
        let actual = json!({
            "customerExternalId": found["externalId"], "frequency": predicted["frequency"],
            "recency": predicted["recency"], "T": predicted["t"], "monetaryValue": predicted["monetaryValue"],
            "expectedPurchases90": predicted["expectedPurchases"], "pAlive": predicted["pAlive"],
            "expectedAverageProfit": predicted["expectedAverageProfit"], "clv": predicted["clv"],
            "selectedAs": row["selectedAs"],
        });
        golden::compare(
            &format!("customersSample[{index}]"),
            row,
            &actual,
            &mut differences,
            &model_tolerance,
        );
        assert_eq!(predicted["suppressed"], false);
    }
    golden::assert_no_differences("expected-v2.json predictiveClv.customersSample", &differences);

    // A customer without orders is not in the model; the next request
    // predicts from the cached fit and reads no order.
    let none = app
        .data(
            r#"{ customer(externalId: "C2989") { predicted(asOf: "2026-06-30") { pAlive } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(none["customer"]["predicted"], Value::Null);
    assert_eq!(
        fitted_over(app.take_statements()),
        0,
        "the fit is cached across requests"
    );
}

async fn predictive_clv_refuses_bad_input(app: TestApp) {
    let cases = [
        (json!({ "horizon": 0, "rate": 0.01 }), "horizonMonths"),
        (json!({ "horizon": 121, "rate": 0.01 }), "horizonMonths"),
        (json!({ "horizon": 12, "rate": -0.01 }), "monthlyDiscountRate"),
        (json!({ "horizon": 12, "rate": 1.0 }), "monthlyDiscountRate"),
    ];
    for (variables, field) in cases {
        let (status, body) = app.post(&query(), variables.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{variables}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{variables}: {body}");
    }
    let customer_cases = [
        ("predicted(horizonMonths: 500) { pAlive }", "horizonMonths"),
        ("predicted(monthlyDiscountRate: 2.5) { pAlive }", "monthlyDiscountRate"),
        ("predicted { expectedPurchases(days: 0) }", "days"),
    ];
    app.import_golden().await;
    for (selection, field) in customer_cases {
        let (status, body) = app
            .post(
                &format!(r#"{{ customer(externalId: "C0001") {{ {selection} }} }}"#),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{selection}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{selection}: {body}");
    }
    // An empty database has no model: null fits, zero customers, no error.
    let empty = app
        .data(
            &query(),
            json!({ "filter": { "from": "2020-01-01", "to": "2020-01-31" } }),
        )
        .await;
    let empty = &empty["insights"]["predictiveClv"];
    assert_eq!(empty["bgnbd"], Value::Null);
    assert_eq!(empty["overall"]["customers"], 0);
}

async fn key(app: &TestApp, role: Role) -> String {
    keys::create(&app.db, role, &format!("predictive clv {role}"))
        .await
        .expect("key created")
        .secret
}

/// Account groups of fewer than 10 customers are withheld from ANALYST;
/// ADMIN sees them, and both see the same larger groups.
async fn small_predictive_clv_groups_are_suppressed(app: TestApp) {
    app.import_golden().await;
    let variables = json!({ "filter": whole_window() });
    let mut answers = BTreeMap::new();
    for role in [Role::Admin, Role::Analyst] {
        let (status, body) = app.post_as(&key(&app, role).await, &query(), variables.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{role}: {body}");
        answers.insert(role.to_string(), body["data"]["insights"]["predictiveClv"].clone());
    }
    let (admin, analyst) = (&answers[&Role::Admin.to_string()], &answers[&Role::Analyst.to_string()]);
    assert_eq!(admin["bgnbd"], analyst["bgnbd"]);
    let (mut hidden, mut shown) = (0, 0);
    let admin_groups = admin["byAccount"].as_array().cloned().unwrap_or_default();
    let analyst_groups = analyst["byAccount"].as_array().cloned().unwrap_or_default();
    assert_eq!(admin_groups.len(), analyst_groups.len());
    for (a, v) in admin_groups.iter().zip(&analyst_groups) {
        assert_eq!(a["key"], v["key"]);
        assert_eq!(a["suppressed"], false);
        if a["customers"].as_i64().unwrap_or(0) < 10 {
            hidden += 1;
            assert_eq!(v["suppressed"], true, "{v}");
            for field in [
                "customers",
                "totalClv",
                "averageClv",
                "averagePAlive",
                "averageExpectedPurchases",
            ] {
                assert_eq!(v[field], Value::Null, "{field} of {v}");
            }
        } else {
            shown += 1;
            assert_eq!(a, v);
        }
    }
    assert!(hidden > 0 && shown > 0, "hidden {hidden}, shown {shown}");
    // A single customer's predictions are withheld from ANALYST too.
    let one = r#"{ customer(externalId: "C0001") { predicted(asOf: "2026-06-30") { pAlive clv suppressed } } }"#;
    let (_, body) = app.post_as(&key(&app, Role::Analyst).await, one, json!({})).await;
    assert_eq!(
        body["data"]["customer"]["predicted"],
        json!({ "pAlive": null, "clv": null, "suppressed": true }),
        "{body}"
    );
}
