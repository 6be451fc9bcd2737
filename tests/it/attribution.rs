//! Attribution models of expected-v2.json (fixtures README §6), computed
//! there with pandas and numpy from the NDJSON files: W_SHAPED over WON
//! leads, and MARKOV (exact removal effects) over orders and WON leads.
//! Then what attribution adds around the credit, each checked against a
//! computation of its own from the fixture's NDJSON: campaign spend
//! prorated to the window with ROAS and ROI, the one `Team` vocabulary
//! (PARTNER-sourced won leads), `compareTo`, and the arguments refused.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value, json};

use crate::golden;
use crate::helpers::{TestApp, expected_v2, golden_records, on_both_backends};

on_both_backends!(
    w_shaped_reproduces_expected_v2,
    markov_reproduces_expected_v2,
    spend_is_prorated_to_the_window_with_roas_and_roi,
    won_leads_are_credited_to_their_source_team_partner_included,
    compare_to_equals_the_shifted_explicit_window,
    arguments_that_cannot_apply_are_refused_by_name,
    a_model_alone_credits_what_it_credits_beside_the_others,
);

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

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// A campaign of campaigns.ndjson with its spend prorated to `from..=to`:
/// spend × (days of the campaign in the window) / (days of the campaign),
/// rounded half up (spend is never negative).
struct Prorated {
    team: String,
    channel: String,
    total: i64,
    days: i64,
    in_window: i64,
    spend: i64,
}

fn prorated_campaigns(from: &str, to: &str) -> BTreeMap<String, Prorated> {
    let (from, to) = (day(from), day(to));
    golden_records("campaigns.ndjson")
        .into_iter()
        .map(|campaign| {
            let text = |field: &str| campaign[field].as_str().expect(field).to_owned();
            let (starts, ends) = (day(&text("startsOn")), day(&text("endsOn")));
            let total = campaign["spendMinor"].as_i64().expect("spendMinor");
            let days = (ends - starts).num_days() + 1;
            let (first, last) = (starts.max(from), ends.min(to));
            let in_window = if first <= last {
                (last - first).num_days() + 1
            } else {
                0
            };
            let spend = (2 * total * in_window + days) / (2 * days);
            let prorated = Prorated {
                team: text("team"),
                channel: text("channel"),
                total,
                days,
                in_window,
                spend,
            };
            (text("externalId"), prorated)
        })
        .collect()
}

fn assert_close(actual: &Value, expected: f64, what: &str) {
    let actual = actual.as_f64().unwrap_or(f64::NAN);
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: expected {expected}, found {actual}"
    );
}

/// ROAS and ROI of `credit` on `spend`, as the field docs define them.
fn assert_returns(bucket: &Value, spend: i64, what: &str) {
    let credit = bucket["creditMinor"].as_f64().expect("creditMinor");
    if spend == 0 {
        assert!(bucket["roas"].is_null() && bucket["roi"].is_null(), "{what}: {bucket}");
        return;
    }
    #[allow(clippy::cast_precision_loss)]
    let spend = spend as f64;
    assert_close(&bucket["roas"], credit / spend, &format!("{what} roas"));
    assert_close(&bucket["roi"], (credit - spend) / spend, &format!("{what} roi"));
}

