//! One definition of won revenue: `revenueCycle(basis: CLOSED)` counts the
//! leads closed in the window, so its won revenue is attribution's WON_LEAD
//! total; its win rate and counts are checked against the fixture's leads,
//! and the default basis (CREATED) still counts the cohort created in it.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, golden_records, on_both_backends};

on_both_backends!(won_revenue_by_close_date_is_one_number_in_the_cycle_and_attribution);

fn instant(lead: &Value, field: &str) -> Option<DateTime<Utc>> {
    lead[field].as_str().and_then(|text| text.parse().ok())
}

async fn won_revenue_by_close_date_is_one_number_in_the_cycle_and_attribution(app: TestApp) {
    app.import_golden().await;
    let (from, before) = ("2025-07-01T00:00:00Z", "2026-04-01T00:00:00Z");
    let window = r#"filter: { from: "2025-07-01", to: "2026-03-31" }"#;
    let block = "sourceTeam leads wonCount wonRevenueMinor winRate { count n rate ciLow ciHigh }";
    let data = app
        .data(
            &format!(
                "{{ insights({window}) {{
                    closed: revenueCycle(basis: CLOSED) {{ all {{ {block} }} bySourceTeam {{ {block} }} totalWonRevenueMinor definition {{ parameters {{ name value }} }} }}
                    created: revenueCycle {{ all {{ {block} }} totalWonRevenueMinor definition {{ parameters {{ name value }} }} }}
                    attribution(conversion: WON_LEAD) {{ conversions totalValueMinor }}
                }} }}"
            ),
            json!({}),
        )
        .await;
    let insights = &data["insights"];
    let closed = &insights["closed"];
    let number = |value: &Value| value.as_str().map_or_else(|| value.as_i64(), |text| text.parse().ok());

    // The reference: the fixture's leads, by close date and by creation.
    let (from, before): (DateTime<Utc>, DateTime<Utc>) = (from.parse().expect("from"), before.parse().expect("before"));
    let leads = golden_records("leads.ndjson");
    let in_window = |at: Option<DateTime<Utc>>| at.is_some_and(|at| at >= from && at < before);
    let closed_leads: Vec<&Value> = leads
        .iter()
        .filter(|l| matches!(l["stage"].as_str(), Some("WON" | "LOST")) && in_window(instant(l, "closedAt")))
        .collect();
    let won: Vec<&&Value> = closed_leads.iter().filter(|l| l["stage"] == "WON").collect();
    let won_revenue: i64 = won.iter().map(|l| l["amountMinor"].as_i64().unwrap_or(0)).sum();
    assert!(
        won.len() >= 10 && closed_leads.len() > won.len(),
        "the window must hold won and lost leads"
    );

    assert_eq!(number(&closed["all"]["wonRevenueMinor"]), Some(won_revenue));
    assert_eq!(number(&closed["totalWonRevenueMinor"]), Some(won_revenue));
    assert_eq!(
        number(&insights["attribution"]["totalValueMinor"]),
        Some(won_revenue),
        "attribution's WON_LEAD total is the same number"
    );
    assert_eq!(
        insights["attribution"]["conversions"].as_u64(),
        u64::try_from(won.len()).ok()
    );
    assert_eq!(closed["all"]["leads"].as_u64(), u64::try_from(closed_leads.len()).ok());
    let win_rate = &closed["all"]["winRate"];
    assert_eq!(win_rate["count"].as_u64(), u64::try_from(won.len()).ok());
    assert_eq!(win_rate["n"].as_u64(), u64::try_from(closed_leads.len()).ok());
    #[allow(clippy::cast_precision_loss)]
    let rate = won.len() as f64 / closed_leads.len() as f64;
    assert!(
        win_rate["rate"].as_f64().is_some_and(|r| (r - rate).abs() < 1e-9),
        "{win_rate}"
    );
    assert!(win_rate["ciLow"].as_f64() < Some(rate) && win_rate["ciHigh"].as_f64() > Some(rate));
    for team in closed["bySourceTeam"].as_array().expect("teams") {
        let name = team["sourceTeam"].as_str().expect("team");
        let expected: i64 = won
            .iter()
            .filter(|l| l["sourceTeam"] == name)
            .map(|l| l["amountMinor"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(number(&team["wonRevenueMinor"]), Some(expected), "{name}");
    }

    // The default basis is the cohort created in the window: another number, named.
    let created_won: i64 = leads
        .iter()
        .filter(|l| l["stage"] == "WON" && in_window(instant(l, "createdAt")))
        .map(|l| l["amountMinor"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(number(&insights["created"]["totalWonRevenueMinor"]), Some(created_won));
    assert_ne!(created_won, won_revenue, "the window must tell the two bases apart");
    let basis = |cycle: &Value| {
        cycle["definition"]["parameters"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "basis"))
            .map(|p| p["value"].clone())
    };
    assert_eq!(basis(closed), Some(json!("CLOSED")));
    assert_eq!(basis(&insights["created"]), Some(json!("CREATED")));
}
