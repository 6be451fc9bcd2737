//! Small populations are suppressed (issue 11): for roles without PII
//! access (ANALYST, DASHBOARD) an insight value over fewer customers or
//! respondents than the minimum audience size (10) is null with
//! `suppressed: true`; ADMIN sees every value.
//!
//! Each test runs one query as ADMIN and as a role without PII access, and
//! walks both answers side by side ([`Walk`]): every object the role sees
//! suppressed must have a population below 10 in ADMIN's answer and null
//! numbers; every other value must equal ADMIN's. Each test also checks
//! that both cases occur, so that it cannot pass by suppressing nothing or
//! everything.

use accord::auth::keys;
use entity::enums::Role;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    nps_groups_and_an_account_filter_are_suppressed_below_the_minimum,
    customer_insights_are_suppressed_below_the_minimum,
    survey_insights_are_suppressed_below_the_minimum,
    attribution_revenue_cycle_and_series_are_suppressed_below_the_minimum,
    each_attribution_bucket_is_suppressed_by_its_own_customers,
    a_one_member_segment_does_not_reveal_its_member,
    segment_exports_escape_formulas
);

/// The default `ACCORD_MIN_AUDIENCE_SIZE`.
const MINIMUM: i64 = 10;

/// The whole golden window, one week and one day of it.
const FULL: (&str, &str) = ("2025-01-01", "2026-06-30");
const WEEK: (&str, &str) = ("2026-03-02", "2026-03-08");
const DAY: (&str, &str) = ("2026-03-04", "2026-03-04");

/// Fields that name what a value is about, not how many or how much.
const LABELS: [&str; 13] = [
    "offset",
    "score",
    "r",
    "f",
    "m",
    "version",
    "thresholdDays",
    "lookbackDays",
    "halfLifeDays",
    "approvalThreshold",
    "spendMinor",
    "daysCovered",
    "partial",
];

/// The fields `wonRevenueSuppressed` withholds.
const WON_REVENUE: [&str; 2] = ["wonRevenueMinor", "shareOfWonRevenue"];

/// The field holding an object's population, where the API shows it.
const POPULATIONS: [&str; 4] = ["n", "size", "customers", "customersWithOrders"];

async fn key(app: &TestApp, role: Role) -> String {
    keys::create(&app.db, role, &format!("suppression {role}"))
        .await
        .expect("key created")
        .secret
}

/// The `data` of `query` as `role`.
async fn data_as(app: &TestApp, role: Role, query: &str, variables: &Value) -> Value {
    let (status, body) = app.post_as(&key(app, role).await, query, variables.clone()).await;
    assert_eq!(status, 200, "{role}: {body}");
    assert!(body.get("errors").is_none(), "{role}: unexpected errors: {body}");
    body["data"].clone()
}

/// What a walk found.
#[derive(Debug, Default)]
struct Walk {
    /// Whether the viewer is one whose small populations are suppressed.
    suppressing: bool,
    suppressed: usize,
    shown: usize,
    problems: Vec<String>,
}

impl Walk {
    /// Walks ADMIN's answer beside the role's.
    fn of(admin: &Value, viewer: &Value, suppressing: bool) -> Self {
        let mut walk = Walk {
            suppressing,
            ..Walk::default()
        };
        walk.visit("", admin, viewer, false);
        walk
    }

