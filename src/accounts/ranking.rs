//! Accounts in the order a rep acts on them — by health score or by the
//! last order — and only those below a health score when asked. Health
//! comes from the one formula of [`super::health`], computed for every
//! account the filter selects in two statements (the accounts, then
//! [`super::account_stats`] for all of them) and sorted here, so a list's
//! order and each account's `health` field never disagree. Accounts are
//! few beside customers (the large demo set has 2,000), so ranking them in
//! memory costs less than a second formula in SQL would.

use std::cmp::Ordering;

use chrono::NaiveDate;
use entity::account;
use sea_orm::{ConnectionTrait, QueryOrder, Select};
use serde::{Deserialize, Serialize};

use super::{account_stats, health};
use crate::db::keyset::Direction;
use crate::error::Error;

/// What accounts are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RankBy {
    ExternalId,
    Name,
    /// The health score as of the day.
    Health,
    /// The day of the last order; accounts without one come first in
    /// ascending order (the most dormant) and last in descending.
    LastOrderAt,
}

/// An account's place in a ranking: its sort value, then its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rank {
    pub key: RankKey,
    pub id: i64,
}

/// The sort value of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RankKey {
    Text(String),
    /// Held as its bits in a cursor: JSON's decimal form need not read
    /// back as the same float, and a page must start exactly after its row.
    Score(#[serde(with = "float_bits")] f64),
    Day(Option<i64>),
}

mod float_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        u64::deserialize(deserializer).map(f64::from_bits)
    }
}

impl RankKey {
    fn compare(&self, other: &RankKey) -> Ordering {
        match (self, other) {
            (RankKey::Text(a), RankKey::Text(b)) => a.cmp(b),
            (RankKey::Score(a), RankKey::Score(b)) => a.total_cmp(b),
            (RankKey::Day(a), RankKey::Day(b)) => a.cmp(b),
            // One ranking holds one kind of key; a cursor of another kind
            // is refused before it is compared.
            _ => Ordering::Equal,
        }
    }

    fn same_kind(&self, other: &RankKey) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

impl Rank {
    fn compare(&self, other: &Rank, direction: Direction) -> Ordering {
        let ordering = self.key.compare(&other.key).then(self.id.cmp(&other.id));
        match direction {
            Direction::Asc => ordering,
            Direction::Desc => ordering.reverse(),
        }
    }
}

/// One ranked account.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub account: account::Model,
    pub rank: Rank,
}

/// How to rank: by what, which way, below which health, as of which day.
#[derive(Debug, Clone, Copy)]
pub struct Ranking {
    pub by: RankBy,
    pub direction: Direction,
    pub health_below: Option<f64>,
    pub as_of: NaiveDate,
}

impl Ranking {
    /// Refuses a health bound outside 0–100.
    pub fn check(&self) -> Result<(), Error> {
        match self.health_below {
            Some(below) if !(0.0..=100.0).contains(&below) => Err(Error::validation(
                "filter.healthBelow",
                format!("{below} is not a health score: give 0 to 100"),
            )),
            _ => Ok(()),
        }
    }

    /// Every account `select` holds that passes the health bound, in order.
    pub async fn rank(&self, db: &impl ConnectionTrait, select: Select<account::Entity>) -> Result<Vec<Ranked>, Error> {
        self.check()?;
        let accounts = select.order_by_asc(account::Column::Id).all(db).await?;
        let needs_stats = self.health_below.is_some() || matches!(self.by, RankBy::Health | RankBy::LastOrderAt);
        let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
        let stats = if needs_stats {
            account_stats(db, &ids, self.as_of).await?
        } else {
            Default::default()
        };
        let mut ranked = Vec::with_capacity(accounts.len());
        for account in accounts {
            let of = stats.get(&account.id);
            // The currency only shapes the bases' wording, not the score.
            let score = of.map(|stats| health::health(stats, "").score);
            if let Some(below) = self.health_below
                && score.is_none_or(|score| score >= below)
            {
                continue;
            }
            let key = match self.by {
                RankBy::ExternalId => RankKey::Text(account.external_id.clone()),
                RankBy::Name => RankKey::Text(account.name.clone()),
                RankBy::Health => RankKey::Score(score.unwrap_or_default()),
                RankBy::LastOrderAt => RankKey::Day(of.and_then(|stats| stats.days_since_last_order).map(|days| -days)),
            };
            let id = account.id;
            ranked.push(Ranked {
                account,
                rank: Rank { key, id },
            });
        }
        ranked.sort_by(|a, b| a.rank.compare(&b.rank, self.direction));
        Ok(ranked)
    }

    /// Where the page after `cursor` starts in `ranked`.
    pub fn start_after(&self, ranked: &[Ranked], cursor: &Rank) -> Result<usize, Error> {
        if ranked
            .first()
            .is_some_and(|first| !first.rank.key.same_kind(&cursor.key))
        {
            return Err(crate::db::keyset::not_a_cursor("after"));
        }
        Ok(ranked.partition_point(|r| r.rank.compare(cursor, self.direction) != Ordering::Greater))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked(keys: &[(f64, i64)]) -> Vec<Ranked> {
        keys.iter()
            .map(|(score, id)| Ranked {
                account: account::Model {
                    id: *id,
                    external_id: format!("A{id}"),
                    name: String::new(),
                    kind: entity::enums::AccountKind::Retailer,
                    region: String::new(),
                    tier: entity::enums::AccountTier::Standard,
                    owner: String::new(),
                },
                rank: Rank {
                    key: RankKey::Score(*score),
                    id: *id,
                },
            })
            .collect()
    }

    #[test]
    fn a_page_starts_strictly_after_its_cursor_in_either_direction() {
        let ranking = |direction| Ranking {
            by: RankBy::Health,
            direction,
            health_below: None,
            as_of: NaiveDate::MIN,
        };
        let ascending = ranked(&[(10.0, 3), (20.0, 1), (20.0, 2), (30.0, 4)]);
        let cursor = Rank {
            key: RankKey::Score(20.0),
            id: 1,
        };
        assert_eq!(ranking(Direction::Asc).start_after(&ascending, &cursor).ok(), Some(2));
        let mut descending = ascending.clone();
        descending.reverse();
        assert_eq!(ranking(Direction::Desc).start_after(&descending, &cursor).ok(), Some(3));
        let foreign = Rank {
            key: RankKey::Text("A1".to_owned()),
            id: 1,
        };
        assert!(ranking(Direction::Asc).start_after(&ascending, &foreign).is_err());
    }

    #[test]
    fn a_health_bound_outside_the_score_range_is_refused() {
        for below in [-1.0, 100.5, f64::NAN] {
            let ranking = Ranking {
                by: RankBy::Health,
                direction: Direction::Asc,
                health_below: Some(below),
                as_of: NaiveDate::MIN,
            };
            assert!(ranking.check().is_err(), "{below}");
        }
    }
}
