//! Mixed batches: records of any kinds, in any order, written together in
//! one all-or-nothing transaction, with one outcome per record in input
//! order. This is what the GraphQL upserts and `ingest(batch:)` call; it
//! adds no checks of its own; each record goes through the [`Ingestor`]
//! like an imported line, and a record's position in the input stands in
//! for its line number.

use std::collections::{BTreeMap, HashMap};

use sea_orm::DatabaseConnection;

use super::kinds::{AnyRecord, EntityKind, Kind, KindVisitor, Numbered, RecordBatch};
use super::records::*;
use super::references::References;
use super::writer::{Atomicity, Ingestor, Rejection};
use crate::error::Error;
use crate::events::EventBus;

/// The most records one mixed batch may hold: enough for a sync run of a
/// source system, small enough that one transaction stays short.
pub const MAX_MIXED_RECORDS: usize = 10_000;

/// A record the caller could not turn into an [`AnyRecord`] (its input did
/// not fit the record type). It is refused like any other bad record, so
/// the batch it is in writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableRecord {
    pub kind: EntityKind,
    pub external_id: String,
    pub error: FieldError,
}

/// What became of one record of a mixed batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Inserted or updated; `id` is the row that now holds it. It is `None`
    /// only if the row could not be found again after the commit (it was
    /// deleted in between).
    Written { id: Option<i64> },
    /// Refused, with the field at fault and the reason.
    Rejected(FieldError),
    /// Valid, but not written because another record refused the batch.
    NotWritten,
}

/// The outcome of the record at `index` (0-based) of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome {
    pub index: usize,
    pub kind: EntityKind,
    pub external_id: String,
    pub outcome: Outcome,
}

impl RecordOutcome {
    /// The id of a written record; the refusal of a rejected one as a
    /// validation error naming `argument.field`.
    pub fn into_id(self, argument: &str) -> Result<i64, Error> {
        match self.outcome {
            Outcome::Written { id: Some(id) } => Ok(id),
            Outcome::Written { id: None } => Err(Error::Internal(format!(
                "{} {:?} was written but is gone",
                self.kind, self.external_id
            ))),
            Outcome::Rejected(error) => Err(Error::validation(format!("{argument}.{}", error.field), error.message)),
            Outcome::NotWritten => Err(Error::Internal(format!(
                "{} {:?} was not written and not refused",
                self.kind, self.external_id
            ))),
        }
    }
}

/// What a mixed batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixedReport {
    /// False when any record was refused: then nothing was written.
    pub committed: bool,
    /// One outcome per input record, in input order.
    pub outcomes: Vec<RecordOutcome>,
}