    fn visit(&mut self, path: &str, admin: &Value, viewer: &Value, hidden: bool) {
        match (admin, viewer) {
            (Value::Object(admin_fields), Value::Object(viewer_fields)) => {
                let mut hidden = hidden;
                if let Some(flag) = viewer_fields.get("suppressed") {
                    if admin_fields.get("suppressed") != Some(&Value::Bool(false)) {
                        self.problems.push(format!("{path}: ADMIN sees it suppressed"));
                    }
                    let population = POPULATIONS
                        .iter()
                        .find_map(|name| admin_fields.get(*name).and_then(Value::as_i64));
                    if flag == &Value::Bool(true) {
                        self.suppressed += 1;
                        hidden = true;
                        if population.is_some_and(|population| population >= MINIMUM) {
                            self.problems
                                .push(format!("{path}: suppressed with a population of {population:?}"));
                        }
                    } else if !hidden {
                        self.shown += 1;
                        if self.suppressing && population.is_some_and(|population| population < MINIMUM) {
                            self.problems
                                .push(format!("{path}: shown with a population of {population:?}"));
                        }
                    }
                }
                // A part of a shown value can have a smaller population of its own.
                let won_hidden = hidden || viewer_fields.get("wonRevenueSuppressed") == Some(&Value::Bool(true));
                for (name, admin_value) in admin_fields {
                    let viewer_value = viewer_fields.get(name).unwrap_or(&Value::Null);
                    let path = format!("{path}.{name}");
                    let part_hidden = won_hidden && WON_REVENUE.contains(&name.as_str());
                    if name == "definition" {
                        // Carries `minimumAudienceSize` for suppressed viewers: checked by the NPS test.
                    } else if (hidden || part_hidden)
                        && !name.ends_with("uppressed")
                        && !LABELS.contains(&name.as_str())
                        && scalar(admin_value)
                    {
                        if !viewer_value.is_null() {
                            self.problems
                                .push(format!("{path}: {viewer_value} shown in a suppressed value"));
                        }
                    } else if name.ends_with("uppressed") || name == "method" {
                        // Compared through the flag above; a suppressed comparison says so in `method`.
                    } else {
                        self.visit(&path, admin_value, viewer_value, hidden);
                    }
                }
            }
            (Value::Array(admin_items), Value::Array(viewer_items)) => {
                if admin_items.len() != viewer_items.len() {
                    self.problems.push(format!("{path}: lists of different lengths"));
                }
                for (index, (a, v)) in admin_items.iter().zip(viewer_items).enumerate() {
                    self.visit(&format!("{path}[{index}]"), a, v, hidden);
                }
            }
            (a, v) if hidden || a == v => {}
            (Value::Number(a), Value::Number(v))
                if (a.as_f64().unwrap_or(0.0) - v.as_f64().unwrap_or(1.0)).abs() < 1e-9 => {}
            (a, v) => self.problems.push(format!("{path}: ADMIN sees {a}, the viewer {v}")),
        }
    }
}

/// Numbers and booleans: what a suppressed value must not show.
fn scalar(value: &Value) -> bool {
    matches!(value, Value::Number(_) | Value::Bool(_))
}

/// Per insight (alias under `insights`): how many values a role without
/// PII access saw suppressed, and how many shown.
#[derive(Debug, Default)]
struct Tally(BTreeMap<String, (usize, usize)>);

impl Tally {
    /// Fails unless every insight had values suppressed and values shown
    /// in at least one of `tallies`.
    fn require(tallies: &[&Tally], insights: &[&str]) {
        for insight in insights {
            let (suppressed, shown) = tallies
                .iter()
                .filter_map(|tally| tally.0.get(*insight))
                .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
            assert!(suppressed > 0, "{insight}: nothing suppressed");
            assert!(shown > 0, "{insight}: nothing shown");
        }
    }
}

/// Runs `query` with `variables` as ADMIN, ANALYST and DASHBOARD; checks the
/// two roles without PII access against ADMIN, and SALES and MARKETING (who
/// see everything too) against ADMIN.
async fn check_roles(app: &TestApp, what: &str, query: &str, variables: Value) -> (Value, Tally) {
    check_as(app, &[Role::Analyst, Role::Dashboard], what, query, variables).await
}

/// [`check_roles`] for each named filter; every insight must be suppressed
/// under one of them and shown under one.
async fn check_each(app: &TestApp, query: &str, scenarios: Vec<(&str, Value)>, insights: &[&str]) -> Vec<Value> {
    let mut answers = Vec::new();
    let mut tallies = Vec::new();
    for (what, variables) in scenarios {
        let (admin, tally) = check_roles(app, what, query, variables).await;
        answers.push(admin);
        tallies.push(tally);
    }
    Tally::require(&tallies.iter().collect::<Vec<_>>(), insights);
    answers
}

