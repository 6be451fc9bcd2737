//! `insights.series` against the golden fixture's expected-v2.json
//! (computed with pandas and scipy from the NDJSON files), and the honesty
//! rules of every comparison: no p-value from too small or constant samples.

use serde_json::{Value, json};

use crate::golden;
use crate::helpers::{TestApp, expected_v2, on_both_backends};

on_both_backends!(
    series_reproduce_expected_v2,
    comparisons_without_enough_data_have_no_p_value,
    series_refuse_filters_that_do_not_apply,
    a_clipped_first_week_counts_its_days_and_is_compared_whole,
    scans_cut_by_customer_read_each_part_in_a_statement_of_its_own
);

const QUERY: &str = r#"query($metrics: [SeriesMetric!]!, $period: Period!, $compare: CompareTo, $filter: InsightFilter) {
  insights(filter: $filter) {
    series(metrics: $metrics, period: $period, compareTo: $compare) {
      metric
      points {
        periodStart periodEnd coveredFrom coveredTo daysCovered partial value n ciLow ciHigh
        promoters passives detractors
        compareTo { previousPeriodStart previous previousN change relativeChange pValue method z }
      }
      total { value n ciLow ciHigh promoters passives detractors }
      definition { metric parameters { name value } }
    }
  }
}"#;

fn window() -> Value {
    json!({ "from": "2025-01-01", "to": "2026-06-30" })
}

async fn series_reproduce_expected_v2(app: TestApp) {
    app.import_golden().await;
    let expected = expected_v2();
    let metrics = expected["series"]["metrics"].clone();
    let mut differences = Vec::new();
    for (period, compare) in [("MONTH", json!("PREVIOUS_PERIOD")), ("WEEK", Value::Null)] {
        let variables = json!({ "metrics": metrics, "period": period, "compare": compare, "filter": window() });
        let data = app.data(QUERY, variables).await;
        let series = data["insights"]["series"].as_array().cloned().unwrap_or_default();
        assert_eq!(series.len(), metrics.as_array().map_or(0, Vec::len));
        for one in &series {
            let metric = one["metric"].as_str().unwrap_or_default();
            let mut points = expected["series"]["byPeriod"][period][metric].clone();
            // `period` repeats the request's compareTo; the API does not echo it.
            for point in points.as_array_mut().into_iter().flatten() {
                if let Some(delta) = point.get_mut("compareTo").and_then(Value::as_object_mut) {
                    delta.remove("period");
                }
            }
            if compare.is_null() {
                assert!(
                    one["points"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .all(|p| p["compareTo"].is_null())
                );
            }
            let path = format!("series.{period}.{metric}");
            golden::compare(&path, &points, &one["points"], &mut differences, &golden::relative);
            let total = &expected["series"]["windowTotals"][metric];
            golden::compare(
                &format!("{path}.total"),
                total,
                &one["total"],
                &mut differences,
                &golden::relative,
            );
            assert_eq!(one["definition"]["metric"], "series");
            let parameters = one["definition"]["parameters"].as_array().cloned().unwrap_or_default();
            assert!(
                parameters.contains(&json!({ "name": "metric", "value": metric })),
                "{parameters:?}"
            );
        }
    }
    golden::assert_no_differences("expected-v2.json series", &differences);
}

/// The issue's reproducer: a handful of respondents, all promoters,
/// compared with a large mixed sample got `pValue: 0.0000206`.
async fn comparisons_without_enough_data_have_no_p_value(app: TestApp) {
    app.import_golden().await;
    let variables = json!({ "metrics": ["NPS", "ORDERS", "AVERAGE_ORDER_VALUE", "LEADS_WON"], "period": "WEEK",
        "compare": "PREVIOUS_PERIOD", "filter": window() });
    let data = app.data(QUERY, variables).await;
    let mut refused_with_data = 0;
    for one in data["insights"]["series"].as_array().into_iter().flatten() {
        for point in one["points"].as_array().into_iter().flatten() {
            let delta = &point["compareTo"];
            let method = delta["method"].as_str().unwrap_or_default();
            let (n, previous_n) = (
                point["n"].as_i64().unwrap_or(-1),
                delta["previousN"].as_i64().unwrap_or(-1),
            );
            let too_few = n < 10 || previous_n < 10;
            assert_eq!(method == "NONE: fewer than 10 on one side", too_few, "{point}");
            assert_eq!(delta["pValue"].is_null(), method.starts_with("NONE:"), "{point}");
            if too_few && n > 0 && previous_n > 0 {
                refused_with_data += 1;
            }
        }
    }
    assert!(refused_with_data > 0, "the weekly series has small weeks on both sides");

    // The existing comparisons follow the same rules and name their test.
    let data = app
        .data(
            r#"query($filter: InsightFilter) { insights(filter: $filter) {
                nps(period: WEEK, compareTo: PREVIOUS_PERIOD) { series { score { n } compared { previousN pValue method } } }
                brandFunnel(period: QUARTER, compareTo: PREVIOUS_PERIOD) { series { funnel { n } compared { awareness { previousN pValue method z } } } }
            } }"#,
            json!({ "filter": window() }),
        )
        .await;
    let nps = data["insights"]["nps"]["series"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!nps.is_empty());
    for point in &nps {
        let small =
            point["score"]["n"].as_i64().unwrap_or(0) < 10 || point["compared"]["previousN"].as_i64().unwrap_or(0) < 10;
        let method = point["compared"]["method"].as_str().unwrap_or_default();
        assert_eq!(point["compared"]["pValue"].is_null(), small, "{point}");
        assert_eq!(
            method,
            if small {
                "NONE: fewer than 10 on one side"
            } else {
                "NPS_DIFFERENCE_Z"
            }
        );
    }
    let funnel = data["insights"]["brandFunnel"]["series"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let tested = funnel
        .iter()
        .filter(|point| point["compared"]["awareness"]["method"] == "TWO_PROPORTION_Z")
        .count();
    assert!(tested > 0);
    for point in &funnel {
        let awareness = &point["compared"]["awareness"];
        if awareness["method"] == "TWO_PROPORTION_Z" {
            assert!(
                awareness["pValue"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)),
                "{point}"
            );
            assert!(awareness["z"].is_number());
        } else {
            assert!(awareness["pValue"].is_null(), "{point}");
        }
    }
}

