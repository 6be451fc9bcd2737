//! The filters every insight shares: a window of days, region, channel
//! and account. Each metric applies them to its own rows as its docs say.

use chrono::{DateTime, Days, Months, NaiveDate, NaiveTime, Utc};
use entity::enums::OrderChannel;

use super::Definition;
use super::nps::CompareTo;
use crate::db::sql::Sql;
use crate::error::Error;

/// The days an insight looks at, `from` ≤ day ≤ `to` in UTC. `to` is also
/// the "as of" date of metrics that need one (churn, RFM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, Error> {
        if from > to {
            return Err(Error::validation(
                "filter.from",
                format!("{from} is after filter.to ({to}): the window is empty"),
            ));
        }
        Ok(Self { from, to })
    }

    /// The 365 days ending on `to`: the default window of insights.
    pub fn year_ending(to: NaiveDate) -> Self {
        Self {
            from: to.checked_sub_days(Days::new(364)).unwrap_or(to),
            to,
        }
    }

    /// The window a whole-window insight is compared with (`compareTo`):
    /// PREVIOUS_PERIOD is the window of as many days ending the day before
    /// `from`; PREVIOUS_YEAR is the window with both ends one calendar year
    /// earlier, a 29 February becoming the 28th. The one definition of the
    /// compared window (the API's `CompareTo` says it in words).
    pub fn compared(&self, compare: CompareTo) -> Result<Self, Error> {
        let shifted = match compare {
            CompareTo::PreviousPeriod => {
                let days = Days::new(self.days());
                self.from.checked_sub_days(days).zip(self.from.pred_opt())
            }
            CompareTo::PreviousYear => {
                let year = Months::new(12);
                self.from.checked_sub_months(year).zip(self.to.checked_sub_months(year))
            }
        };
        let (from, to) = shifted.ok_or_else(|| {
            Error::validation(
                "compareTo",
                format!("the window before {} is outside the calendar", self.from),
            )
        })?;
        Self::new(from, to)
    }

    /// How many days the window has (at least 1).
    pub fn days(&self) -> u64 {
        (self.to - self.from).num_days().unsigned_abs() + 1
    }

    /// The first instant of the window.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(NaiveTime::MIN).and_utc()
    }

    /// The first instant after the window.
    pub fn end(&self) -> DateTime<Utc> {
        self.to
            .checked_add_days(Days::new(1))
            .unwrap_or(self.to)
            .and_time(NaiveTime::MIN)
            .and_utc()
    }
}

/// Which of the scope's filters a metric's rows take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Orders ([`Scope::orders_filters`]): every filter.
    Orders,
    /// Survey responses ([`Scope::response_filters`]) and leads (account
    /// and [`Scope::customer_filters`]): every filter but the order channel.
    People,
    /// Rows only the window selects (product tests, brand mentions).
    WindowOnly,
}

/// Filters shared by every insight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub window: Window,
    /// The customer's region (a survey response's own region for survey metrics).
    pub region: Option<String>,
    /// The order channel (order metrics).
    pub channel: Option<OrderChannel>,
    /// The customer's acquisition channel (customer and survey metrics).
    pub acquisition_channel: Option<String>,
    /// Orders sold through or to this account; respondents who are its contacts.
    pub account_id: Option<i64>,
    /// Customers in this segment as of its last refresh.
    pub segment_id: Option<i64>,
}

impl Scope {
    pub fn new(window: Window) -> Self {
        Self {
            window,
            region: None,
            channel: None,
            acquisition_channel: None,
            segment_id: None,
            account_id: None,
        }
    }

    /// The same filters over the compared window ([`Window::compared`]).
    pub fn compared(&self, compare: CompareTo) -> Result<Self, Error> {
        Ok(Self {
            window: self.window.compared(compare)?,
            ..self.clone()
        })
    }

    /// Writes the window and the filters that `rows` take into a
    /// definition: a filter the metric's rows do not take is not listed,
    /// since it did not change the number.
    pub fn describe(&self, rows: Rows, mut definition: Definition) -> Definition {
        definition = definition.with("from", self.window.from).with("to", self.window.to);
        if rows == Rows::WindowOnly {
            return definition;
        }
        if let Some(region) = &self.region {
            definition = definition.with("region", region);
        }
        if let Some(channel) = self.channel.filter(|_| rows == Rows::Orders) {
            definition = definition.with_enum("channel", channel);
        }
        if let Some(channel) = &self.acquisition_channel {
            definition = definition.with("acquisitionChannel", channel);
        }
        if let Some(account) = self.account_id {
            definition = definition.with_id("account", "Account", account);
        }
        if let Some(segment) = self.segment_id {
            definition = definition.with_id("segment", "Segment", segment);
        }
        definition
    }