async fn spend_is_prorated_to_the_window_with_roas_and_roi(app: TestApp) {
    app.import_golden().await;
    // Cuts campaigns at both ends (M002 runs 2025-01-07..04-07, M009 2025-09-23..12-11).
    let (from, to) = ("2025-02-15", "2025-10-31");
    let campaigns = prorated_campaigns(from, to);
    let bucket = "key creditMinor spendMinor roas roi";
    let data = app
        .data(
            &format!(
                r#"query($filter: InsightFilter) {{ insights(filter: $filter) {{
                    attribution(conversion: ORDER, models: [LINEAR, MARKOV]) {{
                        models {{ model byTeam {{ team {bucket} }} byChannel {{ {bucket} }}
                            byCampaign {{ campaignExternalId creditMinor spendMinor totalSpendMinor campaignDays
                                          daysInWindow roas roi }} }}
                        definition {{ formula }} }} }} }}"#
            ),
            json!({ "filter": { "from": from, "to": to } }),
        )
        .await;
    let attribution = &data["insights"]["attribution"];
    let models = attribution["models"].as_array().expect("models");
    let names: Vec<&str> = models.iter().filter_map(|m| m["model"].as_str()).collect();
    assert_eq!(names, ["LINEAR", "MARKOV"], "models: picks the models");
    let formula = attribution["definition"]["formula"].as_str().unwrap_or_default();
    assert!(
        formula.contains("ROAS = attributed revenue / spend")
            && formula.contains("(attributed revenue − spend) / spend")
    );

    let linear = &models[0];
    let mut checked_partial = 0;
    for bucket in linear["byCampaign"].as_array().expect("byCampaign") {
        let Some(id) = bucket["campaignExternalId"].as_str() else {
            assert!(
                bucket["spendMinor"].is_null() && bucket["roas"].is_null(),
                "NONE has no spend"
            );
            continue;
        };
        let campaign = &campaigns[id];
        assert_eq!(bucket["spendMinor"].as_i64(), Some(campaign.spend), "{id} spendMinor");
        assert_eq!(bucket["totalSpendMinor"].as_i64(), Some(campaign.total), "{id}");
        assert_eq!(bucket["campaignDays"].as_i64(), Some(campaign.days), "{id}");
        assert_eq!(bucket["daysInWindow"].as_i64(), Some(campaign.in_window), "{id}");
        assert_returns(bucket, campaign.spend, id);
        if campaign.in_window > 0 && campaign.in_window < campaign.days {
            checked_partial += 1;
        }
    }
    assert!(checked_partial >= 2, "the window cuts campaigns at both ends");

    for model in models {
        let name = model["model"].as_str().unwrap_or_default();
        for (dimension, of) in [("byTeam", "team"), ("byChannel", "channel")] {
            for bucket in model[dimension].as_array().expect(dimension) {
                let key = bucket["key"].as_str().expect("key");
                if key == "NONE" {
                    assert!(
                        bucket["spendMinor"].is_null() && bucket["roi"].is_null(),
                        "{name} {dimension} NONE"
                    );
                    continue;
                }
                let spend: i64 = campaigns
                    .values()
                    .filter(|c| if of == "team" { c.team == key } else { c.channel == key })
                    .map(|c| c.spend)
                    .sum();
                assert_eq!(bucket["spendMinor"].as_i64(), Some(spend), "{name} {dimension} {key}");
                assert_returns(bucket, spend, &format!("{name} {dimension} {key}"));
            }
        }
    }
    let marketing = &linear["byTeam"][0];
    assert_eq!(marketing["team"], "MARKETING");
    assert!(marketing["spendMinor"].as_i64().unwrap_or(0) > 0 && marketing["roas"].is_f64());
}