async fn series_refuse_filters_that_do_not_apply(app: TestApp) {
    let cases = [
        (
            json!({ "metrics": ["NPS"], "period": "MONTH", "filter": { "from": "2025-01-01", "to": "2025-12-31", "channel": "ONLINE" } }),
            "metrics",
        ),
        (
            json!({ "metrics": ["LEADS_WON"], "period": "MONTH", "filter": { "from": "2025-01-01", "to": "2025-12-31", "channel": "RETAIL" } }),
            "metrics",
        ),
        (
            json!({ "metrics": [], "period": "MONTH", "filter": window() }),
            "metrics",
        ),
        (
            json!({ "metrics": ["ORDERS", "ORDERS"], "period": "MONTH", "filter": window() }),
            "metrics",
        ),
        (
            json!({ "metrics": ["ORDERS"], "period": "DAY", "filter": { "from": "2020-01-01", "to": "2026-06-30" } }),
            "period",
        ),
    ];
    assert_refused(&app, QUERY, cases).await;
    let (_, body) = app
        .post(
            r#"{ insights(filter: { from: "2025-01-01", to: "2025-12-31" }) { series(metrics: [ORDERS], team: MARKETING) { metric } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "team", "{body}");
    // With the order channel, order metrics are filtered rather than refused.
    let data = app
        .data(
            QUERY,
            json!({ "metrics": ["ORDERS"], "period": "MONTH", "filter": { "from": "2025-01-01", "to": "2025-03-31", "channel": "ONLINE" } }),
        )
        .await;
    let points = data["insights"]["series"][0]["points"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(points.len(), 3, "zero-filled on an empty database");
    assert!(points.iter().all(|p| p["value"] == json!(0.0) && p["n"] == 0));
}

/// Each `(variables, field)` run through `query` is BAD_USER_INPUT naming `field`.
pub(crate) async fn assert_refused<'a>(app: &TestApp, query: &str, cases: impl IntoIterator<Item = (Value, &'a str)>) {
    for (variables, field) in cases {
        let (status, body) = app.post(query, variables.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{variables}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{variables}: {body}");
    }
}

/// The metrics whose people are counted distinct per period (and REPEAT_RATE,
/// per customer and period): their values do not add up across days.
const DISTINCT_METRICS: [&str; 3] = ["CUSTOMERS_ORDERING", "REPEAT_RATE", "AVERAGE_ORDER_VALUE"];

/// Each metric's (value, n) per point and its window total, over `from..=to` by week.
async fn weekly(app: &TestApp, from: &str, to: &str, compare: Value) -> Value {
    let query = r#"query($filter: InsightFilter, $compare: CompareTo, $metrics: [SeriesMetric!]!) {
      insights(filter: $filter) { series(metrics: $metrics, period: WEEK, compareTo: $compare) {
        metric total { value n } points { periodStart daysCovered value n compareTo { previous previousN } } } } }"#;
    let variables = json!({ "filter": { "from": from, "to": to }, "compare": compare, "metrics": DISTINCT_METRICS });
    app.data(query, variables).await["insights"]["series"].clone()
}

