//! `compareTo` on the whole-window insights (issue 13, item 2): each
//! `compared` value is the same insight queried over the compared window
//! in a second request, with the test its kind needs, and no p-value
//! from a sample too small for one.

use accord::auth::keys;
use entity::enums::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    whole_window_insights_compare_with_the_previous_period,
    whole_window_insights_compare_with_the_previous_year,
    comparisons_with_an_empty_window_have_no_p_value,
    comparisons_are_suppressed_with_their_populations
);

/// Nine months of the golden data; the previous period is the nine months before.
const WINDOW: (&str, &str) = ("2025-10-01", "2026-06-30");
const PREVIOUS_PERIOD: (&str, &str) = ("2025-01-01", "2025-09-30");
const PREVIOUS_YEAR: (&str, &str) = ("2024-10-01", "2025-06-30");

const DELTA: &str = "previousPeriodStart previous previousN change relativeChange pValue method z suppressed";

const TWO_PROPORTION_Z: &str = "TWO_PROPORTION_Z";
const WELCH_T: &str = "WELCH_T";
const NONE_TOO_FEW: &str = "NONE: fewer than 10 on one side";
const NONE_MONEY_SUM: &str = "NONE: no test for a sum of money";

/// Every whole-window insight with `compareTo: $compare`; without a
/// `$compare` the same query reads the plain values.
fn query() -> String {
    format!(
        r#"query($filter: InsightFilter, $compare: CompareTo) {{ insights(filter: $filter) {{
            repeatPurchase(compareTo: $compare) {{ rate {{ count n rate }} compared {{ {DELTA} }} definition {{ parameters {{ name value }} }} }}
            churn(compareTo: $compare) {{ rate {{ count n rate }} compared {{ {DELTA} }} definition {{ parameters {{ name value }} }} }}
            clv(compareTo: $compare) {{
                overall {{ customers totalMinor averageMinor compared {{ averageMinor {{ {DELTA} }} totalMinor {{ {DELTA} }} }} }}
                byRegion {{ key customers totalMinor averageMinor compared {{ averageMinor {{ {DELTA} }} totalMinor {{ {DELTA} }} }} }}
                byCohort {{ value {{ compared {{ averageMinor {{ method }} }} }} }}
                definition {{ parameters {{ name value }} }}
            }}
            revenueCycle(compareTo: $compare) {{
                all {{ sourceTeam wonCount winRate {{ n rate }} wonRevenueMinor compared {{ winRate {{ {DELTA} }} wonRevenueMinor {{ {DELTA} }} }} }}
                bySourceTeam {{ sourceTeam wonCount winRate {{ n rate }} wonRevenueMinor compared {{ winRate {{ {DELTA} }} wonRevenueMinor {{ {DELTA} }} }} }}
                definition {{ parameters {{ name value }} }}
            }}
            shareOfVoice(compareTo: $compare) {{
                overall {{ brand channel mentions totalMentions share compared {{ {DELTA} }} }}
                byChannel {{ brand channel mentions totalMentions share compared {{ {DELTA} }} }}
                byMonth {{ compared {{ method }} }}
                definition {{ parameters {{ name value }} }}
            }}
            productTests(compareTo: $compare) {{
                tests {{ testExternalId productExternalId touchpoint approval {{ count n rate }} compared {{ {DELTA} }} }}
                definition {{ parameters {{ name value }} }}
            }}
        }} }}"#
    )
}

fn filter((from, to): (&str, &str)) -> Value {
    json!({ "from": from, "to": to })
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

fn list<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    path.iter()
        .fold(value, |value, key| &value[*key])
        .as_array()
        .map_or(&[], Vec::as_slice)
}

/// The current insights with `compare`, and the plain insights over `compared`.
async fn both(app: &TestApp, compare: &str, compared: (&str, &str)) -> (Value, Value) {
    let query = query();
    let now = app
        .data(&query, json!({ "filter": filter(WINDOW), "compare": compare }))
        .await;
    let then = app.data(&query, json!({ "filter": filter(compared) })).await;
    (now["insights"].clone(), then["insights"].clone())
}