/// [`check_roles`] for the given roles without PII access.
async fn check_as(app: &TestApp, roles: &[Role], what: &str, query: &str, variables: Value) -> (Value, Tally) {
    let admin = data_as(app, Role::Admin, query, &variables).await;
    for role in [Role::Sales, Role::Marketing] {
        let raw = data_as(app, role, query, &variables).await;
        let walk = Walk::of(&admin, &raw, false);
        assert!(walk.problems.is_empty(), "{what} as {role}: {:?}", walk.problems);
        assert_eq!(walk.suppressed, 0, "{what} as {role}: suppressed");
    }
    let mut tally = Tally::default();
    let insights = admin["insights"].as_object().expect("insights");
    for &role in roles {
        let viewer = data_as(app, role, query, &variables).await;
        for (name, admin_part) in insights {
            let walk = Walk::of(admin_part, &viewer["insights"][name], true);
            assert!(
                walk.problems.is_empty(),
                "{what}, {name} as {role}: {}",
                walk.problems.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
            );
            let entry = tally.0.entry(name.clone()).or_default();
            entry.0 += walk.suppressed;
            entry.1 += walk.shown;
        }
    }
    (admin, tally)
}

fn window((from, to): (&str, &str)) -> Value {
    json!({ "from": from, "to": to })
}

const SCORE: &str = "n promoters passives detractors nps ciLow ciHigh suppressed";

async fn nps_groups_and_an_account_filter_are_suppressed_below_the_minimum(app: TestApp) {
    app.import_golden().await;
    let query = format!(
        "query($filter: InsightFilter) {{ insights(filter: $filter) {{ nps(compareTo: PREVIOUS_PERIOD) {{
            overall {{ {SCORE} }}
            series {{ periodStart score {{ {SCORE} }} compared {{ previous previousN change pValue method suppressed }} }}
            byRegion {{ key score {{ {SCORE} }} }}
            byChannel {{ key score {{ {SCORE} }} }}
            byAccount {{ key score {{ {SCORE} }} }}
            definition {{ parameters {{ name value }} }}
        }} }} }}"
    );
    let (admin, tally) = check_roles(&app, "nps", &query, json!({ "filter": window(FULL) })).await;
    Tally::require(&[&tally], &["nps"]);
    let by_account = admin["insights"]["nps"]["byAccount"].as_array().expect("byAccount");
    let single = by_account
        .iter()
        .find(|group| group["score"]["n"] == 1)
        .expect("an account whose contacts answered once");

    // The reproducer: DASHBOARD filters NPS to an account with one answer.
    let account = base64_id("Account", single["key"].as_str().expect("key"));
    let filter = json!({ "filter": { "from": FULL.0, "to": FULL.1, "account": account } });
    let viewer = data_as(&app, Role::Dashboard, &query, &filter).await;
    let nps = &viewer["insights"]["nps"];
    assert_eq!(nps["overall"]["suppressed"], true, "{nps}");
    assert_eq!(nps["overall"]["n"], Value::Null, "{nps}");
    assert_eq!(nps["overall"]["detractors"], Value::Null, "{nps}");
    for point in nps["series"].as_array().expect("series") {
        assert_eq!(point["score"]["suppressed"], true, "{point}");
        assert_eq!(point["score"]["n"], Value::Null, "{point}");
    }
    let parameters = nps["definition"]["parameters"].as_array().expect("parameters");
    assert!(
        parameters.contains(&json!({ "name": "minimumAudienceSize", "value": "10" })),
        "{parameters:?}"
    );
    let admin_filtered = data_as(&app, Role::Admin, &query, &filter).await;
    assert_eq!(admin_filtered["insights"]["nps"]["overall"]["n"], 1);
}

/// Writes `records` of `entity` through bulk ingest (as ADMIN).
async fn ingest(app: &TestApp, entity: &str, records: &[Value]) {
    let body: String = records.iter().map(|record| format!("{record}\n")).collect();
    let (status, report) = app.bulk(&app.base_url, entity, "", body).await;
    assert_eq!(status, 200, "{entity}: {report}");
}

/// The first account's global id and the filter of its orders in one week.
async fn one_account_one_week(app: &TestApp) -> Value {
    let accounts = app.data("{ accounts(first: 1) { nodes { id } } }", json!({})).await;
    let account = accounts["accounts"]["nodes"][0]["id"].clone();
    json!({ "filter": { "from": WEEK.0, "to": WEEK.1, "account": account } })
}

