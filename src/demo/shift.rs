//! Moving the demo data to a chosen last day. The generator draws every
//! date on a fixed calendar (2025-01-01 to 2026-06-30, [`super::random`]),
//! so that a seed gives the same records on every machine. To make the data
//! look alive — health, order stats and the default insight window showing
//! current activity — every instant and date is moved by the whole days
//! from the calendar's last day to the chosen one, after drawing. The data
//! is then deterministic for a seed *and* a last day. Brand mentions are
//! monthly, so their month starts move by whole months instead (the month
//! of the last day receives the calendar's last month).

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeDelta, Utc};

use super::random::DATA_END;
use crate::ingest::kinds::RecordBatch;

/// How far to move the calendar: whole days for instants and dates, whole
/// months for monthly periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    days: i64,
    months: i32,
}

impl Shift {
    /// The fixed calendar's last day.
    pub fn calendar_end() -> NaiveDate {
        DateTime::from_timestamp(DATA_END, 0).unwrap_or_default().date_naive()
    }

    /// The shift that makes `last_day` the data's last day.
    pub fn to_last_day(last_day: NaiveDate) -> Self {
        let end = Self::calendar_end();
        let month_index = |day: NaiveDate| day.year() * 12 + i32::try_from(day.month0()).unwrap_or_default();
        Self {
            days: (last_day - end).num_days(),
            months: month_index(last_day) - month_index(end),
        }
    }

    fn instant(self, at: &mut DateTime<Utc>) {
        *at = at.checked_add_signed(TimeDelta::days(self.days)).unwrap_or(*at);
    }

    fn optional(self, at: &mut Option<DateTime<Utc>>) {
        if let Some(at) = at {
            self.instant(at);
        }
    }

    fn day(self, day: &mut NaiveDate) {
        let magnitude = Days::new(self.days.unsigned_abs());
        let moved = if self.days >= 0 {
            day.checked_add_days(magnitude)
        } else {
            day.checked_sub_days(magnitude)
        };
        *day = moved.unwrap_or(*day);
    }

    fn month(self, day: &mut NaiveDate) {
        let magnitude = Months::new(self.months.unsigned_abs());
        let moved = if self.months >= 0 {
            day.checked_add_months(magnitude)
        } else {
            day.checked_sub_months(magnitude)
        };
        *day = moved.unwrap_or(*day);
    }

    /// Moves every date of `batch`'s records.
    pub fn apply(self, batch: &mut RecordBatch) {
        if self.days == 0 && self.months == 0 {
            return;
        }
        match batch {
            RecordBatch::Accounts(_) | RecordBatch::Surveys(_) | RecordBatch::ProductTestVotes(_) => {}
            RecordBatch::Customers(records) => records
                .iter_mut()
                .for_each(|r| self.instant(&mut r.record.first_seen_at)),
            RecordBatch::Products(records) => records.iter_mut().for_each(|r| self.instant(&mut r.record.launched_at)),
            RecordBatch::Campaigns(records) => records.iter_mut().for_each(|r| {
                self.day(&mut r.record.starts_on);
                self.day(&mut r.record.ends_on);
            }),
            RecordBatch::Orders(records) => records.iter_mut().for_each(|r| self.instant(&mut r.record.ordered_at)),
            RecordBatch::Touchpoints(records) => {
                records.iter_mut().for_each(|r| self.instant(&mut r.record.occurred_at))
            }
            RecordBatch::Leads(records) => records.iter_mut().for_each(|r| {
                let lead = &mut r.record;
                self.instant(&mut lead.created_at);
                for at in [
                    &mut lead.mql_at,
                    &mut lead.sql_at,
                    &mut lead.opportunity_at,
                    &mut lead.closed_at,
                ] {
                    self.optional(at);
                }
            }),
            RecordBatch::SurveyResponses(records) => records
                .iter_mut()
                .for_each(|r| self.instant(&mut r.record.responded_at)),
            RecordBatch::ProductTests(records) => {
                records.iter_mut().for_each(|r| self.instant(&mut r.record.tested_at))
            }
            RecordBatch::BrandMentions(records) => {
                records.iter_mut().for_each(|r| self.month(&mut r.record.period_start))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn the_calendar_end_moves_onto_the_last_day_and_months_stay_month_starts() {
        let shift = Shift::to_last_day(day("2026-12-02"));
        let mut end = DateTime::from_timestamp(DATA_END, 0).unwrap_or_default();
        shift.instant(&mut end);
        assert_eq!(end.to_rfc3339(), "2026-12-02T23:59:59+00:00");
        let mut month = day("2026-06-01");
        shift.month(&mut month);
        assert_eq!(month, day("2026-12-01"));
        let mut earlier = day("2025-01-01");
        Shift::to_last_day(day("2026-03-15")).month(&mut earlier);
        assert_eq!(earlier, day("2024-10-01"));
        assert_eq!(Shift::to_last_day(Shift::calendar_end()), Shift { days: 0, months: 0 });
    }
}
