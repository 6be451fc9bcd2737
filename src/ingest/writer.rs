//! The one write path of ingest: the [`Ingestor`] validates each record,
//! resolves its references, and has its kind write the batch (see
//! [`super::rows`]) in a transaction, then announces what was written.
//! Every caller (file import, bulk HTTP, the GraphQL upserts, the demo
//! generator) goes through it, so all get the same checks.

use std::collections::{HashMap, HashSet};

use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::kinds::{BatchVisitor, EntityKind, Kind, Numbered, RecordBatch, RecordSink, Reference, WrittenRow};
use super::records::{FieldError, check_values};
use super::references::References;
use super::upsert::KEYS_PER_LOOKUP;
use crate::db::sql::Sql;
use crate::error::Error;
use crate::events::{Event, EventBus};

/// How much of an import one transaction covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atomicity {
    /// Each batch commits on its own; bad records are skipped and reported.
    PerBatch,
    /// Everything commits together, and nothing at all when any record is bad.
    AllOrNothing,
}

/// A record that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub kind: EntityKind,
    pub line: u64,
    pub external_id: Option<String>,
    pub error: FieldError,
}

impl Rejection {
    /// The refusal of a parsed record.
    pub fn of<R: Kind>(numbered: &Numbered<R>, error: FieldError) -> Self {
        Self {
            kind: R::KIND,
            line: numbered.line,
            external_id: Some(numbered.record.external_id().to_owned()),
            error,
        }
    }
}

/// What an ingest run did.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    /// Records written (inserted or updated), per kind.
    pub written: HashMap<EntityKind, u64>,
    pub rejected: Vec<Rejection>,
    /// False when an all-or-nothing run was rolled back.
    pub committed: bool,
}

impl IngestReport {
    pub fn written(&self, kind: EntityKind) -> u64 {
        self.written.get(&kind).copied().unwrap_or(0)
    }
}

pub struct Ingestor {
    db: DatabaseConnection,
    atomicity: Atomicity,
    /// The open transaction of an all-or-nothing run, from its first batch on.
    transaction: Option<DatabaseTransaction>,
    currency: String,
    references: References,
    report: IngestReport,
    /// Where change events go, when anyone may be listening.
    events: Option<EventBus>,
    /// Events of the open all-or-nothing transaction, sent when it commits.
    pending: Vec<Event>,
    /// Set when the input could not be read to its end: an all-or-nothing
    /// run then commits nothing, whatever was accepted before.
    incomplete: bool,
}

impl Ingestor {
    /// An all-or-nothing run opens its transaction at its first batch, not
    /// here: on SQLite a write transaction locks out every other writer, so
    /// an upload that is slow to send its first batch must not hold it.
    pub async fn begin(db: DatabaseConnection, atomicity: Atomicity, currency: &str) -> Result<Self, Error> {
        Ok(Self {
            db,
            atomicity,
            transaction: None,
            currency: currency.to_owned(),
            references: References::default(),
            report: IngestReport::default(),
            events: None,
            pending: Vec::new(),
            incomplete: false,
        })
    }

    /// Publishes a change event for every order and touchpoint written.
    pub fn with_events(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }

    /// The rejections so far.
    pub fn rejected(&self) -> &[Rejection] {
        &self.report.rejected
    }

    /// Records refusals found before the writer saw the records (lines that
    /// did not parse). They count like any other: an all-or-nothing run
    /// with any of them writes nothing.
    pub fn reject(&mut self, rejections: Vec<Rejection>) {
        self.report.rejected.extend(rejections);
    }

    /// Notes that the input ended before its end (a read failed, the client
    /// went away): an all-or-nothing run will roll back.
    pub fn abandon(&mut self) {
        self.incomplete = true;
    }

    /// Writes one batch: its good records are upserted, its bad ones reported.
    pub async fn write_batch(&mut self, batch: RecordBatch) -> Result<(), Error> {
        let kind = batch.kind();
        // A per-batch run opens its own transaction; an all-or-nothing run
        // lends its open one (opened by its first batch), which goes back
        // whatever the outcome.
        let per_batch = self.atomicity == Atomicity::PerBatch;
        let transaction = match self.transaction.take() {
            Some(open) => open,
            None => crate::db::begin_write(&self.db).await?,
        };
        let outcome = batch
            .visit(WriteBatch {
                db: &transaction,
                references: &mut self.references,
                currency: &self.currency,
                rejected: &mut self.report.rejected,
                events: self.events.as_ref(),
            })
            .await;
        let (written, events) = if per_batch {
            let (written, events) = outcome?;
            crate::db::data_version::advance(&transaction).await?;
            transaction.commit().await?;
            if let Some(bus) = &self.events {
                bus.committed(events);
            }
            (written, Vec::new())
        } else {
            self.transaction = Some(transaction);
            outcome?
        };
        self.pending.extend(events);
        *self.report.written.entry(kind).or_default() += written;
        Ok(())
    }

