//! Resolving `…ExternalId` references to internal ids, batch by batch:
//! one `IN (…)` query per referenced table and batch, cached for the rest
//! of the import because an external id never changes its row.

use std::collections::{HashMap, HashSet};

use futures::future::BoxFuture;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::sql::Sql;

/// A table that records refer to by external id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Account,
    Customer,
    Product,
    Campaign,
    Survey,
    ProductTest,
    Order,
    Touchpoint,
    Lead,
    SurveyResponse,
    ProductTestVote,
    BrandMention,
}

impl Target {
    fn table(self) -> &'static str {
        match self {
            Target::Account => "account",
            Target::Customer => "customer",
            Target::Product => "product",
            Target::Campaign => "campaign",
            Target::Survey => "survey",
            Target::ProductTest => "product_test",
            Target::Order => "orders",
            Target::Touchpoint => "touchpoint",
            Target::Lead => "lead",
            Target::SurveyResponse => "survey_response",
            Target::ProductTestVote => "product_test_vote",
            Target::BrandMention => "brand_mention",
        }
    }
}

/// Largest `IN (…)` list per statement; well under both backends' limits.
const LOOKUP_CHUNK: usize = 1000;

#[derive(Debug, Default)]
pub struct References {
    known: HashMap<Target, HashMap<String, i64>>,
}

impl References {
    /// Looks up every key of `keys` not yet known. The keys are read before
    /// the returned future starts, so it holds only owned strings (and
    /// stays `Send` whatever iterator the caller passes).
    pub fn load<'a, 'k>(
        &'a mut self,
        db: &'a impl ConnectionTrait,
        target: Target,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        let known = self.known.entry(target).or_default();
        let missing: Vec<String> = keys
            .into_iter()
            .filter(|key| !known.contains_key(*key))
            .collect::<HashSet<_>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
        Box::pin(Self::load_missing(db, known, target, missing))
    }

    /// The ids of `missing` keys of `target`, into `known`.
    async fn load_missing(
        db: &impl ConnectionTrait,
        known: &mut HashMap<String, i64>,
        target: Target,
        missing: Vec<String>,
    ) -> Result<(), DbErr> {
        if target == Target::Customer {
            return load_customers(db, known, missing).await;
        }
        for chunk in missing.chunks(LOOKUP_CHUNK) {
            let statement = Query::select()
                .column(Alias::new("id"))
                .column(Alias::new("external_id"))
                .from(Alias::new(target.table()))
                .and_where(Expr::col(Alias::new("external_id")).is_in(chunk.iter().cloned()))
                .to_owned();
            for row in db.query_all(&statement).await? {
                let id: i64 = row.try_get("", "id")?;
                let external_id: String = row.try_get("", "external_id")?;
                known.insert(external_id, id);
            }
        }
        Ok(())
    }

    /// Notes that `key` now refers to `id` (a record this run just wrote).
    pub fn remember(&mut self, target: Target, key: &str, id: i64) {
        self.known.entry(target).or_default().insert(key.to_owned(), id);
    }

    /// The id of a loaded key, or `None` when no such record exists.
    pub fn get(&self, target: Target, key: &str) -> Option<i64> {
        self.known.get(&target).and_then(|known| known.get(key)).copied()
    }

    /// The id `key` refers to, or an error naming `field` when there is none.
    pub fn require(&self, target: Target, field: &str, key: &str) -> Result<i64, super::records::FieldError> {
        self.get(target, key).ok_or_else(|| {
            super::records::FieldError::new(field, format!("refers to unknown {} {key:?}", target.table()))
        })
    }

    /// Like [`References::require`] for an optional reference.
    pub fn optional(
        &self,
        target: Target,
        field: &str,
        key: Option<&str>,
    ) -> Result<Option<i64>, super::records::FieldError> {
        key.map(|key| self.require(target, field, key)).transpose()
    }
}

/// Customers are found by their own external id, leading to the survivor
/// when they were merged, or by an external id that a record matched to
/// them under (see [`crate::identity`]).
async fn load_customers(
    db: &impl ConnectionTrait,
    known: &mut HashMap<String, i64>,
    missing: Vec<String>,
) -> Result<(), DbErr> {
    for chunk in missing.chunks(LOOKUP_CHUNK) {
        let mut sql = Sql::new(db.get_database_backend());
        sql.push("SELECT 0 AS alias, external_id AS key, COALESCE(merged_into_id, id) AS id FROM customer ")
            .push("WHERE external_id IN ")
            .bind_list(chunk.iter().cloned())
            .push(" UNION ALL SELECT 1 AS alias, i.source_id AS key, COALESCE(c.merged_into_id, c.id) AS id ")
            .push("FROM customer_identity i ")
            .push("JOIN customer c ON c.id = i.customer_id WHERE i.source = ")
            .bind(crate::identity::ALIAS_SOURCE)
            .push(" AND i.source_id IN ")
            .bind_list(chunk.iter().cloned())
            .push(" ORDER BY alias");
        for row in sql.all(db).await? {
            // A customer's own external id wins over another's alias.
            known.entry(row.try_get("", "key")?).or_insert(row.try_get("", "id")?);
        }
    }
    Ok(())
}
