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

    /// The earlier window a `compareTo` compares this one with:
    /// PREVIOUS_PERIOD is the window of equal length ending the day before
    /// `from`; PREVIOUS_YEAR is the same days one year earlier (29 February
    /// becomes the 28th).
    pub fn compared(self, compare_to: CompareTo) -> Window {
        match compare_to {
            CompareTo::PreviousPeriod => {
                let days = self.days();
                let to = self.from.pred_opt().unwrap_or(self.from);
                Window {
                    from: to.checked_sub_days(Days::new(days - 1)).unwrap_or(to),
                    to,
                }
            }
            CompareTo::PreviousYear => {
                let year_earlier = |day: NaiveDate| day.checked_sub_months(Months::new(12)).unwrap_or(day);
                Window {
                    from: year_earlier(self.from),
                    to: year_earlier(self.to),
                }
            }
        }
    }

    /// How many days the window has (at least 1).
    pub fn days(&self) -> u64 {
        self.to.signed_duration_since(self.from).num_days().unsigned_abs() + 1
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

    fn window(from: &str, to: &str) -> Window {
        Window {
            from: from.parse().unwrap_or_default(),
            to: to.parse().unwrap_or_default(),
        }
    }

    #[test]
    fn compared_windows_end_before_or_a_year_before() {
        let half_year = window("2026-01-01", "2026-06-30");
        assert_eq!(
            half_year.compared(CompareTo::PreviousPeriod),
            window("2025-07-04", "2025-12-31")
        );
        assert_eq!(half_year.compared(CompareTo::PreviousPeriod).days(), half_year.days());
        assert_eq!(
            half_year.compared(CompareTo::PreviousYear),
            window("2025-01-01", "2025-06-30")
        );
        let one_day = window("2024-03-01", "2024-03-01");
        assert_eq!(
            one_day.compared(CompareTo::PreviousPeriod),
            window("2024-02-29", "2024-02-29")
        );
        assert_eq!(
            window("2024-02-29", "2024-03-31").compared(CompareTo::PreviousYear),
            window("2023-02-28", "2023-03-31")
        );
    }
}
