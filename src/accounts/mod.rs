//! Account context for sales tools: order statistics, the NPS of the
//! account's contacts, engagement, and the health score built from them.
//! [`account_stats`] reads all of it for many accounts in one statement,
//! so a list of accounts costs the same as one.

pub mod health;
pub mod ranking;

use std::collections::HashMap;

use chrono::{Days, NaiveDate, NaiveTime};
use sea_orm::ConnectionTrait;

use crate::db::sql::{Keys, Sql};
use crate::error::Error;
use crate::insights::stats::{NpsScore, nps};
use crate::read::links::{Owned, Owner, links};

/// Order count and value in a trailing window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderWindow {
    pub days: i64,
    pub orders: i64,
    pub value_minor: i64,
}

/// What sales needs to know about an account as of a day.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountStats {
    pub as_of: NaiveDate,
    /// Days from the last order (on or before `as_of`) to `as_of`.
    pub days_since_last_order: Option<i64>,
    /// The last 30, 90 and 365 days, `as_of` included.
    pub windows: [OrderWindow; 3],
    /// Order value in the 90 days before the last 90.
    pub previous_90_value_minor: i64,
    /// All scored survey responses of the account's contacts.
    pub nps: NpsScore,
    /// The account's touchpoints (recorded against it or made to its
    /// contacts, [`crate::read::links`]) in the last 30 days.
    pub touchpoints_30_days: i64,
}

pub const WINDOW_DAYS: [i64; 3] = [30, 90, 365];

/// Reads the stats of every account in `account_ids` in one statement.
pub async fn account_stats(
    db: &impl ConnectionTrait,
    account_ids: &[i64],
    as_of: NaiveDate,
) -> Result<HashMap<i64, AccountStats>, Error> {
    let mut stats = HashMap::new();
    if account_ids.is_empty() {
        return Ok(stats);
    }
    let end = as_of
        .checked_add_days(Days::new(1))
        .unwrap_or(as_of)
        .and_time(NaiveTime::MIN)
        .and_utc();
    let days_back = |days: i64| {
        as_of
            .checked_sub_days(Days::new(u64::try_from(days - 1).unwrap_or(0)))
            .unwrap_or(as_of)
            .and_time(NaiveTime::MIN)
            .and_utc()
    };
    // The account's orders are those of `links` (sold through it or placed
    // by a contact), aggregated once per account with conditional sums.
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT a.id AS account_id, ord.last_order_day AS last_order_day");
    for days in WINDOW_DAYS {
        sql.push(&format!(
            ", CAST(COALESCE(ord.orders_{days}, 0) AS BIGINT) AS orders_{days}, CAST(COALESCE(ord.value_{days}, 0) AS BIGINT) AS value_{days}"
        ));
    }
    sql.push(", CAST(COALESCE(ord.value_previous_90, 0) AS BIGINT) AS value_previous_90");
    for (name, condition) in [
        ("promoters", ">= 9"),
        ("passives", "BETWEEN 7 AND 8"),
        ("detractors", "<= 6"),
    ] {
        sql.push(&format!(
            ", (SELECT CAST(COUNT(*) AS BIGINT) FROM survey_response r JOIN customer c ON c.id = r.customer_id \
             WHERE c.account_id = a.id AND r.nps_score {condition} AND r.responded_at < "
        ));
        sql.bind(end).push(&format!(") AS {name}"));
    }
    sql.push(", CAST(COALESCE(touches.n, 0) AS BIGINT) AS touchpoints_30 FROM account a LEFT JOIN (SELECT link.link_parent AS account_id, COUNT(*) AS n FROM touchpoint t JOIN (");
    sql.push_query(&links(
        Owner::Account,
        Owned::Touchpoints,
        Keys::new(db.get_database_backend(), account_ids),
    ));
    sql.push(") link ON link.link_child = t.id WHERE t.occurred_at >= ")
        .bind(days_back(30))
        .push(" AND t.occurred_at < ")
        .bind(end)
        .push(" GROUP BY link.link_parent) touches ON touches.account_id = a.id LEFT JOIN (SELECT link.link_parent AS account_id, MAX(CASE WHEN o.ordered_at < ")
        .bind(end)
        .push(" THEN ");
    sql.day_index("o.ordered_at");
    sql.push(" END) AS last_order_day");
    let window = |sql: &mut Sql,
                  name: &str,
                  value: &str,
                  from: chrono::DateTime<chrono::Utc>,
                  before: chrono::DateTime<chrono::Utc>| {
        sql.push(" , SUM(CASE WHEN o.ordered_at >= ")
            .bind(from)
            .push(" AND o.ordered_at < ")
            .bind(before)
            .push(&format!(" THEN {value} ELSE 0 END) AS {name}"));
    };
    for days in WINDOW_DAYS {
        window(&mut sql, &format!("orders_{days}"), "1", days_back(days), end);
        window(
            &mut sql,
            &format!("value_{days}"),
            "o.amount_minor",
            days_back(days),
            end,
        );
    }
    window(
        &mut sql,
        "value_previous_90",
        "o.amount_minor",
        days_back(180),
        days_back(90),
    );
    sql.push(" FROM orders o JOIN (");
    sql.push_query(&links(
        Owner::Account,
        Owned::Orders,
        Keys::new(db.get_database_backend(), account_ids),
    ));
    sql.push(") link ON link.link_child = o.id GROUP BY link.link_parent) ord ON ord.account_id = a.id WHERE ")
        .key_in("a.id", Keys::new(db.get_database_backend(), account_ids));
    let as_of_day = crate::insights::period::index_of(crate::db::sql::PeriodUnit::Day, as_of);
    for row in sql.all(db).await? {
        let account_id: i64 = row.try_get("", "account_id")?;
        let last_order_day: Option<i64> = row.try_get("", "last_order_day")?;
        let mut windows = [OrderWindow::default(); 3];
        for (window, days) in windows.iter_mut().zip(WINDOW_DAYS) {
            *window = OrderWindow {
                days,
                orders: row.try_get("", &format!("orders_{days}"))?,
                value_minor: row.try_get("", &format!("value_{days}"))?,
            };
        }
        stats.insert(
            account_id,
            AccountStats {
                as_of,
                days_since_last_order: last_order_day.map(|day| as_of_day - day),
                windows,
                previous_90_value_minor: row.try_get("", "value_previous_90")?,
                nps: nps(
                    row.try_get("", "promoters")?,
                    row.try_get("", "passives")?,
                    row.try_get("", "detractors")?,
                ),
                touchpoints_30_days: row.try_get("", "touchpoints_30")?,
            },
        );
    }
    Ok(stats)
}

