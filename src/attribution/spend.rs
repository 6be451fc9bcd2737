//! Campaign spend in the window, and the return on it (DESIGN.md §3).
//!
//! A campaign spends evenly over its days (`startsOn` to `endsOn`, both
//! inclusive; the data model requires both), so a window that holds part
//! of a campaign holds that part of its spend:
//! `spend × days of the campaign in the window / days of the campaign`,
//! rounded to the nearest minor unit (halves away from zero). ROAS and
//! ROI use that rounded spend, so a client can recompute them from the
//! numbers it is shown.

use chrono::NaiveDate;

use crate::insights::scope::Window;

/// A campaign's spend and the part of it inside a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    pub total_minor: i64,
    /// Days from the first to the last day of the campaign (at least 1).
    pub campaign_days: i64,
    /// Days of the campaign inside the window (0 when it runs outside).
    pub days_in_window: i64,
    /// `total_minor × days_in_window / campaign_days`, rounded.
    pub in_window_minor: i64,
}

impl Spend {
    pub fn prorated(total_minor: i64, starts_on: NaiveDate, ends_on: NaiveDate, window: Window) -> Self {
        // A campaign recorded as ending before it starts runs its first day only.
        let ends_on = ends_on.max(starts_on);
        let campaign_days = days_between(starts_on, ends_on);
        let (first, last) = (starts_on.max(window.from), ends_on.min(window.to));
        let days_in_window = if first <= last { days_between(first, last) } else { 0 };
        Self {
            total_minor,
            campaign_days,
            days_in_window,
            in_window_minor: share(total_minor, days_in_window, campaign_days),
        }
    }
}

/// Days from `first` to `last`, both inclusive.
fn days_between(first: NaiveDate, last: NaiveDate) -> i64 {
    last.signed_duration_since(first).num_days() + 1
}

/// `amount × part / whole` rounded half away from zero, in 128 bits so no
/// spend can overflow on the way (the result is at most `amount`).
fn share(amount: i64, part: i64, whole: i64) -> i64 {
    let (product, whole) = (i128::from(amount) * i128::from(part), i128::from(whole));
    let rounded = (2 * product + product.signum() * whole) / (2 * whole);
    i64::try_from(rounded).unwrap_or(amount)
}

/// Return on advertising spend: attributed revenue / spend; `None`
/// without spend.
pub fn roas(credit_minor: f64, spend_minor: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (spend_minor > 0).then(|| credit_minor / spend_minor as f64)
}

/// Return on investment: (attributed revenue − spend) / spend; `None`
/// without spend.
pub fn roi(credit_minor: f64, spend_minor: i64) -> Option<f64> {
    roas(credit_minor, spend_minor).map(|roas| roas - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap_or_default()
    }

    fn window(from: &str, to: &str) -> Window {
        Window {
            from: day(from),
            to: day(to),
        }
    }

    #[test]
    fn spend_is_prorated_to_the_days_in_the_window() {
        // 54 days, 37 of them in 2025: 3,100,000 × 37 / 54 = 2,124,074.07…
        let spend = Spend::prorated(
            3_100_000,
            day("2024-12-15"),
            day("2025-02-06"),
            window("2025-01-01", "2025-12-31"),
        );
        assert_eq!((spend.campaign_days, spend.days_in_window), (54, 37));
        assert_eq!(spend.in_window_minor, 2_124_074);
        let inside = Spend::prorated(
            100,
            day("2025-03-01"),
            day("2025-03-10"),
            window("2025-01-01", "2025-12-31"),
        );
        assert_eq!(inside.in_window_minor, 100);
        let outside = Spend::prorated(
            100,
            day("2024-03-01"),
            day("2024-03-10"),
            window("2025-01-01", "2025-12-31"),
        );
        assert_eq!((outside.days_in_window, outside.in_window_minor), (0, 0));
        // Halves round away from zero: 3 × 1 / 2.
        assert_eq!(
            Spend::prorated(
                3,
                day("2025-01-01"),
                day("2025-01-02"),
                window("2025-01-02", "2025-01-09")
            )
            .in_window_minor,
            2
        );
    }

    #[test]
    fn returns_need_spend() {
        assert_eq!(roas(300.0, 100), Some(3.0));
        assert_eq!(roi(300.0, 100), Some(2.0));
        assert_eq!(roi(50.0, 100), Some(-0.5));
        assert_eq!(roas(300.0, 0), None);
        assert_eq!(roi(300.0, 0), None);
    }
}
