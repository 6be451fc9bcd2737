//! Behavioural segment rules — `touched`, `purchased`, `responded`,
//! `leadStage` and `sequence` — on the golden data set. Each rule's
//! refreshed membership must equal, customer for customer, the set a plain
//! Rust reference computes from the fixture files themselves (not from the
//! database), using the definitions the schema documents: windows are the
//! last N days up to the end of today, a sequence step is strictly later
//! and at most N × 24 h after the first, a lead "reached" a stage when it
//! has that stage's or a later stage's timestamp or is at or past it now.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, golden_records, on_both_backends};

on_both_backends!(
    every_behavioural_leaf_selects_the_customers_a_reference_selects,
    sequences_select_the_customers_a_reference_selects,
    behavioural_rules_are_checked_with_their_rule_path,
    a_refresh_evaluates_its_rule_once_and_moves_only_the_changed_members
);

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().map(|text| {
        DateTime::parse_from_rfc3339(text)
            .expect("RFC 3339")
            .with_timezone(&Utc)
    })
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// One event of a customer: when, and the record it came from.
#[derive(Clone)]
struct Event {
    customer: String,
    at: DateTime<Utc>,
    record: Value,
}

/// The golden files, read once, with the lookups the references need.
struct Golden {
    customers: BTreeSet<String>,
    touches: Vec<Event>,
    orders: Vec<Event>,
    responses: Vec<Event>,
    leads: Vec<Value>,
    category_of: HashMap<String, String>,
    survey_kind_of: HashMap<String, String>,
    today: NaiveDate,
}

/// The customer and time of each record that names a customer.
fn events(records: Vec<Value>, at: &str) -> Vec<Event> {
    records
        .into_iter()
        .filter_map(|record| {
            let customer = record["customerExternalId"].as_str()?.to_owned();
            let at = time(&record[at])?;
            Some(Event { customer, at, record })
        })
        .collect()
}

impl Golden {
    fn load() -> Self {
        let lookup = |file: &str, field: &str| {
            golden_records(file)
                .into_iter()
                .map(|r| (text(&r["externalId"]).to_owned(), text(&r[field]).to_owned()))
                .collect::<HashMap<_, _>>()
        };
        Golden {
            customers: golden_records("customers.ndjson")
                .iter()
                .map(|c| text(&c["externalId"]).to_owned())
                .collect(),
            touches: events(golden_records("touchpoints.ndjson"), "occurredAt"),
            orders: events(golden_records("orders.ndjson"), "orderedAt"),
            responses: events(golden_records("survey_responses.ndjson"), "respondedAt"),
            leads: golden_records("leads.ndjson"),
            category_of: lookup("products.ndjson", "category"),
            survey_kind_of: lookup("surveys.ndjson", "kind"),
            today: Utc::now().date_naive(),
        }
    }

    /// Whether `at` lies in the last `days` days up to the end of today.
    fn in_window(&self, at: DateTime<Utc>, days: Option<u64>) -> bool {
        let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
        let end = midnight(self.today + Days::new(1));
        at < end && days.is_none_or(|days| at >= midnight(self.today - Days::new(days)))
    }

    /// Customers with `count` events of `events` passing `keep` in the
    /// window, where `count` holds (customers with none included).
    fn counted(
        &self,
        events: &[Event],
        days: Option<u64>,
        keep: impl Fn(&Value) -> bool,
        count: impl Fn(usize) -> bool,
    ) -> BTreeSet<String> {
        let mut per_customer: HashMap<&str, usize> = HashMap::new();
        for event in events.iter().filter(|e| self.in_window(e.at, days) && keep(&e.record)) {
            *per_customer.entry(&event.customer).or_default() += 1;
        }
        self.customers
            .iter()
            .filter(|c| count(per_customer.get(c.as_str()).copied().unwrap_or(0)))
            .cloned()
            .collect()
    }

