//! The rate and touchpoint metrics of `insights.series` (REPEAT_RATE,
//! CHURN_RATE, WIN_RATE, AWARENESS, CONSIDERATION, SHARE_OF_VOICE,
//! TOUCHPOINTS): window totals and periods against expected.json's insights
//! (repeatPurchase, churn, brandFunnel by quarter, shareOfVoice by month),
//! and per month against counts made here from the fixture's NDJSON files.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::golden;
use crate::helpers::{TestApp, expected, golden_records, on_both_backends};

on_both_backends!(
    rates_match_the_insights_and_the_records,
    rate_series_refuse_what_does_not_apply
);

const QUERY: &str = r#"query($metrics: [SeriesMetric!]!, $period: Period!, $compare: CompareTo, $filter: InsightFilter) {
  insights(filter: $filter) {
    series(metrics: $metrics, period: $period, compareTo: $compare) {
      metric team
      points { periodStart daysCovered partial value n count ciLow ciHigh
        compareTo { previous previousN change pValue method z } }
      total { value n count ciLow ciHigh }
      definition { parameters { name value } }
    }
  }
}"#;

fn window() -> Value {
    json!({ "from": "2025-01-01", "to": "2026-06-30" })
}

fn instant(record: &Value, key: &str) -> Option<DateTime<Utc>> {
    record[key].as_str().and_then(|text| text.parse().ok())
}

fn month_start(date: NaiveDate) -> String {
    format!("{:04}-{:02}-01", date.year(), date.month())
}

fn find<'a>(series: &'a [Value], metric: &str) -> &'a Value {
    series
        .iter()
        .find(|one| one["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} series"))
}

/// `(count, n)` of every point, by period start.
fn counts(series: &Value) -> BTreeMap<String, (i64, i64)> {
    series["points"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["periodStart"].as_str().unwrap_or_default().to_owned(),
                (p["count"].as_i64().unwrap_or(-1), p["n"].as_i64().unwrap_or(-1)),
            )
        })
        .collect()
}

