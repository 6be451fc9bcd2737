//! Ingest: getting records from source systems into the database, through
//! one validated write path ([`writer::Ingestor`]) whatever the transport.
//!
//! - [`kinds`]: the one list of entity kinds and the [`Kind`] trait;
//! - [`records`]: the record types of the ingest format and their checks;
//! - [`rows`]: what each kind's record becomes (its `Kind` impl);
//! - [`references`]: `…ExternalId` → internal id, batch by batch;
//! - [`upsert`]: multi-row statements cut to fit the backend's limits;
//! - [`writer`]: the [`Ingestor`]: validate, resolve, write, announce;
//! - [`lines`]: lines of bounded length, undecodable ones reported;
//! - [`stream`]: NDJSON lines or CSV rows from any reader into batches;
//! - [`csv_rows`]: CSV rows (a header, nested values as JSON cells) as records;
//! - [`files`]: `accord import` — NDJSON or CSV files and directories;
//! - [`mixed`]: records of any kinds in one all-or-nothing transaction,
//!   with an outcome per record (the GraphQL upserts and batch ingest).

pub mod csv_rows;
pub mod files;
pub mod kinds;
pub mod lines;
pub mod mixed;
pub mod records;
pub mod references;
mod rows;
pub mod stream;
pub mod upsert;
pub mod writer;

pub use files::{ImportOptions, import_path};
pub(crate) use kinds::entity_kinds;
pub use kinds::{AnyRecord, EntityKind, Kind, Numbered, RecordBatch, RecordSink};
pub use mixed::{
    MAX_MIXED_RECORDS, MixedReport, Outcome, RecordOutcome, UnreadableRecord, check_batch_size, write_mixed,
};
pub use writer::{Atomicity, IngestReport, Ingestor, Rejection};