    /// The lines of an order that are of `product` or of a product of `category` (all lines when neither).
    fn matching_lines<'a>(&self, order: &'a Value, product: Option<&str>, category: Option<&str>) -> Vec<&'a Value> {
        order["lines"]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .filter(|line| {
                        let id = text(&line["productExternalId"]);
                        product.is_none_or(|p| p == id)
                            && category.is_none_or(|c| self.category_of.get(id).is_some_and(|k| k == c))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn survey_kind(&self, response: &Value) -> &str {
        self.survey_kind_of
            .get(text(&response["surveyExternalId"]))
            .map_or("", String::as_str)
    }

    /// When a lead reached `stage` (the first stage timestamp at or past it,
    /// or creation), if it did.
    fn reached(lead: &Value, stage: &str) -> Option<DateTime<Utc>> {
        const ORDER: [&str; 5] = ["LEAD", "MQL", "SQL", "OPPORTUNITY", "WON"];
        let current = text(&lead["stage"]);
        match stage {
            "WON" | "LOST" => return (current == stage).then(|| time(&lead["closedAt"])).flatten(),
            "LEAD" => return time(&lead["createdAt"]),
            _ => {}
        }
        let rank = |s: &str| ORDER.iter().position(|o| *o == s);
        let at_or_past = rank(current).zip(rank(stage)).is_some_and(|(c, s)| c >= s);
        let stamps: Vec<Option<DateTime<Utc>>> = [("MQL", "mqlAt"), ("SQL", "sqlAt"), ("OPPORTUNITY", "opportunityAt")]
            .iter()
            .filter(|(s, _)| rank(s) >= rank(stage))
            .map(|(_, field)| time(&lead[*field]))
            .collect();
        if !at_or_past && stamps.iter().all(Option::is_none) {
            return None;
        }
        stamps.into_iter().flatten().next().or_else(|| time(&lead["createdAt"]))
    }
}

/// Creates a segment with `rule`, refreshes it and reads every member's external id.
async fn members(app: &TestApp, name: &str, rule: &Value) -> BTreeSet<String> {
    let created = app
        .data(
            "mutation($name: String!, $rule: SegmentRuleInput!) { createSegment(input: { name: $name, team: MARKETING, rule: $rule }) { id } }",
            json!({ "name": name, "rule": rule }),
        )
        .await;
    let id = created["createSegment"]["id"].as_str().expect("segment id").to_owned();
    let refreshed = app
        .data(
            "mutation($id: ID!) { refreshSegment(id: $id) { size } }",
            json!({ "id": id }),
        )
        .await;
    let preview = app
        .data(
            "mutation($rule: SegmentRuleInput!) { previewSegment(rule: $rule) { size } }",
            json!({ "rule": rule }),
        )
        .await;
    let found = members_of(app, &json!(id)).await;
    let size = refreshed["refreshSegment"]["size"].as_u64().expect("size");
    assert_eq!(
        usize::try_from(size).ok(),
        Some(found.len()),
        "{name}: refreshed size against members"
    );
    assert_eq!(
        preview["previewSegment"]["size"].as_u64(),
        Some(size),
        "{name}: preview against refresh"
    );
    found
}

/// Asserts the rule's members are the reference's, naming what differs.
async fn assert_members(app: &TestApp, name: &str, rule: Value, expected: &BTreeSet<String>) {
    assert!(
        !expected.is_empty(),
        "{name}: the reference selects nobody, so the case proves little"
    );
    let found = members(app, name, &rule).await;
    let missing: Vec<_> = expected.difference(&found).take(5).collect();
    let extra: Vec<_> = found.difference(expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: {} members, reference {}; missing {missing:?}, extra {extra:?}",
        found.len(),
        expected.len()
    );
}

/// Global ids by external id, of a root list (`products`, `campaigns`).
async fn ids(app: &TestApp, list: &str) -> HashMap<String, String> {
    let data = app
        .data(
            &format!("{{ {list}(first: 500) {{ nodes {{ id externalId }} }} }}"),
            json!({}),
        )
        .await;
    data[list]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (text(&n["externalId"]).to_owned(), text(&n["id"]).to_owned()))
        .collect()
}