/// A refreshed segment of one new customer, SOLO1, with one order of
/// 123457 minor units; its global id.
async fn one_member_segment(app: &TestApp) -> Value {
    let customer = json!({ "externalId": "SOLO1", "email": "solo@example.com", "name": "Solo", "region": "FR",
        "country": "FR", "acquisitionChannel": "direct", "firstSeenAt": "2026-01-05T10:00:00Z",
        "traits": { "cohort": "solo" } });
    let order = json!({ "externalId": "SOLO-O1", "customerExternalId": "SOLO1", "channel": "ONLINE",
        "orderedAt": "2026-01-06T10:00:00Z", "currency": "USD", "amountMinor": 123_457,
        "lines": [{ "productExternalId": "P018", "quantity": 1, "unitAmountMinor": 123_457 }] });
    ingest(app, "customers", &[customer]).await;
    ingest(app, "orders", &[order]).await;
    let created = app
        .data(
            "mutation($rule: SegmentRuleInput!) { createSegment(input: { name: \"Solo\", team: MARKETING, rule: $rule }) { id } }",
            json!({ "rule": { "trait": { "field": "traits.cohort", "operator": "EQ", "value": "solo" } } }),
        )
        .await;
    let segment = created["createSegment"]["id"].clone();
    app.data(
        "mutation($id: ID!) { refreshSegment(id: $id) { size } }",
        json!({ "id": segment }),
    )
    .await;
    segment
}

fn base64_id(type_name: &str, id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{type_name}:{id}"))
}

const RATE: &str = "count n rate ciLow ciHigh suppressed";
const VALUE: &str = "key customers totalMinor averageMinor suppressed";

async fn customer_insights_are_suppressed_below_the_minimum(app: TestApp) {
    app.import_golden().await;
    let query = format!(
        "query($filter: InsightFilter) {{ insights(filter: $filter) {{
            daily: retention(period: DAY, maxOffset: 2) {{ cohorts {{ cohortStart size suppressed offsets {{ offset retained {{ {RATE} }} }} }} }}
            monthly: retention(period: MONTH, maxOffset: 2) {{ cohorts {{ cohortStart size suppressed offsets {{ offset retained {{ {RATE} }} }} }} }}
            repeatPurchase {{ customersWithOrders customersWithRepeat suppressed rate {{ {RATE} }} }}
            churn {{ customersWithOrders churned suppressed rate {{ {RATE} }} }}
            clv(cohortPeriod: DAY) {{ overall {{ {VALUE} }} byCohort {{ cohortStart value {{ {VALUE} }} }} byRegion {{ {VALUE} }} }}
            rfm {{ summary {{ customers suppressed scoreCounts {{ r {{ score customers }} }} grid {{ r f customers }} }} }}
        }} }}"
    );
    // One row is one customer; DASHBOARD may not list customers at all.
    let rows = "query($filter: InsightFilter) { insights(filter: $filter) { rfm {
        customers(first: 5) { nodes { customerExternalId recencyDays frequency monetaryMinor r f m suppressed } } } } }";
    let (_, rows) = check_as(
        &app,
        &[Role::Analyst],
        "RFM rows",
        rows,
        json!({ "filter": window(FULL) }),
    )
    .await;
    assert_eq!(rows.0.get("rfm"), Some(&(5, 0)), "every row is suppressed");
    let segment = json!({ "filter": { "from": FULL.0, "to": FULL.1, "segment": one_member_segment(&app).await } });
    let scenarios = vec![
        ("customer insights, whole window", json!({ "filter": window(FULL) })),
        ("customer insights, one day", json!({ "filter": window(DAY) })),
        ("customer insights, one account", one_account_one_week(&app).await),
        ("customer insights, one member", segment),
    ];
    let insights = ["daily", "monthly", "repeatPurchase", "churn", "clv", "rfm"];
    let answers = check_each(&app, &query, scenarios, &insights).await;
    let admin = &answers[1];
    assert!(
        admin["insights"]["repeatPurchase"]["customersWithOrders"]
            .as_i64()
            .is_some_and(|n| n > 0),
        "the day has orders: {admin}"
    );
}