/// Checks one delta: `previous` is the value of the compared request,
/// `change` = value − previous, and the test is `method` (a p-value in
/// [0, 1], or none for a NONE: method).
fn assert_delta(what: &str, delta: &Value, value: &Value, previous: &Value, method: &str, start: &str) {
    assert_eq!(delta["previousPeriodStart"], start, "{what}: {delta}");
    assert_eq!(delta["suppressed"], false, "{what}: {delta}");
    assert!(
        (number(&delta["previous"]) - number(previous)).abs() <= 1e-9 * number(previous).abs().max(1.0),
        "{what}: previous {} is not the compared window's {previous}",
        delta["previous"]
    );
    let change = number(value) - number(previous);
    assert!(
        (number(&delta["change"]) - change).abs() <= 1e-9 * change.abs().max(1.0),
        "{what}: change {} is not {value} − {previous}",
        delta["change"]
    );
    assert_eq!(delta["method"], method, "{what}: {delta}");
    if method.starts_with("NONE:") {
        assert!(delta["pValue"].is_null(), "{what}: {delta}");
    } else {
        let p = number(&delta["pValue"]);
        assert!((0.0..=1.0).contains(&p), "{what}: p-value {p}");
    }
}

/// The definition names the comparison and the compared window's days.
fn assert_described(what: &str, definition: &Value, compare: &str, (from, to): (&str, &str)) {
    let parameters = list(definition, &["parameters"]);
    let value = |name: &str| {
        parameters
            .iter()
            .find(|parameter| parameter["name"] == name)
            .map(|parameter| parameter["value"].clone())
    };
    assert_eq!(value("compareTo"), Some(json!(compare)), "{what}: {definition}");
    assert_eq!(value("comparedFrom"), Some(json!(from)), "{what}: {definition}");
    assert_eq!(value("comparedTo"), Some(json!(to)), "{what}: {definition}");
}