    /// Ends the run: an all-or-nothing run commits only when nothing was
    /// rejected and the input was read to its end.
    pub async fn finish(mut self) -> Result<IngestReport, Error> {
        let accepted = self.report.rejected.is_empty() && !self.incomplete;
        self.report.committed = match self.transaction.take() {
            // A per-batch run has committed each batch; an all-or-nothing
            // run that wrote no batch has nothing to commit.
            None => self.atomicity == Atomicity::PerBatch || accepted,
            Some(transaction) if accepted => {
                crate::db::data_version::advance(&transaction).await?;
                transaction.commit().await?;
                if let Some(bus) = &self.events {
                    bus.committed(std::mem::take(&mut self.pending));
                }
                true
            }
            Some(transaction) => {
                transaction.rollback().await?;
                self.report.written.clear();
                false
            }
        };
        Ok(self.report)
    }
}

impl RecordSink for Ingestor {
    async fn write(&mut self, batch: RecordBatch) -> Result<(), Error> {
        self.write_batch(batch).await
    }
}

/// One batch through its kind's write, in `db`: returns how many records
/// were written and the events staged for them.
struct WriteBatch<'a> {
    db: &'a DatabaseTransaction,
    references: &'a mut References,
    currency: &'a str,
    rejected: &'a mut Vec<Rejection>,
    events: Option<&'a EventBus>,
}

impl<'a> BatchVisitor for WriteBatch<'a> {
    type Output = futures::future::BoxFuture<'a, Result<(u64, Vec<Event>), Error>>;

    fn visit<R: Kind>(self, records: Vec<Numbered<R>>) -> Self::Output {
        Box::pin(write_kind(self, records))
    }
}

async fn write_kind<R: Kind>(batch: WriteBatch<'_>, records: Vec<Numbered<R>>) -> Result<(u64, Vec<Event>), Error> {
    let WriteBatch {
        db,
        references,
        currency,
        rejected,
        events,
    } = batch;
    // Checks that need no database come first, so that nothing a database
    // would refuse (a NUL byte, say) ever reaches a statement.
    let mut valid = Vec::with_capacity(records.len());
    for numbered in last_per_external_id(records) {
        match check_values(&numbered.record).and_then(|()| numbered.record.validate(currency)) {
            Ok(()) => valid.push(numbered),
            Err(error) => rejected.push(Rejection::of(&numbered, error)),
        }
    }
    let records = R::screen(db, valid, rejected).await?;
    let wanted: Vec<Reference<'_>> = records.iter().flat_map(|n| n.record.references()).collect();
    references.load_all(db, &wanted).await?;
    drop(wanted);
    let mut accepted = Vec::with_capacity(records.len());
    for numbered in records {
        match numbered.record.row(references) {
            Ok(row) => accepted.push((numbered, row)),
            Err(error) => rejected.push(Rejection::of(&numbered, error)),
        }
    }
    let written = u64::try_from(accepted.len()).unwrap_or(u64::MAX);
    let announced: Vec<String> = if events.is_some() && R::ANNOUNCED {
        accepted
            .iter()
            .map(|(n, _)| n.record.external_id().to_owned())
            .collect()
    } else {
        Vec::new()
    };
    R::write_rows(db, references, accepted).await?;
    let staged = match events {
        Some(bus) => stage_events::<R>(db, bus, &announced).await?,
        None => Vec::new(),
    };
    Ok((written, staged))
}

/// Keeps the last record of each external id: a later line supersedes an
/// earlier one, as a second import would (keeping what
/// [`Kind::absorb_earlier`] keeps). (PostgreSQL also refuses to
/// upsert one row twice in a statement.)
fn last_per_external_id<R: Kind>(records: Vec<Numbered<R>>) -> Vec<Numbered<R>> {
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<Option<Numbered<R>>> = Vec::with_capacity(records.len());
    for mut record in records {
        let key = record.record.external_id().to_owned();
        if let Some(previous) = position.insert(key, kept.len())
            && let Some(earlier) = kept[previous].take()
        {
            record.record.absorb_earlier(earlier.record);
        }
        kept.push(Some(record));
    }
    kept.into_iter().flatten().collect()
}

/// Stages the events of the written rows among `keys` in the writing
/// transaction, so that they leave at its commit.
async fn stage_events<R: Kind>(db: &DatabaseTransaction, bus: &EventBus, keys: &[String]) -> Result<Vec<Event>, Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let unique: HashSet<&String> = keys.iter().collect();
    let keys: Vec<&String> = unique.into_iter().collect();
    let mut events = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        let mut sql = Sql::new(sea_orm::ConnectionTrait::get_database_backend(db));
        sql.push("SELECT id, customer_id, account_id FROM ")
            .push(R::KIND.table())
            .push(" WHERE external_id IN ")
            .bind_list(chunk.iter().map(|key| (*key).clone()))
            .push(" ORDER BY id");
        for row in sql.all(db).await? {
            let written = WrittenRow {
                id: row.try_get("", "id")?,
                customer_id: row.try_get("", "customer_id")?,
                account_id: row.try_get("", "account_id")?,
            };
            events.extend(R::announce(written));
        }
    }
    bus.stage(db, &events).await?;
    Ok(events)
}