async fn won_leads_are_credited_to_their_source_team_partner_included(app: TestApp) {
    app.import_golden().await;
    let (from, to) = ("2025-01-01", "2026-06-30");
    // Won leads closed in the window, by source team: (count, value).
    let mut expected: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let (start, end) = (format!("{from}T00:00:00Z"), "2026-07-01T00:00:00Z".to_owned());
    for lead in golden_records("leads.ndjson") {
        let closed = lead["closedAt"].as_str().unwrap_or_default();
        let closed_in_window = lead["stage"] == "WON"
            && chrono::DateTime::parse_from_rfc3339(closed).is_ok_and(|at| {
                at >= chrono::DateTime::parse_from_rfc3339(&start).expect("start")
                    && at < chrono::DateTime::parse_from_rfc3339(&end).expect("end")
            });
        if closed_in_window {
            let entry = expected
                .entry(lead["sourceTeam"].as_str().expect("sourceTeam").to_owned())
                .or_default();
            entry.0 += 1;
            entry.1 += lead["amountMinor"].as_i64().unwrap_or(0);
        }
    }
    assert!(
        expected.get("PARTNER").is_some_and(|(count, _)| *count > 0),
        "the fixture has won partner leads"
    );

    let data = app
        .data(
            r#"query($filter: InsightFilter) {
                insights(filter: $filter) { attribution(conversion: WON_LEAD, models: [W_SHAPED]) {
                    totalValueMinor
                    bySourceTeam { team key creditMinor conversions spendMinor roas }
                    models { byTeam { team key } } }
                    revenueCycle(basis: CLOSED) { bySourceTeam { team wonCount wonRevenueMinor } } }
                leads(filter: { sourceTeam: PARTNER }, first: 1) { nodes { sourceTeam } } }"#,
            json!({ "filter": { "from": from, "to": to } }),
        )
        .await;
    let attribution = &data["insights"]["attribution"];
    let by_source: Vec<Value> = attribution["bySourceTeam"].as_array().cloned().unwrap_or_default();
    let teams: Vec<&str> = by_source.iter().filter_map(|b| b["team"].as_str()).collect();
    assert_eq!(teams, ["MARKETING", "SALES", "PARTNER"]);
    let mut sum = 0.0;
    for bucket in &by_source {
        let team = bucket["team"].as_str().unwrap_or_default();
        let (count, value) = expected.get(team).copied().unwrap_or_default();
        #[allow(clippy::cast_precision_loss)]
        let (count, value) = (count as f64, value as f64);
        assert_close(&bucket["creditMinor"], value, team);
        assert_close(&bucket["conversions"], count, team);
        sum += bucket["creditMinor"].as_f64().unwrap_or(0.0);
    }
    assert_close(
        &json!(sum),
        attribution["totalValueMinor"].as_f64().unwrap_or(0.0),
        "bySourceTeam sums to the total",
    );
    // The revenue cycle by close date counts the same won revenue, in the same Team.
    let cycle: Vec<Value> = data["insights"]["revenueCycle"]["bySourceTeam"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (bucket, block) in by_source.iter().zip(&cycle) {
        assert_eq!(bucket["team"], block["team"]);
        assert_eq!(bucket["conversions"].as_f64(), block["wonCount"].as_f64(), "{block}");
        assert_eq!(
            bucket["creditMinor"].as_f64(),
            block["wonRevenueMinor"].as_f64(),
            "{block}"
        );
    }
    // Partners run no campaigns: no spend, no return.
    assert_eq!(by_source[2]["spendMinor"], 0);
    assert!(by_source[2]["roas"].is_null());

    // Touches carry the four touchpoint teams; NONE is no team.
    let by_team: Vec<Value> = attribution["models"][0]["byTeam"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| b["team"].clone())
        .collect();
    assert_eq!(
        by_team,
        [
            json!("MARKETING"),
            json!("SALES"),
            json!("SERVICE"),
            json!("PRODUCT"),
            Value::Null
        ]
    );
    // Leads' source team is the same Team (the served SDL is schema.graphql, checked in schema.rs).
    assert_eq!(data["leads"]["nodes"][0]["sourceTeam"], "PARTNER");
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).expect("schema.graphql");
    let team_enum = sdl
        .split("enum Team {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .unwrap_or_default();
    for team in ["MARKETING", "SALES", "SERVICE", "PRODUCT", "PARTNER"] {
        assert!(team_enum.contains(team), "Team has {team}: {team_enum}");
    }
    assert!(sdl.contains("\tsourceTeam: Team!"), "Lead.sourceTeam is a Team");

    // Inputs that take a touchpoint team refuse PARTNER by name.
    let touchpoint = json!({ "input": { "externalId": "T-PARTNER", "customerExternalId": "C0001", "team": "PARTNER",
        "channel": "field", "kind": "MEETING", "occurredAt": "2026-01-05T10:00:00Z" } });
    let segment = json!({ "input": { "name": "Partners", "team": "PARTNER",
        "rule": { "not": { "trait": { "field": "region", "operator": "EQ", "value": "nowhere" } } } } });
    for (query, variables, field) in [
        (
            "{ touchpoints(filter: { team: PARTNER }, first: 1) { totalCount } }",
            json!({}),
            "filter.team",
        ),
        (
            "{ campaigns(filter: { team: PARTNER }, first: 1) { totalCount } }",
            json!({}),
            "filter.team",
        ),
        (
            "mutation($input: TouchpointInput!) { upsertTouchpoint(input: $input) { externalId } }",
            touchpoint,
            "input.team",
        ),
        (
            "mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id } }",
            segment,
            "input.team",
        ),
    ] {
        let (status, body) = app.post(query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{query}: {body}");
    }
}

/// The window `compareTo` compares `from..=to` with, computed here.
fn shifted(from: &str, to: &str, compare_to: &str) -> (String, String) {
    let (from, to) = (day(from), day(to));
    let (from, to) = if compare_to == "PREVIOUS_PERIOD" {
        let length = (to - from).num_days();
        let to = from.pred_opt().expect("a day before");
        (to - chrono::Duration::days(length), to)
    } else {
        let year = |d: NaiveDate| d.with_year(d.year() - 1).expect("a year earlier");
        (year(from), year(to))
    };
    (from.to_string(), to.to_string())
}

async fn compare_to_equals_the_shifted_explicit_window(app: TestApp) {
    app.import_golden().await;
    let (from, to) = ("2026-01-01", "2026-06-30");
    let bucket = "key creditMinor customers compared { previousPeriodStart previous previousN change pValue method }";
    for (kind, compare_to, models) in [
        ("ORDER", "PREVIOUS_PERIOD", "[TIME_DECAY, MARKOV]"),
        ("WON_LEAD", "PREVIOUS_YEAR", "[W_SHAPED]"),
    ] {
        let source = if kind == "WON_LEAD" {
            format!("bySourceTeam {{ {bucket} }}")
        } else {
            String::new()
        };
        let query = |compare: &str| {
            format!(
                r#"query($filter: InsightFilter) {{ insights(filter: $filter) {{
                    attribution(conversion: {kind}, models: {models}{compare}) {{
                        conversions totalValueMinor {source}
                        compared {{ from to conversions {{ previous previousN change pValue method }}
                                   totalValueMinor {{ previous method }} }}
                        models {{ model byTeam {{ {bucket} }} byChannel {{ {bucket} }} }} }} }} }}"#
            )
        };
        let now = app
            .data(
                &query(&format!(", compareTo: {compare_to}")),
                json!({ "filter": { "from": from, "to": to } }),
            )
            .await;
        let (earlier_from, earlier_to) = shifted(from, to, compare_to);
        let then = app
            .data(
                &query(""),
                json!({ "filter": { "from": earlier_from, "to": earlier_to } }),
            )
            .await;
        let (now, then) = (&now["insights"]["attribution"], &then["insights"]["attribution"]);
        let what = format!("{kind} {compare_to}");
        assert_eq!(now["compared"]["from"], json!(earlier_from), "{what}");
        assert_eq!(now["compared"]["to"], json!(earlier_to), "{what}");
        assert!(then["compared"].is_null());
        let conversions = &now["compared"]["conversions"];
        assert_eq!(conversions["previous"].as_f64(), then["conversions"].as_f64(), "{what}");
        assert_eq!(conversions["previousN"], then["conversions"], "{what}");
        let counts = (
            now["conversions"].as_i64().unwrap_or(0),
            then["conversions"].as_i64().unwrap_or(0),
        );
        if counts.0 >= 10 && counts.1 >= 10 {
            assert_eq!(conversions["method"], "EXACT_POISSON_CONDITIONAL_BINOMIAL", "{what}");
            assert!(conversions["pValue"].is_f64(), "{what}");
        }
        assert_eq!(
            now["compared"]["totalValueMinor"]["previous"].as_f64(),
            then["totalValueMinor"].as_f64(),
            "{what}"
        );
        let mut lists: Vec<(String, Value, Value)> = Vec::new();
        for (index, model) in now["models"].as_array().expect("models").iter().enumerate() {
            for dimension in ["byTeam", "byChannel"] {
                lists.push((
                    format!("{what} {} {dimension}", model["model"]),
                    model[dimension].clone(),
                    then["models"][index][dimension].clone(),
                ));
            }
        }
        if kind == "WON_LEAD" {
            lists.push((
                format!("{what} bySourceTeam"),
                now["bySourceTeam"].clone(),
                then["bySourceTeam"].clone(),
            ));
        }
        let mut checked = 0;
        for (what, now_list, then_list) in lists {
            let (now_list, then_list) = (
                now_list.as_array().cloned().unwrap_or_default(),
                then_list.as_array().cloned().unwrap_or_default(),
            );
            assert_eq!(now_list.len(), then_list.len(), "{what}");
            for (current, earlier) in now_list.iter().zip(&then_list) {
                assert_eq!(current["key"], earlier["key"], "{what}");
                let delta = &current["compared"];
                let previous = earlier["creditMinor"].as_f64().expect("credit");
                assert_close(&delta["previous"], previous, &format!("{what} {}", current["key"]));
                let change = current["creditMinor"].as_f64().unwrap_or(0.0) - previous;
                assert!(
                    (delta["change"].as_f64().unwrap_or(f64::NAN) - change).abs() <= 1e-6 * change.abs().max(1.0),
                    "{what}: {delta}"
                );
                assert_eq!(delta["previousN"], earlier["customers"], "{what}");
                assert_eq!(delta["previousPeriodStart"], json!(earlier_from), "{what}");
                assert_eq!(delta["method"], "NONE: no test for a sum of money", "{what}");
                assert!(delta["pValue"].is_null(), "{what}");
                assert!(earlier["compared"].is_null(), "{what}");
                checked += 1;
            }
        }
        assert!(checked > 10, "{what}: {checked} buckets compared");
    }
}