impl MixedReport {
    /// The ids of the written rows per kind (each row once), in dependency
    /// order: what change events will announce after the commit.
    pub fn written_ids(&self) -> BTreeMap<EntityKind, Vec<i64>> {
        let mut written: BTreeMap<EntityKind, Vec<i64>> = BTreeMap::new();
        for outcome in &self.outcomes {
            if let Outcome::Written { id: Some(id) } = outcome.outcome {
                let ids = written.entry(outcome.kind).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        written
    }

    /// How many records ended with an outcome like `outcome` (the id of a
    /// written one does not matter).
    pub fn count(&self, matches: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|outcome| matches(&outcome.outcome)).count()
    }
}

/// Refuses a batch of more than [`MAX_MIXED_RECORDS`] records. Callers
/// may check before they build the records; [`write_mixed`] checks again.
pub fn check_batch_size(count: usize) -> Result<(), Error> {
    if count > MAX_MIXED_RECORDS {
        return Err(Error::LimitExceeded(format!(
            "a batch holds at most {MAX_MIXED_RECORDS} records; this one has {count}"
        )));
    }
    Ok(())
}

/// Writes `records` in one transaction: all of them, or, when any is
/// refused, none. Records are grouped by kind and written in dependency
/// order, so a record may refer to another of the same batch whatever
/// their order in the input. Within one kind, a later record with the same
/// external id supersedes an earlier one (both report the row's id).
///
/// More than [`MAX_MIXED_RECORDS`] records is [`Error::LimitExceeded`],
/// before anything is read or written.
pub async fn write_mixed(
    db: &DatabaseConnection,
    records: Vec<Result<AnyRecord, UnreadableRecord>>,
    currency: &str,
    events: Option<EventBus>,
) -> Result<MixedReport, Error> {
    check_batch_size(records.len())?;
    let mut identities: Vec<(EntityKind, String)> = Vec::with_capacity(records.len());
    let mut by_kind: HashMap<EntityKind, Vec<Numbered<AnyRecord>>> = HashMap::new();
    let mut unreadable = Vec::new();
    for (index, record) in records.into_iter().enumerate() {
        let line = line_of(index);
        match record {
            Ok(record) => {
                identities.push((record.kind(), record.external_id().to_owned()));
                by_kind
                    .entry(record.kind())
                    .or_default()
                    .push(Numbered { line, record });
            }
            Err(refused) => {
                identities.push((refused.kind, refused.external_id.clone()));
                unreadable.push(Rejection {
                    kind: refused.kind,
                    line,
                    external_id: Some(refused.external_id),
                    error: refused.error,
                });
            }
        }
    }

    let mut ingestor = Ingestor::begin(db.clone(), Atomicity::AllOrNothing, currency).await?;
    if let Some(events) = events {
        ingestor = ingestor.with_events(events);
    }
    ingestor.reject(unreadable);
    for &kind in EntityKind::ALL {
        if let Some(records) = by_kind.remove(&kind) {
            ingestor.write_batch(kind.visit(BatchOf(records))).await?;
        }
    }
    let report = ingestor.finish().await?;

    let mut rejected: HashMap<usize, FieldError> = report
        .rejected
        .into_iter()
        .map(|rejection| (index_of(rejection.line), rejection.error))
        .collect();
    let ids = if report.committed {
        written_rows(db, &identities).await?
    } else {
        References::default()
    };
    let outcomes = identities
        .into_iter()
        .enumerate()
        .map(|(index, (kind, external_id))| {
            let outcome = match rejected.remove(&index) {
                Some(error) => Outcome::Rejected(error),
                None if report.committed => Outcome::Written {
                    id: ids.get(kind, &external_id),
                },
                None => Outcome::NotWritten,
            };
            RecordOutcome {
                index,
                kind,
                external_id,
                outcome,
            }
        })
        .collect();
    Ok(MixedReport {
        committed: report.committed,
        outcomes,
    })
}

/// Looks up, after the commit, the rows now holding the written records.
/// This goes through [`References`], the same resolution a later record's
/// `…ExternalId` gets, so a customer record that identity resolution
/// matched to an existing customer reports that customer's id.
async fn written_rows(db: &DatabaseConnection, written: &[(EntityKind, String)]) -> Result<References, Error> {
    let mut references = References::default();
    for &kind in EntityKind::ALL {
        let keys = written
            .iter()
            .filter(|(written_kind, _)| *written_kind == kind)
            .map(|(_, external_id)| external_id.as_str());
        references.load(db, kind, keys).await?;
    }
    Ok(references)
}

/// The batch of one kind made of `records`, which all are of that kind.
struct BatchOf(Vec<Numbered<AnyRecord>>);

impl KindVisitor for BatchOf {
    type Output = RecordBatch;

    fn visit<R: Kind>(self) -> RecordBatch {
        let records = self
            .0
            .into_iter()
            .filter_map(|numbered| {
                R::from_any(numbered.record).map(|record| Numbered {
                    line: numbered.line,
                    record,
                })
            })
            .collect();
        R::into_batch(records)
    }
}

/// The ingestor numbers records from 1, like lines of a file.
fn line_of(index: usize) -> u64 {
    u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1)
}

fn index_of(line: u64) -> usize {
    usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_indexes_round_trip() {
        for index in [0, 1, 9_999] {
            assert_eq!(index_of(line_of(index)), index);
        }
    }

    #[test]
    fn written_ids_are_grouped_by_kind_once_each() {
        let outcome = |index, kind, id| RecordOutcome {
            index,
            kind,
            external_id: format!("X{index}"),
            outcome: Outcome::Written { id: Some(id) },
        };
        let report = MixedReport {
            committed: true,
            outcomes: vec![
                outcome(0, EntityKind::Orders, 7),
                outcome(1, EntityKind::Accounts, 3),
                outcome(2, EntityKind::Orders, 7),
                outcome(3, EntityKind::Orders, 8),
            ],
        };
        let written = report.written_ids();
        assert_eq!(written.get(&EntityKind::Orders), Some(&vec![7, 8]));
        assert_eq!(written.keys().next(), Some(&EntityKind::Accounts));
    }
}