async fn survey_insights_are_suppressed_below_the_minimum(app: TestApp) {
    app.import_golden().await;
    let funnel = format!(
        "brand n suppressed awareness {{ {RATE} }} consideration {{ {RATE} }} preference {{ {RATE} }}
         purchaseIntentTop2 {{ {RATE} }} considerationFromAwareness {{ {RATE} }} preferenceFromConsideration {{ {RATE} }}"
    );
    let drivers = "n rSquared medianImportance medianMean suppressed attributes { attribute mean pearsonR shapleyR2 importance quadrant }";
    let query = format!(
        "query($filter: InsightFilter) {{ insights(filter: $filter) {{
            brandFunnel(period: MONTH, compareTo: PREVIOUS_PERIOD) {{
                overall {{ {funnel} }}
                series {{ periodStart funnel {{ {funnel} }} compared {{ awareness {{ previous previousN change suppressed }} }} }}
            }}
            purchaseDrivers {{ overall {{ {drivers} }} byRegion {{ region drivers {{ {drivers} }} }} }}
            productTests {{
                tests {{ testExternalId approval {{ {RATE} }} customerApproved ratingN meanRating suppressed }}
                comparisons {{ testA testB a {{ {RATE} }} b {{ {RATE} }} pooledRate z pValue suppressed }}
            }}
        }} }}"
    );
    // A product test with three votes, beside the fixture's tests of about a hundred.
    let test = json!({ "externalId": "X-SMALL", "productExternalId": "P001", "touchpoint": "KNOB", "variant": "A",
        "panel": "tiny panel", "testedAt": "2026-03-04T10:00:00Z" });
    ingest(&app, "product_tests", &[test]).await;
    let votes: Vec<Value> = (0..3)
        .map(|index| json!({ "externalId": format!("V-SMALL-{index}"), "testExternalId": "X-SMALL", "approved": index > 0, "rating": 4 }))
        .collect();
    ingest(&app, "product_test_votes", &votes).await;
    let scenarios = vec![
        ("survey insights, whole window", json!({ "filter": window(FULL) })),
        ("survey insights, one week", json!({ "filter": window(WEEK) })),
    ];
    check_each(
        &app,
        &query,
        scenarios,
        &["brandFunnel", "purchaseDrivers", "productTests"],
    )
    .await;
}

async fn attribution_revenue_cycle_and_series_are_suppressed_below_the_minimum(app: TestApp) {
    app.import_golden().await;
    let block = format!(
        "sourceTeam leads suppressed wonRevenueSuppressed reached {{ stage leads }} conversions {{ rate {{ {RATE} }} }}
         medianDays {{ transition n medianDays suppressed }} wonCount wonRevenueMinor shareOfWonRevenue"
    );
    let query = format!(
        "query($filter: InsightFilter) {{ insights(filter: $filter) {{
            attribution {{ customers conversions totalValueMinor noTouchValueMinor touchesInWindow suppressed
                models {{ model byTeam {{ key customers suppressed creditMinor conversions }}
                    byCampaign {{ campaignExternalId customers suppressed creditMinor roi spendMinor }} }} }}
            revenueCycle {{ all {{ {block} }} bySourceTeam {{ {block} }} }}
            series(metrics: [REVENUE, ORDERS, AVERAGE_ORDER_VALUE, NEW_CUSTOMERS, LEADS_WON, NPS], period: DAY, compareTo: PREVIOUS_PERIOD) {{
                metric total {{ value n ciLow ciHigh promoters suppressed }}
                points {{ periodStart value n ciLow ciHigh promoters passives detractors suppressed
                          compareTo {{ previous previousN change pValue suppressed }} }}
            }}
        }} }}"
    );
    let filter = json!({ "filter": { "from": "2026-02-01", "to": "2026-03-31" } });
    let scenarios = vec![
        ("attribution, cycle and series, two months", filter.clone()),
        (
            "attribution, cycle and series, one day",
            json!({ "filter": window(DAY) }),
        ),
        (
            "attribution, cycle and series, one account",
            one_account_one_week(&app).await,
        ),
    ];
    let answers = check_each(&app, &query, scenarios, &["attribution", "revenueCycle", "series"]).await;
    assert_eq!(answers[0]["insights"]["attribution"]["suppressed"], false);

    // The cycle's totals follow the won revenue they are made of.
    let totals = "query($filter: InsightFilter) { insights(filter: $filter) { revenueCycle {
        all { sourceTeam wonRevenueSuppressed } bySourceTeam { sourceTeam wonRevenueSuppressed }
        totalWonRevenueMinor marketingShareOfWonRevenue } } }";
    let admin = data_as(&app, Role::Admin, totals, &filter).await;
    let analyst = data_as(&app, Role::Analyst, totals, &filter).await;
    let (admin, analyst) = (&admin["insights"]["revenueCycle"], &analyst["insights"]["revenueCycle"]);
    let marketing = &analyst["bySourceTeam"][0];
    assert_eq!(marketing["sourceTeam"], "MARKETING");
    assert_eq!(marketing["wonRevenueSuppressed"], true, "{analyst}");
    assert_eq!(analyst["marketingShareOfWonRevenue"], Value::Null, "{analyst}");
    assert_eq!(analyst["all"]["wonRevenueSuppressed"], false, "{analyst}");
    assert_eq!(analyst["totalWonRevenueMinor"], admin["totalWonRevenueMinor"]);
    assert!(admin["marketingShareOfWonRevenue"].is_number(), "{admin}");
}

