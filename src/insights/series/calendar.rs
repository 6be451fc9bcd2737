//! The periods of a series: every calendar period that meets the window,
//! with the part of it inside the window. A point counts only that part,
//! so a first or last period the window cuts says so (`partial`).

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::insights::period::{PeriodUnit, index_of, start_of};
use crate::insights::scope::Window;

/// One calendar period and the days of it inside the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub index: i64,
    /// The calendar period's first and last day, even when clipped.
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The first and last day inside the window.
    pub covered_from: NaiveDate,
    pub covered_to: NaiveDate,
}

impl Span {
    pub fn days_covered(&self) -> i64 {
        (self.covered_to - self.covered_from).num_days() + 1
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    pub fn partial(&self) -> bool {
        self.covered_from != self.start || self.covered_to != self.end
    }

    /// The first instant of the covered part.
    pub fn covered_from_instant(&self) -> DateTime<Utc> {
        self.covered_from.and_time(NaiveTime::MIN).and_utc()
    }

    /// The last second of the covered part.
    pub fn covered_to_instant(&self) -> DateTime<Utc> {
        let last_second = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
        self.covered_to.and_time(last_second).and_utc()
    }
}

/// The whole calendar period `index` of `unit`.
pub fn whole(unit: PeriodUnit, index: i64) -> Option<Span> {
    let start = start_of(unit, index)?;
    let end = start_of(unit, index + 1)?.checked_sub_days(Days::new(1))?;
    Some(Span {
        index,
        start,
        end,
        covered_from: start,
        covered_to: end,
    })
}

/// Every period of `unit` that meets the window, clipped to it.
pub fn spans(unit: PeriodUnit, window: &Window) -> Vec<Span> {
    (index_of(unit, window.from)..=index_of(unit, window.to))
        .filter_map(|index| whole(unit, index))
        .map(|span| Span {
            covered_from: span.start.max(window.from),
            covered_to: span.end.min(window.to),
            ..span
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn iso_weeks_are_clipped_to_the_window() {
        let window = Window::new(date(2025, 1, 1), date(2026, 6, 30)).unwrap_or_else(|_| unreachable!());
        let weeks = spans(PeriodUnit::Week, &window);
        assert_eq!(weeks.len(), 79);
        let first = weeks[0];
        assert_eq!((first.start, first.end), (date(2024, 12, 30), date(2025, 1, 5)));
        assert_eq!((first.days_covered(), first.partial()), (5, true));
        let last = weeks[78];
        assert_eq!(
            (last.start, last.days_covered(), last.partial()),
            (date(2026, 6, 29), 2, true)
        );
        assert!(!weeks[1].partial());
        let months = spans(PeriodUnit::Month, &window);
        assert_eq!(months.len(), 18);
        assert!(months.iter().all(|month| !month.partial()));
        assert_eq!(months[1].days(), 28);
    }
}