async fn rates_match_the_insights_and_the_records(app: TestApp) {
    app.import_golden().await;
    let expected = expected();
    let metrics = json!([
        "REPEAT_RATE",
        "CHURN_RATE",
        "WIN_RATE",
        "AWARENESS",
        "CONSIDERATION",
        "SHARE_OF_VOICE",
        "TOUCHPOINTS"
    ]);
    let variables = json!({ "metrics": metrics, "period": "MONTH", "compare": "PREVIOUS_PERIOD", "filter": window() });
    let data = app.data(QUERY, variables).await;
    let series = data["insights"]["series"].as_array().cloned().unwrap_or_default();
    // TOUCHPOINTS is one series per team.
    assert_eq!(series.len(), 6 + 4);
    let mut differences = Vec::new();
    let mut check = |path: &str, expected: Value, actual: &Value| {
        golden::compare(path, &expected, actual, &mut differences, &golden::relative);
    };

    // Window totals are the insights over the same window.
    let repeat = &expected["repeatPurchase"];
    check(
        "REPEAT_RATE.total",
        json!({ "count": repeat["customersWithRepeat"], "n": repeat["customersWithOrders"], "value": repeat["rate"],
            "ciLow": repeat["ciLow"], "ciHigh": repeat["ciHigh"] }),
        &round6(&find(&series, "REPEAT_RATE")["total"]),
    );
    let churn = &expected["churn"];
    check(
        "CHURN_RATE.total",
        json!({ "count": churn["churned"], "n": churn["customersWithOrders"], "value": churn["rate"],
            "ciLow": churn["ciLow"], "ciHigh": churn["ciHigh"] }),
        &round6(&find(&series, "CHURN_RATE")["total"]),
    );
    let shark = expected["brandFunnel"]["overall"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|funnel| funnel["brand"] == "Shark")
        .cloned()
        .unwrap_or_default();
    for (metric, stage) in [("AWARENESS", "awareness"), ("CONSIDERATION", "consideration")] {
        let rate = &shark[stage];
        check(
            &format!("{metric}.total"),
            json!({ "count": rate["count"], "n": rate["n"], "value": rate["rate"], "ciLow": rate["ciLow"], "ciHigh": rate["ciHigh"] }),
            &round6(&find(&series, metric)["total"]),
        );
    }
    let voice = expected["shareOfVoice"]["overall"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|share| share["brand"] == "Shark")
        .cloned()
        .unwrap_or_default();
    check(
        "SHARE_OF_VOICE.total",
        json!({ "count": voice["mentions"], "n": voice["totalMentions"], "value": voice["share"] }),
        &round6(&find(&series, "SHARE_OF_VOICE")["total"]),
    );
    // Share of voice per month, as shareOfVoice.byMonth.
    let by_month: BTreeMap<String, (i64, i64)> = expected["shareOfVoice"]["byMonth"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|share| share["brand"] == "Shark")
        .map(|share| {
            (
                share["periodStart"].as_str().unwrap_or_default().to_owned(),
                (
                    share["mentions"].as_i64().unwrap_or(0),
                    share["totalMentions"].as_i64().unwrap_or(0),
                ),
            )
        })
        .collect();
    assert_eq!(counts(find(&series, "SHARE_OF_VOICE")), by_month);

    // Per month from the records: repeat purchase, churn as of the month's
    // last day (180 days), win rate by close date, touchpoints per team.
    let orders = golden_records("orders.ndjson");
    let window_start: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().unwrap_or_default();
    let window_end: DateTime<Utc> = "2026-07-01T00:00:00Z".parse().unwrap_or_default();
    let mut per_month: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut days: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    for order in &orders {
        let (Some(at), Some(customer)) = (instant(order, "orderedAt"), order["customerExternalId"].as_str()) else {
            continue;
        };
        if at >= window_end {
            continue;
        }
        days.entry(customer.to_owned()).or_default().insert(at.date_naive());
        if at >= window_start {
            *per_month
                .entry(month_start(at.date_naive()))
                .or_default()
                .entry(customer.to_owned())
                .or_default() += 1;
        }
    }
    let repeat: BTreeMap<String, (i64, i64)> = per_month
        .iter()
        .map(|(month, customers)| {
            let repeated = customers.values().filter(|&&orders| orders >= 2).count();
            (month.clone(), (repeated as i64, customers.len() as i64))
        })
        .collect();
    assert_eq!(counts(find(&series, "REPEAT_RATE")), repeat);
    let churn_as_of = |day: NaiveDate| {
        let mut with_orders = 0;
        let mut churned = 0;
        for order_days in days.values() {
            if let Some(last) = order_days.range(..=day).next_back() {
                with_orders += 1;
                if (day - *last).num_days() > 180 {
                    churned += 1;
                }
            }
        }
        (churned, with_orders)
    };
    let churn_points = find(&series, "CHURN_RATE")["points"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(churn_points.len(), 18);
    for point in churn_points.iter().step_by(5) {
        let start: NaiveDate = point["periodStart"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .unwrap_or_default();
        let last_day = start
            .checked_add_months(chrono::Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(start);
        let (churned, with_orders) = churn_as_of(last_day);
        assert_eq!(
            (point["count"].as_i64(), point["n"].as_i64()),
            (Some(churned), Some(with_orders)),
            "{point}"
        );
    }
    // The first month is compared with December 2024, also from the records.
    let december = churn_as_of(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default());
    assert_eq!(churn_points[0]["compareTo"]["previousN"].as_i64(), Some(december.1));

    let leads = golden_records("leads.ndjson");
    let mut wins: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for lead in &leads {
        let stage = lead["stage"].as_str().unwrap_or_default();
        let Some(closed) = instant(lead, "closedAt").filter(|at| *at >= window_start && *at < window_end) else {
            continue;
        };
        if stage == "WON" || stage == "LOST" {
            let slot = wins.entry(month_start(closed.date_naive())).or_default();
            slot.0 += i64::from(stage == "WON");
            slot.1 += 1;
        }
    }
    let win_rate = find(&series, "WIN_RATE");
    let found: BTreeMap<String, (i64, i64)> = counts(win_rate).into_iter().filter(|(_, (_, n))| *n > 0).collect();
    assert_eq!(found, wins);
    let won: i64 = wins.values().map(|(won, _)| won).sum();
    assert_eq!(win_rate["total"]["count"].as_i64(), Some(won));
    assert_eq!(
        won,
        expected["attributionWonLeads"]["conversions"].as_i64().unwrap_or(-1)
    );

    let touches = golden_records("touchpoints.ndjson");
    for team in ["MARKETING", "SALES", "SERVICE", "PRODUCT"] {
        let mut by_month: BTreeMap<String, i64> = BTreeMap::new();
        for touch in touches.iter().filter(|touch| touch["team"] == team) {
            if let Some(at) = instant(touch, "occurredAt").filter(|at| *at >= window_start && *at < window_end) {
                *by_month.entry(month_start(at.date_naive())).or_default() += 1;
            }
        }
        let one = series
            .iter()
            .find(|one| one["metric"] == "TOUCHPOINTS" && one["team"] == team)
            .cloned()
            .unwrap_or_default();
        let found: BTreeMap<String, i64> = one["points"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["n"].as_i64().unwrap_or(0) > 0)
            .map(|p| {
                (
                    p["periodStart"].as_str().unwrap_or_default().to_owned(),
                    p["n"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(found, by_month, "{team}");
        assert_eq!(one["total"]["n"].as_i64(), Some(by_month.values().sum()), "{team}");
        assert!(
            one["definition"]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == "touchpointTeam" && p["value"] == team)
        );
    }

    // Rates are compared by the pooled two-proportion z-test.
    let mut tested = 0;
    for one in series.iter().filter(|one| one["metric"] != "TOUCHPOINTS") {
        for point in one["points"].as_array().into_iter().flatten() {
            let delta = &point["compareTo"];
            let (count, n) = (
                point["count"].as_f64().unwrap_or(0.0),
                point["n"].as_f64().unwrap_or(0.0),
            );
            let previous_n = delta["previousN"].as_f64().unwrap_or(0.0);
            if n < 10.0 || previous_n < 10.0 {
                assert_eq!(delta["method"], "NONE: fewer than 10 on one side", "{point}");
                continue;
            }
            if delta["method"] != "TWO_PROPORTION_Z" {
                continue;
            }
            let previous_count = delta["previous"].as_f64().unwrap_or(0.0) * previous_n;
            let pooled = (count + previous_count) / (n + previous_n);
            let z = (count / n - previous_count / previous_n)
                / (pooled * (1.0 - pooled) * (1.0 / n + 1.0 / previous_n)).sqrt();
            let found = delta["z"].as_f64().unwrap_or(f64::NAN);
            assert!((found - z).abs() < 1e-6, "{point}: z {z}");
            assert!(delta["pValue"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)));
            tested += 1;
        }
    }
    assert!(tested > 50, "{tested} rate points tested");

    // Awareness and consideration per quarter, as brandFunnel's series.
    let data = app
        .data(
            QUERY,
            json!({ "metrics": ["AWARENESS", "CONSIDERATION"], "period": "QUARTER", "filter": window() }),
        )
        .await;
    let series = data["insights"]["series"].as_array().cloned().unwrap_or_default();
    for (metric, stage) in [("AWARENESS", "awareness"), ("CONSIDERATION", "consideration")] {
        let by_quarter: BTreeMap<String, (i64, i64)> = expected["brandFunnel"]["byQuarter"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|point| point["brand"] == "Shark")
            .map(|point| {
                (
                    point["periodStart"].as_str().unwrap_or_default().to_owned(),
                    (
                        point[stage]["count"].as_i64().unwrap_or(0),
                        point[stage]["n"].as_i64().unwrap_or(0),
                    ),
                )
            })
            .collect();
        assert_eq!(counts(find(&series, metric)), by_quarter, "{metric}");
    }
    golden::assert_no_differences("expected.json insights", &differences);
}

/// Floats rounded to expected.json's six decimals.
fn round6(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), round6(v))).collect()),
        Value::Number(n) if n.is_f64() => json!((n.as_f64().unwrap_or(0.0) * 1e6).round() / 1e6),
        other => other.clone(),
    }
}

