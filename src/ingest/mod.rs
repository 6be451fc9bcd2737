//! Ingest: getting records from source systems into the database, through
//! one validated write path ([`writer::Ingestor`]) whatever the transport.
//!
//! - [`records`]: the record types of the ingest format and their checks;
//! - [`batch`]: batches of one entity type and the sink trait;
//! - [`references`]: `…ExternalId` → internal id, batch by batch;
//! - [`writer`]: validate, resolve, upsert by external id, transactionally;
//! - [`ndjson`]: NDJSON lines from any reader into batches;
//! - [`files`]: `accord import` — NDJSON files and directories;
//! - [`mixed`]: records of any kinds in one all-or-nothing transaction,
//!   with an outcome per record (the GraphQL upserts and batch ingest).

pub mod batch;
pub mod files;
pub mod mixed;
pub mod ndjson;
pub mod records;
pub mod references;
pub mod writer;

pub use batch::{EntityKind, Numbered, RecordBatch, RecordSink};
pub use files::{ImportOptions, import_path};
pub use mixed::{
    AnyRecord, MAX_MIXED_RECORDS, MixedReport, Outcome, RecordOutcome, UnreadableRecord, check_batch_size, write_mixed,
};
pub use writer::{Atomicity, IngestReport, Ingestor, Rejection};