/// The reproducer: a one-member segment's CLV is its member's spend.
async fn a_one_member_segment_does_not_reveal_its_member(app: TestApp) {
    app.import_golden().await;
    let segment = one_member_segment(&app).await;
    let clv = "query($filter: InsightFilter) { insights(filter: $filter) { clv { overall { customers totalMinor averageMinor suppressed } } } }";
    let filter = json!({ "filter": { "from": FULL.0, "to": FULL.1, "segment": segment } });
    let admin = data_as(&app, Role::Admin, clv, &filter).await;
    assert_eq!(
        admin["insights"]["clv"]["overall"],
        json!({ "customers": 1, "totalMinor": 123_457, "averageMinor": 123_457.0, "suppressed": false })
    );
    for role in [Role::Analyst, Role::Dashboard] {
        let viewer = data_as(&app, role, clv, &filter).await;
        assert_eq!(
            viewer["insights"]["clv"]["overall"],
            json!({ "customers": null, "totalMinor": null, "averageMinor": null, "suppressed": true }),
            "{role}"
        );
    }

    // Its size, for the roles that may read segments at all.
    let size =
        "query($id: ID!) { segment(id: $id) { size sizeSuppressed sizeHistory { size joined left suppressed } } }";
    let admin = data_as(&app, Role::Admin, size, &json!({ "id": segment })).await;
    assert_eq!(admin["segment"]["size"], 1);
    assert_eq!(admin["segment"]["sizeSuppressed"], false);
    let analyst = data_as(&app, Role::Analyst, size, &json!({ "id": segment })).await;
    assert_eq!(
        analyst["segment"],
        json!({ "size": null, "sizeSuppressed": true,
                "sizeHistory": [{ "size": null, "joined": null, "left": null, "suppressed": true }] })
    );
}

/// A member named like a formula is exported as text (OWASP's rule: a
/// leading single quote).
async fn segment_exports_escape_formulas(app: TestApp) {
    let formula = "=HYPERLINK(\"http://x\",\"y\")";
    let lines: String = (0..MINIMUM)
        .map(|index| {
            let name = if index == 0 {
                formula.to_owned()
            } else {
                format!("Member {index}")
            };
            let phone = if index == 1 { json!("+49 30 1234") } else { Value::Null };
            let record = json!({ "externalId": format!("F{index:02}"), "email": format!("f{index}@example.com"),
                "name": name, "phone": phone, "region": "DE", "country": "DE", "acquisitionChannel": "direct",
                "firstSeenAt": "2026-01-05T10:00:00Z", "traits": { "list": "formula" },
                "consent": { "email": { "status": "GRANTED", "updatedAt": "2026-01-05T10:00:00Z", "source": "form" } } });
            format!("{record}\n")
        })
        .collect();
    let (status, body) = app.bulk(&app.base_url, "customers", "", lines).await;
    assert_eq!(status, 200, "{body}");
    let created = app
        .data(
            "mutation($rule: SegmentRuleInput!) { createSegment(input: { name: \"Formula\", team: MARKETING, rule: $rule }) { id membersCsvPath(channel: EMAIL) } }",
            json!({ "rule": { "trait": { "field": "traits.list", "operator": "EQ", "value": "formula" } } }),
        )
        .await;
    let segment = &created["createSegment"];
    app.data(
        "mutation($id: ID!) { refreshSegment(id: $id) { size } }",
        json!({ "id": segment["id"] }),
    )
    .await;
    let path = segment["membersCsvPath"].as_str().expect("path");
    let response = app
        .client
        .get(format!("{}{path}", app.base_url))
        .send()
        .await
        .expect("export");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("text");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("a CSV row")).collect();
    assert_eq!(rows.len(), usize::try_from(MINIMUM).unwrap_or(0), "{text}");
    let by_id = |id: &str| rows.iter().find(|row| &row[0] == id).expect("member row").clone();
    assert_eq!(&by_id("F00")[2], format!("'{formula}"), "{text}");
    assert_eq!(&by_id("F01")[3], "'+49 30 1234", "{text}");
    assert_eq!(&by_id("F02")[2], "Member 2", "{text}");
}