    /// Appends the conditions that select the scope's orders (alias `o`),
    /// inside the window.
    pub fn orders_where(&self, sql: &mut Sql) {
        sql.push("o.ordered_at >= ").bind(self.window.start());
        sql.push(" AND o.ordered_at < ").bind(self.window.end());
        self.orders_filters(sql);
    }

    /// Like [`Scope::orders_where`] for every order up to the end of the
    /// window (metrics "as of" its last day).
    pub fn orders_until_end(&self, sql: &mut Sql) {
        sql.push("o.ordered_at < ").bind(self.window.end());
        self.orders_filters(sql);
    }

    /// The scope's conditions on orders (alias `o`) other than time, each
    /// starting with ` AND`.
    pub fn orders_filters(&self, sql: &mut Sql) {
        if let Some(channel) = self.channel {
            sql.push(" AND o.channel = ").bind(channel.as_str());
        }
        if let Some(account) = self.account_id {
            sql.push(" AND o.account_id = ").bind(account);
        }
        self.customer_filters(sql, "o.customer_id");
    }

    /// Keeps customers who are members of the scope's segment.
    fn segment_filter(&self, sql: &mut Sql, customer_column: &str) {
        if let Some(segment) = self.segment_id {
            sql.push(" AND ").push(customer_column);
            sql.push(" IN (SELECT customer_id FROM segment_member WHERE segment_id = ")
                .bind(segment)
                .push(")");
        }
    }

    /// Conditions on survey responses (alias `r`) other than time: the
    /// response's own region, and its respondent's acquisition channel
    /// and account.
    pub fn response_filters(&self, sql: &mut Sql) {
        self.segment_filter(sql, "r.customer_id");
        if let Some(region) = &self.region {
            sql.push(" AND r.region = ").bind(region.clone());
        }
        if self.acquisition_channel.is_some() || self.account_id.is_some() {
            sql.push(" AND r.customer_id IN (SELECT id FROM customer WHERE 1 = 1");
            if let Some(channel) = &self.acquisition_channel {
                sql.push(" AND acquisition_channel = ").bind(channel.clone());
            }
            if let Some(account) = self.account_id {
                sql.push(" AND account_id = ").bind(account);
            }
            sql.push(")");
        }
    }

    /// Conditions on the customer whose id is in `customer_column`.
    pub fn customer_filters(&self, sql: &mut Sql, customer_column: &str) {
        self.segment_filter(sql, customer_column);
        if self.region.is_none() && self.acquisition_channel.is_none() {
            return;
        }
        sql.push(" AND ")
            .push(customer_column)
            .push(" IN (SELECT id FROM customer WHERE 1 = 1");
        if let Some(region) = &self.region {
            sql.push(" AND region = ").bind(region.clone());
        }
        if let Some(channel) = &self.acquisition_channel {
            sql.push(" AND acquisition_channel = ").bind(channel.clone());
        }
        sql.push(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(from: (i32, u32, u32), to: (i32, u32, u32)) -> Window {
        let date = |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        Window {
            from: date(from),
            to: date(to),
        }
    }

    #[test]
    fn the_previous_period_has_as_many_days_and_ends_the_day_before() {
        let compared = window((2025, 10, 1), (2026, 6, 30)).compared(CompareTo::PreviousPeriod);
        assert_eq!(compared.ok(), Some(window((2025, 1, 1), (2025, 9, 30))));
        let one_day = window((2025, 3, 1), (2025, 3, 1)).compared(CompareTo::PreviousPeriod);
        assert_eq!(one_day.ok(), Some(window((2025, 2, 28), (2025, 2, 28))));
    }

    #[test]
    fn the_previous_year_shifts_by_the_calendar_and_clamps_29_february() {
        let compared = window((2024, 2, 29), (2025, 2, 28)).compared(CompareTo::PreviousYear);
        assert_eq!(compared.ok(), Some(window((2023, 2, 28), (2024, 2, 28))));
        let compared = window((2025, 1, 1), (2025, 6, 30)).compared(CompareTo::PreviousYear);
        assert_eq!(compared.ok(), Some(window((2024, 1, 1), (2024, 6, 30))));
    }

    #[test]
    fn a_window_at_the_start_of_the_calendar_has_no_previous_one() {
        let first = Window {
            from: NaiveDate::MIN,
            to: NaiveDate::MIN,
        };
        assert!(first.compared(CompareTo::PreviousPeriod).is_err());
        assert!(first.compared(CompareTo::PreviousYear).is_err());
    }
}
