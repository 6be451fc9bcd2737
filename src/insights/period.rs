//! Calendar periods as numbers: SQL groups by a period's index
//! ([`crate::db::sql::Sql::period_index`]) and these functions turn an
//! index back into the date the period starts on, and a date into its
//! index, with the same counting.

use chrono::{Datelike, Days, NaiveDate};

pub use crate::db::sql::PeriodUnit;

/// The Monday that week 0 starts on.
fn week_zero() -> NaiveDate {
    NaiveDate::from_ymd_opt(1969, 12, 29).unwrap_or_default()
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// The first day of period `index` of `unit`.
pub fn start_of(unit: PeriodUnit, index: i64) -> Option<NaiveDate> {
    let offset_days = |from: NaiveDate, days: i64| {
        if days >= 0 {
            from.checked_add_days(Days::new(days.unsigned_abs()))
        } else {
            from.checked_sub_days(Days::new(days.unsigned_abs()))
        }
    };
    match unit {
        PeriodUnit::Day => offset_days(epoch(), index),
        PeriodUnit::Week => offset_days(week_zero(), index.checked_mul(7)?),
        PeriodUnit::Month => {
            let year = i32::try_from(index.div_euclid(12)).ok()?;
            let month = u32::try_from(index.rem_euclid(12) + 1).ok()?;
            NaiveDate::from_ymd_opt(year, month, 1)
        }
        PeriodUnit::Quarter => {
            let year = i32::try_from(index.div_euclid(4)).ok()?;
            let month = u32::try_from(index.rem_euclid(4) * 3 + 1).ok()?;
            NaiveDate::from_ymd_opt(year, month, 1)
        }
        PeriodUnit::Year => NaiveDate::from_ymd_opt(i32::try_from(index).ok()?, 1, 1),
    }
}

/// The index of the period of `unit` that `date` falls in.
pub fn index_of(unit: PeriodUnit, date: NaiveDate) -> i64 {
    let days = (date - epoch()).num_days();
    let year = i64::from(date.year());
    let month = i64::from(date.month());
    match unit {
        PeriodUnit::Day => days,
        PeriodUnit::Week => (days + 3).div_euclid(7),
        PeriodUnit::Month => year * 12 + month - 1,
        PeriodUnit::Quarter => year * 4 + (month - 1) / 3,
        PeriodUnit::Year => year,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn index_and_start_agree_for_every_unit() {
        let units = [
            PeriodUnit::Day,
            PeriodUnit::Week,
            PeriodUnit::Month,
            PeriodUnit::Quarter,
            PeriodUnit::Year,
        ];
        for unit in units {
            for day in [
                date(2025, 1, 1),
                date(2025, 3, 31),
                date(2026, 6, 30),
                date(2024, 2, 29),
            ] {
                let index = index_of(unit, day);
                let start = start_of(unit, index).unwrap_or_default();
                assert!(start <= day, "{unit:?} {day}");
                assert_eq!(index_of(unit, start), index, "{unit:?} {day}");
                let next = start_of(unit, index + 1).unwrap_or_default();
                assert!(next > day, "{unit:?} {day}");
            }
        }
        assert_eq!(
            start_of(PeriodUnit::Week, index_of(PeriodUnit::Week, date(2026, 11, 27))),
            Some(date(2026, 11, 23))
        );
        assert_eq!(
            start_of(PeriodUnit::Quarter, index_of(PeriodUnit::Quarter, date(2025, 8, 15))),
            Some(date(2025, 7, 1))
        );
    }
}
