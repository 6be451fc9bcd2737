//! Which customer row each incoming customer record writes to.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr};

use super::{ALIAS_SOURCE, email_key};
use crate::db::sql::Sql;
use crate::ingest::records::CustomerRecord;

/// Largest `IN (…)` list per statement; well under both backends' limits.
const CHUNK: usize = 1000;

/// What a record can be recognised by, in the order of precedence.
#[derive(Default)]
struct Known {
    /// A customer's own external id → the external id of the row that
    /// holds it now (the survivor, for a merged customer).
    by_external_id: HashMap<String, String>,
    /// (source, source id) → the external id of its customer.
    by_identity: HashMap<(String, String), String>,
    /// Normalised email → the external id of the oldest live customer with it.
    by_email: HashMap<String, String>,
}

impl Known {
    fn target_of(&self, record: &CustomerRecord) -> Option<&String> {
        self.by_external_id
            .get(&record.external_id)
            .or_else(|| {
                self.by_identity
                    .get(&(ALIAS_SOURCE.to_owned(), record.external_id.clone()))
            })
            .or_else(|| {
                record.identities.iter().find_map(|identity| {
                    self.by_identity
                        .get(&(identity.source.clone(), identity.source_id.clone()))
                })
            })
            .or_else(|| self.by_email.get(&email_key(&record.email)))
    }

    /// Makes what `record` is recognised by lead to `target` for the rest
    /// of the batch, without overriding what the database already knows.
    fn claim(&mut self, record: &CustomerRecord, target: &str) {
        self.by_external_id
            .entry(record.external_id.clone())
            .or_insert_with(|| target.to_owned());
        for identity in &record.identities {
            self.by_identity
                .entry((identity.source.clone(), identity.source_id.clone()))
                .or_insert_with(|| target.to_owned());
        }
        self.by_email
            .entry(email_key(&record.email))
            .or_insert_with(|| target.to_owned());
    }
}

/// For each of `records`, in order, the external id of the customer row it
/// writes: an existing customer it matches (see [`crate::identity`]), an
/// earlier record of the same batch it matches, or its own external id.
pub async fn canonical_keys(db: &impl ConnectionTrait, records: &[&CustomerRecord]) -> Result<Vec<String>, DbErr> {
    let mut known = Known::default();
    let external_ids: Vec<String> = records.iter().map(|r| r.external_id.clone()).collect();
    let source_ids: Vec<String> = records
        .iter()
        .flat_map(|r| {
            r.identities
                .iter()
                .map(|identity| identity.source_id.clone())
                .chain([r.external_id.clone()])
        })
        .collect();
    let email_keys: Vec<String> = records.iter().map(|r| email_key(&r.email)).collect();

    for chunk in dedup(external_ids).chunks(CHUNK) {
        let mut sql = Sql::new(db.get_database_backend());
        sql.push(
            "SELECT c.external_id AS key, COALESCE(s.external_id, c.external_id) AS target \
             FROM customer c LEFT JOIN customer s ON s.id = c.merged_into_id WHERE c.external_id IN ",
        )
        .bind_list(chunk.iter().cloned());
        for row in sql.all(db).await? {
            known
                .by_external_id
                .insert(row.try_get("", "key")?, row.try_get("", "target")?);
        }
    }
    for chunk in dedup(source_ids).chunks(CHUNK) {
        let mut sql = Sql::new(db.get_database_backend());
        sql.push(
            "SELECT i.source, i.source_id, COALESCE(s.external_id, c.external_id) AS target \
             FROM customer_identity i JOIN customer c ON c.id = i.customer_id \
             LEFT JOIN customer s ON s.id = c.merged_into_id WHERE i.source_id IN ",
        )
        .bind_list(chunk.iter().cloned());
        for row in sql.all(db).await? {
            known.by_identity.insert(
                (row.try_get("", "source")?, row.try_get("", "source_id")?),
                row.try_get("", "target")?,
            );
        }
    }
    for chunk in dedup(email_keys).chunks(CHUNK) {
        let mut sql = Sql::new(db.get_database_backend());
        sql.push("SELECT email_key, external_id FROM customer WHERE merged_into_id IS NULL AND email_key IN ")
            .bind_list(chunk.iter().cloned())
            .push(" ORDER BY id");
        for row in sql.all(db).await? {
            // The oldest customer with the email wins; later rows with the
            // same email predate identity resolution or were sent apart.
            known
                .by_email
                .entry(row.try_get("", "email_key")?)
                .or_insert(row.try_get("", "external_id")?);
        }
    }

    let mut targets = Vec::with_capacity(records.len());
    for record in records {
        let target = known
            .target_of(record)
            .cloned()
            .unwrap_or_else(|| record.external_id.clone());
        known.claim(record, &target);
        targets.push(target);
    }
    Ok(targets)
}

fn dedup(mut values: Vec<String>) -> Vec<String> {
    values.sort_unstable();
    values.dedup();
    values
}