async fn every_behavioural_leaf_selects_the_customers_a_reference_selects(app: TestApp) {
    app.import_golden().await;
    let golden = Golden::load();
    let campaigns = ids(&app, "campaigns").await;
    let products = ids(&app, "products").await;
    let is = |field: &'static str, want: &'static str| move |r: &Value| text(&r[field]) == want;

    assert_members(
        &app,
        "touched by marketing",
        json!({ "touched": { "team": "MARKETING" } }),
        &golden.counted(&golden.touches, None, is("team", "MARKETING"), |n| n >= 1),
    )
    .await;
    assert_members(
        &app,
        "three social clicks in 600 days",
        json!({ "touched": { "kind": "CLICK", "channel": "social", "count": { "operator": "GTE", "value": 3 }, "windowDays": 600 } }),
        &golden.counted(
            &golden.touches,
            Some(600),
            |r| text(&r["kind"]) == "CLICK" && text(&r["channel"]) == "social",
            |n| n >= 3,
        ),
    )
    .await;
    assert_members(
        &app,
        "touched by campaign M009",
        json!({ "touched": { "campaign": campaigns["M009"] } }),
        &golden.counted(&golden.touches, None, is("campaignExternalId", "M009"), |n| n >= 1),
    )
    .await;

    let orders_with = |product: Option<&'static str>, category: Option<&'static str>| {
        let golden = &golden;
        move |order: &Value| !golden.matching_lines(order, product, category).is_empty()
    };
    assert_members(
        &app,
        "two cordless vacuum orders",
        json!({ "purchased": { "category": "cordless_vacuum", "count": { "operator": "GTE", "value": 2 } } }),
        &golden.counted(&golden.orders, None, orders_with(None, Some("cordless_vacuum")), |n| {
            n >= 2
        }),
    )
    .await;
    assert_members(
        &app,
        "fewer than two orders in 400 days (none included)",
        json!({ "purchased": { "count": { "operator": "LT", "value": 2 }, "windowDays": 400 } }),
        &golden.counted(&golden.orders, Some(400), |_| true, |n| n < 2),
    )
    .await;
    let mut spent: HashMap<&str, i64> = HashMap::new();
    for order in golden.orders.iter().filter(|o| golden.in_window(o.at, Some(600))) {
        for line in golden.matching_lines(&order.record, Some("P002"), None) {
            *spent.entry(&order.customer).or_default() +=
                line["quantity"].as_i64().unwrap_or(0) * line["unitAmountMinor"].as_i64().unwrap_or(0);
        }
    }
    let big_p002: BTreeSet<String> = spent
        .into_iter()
        .filter(|(_, amount)| *amount > 1_000_000)
        .map(|(customer, _)| customer.to_owned())
        .collect();
    assert_members(
        &app,
        "over 10,000.00 of P002 in 600 days",
        json!({ "purchased": { "product": products["P002"], "amountMinor": { "operator": "GT", "value": 1_000_000 }, "windowDays": 600 } }),
        &big_p002,
    )
    .await;

    let nps_between =
        |min: i64, max: i64| move |r: &Value| r["npsScore"].as_i64().is_some_and(|s| (min..=max).contains(&s));
    assert_members(
        &app,
        "NPS promoters",
        json!({ "responded": { "surveyKind": "NPS", "npsCategory": "PROMOTER" } }),
        &golden.counted(
            &golden.responses,
            None,
            |r| golden.survey_kind(r) == "NPS" && nps_between(9, 10)(r),
            |n| n >= 1,
        ),
    )
    .await;
    assert_members(
        &app,
        "scored 0 to 3 in 600 days",
        json!({ "responded": { "npsScore": { "min": 0, "max": 3 }, "windowDays": 600 } }),
        &golden.counted(&golden.responses, Some(600), nps_between(0, 3), |n| n >= 1),
    )
    .await;
    assert_members(
        &app,
        "answered two surveys",
        json!({ "responded": { "count": { "operator": "GTE", "value": 2 } } }),
        &golden.counted(&golden.responses, None, |_| true, |n| n >= 2),
    )
    .await;

    let leads_reaching = |stage: &str, team: Option<&str>, days: Option<u64>| -> BTreeSet<String> {
        golden
            .leads
            .iter()
            .filter(|lead| team.is_none_or(|t| text(&lead["sourceTeam"]) == t))
            .filter(|lead| Golden::reached(lead, stage).is_some_and(|at| golden.in_window(at, days)))
            .filter_map(|lead| lead["customerExternalId"].as_str().map(str::to_owned))
            .filter(|c| golden.customers.contains(c))
            .collect()
    };
    for (name, rule, stage, team, days) in [
        (
            "marketing leads that reached SQL",
            json!({ "stage": "SQL", "sourceTeam": "MARKETING" }),
            "SQL",
            Some("MARKETING"),
            None,
        ),
        (
            "leads won in 600 days",
            json!({ "stage": "WON", "windowDays": 600 }),
            "WON",
            None,
            Some(600),
        ),
        ("leads that reached MQL", json!({ "stage": "MQL" }), "MQL", None, None),
        (
            "leads created in 500 days",
            json!({ "stage": "LEAD", "windowDays": 500 }),
            "LEAD",
            None,
            Some(500),
        ),
    ] {
        assert_members(
            &app,
            name,
            json!({ "leadStage": rule }),
            &leads_reaching(stage, team, days),
        )
        .await;
    }

    // Three leaves in one rule: the set algebra of the references.
    let marketing = golden.counted(&golden.touches, Some(600), is("team", "MARKETING"), |n| n >= 1);
    let bought = golden.counted(&golden.orders, Some(600), |_| true, |n| n >= 1);
    let answered = golden.counted(&golden.responses, None, |_| true, |n| n >= 1);
    let expected: BTreeSet<String> = marketing
        .iter()
        .filter(|c| !bought.contains(*c) && answered.contains(*c))
        .cloned()
        .collect();
    assert_members(
        &app,
        "marketing touch, no order, an answer",
        json!({ "all": [
            { "touched": { "team": "MARKETING", "windowDays": 600 } },
            { "not": { "purchased": { "windowDays": 600 } } },
            { "responded": {} }
        ] }),
        &expected,
    )
    .await;
}