/// A window that starts on a Thursday: its first point counts Thursday to
/// Sunday only, the next point is compared with that whole week (Monday to
/// Sunday, days before the window included), and the window's total is
/// the metric over the window; each equals the same metric asked for over
/// exactly those days.
async fn a_clipped_first_week_counts_its_days_and_is_compared_whole(app: TestApp) {
    app.import_golden().await;
    // 2025-03-06 is a Thursday; its ISO week runs 2025-03-03 to 2025-03-09.
    let clipped = weekly(&app, "2025-03-06", "2025-04-30", json!("PREVIOUS_PERIOD")).await;
    let thursday_to_sunday = weekly(&app, "2025-03-06", "2025-03-09", Value::Null).await;
    let whole_week = weekly(&app, "2025-03-03", "2025-03-09", Value::Null).await;
    let whole_window = weekly(&app, "2025-03-06", "2025-04-30", Value::Null).await;
    for (index, metric) in DISTINCT_METRICS.iter().enumerate() {
        let points = &clipped[index]["points"];
        assert_eq!(points[0]["daysCovered"], 4, "{metric}");
        assert_eq!(
            (&points[0]["value"], &points[0]["n"]),
            (
                &thursday_to_sunday[index]["total"]["value"],
                &thursday_to_sunday[index]["total"]["n"]
            ),
            "{metric}: the clipped week counts its days inside the window"
        );
        assert_eq!(
            (
                &points[1]["compareTo"]["previous"],
                &points[1]["compareTo"]["previousN"]
            ),
            (&whole_week[index]["total"]["value"], &whole_week[index]["total"]["n"]),
            "{metric}: the second week is compared with the whole first week"
        );
        assert_ne!(
            whole_week[index]["total"], thursday_to_sunday[index]["total"],
            "{metric}: the days before the window change the first week"
        );
        assert_eq!(
            clipped[index]["total"], whole_window[index]["total"],
            "{metric}: the window's total"
        );
        assert!(
            clipped[index]["total"]["n"].as_i64().unwrap_or(0) > 100,
            "{metric}: {}",
            clipped[index]
        );
    }
}

/// Each source of a series, retention and historical CLV are read in
/// `PARTS` statements over disjoint customer ranges (run side by side);
/// mentions and survey answers, which may have no customer, in one; the values over the parts are
/// those over everyone (`series_reproduce_expected_v2`, and
/// `insights::insights_reproduce_expected_json` for the other two).
async fn scans_cut_by_customer_read_each_part_in_a_statement_of_its_own(app: TestApp) {
    app.import_golden().await;
    let parts = usize::try_from(accord::db::customer_parts::PARTS).expect("a small count");
    app.take_statements();
    let query = r#"query($filter: InsightFilter) { insights(filter: $filter) {
      series(metrics: [REVENUE, TOUCHPOINTS, CHURN_RATE, SHARE_OF_VOICE, NPS], period: MONTH) { metric }
      retention(cohortBy: SIGNUP, period: MONTH, mode: CLASSIC) { cohorts { size } }
      clv { overall { customers } } } }"#;
    let data = app.data(query, json!({ "filter": window() })).await;
    assert_eq!(data["insights"]["series"].as_array().map(Vec::len), Some(8), "{data}");
    let statements = app.take_statements();
    let reading = |table: &str| {
        statements
            .iter()
            .filter(|text| text.contains(table))
            .map(|text| text.contains("(SELECT MIN(id) FROM customer)"))
            .collect::<Vec<bool>>()
    };
    assert_eq!(reading("FROM orders o WHERE 1 = 1"), vec![true; parts], "REVENUE");
    assert_eq!(
        reading("FROM touchpoint t"),
        vec![true; parts],
        "every team's TOUCHPOINTS"
    );
    assert_eq!(reading("LEAD("), vec![true; parts], "CHURN_RATE");
    assert_eq!(reading("FROM brand_mention m"), vec![false], "SHARE_OF_VOICE");
    assert_eq!(reading("FROM survey_response r WHERE r.nps_score"), vec![false], "NPS");
    assert_eq!(reading("AS cohort FROM customer cu"), vec![true; parts], "retention");
    assert_eq!(reading("WITH per_customer AS"), vec![true; parts], "clv");
}