async fn whole_window_insights_compare_with_the_previous_period(app: TestApp) {
    app.import_golden().await;
    let (now, then) = both(&app, "PREVIOUS_PERIOD", PREVIOUS_PERIOD).await;
    let start = PREVIOUS_PERIOD.0;

    for field in ["repeatPurchase", "churn"] {
        let (current, earlier) = (&now[field], &then[field]);
        assert!(earlier["compared"].is_null(), "no comparison without compareTo");
        let delta = &current["compared"];
        assert_delta(
            field,
            delta,
            &current["rate"]["rate"],
            &earlier["rate"]["rate"],
            TWO_PROPORTION_Z,
            start,
        );
        assert_eq!(delta["previousN"], earlier["rate"]["n"], "{field}");
        assert!(delta["z"].is_number(), "{field}: {delta}");
        assert_described(field, &current["definition"], "PREVIOUS_PERIOD", PREVIOUS_PERIOD);
    }

    // CLV: the average per customer with Welch's t-test, the total with none.
    let (current, earlier) = (&now["clv"]["overall"], &then["clv"]["overall"]);
    let compared = &current["compared"];
    assert_delta(
        "clv average",
        &compared["averageMinor"],
        &current["averageMinor"],
        &earlier["averageMinor"],
        WELCH_T,
        start,
    );
    assert_delta(
        "clv total",
        &compared["totalMinor"],
        &current["totalMinor"],
        &earlier["totalMinor"],
        NONE_MONEY_SUM,
        start,
    );
    assert_eq!(compared["averageMinor"]["previousN"], earlier["customers"]);
    let regions = list(&now, &["clv", "byRegion"]);
    assert!(regions.len() > 1);
    for region in regions {
        let earlier = list(&then, &["clv", "byRegion"])
            .iter()
            .find(|earlier| earlier["key"] == region["key"])
            .expect("the region has customers in both windows");
        let what = format!("clv {}", region["key"]);
        assert_delta(
            &what,
            &region["compared"]["averageMinor"],
            &region["averageMinor"],
            &earlier["averageMinor"],
            WELCH_T,
            start,
        );
    }
    assert!(
        list(&now, &["clv", "byCohort"])
            .iter()
            .all(|cohort| cohort["value"]["compared"].is_null()),
        "cohorts are not compared"
    );
    assert_described("clv", &now["clv"]["definition"], "PREVIOUS_PERIOD", PREVIOUS_PERIOD);

    // Revenue cycle: per team and overall, the win rate and won revenue.
    let blocks = |insights: &Value| {
        let mut blocks = list(insights, &["revenueCycle", "bySourceTeam"]).to_vec();
        blocks.push(insights["revenueCycle"]["all"].clone());
        blocks
    };
    let mut tested = 0;
    for (current, earlier) in blocks(&now).iter().zip(blocks(&then).iter()) {
        assert_eq!(current["sourceTeam"], earlier["sourceTeam"]);
        let what = format!("revenueCycle {}", current["sourceTeam"]);
        let compared = &current["compared"];
        let method = if current["winRate"]["n"].as_i64() >= Some(10) && earlier["winRate"]["n"].as_i64() >= Some(10) {
            tested += 1;
            TWO_PROPORTION_Z
        } else {
            NONE_TOO_FEW
        };
        assert_delta(
            &what,
            &compared["winRate"],
            &current["winRate"]["rate"],
            &earlier["winRate"]["rate"],
            method,
            start,
        );
        assert_eq!(compared["winRate"]["previousN"], earlier["winRate"]["n"], "{what}");
        assert_delta(
            &what,
            &compared["wonRevenueMinor"],
            &current["wonRevenueMinor"],
            &earlier["wonRevenueMinor"],
            NONE_MONEY_SUM,
            start,
        );
        assert_eq!(compared["wonRevenueMinor"]["previousN"], earlier["wonCount"], "{what}");
    }
    assert!(tested > 0, "some win rates are tested");
    assert_described(
        "revenueCycle",
        &now["revenueCycle"]["definition"],
        "PREVIOUS_PERIOD",
        PREVIOUS_PERIOD,
    );

    // Share of voice: each brand's share, overall and per channel.
    for grouping in ["overall", "byChannel"] {
        let shares = list(&now, &["shareOfVoice", grouping]);
        assert!(!shares.is_empty());
        for share in shares {
            let earlier = list(&then, &["shareOfVoice", grouping])
                .iter()
                .find(|earlier| earlier["brand"] == share["brand"] && earlier["channel"] == share["channel"])
                .expect("every brand was mentioned in both windows");
            let what = format!("shareOfVoice {grouping} {} {}", share["brand"], share["channel"]);
            assert_delta(
                &what,
                &share["compared"],
                &share["share"],
                &earlier["share"],
                TWO_PROPORTION_Z,
                start,
            );
            assert_eq!(share["compared"]["previousN"], earlier["totalMentions"], "{what}");
        }
    }
    assert!(
        list(&now, &["shareOfVoice", "byMonth"])
            .iter()
            .all(|month| month["compared"].is_null())
    );
    assert_described(
        "shareOfVoice",
        &now["shareOfVoice"]["definition"],
        "PREVIOUS_PERIOD",
        PREVIOUS_PERIOD,
    );

    // Product tests: against the compared window's tests of the same product
    // and touchpoint. X04 (P001 BUTTON B) follows X03 (A), X09 (P012
    // IMAGERY A) follows X10 (B); P001's HANDLE was not tested before.
    let test = |insights: &Value, id: &str| {
        list(insights, &["productTests", "tests"])
            .iter()
            .find(|test| test["testExternalId"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    for (id, earlier_id) in [("X04", "X03"), ("X09", "X10")] {
        let (current, earlier) = (test(&now, id), test(&then, earlier_id));
        assert!(earlier.is_object(), "{earlier_id} is in the compared window");
        let what = format!("productTests {id}");
        assert_delta(
            &what,
            &current["compared"],
            &current["approval"]["rate"],
            &earlier["approval"]["rate"],
            TWO_PROPORTION_Z,
            start,
        );
        assert_eq!(current["compared"]["previousN"], earlier["approval"]["n"], "{what}");
    }
    for id in ["X01", "X02"] {
        let delta = &test(&now, id)["compared"];
        assert_eq!(delta["previousN"], 0, "{id}: {delta}");
        assert!(
            delta["previous"].is_null() && delta["pValue"].is_null(),
            "{id}: {delta}"
        );
        assert_eq!(delta["method"], NONE_TOO_FEW, "{id}: {delta}");
    }
    assert_described(
        "productTests",
        &now["productTests"]["definition"],
        "PREVIOUS_PERIOD",
        PREVIOUS_PERIOD,
    );
}

async fn whole_window_insights_compare_with_the_previous_year(app: TestApp) {
    app.import_golden().await;
    let (now, then) = both(&app, "PREVIOUS_YEAR", PREVIOUS_YEAR).await;
    let start = PREVIOUS_YEAR.0;
    for field in ["repeatPurchase", "churn"] {
        let (current, earlier) = (&now[field], &then[field]);
        assert_delta(
            field,
            &current["compared"],
            &current["rate"]["rate"],
            &earlier["rate"]["rate"],
            TWO_PROPORTION_Z,
            start,
        );
        assert_described(field, &current["definition"], "PREVIOUS_YEAR", PREVIOUS_YEAR);
    }
    let (current, earlier) = (&now["clv"]["overall"], &then["clv"]["overall"]);
    assert_delta(
        "clv",
        &current["compared"]["averageMinor"],
        &current["averageMinor"],
        &earlier["averageMinor"],
        WELCH_T,
        start,
    );
    let (current, earlier) = (&now["revenueCycle"]["all"], &then["revenueCycle"]["all"]);
    assert_delta(
        "revenueCycle",
        &current["compared"]["wonRevenueMinor"],
        &current["wonRevenueMinor"],
        &earlier["wonRevenueMinor"],
        NONE_MONEY_SUM,
        start,
    );
}

/// Before the golden data starts there is nothing to compare with: no
/// previous value, and no p-value from an empty sample.
async fn comparisons_with_an_empty_window_have_no_p_value(app: TestApp) {
    app.import_golden().await;
    let first_quarter = ("2025-01-01", "2025-03-31");
    let data = app
        .data(
            &query(),
            json!({ "filter": filter(first_quarter), "compare": "PREVIOUS_PERIOD" }),
        )
        .await;
    let insights = &data["insights"];
    let mut deltas = vec![
        insights["repeatPurchase"]["compared"].clone(),
        insights["churn"]["compared"].clone(),
        insights["clv"]["overall"]["compared"]["averageMinor"].clone(),
        insights["revenueCycle"]["all"]["compared"]["winRate"].clone(),
    ];
    deltas.extend(
        list(insights, &["shareOfVoice", "overall"])
            .iter()
            .map(|share| share["compared"].clone()),
    );
    deltas.extend(
        list(insights, &["productTests", "tests"])
            .iter()
            .map(|test| test["compared"].clone()),
    );
    assert!(deltas.len() > 6, "{insights}");
    for delta in &deltas {
        assert_eq!(delta["previousPeriodStart"], "2024-10-03", "{delta}");
        assert_eq!(delta["previousN"], 0, "{delta}");
        assert!(delta["previous"].is_null() && delta["change"].is_null(), "{delta}");
        assert!(delta["pValue"].is_null() && delta["z"].is_null(), "{delta}");
        assert_eq!(delta["method"], NONE_TOO_FEW, "{delta}");
    }
    // A total of nothing is 0, and a sum of money is never tested.
    let total = &insights["clv"]["overall"]["compared"]["totalMinor"];
    assert_eq!(total["previous"], 0.0, "{total}");
    assert_eq!(total["method"], NONE_MONEY_SUM, "{total}");
}

/// A comparison is withheld, like NPS's, when either window's population
/// is below the minimum audience size for the viewer; ADMIN sees it.
async fn comparisons_are_suppressed_with_their_populations(app: TestApp) {
    app.import_golden().await;
    let key = keys::create(&app.db, Role::Dashboard, "window comparisons")
        .await
        .expect("key created")
        .secret;
    // One day in the UK: 2 customers ordered, 3 the day before. One week:
    // the leads of 7 customers, 12 the week before.
    let cases = [
        (
            format!("repeatPurchase(compareTo: PREVIOUS_PERIOD) {{ compared {{ {DELTA} }} }}"),
            json!({ "from": "2026-03-04", "to": "2026-03-04", "region": "UK" }),
            &["repeatPurchase", "compared"][..],
        ),
        (
            format!("revenueCycle(compareTo: PREVIOUS_PERIOD) {{ all {{ compared {{ winRate {{ {DELTA} }} }} }} }}"),
            json!({ "from": "2026-03-02", "to": "2026-03-08" }),
            &["revenueCycle", "all", "compared", "winRate"][..],
        ),
    ];
    for (field, filter, path) in cases {
        let query = format!("query($filter: InsightFilter) {{ insights(filter: $filter) {{ {field} }} }}");
        let variables = json!({ "filter": filter });
        let (status, body) = app.post_as(&key, &query, variables.clone()).await;
        assert_eq!(status, 200, "{body}");
        let admin = app.data(&query, variables).await;
        let delta = |data: &Value| path.iter().fold(&data["insights"], |value, key| &value[*key]).clone();
        let (viewer, admin) = (delta(&body["data"]), delta(&admin));
        assert_eq!(viewer["suppressed"], true, "{field}: {viewer}");
        assert_eq!(viewer["method"], "NONE: suppressed", "{field}: {viewer}");
        for withheld in ["previous", "previousN", "change", "pValue"] {
            assert!(viewer[withheld].is_null(), "{field}: {viewer}");
        }
        assert_eq!(admin["suppressed"], false, "{field}: {admin}");
        assert!(admin["previousN"].as_i64().is_some_and(|n| n > 0), "{field}: {admin}");
    }
}