async fn arguments_that_cannot_apply_are_refused_by_name(app: TestApp) {
    let cases = [
        ("conversion: ORDER, models: [W_SHAPED]", "models", "milestones"),
        ("models: [LINEAR, W_SHAPED]", "models", "WON_LEAD"),
        ("conversion: WON_LEAD, models: []", "models", "no model"),
        ("models: [MARKOV], halfLifeDays: 3", "halfLifeDays", "TIME_DECAY"),
        (
            "conversion: WON_LEAD, models: [W_SHAPED, MARKOV], halfLifeDays: 3",
            "halfLifeDays",
            "TIME_DECAY",
        ),
        ("lookbackDays: 0", "lookbackDays", "1..=365"),
        ("conversion: WON_LEAD, lookbackDays: 366", "lookbackDays", "1..=365"),
        ("halfLifeDays: 0", "halfLifeDays", "(0, 365]"),
        ("models: [TIME_DECAY], halfLifeDays: 365.5", "halfLifeDays", "(0, 365]"),
    ];
    for (arguments, field, says) in cases {
        let (status, body) = app
            .post(
                &format!("{{ insights {{ attribution({arguments}) {{ conversions }} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{arguments}: {body}");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{arguments}: {body}");
        assert_eq!(error["extensions"]["field"], field, "{arguments}: {body}");
        assert!(
            error["message"].as_str().unwrap_or_default().contains(says),
            "{arguments}: {body}"
        );
    }
    // What does apply answers.
    let data = app
        .data(
            "{ insights { attribution(models: [TIME_DECAY, MARKOV], halfLifeDays: 3) { halfLifeDays models { model } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["insights"]["attribution"]["halfLifeDays"], 3.0);
    assert_eq!(
        data["insights"]["attribution"]["models"],
        json!([{ "model": "TIME_DECAY" }, { "model": "MARKOV" }])
    );
}

/// Only the models asked for are computed; each must come out as it does
/// beside every other model (credit, conversions and customers of every
/// bucket), for orders and for won leads.
async fn a_model_alone_credits_what_it_credits_beside_the_others(app: TestApp) {
    app.import_golden().await;
    let bucket = "key creditMinor conversions customers removalEffect";
    let selection = format!(
        "models {{ model byTeam {{ {bucket} }} byChannel {{ {bucket} }} byCampaign {{ campaignExternalId creditMinor conversions customers }} }}"
    );
    for (conversion, models) in [
        ("ORDER", &["FIRST_TOUCH", "LINEAR", "TIME_DECAY", "MARKOV"][..]),
        ("WON_LEAD", &["W_SHAPED", "POSITION_BASED", "MARKOV"][..]),
    ] {
        let all = app
            .data(
                &format!("{{ insights {{ attribution(conversion: {conversion}) {{ {selection} }} }} }}"),
                json!({}),
            )
            .await;
        let every = all["insights"]["attribution"]["models"]
            .as_array()
            .expect("models")
            .clone();
        for model in models {
            let alone = app
                .data(
                    &format!(
                        "{{ insights {{ attribution(conversion: {conversion}, models: [{model}]) {{ {selection} }} }} }}"
                    ),
                    json!({}),
                )
                .await;
            let found = alone["insights"]["attribution"]["models"].as_array().expect("models");
            let beside = every
                .iter()
                .find(|m| m["model"] == json!(model))
                .expect("the model among all");
            assert_eq!(found.len(), 1, "{conversion} {model}: only the model asked for");
            assert_eq!(&found[0], beside, "{conversion} {model}: alone as beside the others");
        }
    }
}
