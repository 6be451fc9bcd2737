//! The one range of days Accord stores and filters by, the same on both
//! backends.
//!
//! SQLite keeps instants as RFC 3339 text and compares them as text, so a
//! year beyond 9999 (`+10000-01-01…`) sorts before `2025-…`, while
//! PostgreSQL compares real timestamps: `to: "9999-12-31"` (whose end is
//! the next midnight, in year 10000) counted nothing on SQLite and
//! everything on PostgreSQL. Every day a client names — a `Date` argument,
//! the day of any instant in a record — must lie between [`FIRST_DAY`] and
//! [`LAST_DAY`], so that a window's end still has a four-digit year.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// The first day accepted: 0001-01-01.
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1, 1, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// The last day accepted: 9999-12-30, the day before the last day with a
/// four-digit year, so that the midnight after it still has one.
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 30) {
    Some(day) => day,
    None => NaiveDate::MAX,
};

/// Why `day` is refused, if it is outside the range.
pub fn out_of_range(day: NaiveDate) -> Option<String> {
    (day < FIRST_DAY || day > LAST_DAY)
        .then(|| format!("{day} is outside the days Accord accepts, {FIRST_DAY} to {LAST_DAY}"))
}

/// Why a text that reads as a day or an instant is refused, if it is
/// outside the range (texts that are neither are not days).
pub fn text_out_of_range(text: &str) -> Option<String> {
    let day = text
        .parse::<DateTime<Utc>>()
        .map(|at| at.date_naive())
        .or_else(|_| text.parse::<NaiveDate>())
        .ok()?;
    // A year that chrono reads but text cannot sort is the case to catch;
    // checking the year first keeps this cheap for ordinary dates.
    if (1..=9999).contains(&day.year()) && day <= LAST_DAY {
        return None;
    }
    out_of_range(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_keeps_four_digit_years_up_to_the_window_end() {
        assert_eq!(LAST_DAY.succ_opt().map(|d| d.year()), Some(9999));
        assert!(out_of_range(LAST_DAY).is_none());
        assert!(out_of_range(FIRST_DAY).is_none());
        assert!(out_of_range(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default()).is_some());
        assert!(text_out_of_range("+10000-01-01T00:00:00Z").is_some());
        assert!(text_out_of_range("9999-12-31T10:00:00Z").is_some());
        assert!(text_out_of_range("2025-06-01T10:00:00Z").is_none());
        assert!(text_out_of_range("2025-06-01").is_none());
        assert!(text_out_of_range("Max Meyer").is_none());
    }
}