async fn rate_series_refuse_what_does_not_apply(app: TestApp) {
    let cases = [
        (
            json!({ "metrics": ["SHARE_OF_VOICE"], "period": "WEEK", "filter": window() }),
            "period",
        ),
        (
            json!({ "metrics": ["SHARE_OF_VOICE"], "period": "MONTH", "filter": { "from": "2025-01-01", "to": "2025-12-31", "region": "DE" } }),
            "metrics",
        ),
        (
            json!({ "metrics": ["AWARENESS"], "period": "MONTH", "filter": { "from": "2025-01-01", "to": "2025-12-31", "channel": "ONLINE" } }),
            "metrics",
        ),
    ];
    crate::series::assert_refused(&app, QUERY, cases).await;
    for query in [
        r#"{ insights { series(metrics: [TOUCHPOINTS], team: SALES) { metric } } }"#,
        r#"{ insights { series(metrics: [CHURN_RATE], churnThresholdDays: 0) { metric } } }"#,
    ] {
        let (_, body) = app.post(query, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    }
    // REPEAT_RATE and CHURN_RATE take the order channel; empty periods are
    // zero-filled, with no rate and no test.
    let data = app
        .data(
            QUERY,
            json!({ "metrics": ["REPEAT_RATE", "CHURN_RATE"], "period": "MONTH", "compare": "PREVIOUS_PERIOD",
                "filter": { "from": "2025-01-01", "to": "2025-03-31", "channel": "ONLINE" } }),
        )
        .await;
    for one in data["insights"]["series"].as_array().into_iter().flatten() {
        let points = one["points"].as_array().cloned().unwrap_or_default();
        assert_eq!(points.len(), 3, "{one}");
        for point in points {
            assert_eq!(
                (point["n"].as_i64(), point["value"].is_null()),
                (Some(0), true),
                "{point}"
            );
            assert_eq!(point["compareTo"]["method"], "NONE: fewer than 10 on one side");
        }
    }
}