/// Customers with an `a` event that is (`followed`) or is not followed by
/// a `b` event strictly later and at most `within_days` days after it.
fn sequence(
    a: &[Event],
    keep_a: impl Fn(&Value) -> bool,
    b: &[Event],
    keep_b: impl Fn(&Value) -> bool,
    within_days: i64,
    followed: bool,
) -> BTreeSet<String> {
    let mut b_times: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for event in b.iter().filter(|e| keep_b(&e.record)) {
        b_times.entry(&event.customer).or_default().push(event.at);
    }
    a.iter()
        .filter(|e| keep_a(&e.record))
        .filter(|e| {
            let has_next = b_times.get(e.customer.as_str()).is_some_and(|times| {
                times
                    .iter()
                    .any(|t| *t > e.at && (*t - e.at).num_seconds() <= within_days * 86_400)
            });
            has_next == followed
        })
        .map(|e| e.customer.clone())
        .collect()
}

async fn sequences_select_the_customers_a_reference_selects(app: TestApp) {
    app.import_golden().await;
    let golden = Golden::load();
    let cordless = |order: &Value| !golden.matching_lines(order, None, Some("cordless_vacuum")).is_empty();
    let marketing = |touch: &Value| text(&touch["team"]) == "MARKETING";
    let followed = sequence(&golden.touches, marketing, &golden.orders, cordless, 30, true);
    assert_members(
        &app,
        "marketing touch then a cordless vacuum within 30 days",
        json!({ "sequence": {
            "first": { "touched": { "team": "MARKETING" } },
            "then": { "purchased": { "category": "cordless_vacuum" } },
            "withinDays": 30
        } }),
        &followed,
    )
    .await;
    let click = |touch: &Value| text(&touch["kind"]) == "CLICK";
    assert_members(
        &app,
        "a click with no order in the 14 days after",
        json!({ "sequence": {
            "first": { "touched": { "kind": "CLICK" } },
            "then": { "purchased": {} },
            "withinDays": 14,
            "mode": "NOT_FOLLOWED"
        } }),
        &sequence(&golden.touches, click, &golden.orders, |_| true, 14, false),
    )
    .await;
    let detractor = |r: &Value| r["npsScore"].as_i64().is_some_and(|s| s <= 6);
    let service = |touch: &Value| text(&touch["team"]) == "SERVICE";
    assert_members(
        &app,
        "a detractor answer then a service touch within 7 days",
        json!({ "sequence": {
            "first": { "responded": { "npsCategory": "DETRACTOR" } },
            "then": { "touched": { "team": "SERVICE" } },
            "withinDays": 7
        } }),
        &sequence(&golden.responses, detractor, &golden.touches, service, 7, true),
    )
    .await;
}

