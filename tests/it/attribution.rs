//! Attribution models of expected-v2.json (fixtures README §6), computed
//! there with pandas and numpy from the NDJSON files: W_SHAPED over WON
//! leads, and MARKOV (exact removal effects) over orders and WON leads.

use serde_json::{Map, Value, json};

use crate::golden;
use crate::helpers::{TestApp, expected_v2, on_both_backends};

on_both_backends!(w_shaped_reproduces_expected_v2, markov_reproduces_expected_v2);

const BUCKET: &str = "key creditMinor conversions";

/// The conversion counts and values every model section of expected-v2 repeats.
fn totals(attribution: &Value) -> Map<String, Value> {
    [
        "conversion",
        "lookbackDays",
        "conversions",
        "conversionsWithTouches",
        "conversionsWithoutTouch",
        "totalValueMinor",
        "noTouchValueMinor",
    ]
    .into_iter()
    .map(|field| (field.to_owned(), attribution[field].clone()))
    .collect()
}

async fn w_shaped_reproduces_expected_v2(app: TestApp) {
    app.import_golden().await;
    let expected = expected_v2()["attribution"]["W_SHAPED"].clone();
    let data = app
        .data(
            &format!(
                r#"{{ insights(filter: {{ from: "2025-01-01", to: "2026-06-30" }}) {{
                    attribution(conversion: WON_LEAD) {{
                        conversion lookbackDays conversions conversionsWithTouches conversionsWithoutTouch
                        totalValueMinor noTouchValueMinor touchesInWindow
                        missingMilestones {{ first leadCreated opportunityCreated }}
                        models {{ model byTeam {{ {BUCKET} }} byChannel {{ {BUCKET} }}
                                  byCampaign {{ campaignExternalId creditMinor conversions }} }}
                    }} }} }}"#
            ),
            json!({}),
        )
        .await;
    let attribution = &data["insights"]["attribution"];
    let models = attribution["models"].as_array().cloned().unwrap_or_default();
    let w_shaped = models
        .iter()
        .find(|m| m["model"] == "W_SHAPED")
        .cloned()
        .expect("W_SHAPED is among the models of WON leads");
    let mut actual = totals(attribution);
    actual.insert("touchesInWindow".to_owned(), attribution["touchesInWindow"].clone());
    actual.insert("model".to_owned(), w_shaped["model"].clone());
    let missing = &attribution["missingMilestones"];
    actual.insert(
        "missingMilestones".to_owned(),
        json!({ "FIRST": missing["first"], "LEAD_CREATED": missing["leadCreated"],
                "OPPORTUNITY_CREATED": missing["opportunityCreated"] }),
    );
    actual.insert("byTeam".to_owned(), w_shaped["byTeam"].clone());
    actual.insert("byChannel".to_owned(), w_shaped["byChannel"].clone());
    let mut campaigns = w_shaped["byCampaign"].clone();
    for campaign in campaigns.as_array_mut().into_iter().flatten() {
        if campaign["campaignExternalId"].is_null() {
            campaign["campaignExternalId"] = json!("NONE");
        }
    }
    actual.insert("byCampaign".to_owned(), campaigns);

    let mut expected = expected;
    if let Some(object) = expected.as_object_mut() {
        // Per-touch examples are checked by the unit tests of the weights.
        object.remove("examples");
    }
    let mut differences = Vec::new();
    golden::compare(
        "W_SHAPED",
        &expected,
        &Value::Object(actual),
        &mut differences,
        &golden::relative,
    );
    golden::assert_no_differences("expected-v2.json W_SHAPED", &differences);

    // Orders have no milestones: W_SHAPED is not among their models.
    let orders = app
        .data(
            r#"{ insights(filter: { from: "2025-01-01", to: "2026-06-30" }) {
                attribution(conversion: ORDER) { models { model } missingMilestones { first } } } }"#,
            json!({}),
        )
        .await;
    let names: Vec<Value> = orders["insights"]["attribution"]["models"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["model"].clone())
        .collect();
    assert!(!names.contains(&json!("W_SHAPED")) && names.len() == 6, "{names:?}");
    assert!(orders["insights"]["attribution"]["missingMilestones"].is_null());
}

async fn markov_reproduces_expected_v2(app: TestApp) {
    app.import_golden().await;
    let mut differences = Vec::new();
    for kind in ["ORDER", "WON_LEAD"] {
        let mut expected = expected_v2()["attribution"]["MARKOV"][kind].clone();
        if let Some(object) = expected.as_object_mut() {
            // The ChannelAttribution package's simulation is informational.
            object.remove("crossCheckChannelAttribution");
        }
        let bucket = "key creditMinor conversions removalEffect";
        let chain = "states pConversion paths conversionPaths";
        let data = app
            .data(
                &format!(
                    r#"{{ insights(filter: {{ from: "2025-01-01", to: "2026-06-30" }}) {{
                        attribution(conversion: {kind}) {{
                            conversion lookbackDays conversions conversionsWithTouches conversionsWithoutTouch
                            totalValueMinor noTouchValueMinor
                            markov {{ byChannel {{ {chain} }} byTeam {{ {chain} }}
                                      touchesInConversionPaths nullPaths touchesInNullPaths }}
                            models {{ model byTeam {{ {bucket} }} byChannel {{ {bucket} }}
                                      byCampaign {{ campaignExternalId creditMinor }} }}
                        }} }} }}"#
                ),
                json!({}),
            )
            .await;
        let attribution = &data["insights"]["attribution"];
        let markov = attribution["models"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["model"] == "MARKOV")
            .cloned()
            .expect("MARKOV is among the models");
        let mut actual = totals(attribution);
        for field in ["touchesInConversionPaths", "nullPaths", "touchesInNullPaths"] {
            actual.insert(field.to_owned(), attribution["markov"][field].clone());
        }
        actual.insert("model".to_owned(), markov["model"].clone());
        actual.insert("byChannel".to_owned(), markov["byChannel"].clone());
        actual.insert("byTeam".to_owned(), markov["byTeam"].clone());
        actual.insert("byChannelChain".to_owned(), attribution["markov"]["byChannel"].clone());
        actual.insert("byTeamChain".to_owned(), attribution["markov"]["byTeam"].clone());
        golden::compare(
            &format!("MARKOV.{kind}"),
            &expected,
            &Value::Object(actual),
            &mut differences,
            &golden::relative,
        );
        // Campaigns are not states: the whole value is NONE's.
        assert_eq!(markov["byCampaign"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            markov["byCampaign"][0]["creditMinor"].as_f64(),
            attribution["totalValueMinor"].as_f64()
        );
    }
    golden::assert_no_differences("expected-v2.json MARKOV", &differences);
}
