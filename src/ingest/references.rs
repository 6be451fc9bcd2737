//! Resolving `…ExternalId` references to internal ids, batch by batch:
//! one `IN (…)` query per referenced table and batch, cached for the rest
//! of the import because an external id never changes its row.

use std::collections::{HashMap, HashSet};

use futures::future::BoxFuture;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr};

use super::kinds::{EntityKind, Reference};
use super::records::FieldError;

/// Largest `IN (…)` list per statement; well under both backends' limits.
const LOOKUP_CHUNK: usize = 1000;

#[derive(Debug, Default)]
pub struct References {
    known: HashMap<EntityKind, HashMap<String, i64>>,
}

impl References {
    /// Looks up every key of `keys` not yet known. The keys are read before
    /// the returned future starts, so it holds only owned strings (and
    /// stays `Send` whatever iterator the caller passes).
    pub fn load<'a, 'k>(
        &'a mut self,
        db: &'a impl ConnectionTrait,
        target: EntityKind,
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
        target: EntityKind,
        missing: Vec<String>,
    ) -> Result<(), DbErr> {
        if target == EntityKind::Customers {
            // By external id or alias, leading to the survivor of a merge.
            known.extend(crate::identity::find::survivors(db, &missing).await?);
            return Ok(());
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

    /// Looks up every reference of `references` not yet known, one kind
    /// after another in dependency order (so the statements a batch makes
    /// do not depend on the order of its records).
    pub async fn load_all(&mut self, db: &impl ConnectionTrait, references: &[Reference<'_>]) -> Result<(), DbErr> {
        for &kind in EntityKind::ALL {
            let keys: Vec<&str> = references
                .iter()
                .filter(|reference| reference.kind == kind)
                .map(|reference| reference.key)
                .collect();
            if !keys.is_empty() {
                self.load(db, kind, keys).await?;
            }
        }
        Ok(())
    }

    /// Notes that `key` now refers to `id` (a record this run just wrote).
    pub fn remember(&mut self, target: EntityKind, key: &str, id: i64) {
        self.known.entry(target).or_default().insert(key.to_owned(), id);
    }

    /// The id of a loaded key, or `None` when no such record exists.
    pub fn get(&self, target: EntityKind, key: &str) -> Option<i64> {
        self.known.get(&target).and_then(|known| known.get(key)).copied()
    }

    /// The id `reference` resolves to, or an error naming its field when
    /// there is no such record.
    pub fn id(&self, reference: &Reference<'_>) -> Result<i64, FieldError> {
        self.get(reference.kind, reference.key).ok_or_else(|| {
            FieldError::new(
                reference.field.as_ref(),
                format!("refers to unknown {} {:?}", reference.kind.table(), reference.key),
            )
        })
    }

    /// Like [`References::id`] for an optional reference.
    pub fn id_if(&self, reference: Option<&Reference<'_>>) -> Result<Option<i64>, FieldError> {
        reference.map(|reference| self.id(reference)).transpose()
    }
}
