//! Account health, 0–100, for sales tools: a documented weighted score of
//! four components, each scored 0–100 first so that every component's
//! contribution can be shown beside the total.
//!
//! | component | weight | score |
//! |---|---|---|
//! | recency | 35% | 100 when the last order is at most 30 days old, falling linearly to 0 at 365 days; 0 with no order |
//! | value trend | 25% | order value of the last 90 days against the 90 before: 50 when flat, +50 per doubling up to 100, −50 per halving down to 0; 100 when only the recent window has orders, 0 when neither has |
//! | NPS | 25% | (NPS + 100) / 2 over the contacts' responses; 50 (neutral) when no contact has answered |
//! | engagement | 15% | 10 points per touchpoint in the last 30 days, at most 100 |

use super::AccountStats;

pub const FORMULA: &str = "0.35 × recency + 0.25 × value trend + 0.25 × NPS + 0.15 × engagement, each scored 0–100: \
recency 100 up to 30 days since the last order, linear to 0 at 365 (0 with no order); value trend 50 + 50·log2(last 90 days' \
value / previous 90 days'), clamped to 0–100 (100 with only recent value, 0 with none); NPS (NPS + 100)/2, 50 without \
responses; engagement 10 per touchpoint in the last 30 days, at most 100";

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: &'static str,
    pub weight: f64,
    /// The component's own 0–100 score.
    pub score: f64,
    /// The measured value behind it, in words.
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub score: f64,
    pub components: Vec<Component>,
}

/// `amount_minor` in major units of `currency`, grouped: `12,345.67 USD`.
/// Every reporting currency Accord supports has two minor digits.
pub fn display_amount(amount_minor: i64, currency: &str) -> String {
    let sign = if amount_minor < 0 { "-" } else { "" };
    let minor = amount_minor.unsigned_abs();
    let major = (minor / 100).to_string();
    let mut grouped = String::with_capacity(major.len() + major.len() / 3);
    for (index, digit) in major.chars().enumerate() {
        if index > 0 && (major.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02} {currency}", minor % 100)
}

/// The health of an account from its stats; money in the bases is shown
/// in `currency`, the reporting currency.
pub fn health(stats: &AccountStats, currency: &str) -> Health {
    let recency = match stats.days_since_last_order {
        None => 0.0,
        Some(days) if days <= 30 => 100.0,
        #[allow(clippy::cast_precision_loss)]
        Some(days) => (100.0 * (365.0 - days as f64) / 335.0).clamp(0.0, 100.0),
    };
    let recent = stats.windows[1].value_minor;
    let previous = stats.previous_90_value_minor;
    #[allow(clippy::cast_precision_loss)]
    let trend = match (recent, previous) {
        (0, 0) => 0.0,
        (_, 0) => 100.0,
        (recent, previous) => (50.0 + 50.0 * (recent as f64 / previous as f64).log2()).clamp(0.0, 100.0),
    };
    let nps_score = stats.nps.nps.map_or(50.0, |nps| (nps + 100.0) / 2.0);
    #[allow(clippy::cast_precision_loss)]
    let engagement = (stats.touchpoints_30_days as f64 * 10.0).min(100.0);
    let components = vec![
        Component {
            name: "recency",
            weight: 0.35,
            score: recency,
            basis: match stats.days_since_last_order {
                Some(days) => format!("{days} days since the last order"),
                None => "no order".to_owned(),
            },
        },
        Component {
            name: "value_trend",
            weight: 0.25,
            score: trend,
            basis: format!(
                "{} in the last 90 days against {} in the 90 before",
                display_amount(recent, currency),
                display_amount(previous, currency)
            ),
        },
        Component {
            name: "nps",
            weight: 0.25,
            score: nps_score,
            basis: match stats.nps.nps {
                Some(nps) => format!("NPS {nps:.1} over {} responses", stats.nps.n),
                None => "no responses".to_owned(),
            },
        },
        Component {
            name: "engagement",
            weight: 0.15,
            score: engagement,
            basis: format!("{} touchpoints in the last 30 days", stats.touchpoints_30_days),
        },
    ];
    let score = components
        .iter()
        .map(|component| component.weight * component.score)
        .sum();
    Health { score, components }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::accounts::OrderWindow;
    use crate::insights::stats::nps;

    fn stats(days_since: Option<i64>, recent: i64, previous: i64, touches: i64) -> AccountStats {
        AccountStats {
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default(),
            days_since_last_order: days_since,
            windows: [
                OrderWindow {
                    days: 30,
                    orders: 0,
                    value_minor: 0,
                },
                OrderWindow {
                    days: 90,
                    orders: 1,
                    value_minor: recent,
                },
                OrderWindow {
                    days: 365,
                    orders: 1,
                    value_minor: recent + previous,
                },
            ],
            previous_90_value_minor: previous,
            nps: nps(0, 0, 0),
            touchpoints_30_days: touches,
        }
    }

    fn health_usd(stats: &AccountStats) -> Health {
        health(stats, "USD")
    }

    #[test]
    fn value_bases_are_in_major_units_of_the_currency() {
        assert_eq!(display_amount(123_456_789, "USD"), "1,234,567.89 USD");
        assert_eq!(display_amount(5, "EUR"), "0.05 EUR");
        assert_eq!(display_amount(-100_000, "GBP"), "-1,000.00 GBP");
        assert_eq!(display_amount(i64::MIN, "USD"), "-92,233,720,368,547,758.08 USD");
        let basis = &health_usd(&stats(Some(3), 250_000, 99_999, 0)).components[1].basis;
        assert_eq!(
            basis,
            "2,500.00 USD in the last 90 days against 999.99 USD in the 90 before"
        );
    }

    #[test]
    fn a_thriving_account_scores_high_and_a_dormant_one_low() {
        let thriving = health_usd(&stats(Some(3), 200, 100, 12));
        // recency 100, trend 100 (doubled), NPS 50 (no answers), engagement 100.
        assert!((thriving.score - (35.0 + 25.0 + 12.5 + 15.0)).abs() < 1e-9);
        let dormant = health_usd(&stats(None, 0, 0, 0));
        assert!((dormant.score - 12.5).abs() < 1e-9, "only the neutral NPS counts");
        let weights: f64 = thriving.components.iter().map(|c| c.weight).sum();
        assert!((weights - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_halving_of_value_halves_the_trend_score() {
        assert!((health_usd(&stats(Some(10), 50, 100, 0)).components[1].score - 0.0).abs() < 1e-9);
        assert!((health_usd(&stats(Some(10), 100, 100, 0)).components[1].score - 50.0).abs() < 1e-9);
        assert!((health_usd(&stats(Some(200), 100, 100, 0)).components[0].score - 100.0 * 165.0 / 335.0).abs() < 1e-9);
    }
}
