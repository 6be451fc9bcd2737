//! Which customer row each incoming customer record writes to.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbErr};

use super::{ALIAS_SOURCE, Incoming, email_key};
use crate::db::sql::Sql;

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
    fn target_of(&self, record: &impl Incoming) -> Option<&String> {
        self.by_external_id
            .get(record.external_id())
            .or_else(|| {
                self.by_identity
                    .get(&(ALIAS_SOURCE.to_owned(), record.external_id().to_owned()))
            })
            .or_else(|| {
                record
                    .identities()
                    .into_iter()
                    .find_map(|(source, source_id)| self.by_identity.get(&(source.to_owned(), source_id.to_owned())))
            })
            .or_else(|| self.by_email.get(&email_key(record.email())))
    }

    /// Makes what `record` is recognised by lead to `target` for the rest
    /// of the batch, without overriding what the database already knows.
    fn claim(&mut self, record: &impl Incoming, target: &str) {
        self.by_external_id
            .entry(record.external_id().to_owned())
            .or_insert_with(|| target.to_owned());
        for (source, source_id) in record.identities() {
            self.by_identity
                .entry((source.to_owned(), source_id.to_owned()))
                .or_insert_with(|| target.to_owned());
        }
        self.by_email
            .entry(email_key(record.email()))
            .or_insert_with(|| target.to_owned());
    }
}

/// For each of `records`, in order, the external id of the customer row it
/// writes: an existing customer it matches (see [`crate::identity`]), an
/// earlier record of the same batch it matches, or its own external id.
pub async fn canonical_keys<R: Incoming + Sync>(
    db: &impl ConnectionTrait,
    records: &[&R],
) -> Result<Vec<String>, DbErr> {
    let mut known = Known::default();
    let external_ids: Vec<String> = records.iter().map(|r| r.external_id().to_owned()).collect();
    let source_ids: Vec<String> = records
        .iter()
        .flat_map(|r| {
            r.identities()
                .into_iter()
                .map(|(_, source_id)| source_id.to_owned())
                .chain([r.external_id().to_owned()])
        })
        .collect();
    let email_keys: Vec<String> = records.iter().map(|r| email_key(r.email())).collect();

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
            .target_of(*record)
            .cloned()
            .unwrap_or_else(|| record.external_id().to_owned());
        known.claim(*record, &target);
        targets.push(target);
    }
    Ok(targets)
}

fn dedup(mut values: Vec<String>) -> Vec<String> {
    values.sort_unstable();
    values.dedup();
    values
}
