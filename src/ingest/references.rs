//! Resolving `…ExternalId` references to internal ids, batch by batch:
//! one `IN (…)` query per referenced table and batch, cached for the rest
//! of the import because an external id never changes its row.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr};

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
    /// Looks up every key of `keys` not yet known.
    pub async fn load<'k>(
        &mut self,
        db: &impl ConnectionTrait,
        target: Target,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<(), DbErr> {
        let known = self.known.entry(target).or_default();
        let missing: Vec<String> = keys
            .into_iter()
            .filter(|key| !known.contains_key(*key))
            .collect::<HashSet<_>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
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