/// The attribution models whose every touch in the lookback gets a
/// positive weight (so a bucket's customers are those with a touch in it).
const EVERY_TOUCH: [&str; 4] = ["LINEAR", "TIME_DECAY", "POSITION_BASED", "MARKOV"];

/// Per bucket (`model`, dimension, key), the distinct customers whose
/// orders in `[from, to]` it is credited from, counted from the fixture's
/// NDJSON: every touch for [`EVERY_TOUCH`], the oldest for FIRST_TOUCH,
/// the newest for LAST_TOUCH; NONE holds the customers with an order
/// without a touch (and, for campaigns, a credited touch without one).
/// Also returns the customers with an order.
fn bucket_customers(from: &str, to: &str) -> (BTreeMap<(String, &'static str, String), i64>, usize) {
    use chrono::{DateTime, Duration, NaiveDate, Utc};
    use std::collections::BTreeSet;
    let read = |name: &str| -> Vec<Value> {
        let text = std::fs::read_to_string(crate::helpers::golden_dir().join(name)).expect("fixture");
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).expect("NDJSON"))
            .collect()
    };
    let instant = |value: &Value| -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(value.as_str().expect("a timestamp"))
            .expect("RFC 3339")
            .with_timezone(&Utc)
    };
    let day = |date: &str| {
        NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .expect("date")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
    };
    let (start, end) = (day(from), day(to) + Duration::days(1));
    // Per customer: (when, external id, team, channel, campaign).
    type Touch = (DateTime<Utc>, String, String, String, String);
    let mut touches: BTreeMap<String, Vec<Touch>> = BTreeMap::new();
    for touch in read("touchpoints.ndjson") {
        let text = |name: &str| touch[name].as_str().map(str::to_owned);
        touches
            .entry(text("customerExternalId").expect("customer"))
            .or_default()
            .push((
                instant(&touch["occurredAt"]),
                text("externalId").expect("id"),
                text("team").expect("team"),
                text("channel").expect("channel"),
                text("campaignExternalId").unwrap_or_else(|| "NONE".to_owned()),
            ));
    }
    for list in touches.values_mut() {
        list.sort();
    }
    let mut sets: BTreeMap<(String, &'static str, String), BTreeSet<String>> = BTreeMap::new();
    let mut converting = BTreeSet::new();
    for order in read("orders.ndjson") {
        let at = instant(&order["orderedAt"]);
        if at < start || at >= end {
            continue;
        }
        let customer = order["customerExternalId"].as_str().expect("customer").to_owned();
        converting.insert(customer.clone());
        let lookback: Vec<_> = touches
            .get(&customer)
            .map(|list| {
                list.iter()
                    .filter(|t| t.0 >= at - Duration::days(30) && t.0 < at)
                    .collect()
            })
            .unwrap_or_default();
        let mut add = |model: &str, dimension: &'static str, key: &str| {
            sets.entry((model.to_owned(), dimension, key.to_owned()))
                .or_default()
                .insert(customer.clone());
        };
        if lookback.is_empty() {
            for model in EVERY_TOUCH.iter().chain(&["FIRST_TOUCH", "LAST_TOUCH"]) {
                add(model, "byTeam", "NONE");
                add(model, "byChannel", "NONE");
                if *model != "MARKOV" {
                    add(model, "byCampaign", "NONE");
                }
            }
            continue;
        }
        let credited = [
            ("FIRST_TOUCH", vec![lookback[0]]),
            ("LAST_TOUCH", vec![lookback[lookback.len() - 1]]),
        ]
        .into_iter()
        .chain(EVERY_TOUCH.iter().map(|model| (*model, lookback.clone())));
        for (model, credited) in credited {
            for (_, _, team, channel, campaign) in credited {
                add(model, "byTeam", team);
                add(model, "byChannel", channel);
                if model != "MARKOV" {
                    add(model, "byCampaign", campaign);
                }
            }
        }
    }
    let counts = sets
        .into_iter()
        .map(|(bucket, customers)| (bucket, i64::try_from(customers.len()).unwrap_or(i64::MAX)))
        .collect();
    (counts, converting.len())
}