/// The `per_team` most recent touchpoints of each team, for every account
/// in `account_ids`, in one statement; most recent first.
pub async fn recent_touchpoints_by_team(
    db: &impl ConnectionTrait,
    account_ids: &[i64],
    per_team: u64,
) -> Result<HashMap<i64, Vec<entity::touchpoint::Model>>, Error> {
    use sea_orm::FromQueryResult;
    let mut by_account: HashMap<i64, Vec<entity::touchpoint::Model>> = HashMap::new();
    if account_ids.is_empty() || per_team == 0 {
        return Ok(by_account);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT * FROM (SELECT t.*, link.link_parent AS link_parent, ROW_NUMBER() OVER (PARTITION BY link.link_parent, t.team \
         ORDER BY t.occurred_at DESC, t.id DESC) AS team_rank FROM touchpoint t JOIN (",
    );
    sql.push_query(&links(
        Owner::Account,
        Owned::Touchpoints,
        Keys::new(db.get_database_backend(), account_ids),
    ));
    sql.push(") link ON link.link_child = t.id) ranked WHERE team_rank <= ")
        .bind(i64::try_from(per_team).unwrap_or(i64::MAX));
    sql.push(" ORDER BY link_parent, team, occurred_at DESC, id DESC");
    for row in sql.all(db).await? {
        let account: i64 = row.try_get("", "link_parent")?;
        let touchpoint = entity::touchpoint::Model::from_query_result(&row, "")?;
        by_account.entry(account).or_default().push(touchpoint);
    }
    Ok(by_account)
}