async fn behavioural_rules_are_checked_with_their_rule_path(app: TestApp) {
    app.import_golden().await;
    let missing_campaign = crate::segments::encode("Campaign", 999_999);
    let missing_product = crate::segments::encode("Product", 999_999);
    let click = json!({ "touched": { "kind": "CLICK" } });
    let cases = [
        (
            json!({ "all": [click, { "touched": { "campaign": missing_campaign } }] }),
            "rule.all[1].touched.campaign",
            "no campaign",
        ),
        (
            json!({ "purchased": { "product": missing_product } }),
            "rule.purchased.product",
            "no product",
        ),
        (
            json!({ "purchased": { "category": "vacuum" } }),
            "rule.purchased.category",
            "no product category",
        ),
        (
            json!({ "touched": { "windowDays": 0 } }),
            "rule.touched.windowDays",
            "outside 1..=3650",
        ),
        (
            json!({ "responded": { "npsScore": { "min": 8, "max": 11 } } }),
            "rule.responded.npsScore",
            "0..=10",
        ),
        (
            json!({ "sequence": { "first": click, "then": { "sequence": { "first": click, "then": click, "withinDays": 3 } }, "withinDays": 3 } }),
            "rule.sequence.then.sequence",
            "cannot hold another sequence",
        ),
        (
            json!({ "sequence": { "first": { "touched": { "count": { "operator": "GTE", "value": 2 } } }, "then": click, "withinDays": 3 } }),
            "rule.sequence.first.touched.count",
            "single events",
        ),
        (
            json!({ "sequence": { "first": click, "then": { "leadStage": { "stage": "WON" } }, "withinDays": 3 } }),
            "rule.sequence.then",
            "touched, purchased or responded",
        ),
    ];
    for (rule, field, hint) in cases {
        let (status, body) = app
            .post(
                "mutation($rule: SegmentRuleInput!) { previewSegment(rule: $rule) { size } }",
                json!({ "rule": rule }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{rule}: {body}");
        assert_eq!(error["extensions"]["field"], field, "{rule}: {body}");
        assert!(
            error["message"].as_str().is_some_and(|m| m.contains(hint)),
            "{rule}: {body}"
        );
    }
}

/// Customers with at least `n` MARKETING touches, by the reference.
fn marketing_touched(golden: &Golden, n: usize) -> BTreeSet<String> {
    golden.counted(
        &golden.touches,
        None,
        |t: &Value| text(&t["team"]) == "MARKETING",
        move |count| count >= n,
    )
}

async fn a_refresh_evaluates_its_rule_once_and_moves_only_the_changed_members(app: TestApp) {
    app.import_golden().await;
    let golden = Golden::load();
    let rule = |n: usize| json!({ "touched": { "team": "MARKETING", "count": { "operator": "GTE", "value": n } } });
    let (twice, thrice, once) = (
        marketing_touched(&golden, 2),
        marketing_touched(&golden, 3),
        marketing_touched(&golden, 1),
    );
    assert!(
        thrice.len() < twice.len() && twice.len() < once.len() && !thrice.is_empty(),
        "the golden data should tell the three rules apart"
    );
    let created = app
        .data(
            "mutation($rule: SegmentRuleInput!) { createSegment(input: { name: \"marketing regulars\", team: MARKETING, rule: $rule }) { id } }",
            json!({ "rule": rule(2) }),
        )
        .await;
    let id = created["createSegment"]["id"].clone();
    let refresh = |expected: (usize, usize, usize)| {
        let app = &app;
        let id = id.clone();
        async move {
            app.take_statements();
            let refreshed = app
                .data(
                    "mutation($id: ID!) { refreshSegment(id: $id) { size joined left } }",
                    json!({ "id": id }),
                )
                .await;
            let statements = app.take_statements();
            // The rule reads touchpoints; one statement evaluates it, and
            // joining and leaving are diffs against its result.
            let evaluations = statements.iter().filter(|sql| sql.contains("FROM touchpoint")).count();
            assert_eq!(evaluations, 1, "{statements:#?}");
            let r = &refreshed["refreshSegment"];
            let as_usize = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
            assert_eq!(
                (as_usize(&r["size"]), as_usize(&r["joined"]), as_usize(&r["left"])),
                (Some(expected.0), Some(expected.1), Some(expected.2)),
                "size, joined, left"
            );
        }
    };
    refresh((twice.len(), twice.len(), 0)).await;
    refresh((twice.len(), 0, 0)).await;
    let update =
        "mutation($id: ID!, $rule: SegmentRuleInput!) { updateSegment(id: $id, input: { rule: $rule }) { id } }";
    app.data(update, json!({ "id": id, "rule": rule(3) })).await;
    refresh((thrice.len(), 0, twice.len() - thrice.len())).await;
    app.data(update, json!({ "id": id, "rule": rule(1) })).await;
    refresh((once.len(), once.len() - thrice.len(), 0)).await;
    assert_eq!(members_of(&app, &id).await, once);
}

/// The stored members of a segment, by external id.
async fn members_of(app: &TestApp, id: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .data(
                "query($id: ID!, $after: String) { segment(id: $id) { members(first: 500, after: $after) { nodes { externalId } pageInfo { hasNextPage endCursor } } } }",
                json!({ "id": id, "after": after }),
            )
            .await;
        let members = &page["segment"]["members"];
        for node in members["nodes"].as_array().expect("nodes") {
            found.insert(text(&node["externalId"]).to_owned());
        }
        if members["pageInfo"]["hasNextPage"] != json!(true) {
            return found;
        }
        after = members["pageInfo"]["endCursor"].clone();
    }
}