/// Attribution credit per team, channel and campaign: a bucket credited
/// from fewer than 10 customers is suppressed for DASHBOARD and ANALYST
/// even when the attribution as a whole is shown; ADMIN, SALES and
/// MARKETING see every bucket, with the customers the fixture gives.
async fn each_attribution_bucket_is_suppressed_by_its_own_customers(app: TestApp) {
    app.import_golden().await;
    let bucket = "key customers suppressed creditMinor conversions removalEffect";
    let query = format!(
        "query($filter: InsightFilter) {{ insights(filter: $filter) {{ attribution {{ customers suppressed
            models {{ model byTeam {{ {bucket} }} byChannel {{ {bucket} }}
                byCampaign {{ campaignExternalId customers suppressed creditMinor conversions roi spendMinor }} }} }} }} }}"
    );
    let mut checked = 0;
    let (mut small, mut large) = (0, 0);
    for (from, to) in [("2026-02-01", "2026-03-31"), WEEK] {
        let variables = json!({ "filter": { "from": from, "to": to } });
        let (admin, tally) = check_as(
            &app,
            &[Role::Analyst, Role::Dashboard],
            &format!("attribution {from}..{to}"),
            &query,
            variables.clone(),
        )
        .await;
        let attribution = &admin["insights"]["attribution"];
        let (expected, converting) = bucket_customers(from, to);
        assert_eq!(
            attribution["customers"].as_i64(),
            i64::try_from(converting).ok(),
            "{from}..{to}"
        );
        assert_eq!(
            attribution["suppressed"], false,
            "{from}..{to}: the whole attribution is shown"
        );
        let (suppressed, shown) = tally.0.get("attribution").copied().unwrap_or_default();
        assert!(
            suppressed > 0 && shown > 0,
            "{from}..{to}: {suppressed} buckets suppressed, {shown} shown"
        );
        let dashboard = data_as(&app, Role::Dashboard, &query, &variables).await;
        for (index, model) in attribution["models"].as_array().expect("models").iter().enumerate() {
            let name = model["model"].as_str().expect("model").to_owned();
            for dimension in ["byTeam", "byChannel", "byCampaign"] {
                for (position, bucket) in model[dimension].as_array().expect("buckets").iter().enumerate() {
                    let key = bucket["key"]
                        .as_str()
                        .or(bucket["campaignExternalId"].as_str())
                        .unwrap_or("NONE")
                        .to_owned();
                    let customers = bucket["customers"]
                        .as_i64()
                        .expect("ADMIN sees every bucket's customers");
                    let viewed = &dashboard["insights"]["attribution"]["models"][index][dimension][position];
                    assert_eq!(
                        viewed["suppressed"],
                        customers < MINIMUM,
                        "{name} {dimension} {key}: {viewed}"
                    );
                    if customers < MINIMUM {
                        small += 1;
                        assert_eq!(viewed["creditMinor"], Value::Null, "{name} {dimension} {key}");
                        assert_eq!(viewed["customers"], Value::Null, "{name} {dimension} {key}");
                    } else {
                        large += 1;
                        assert_eq!(viewed["customers"], customers, "{name} {dimension} {key}");
                    }
                    let independent = if name == "MARKOV" && dimension == "byCampaign" {
                        attribution["customers"].as_i64()
                    } else if EVERY_TOUCH.contains(&name.as_str()) || name.ends_with("_TOUCH") {
                        Some(
                            expected
                                .get(&(name.clone(), dimension, key.clone()))
                                .copied()
                                .unwrap_or(0),
                        )
                    } else {
                        continue;
                    };
                    assert_eq!(Some(customers), independent, "{from}..{to} {name} {dimension} {key}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked} buckets checked");
    assert!(small > 0 && large > 0, "{small} small buckets, {large} large");
}
