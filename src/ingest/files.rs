//! `accord import`: NDJSON files (one per entity, named like
//! `orders.ndjson`) or a directory of them, read line by line so memory
//! does not grow with the file, written in batches through the
//! [`Ingestor`].

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;
use serde::de::DeserializeOwned;

use super::batch::{EntityKind, Numbered, RecordBatch};
use super::records::{FieldError, read_record};
use super::writer::{Atomicity, IngestReport, Ingestor, Rejection};
use crate::error::Error;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Write nothing at all when any record is bad.
    pub strict: bool,
    /// Records per transaction (and per multi-row INSERT).
    pub batch_size: usize,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// The reporting currency.
    pub currency: String,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            strict: false,
            batch_size: 1000,
            progress: false,
            currency: "USD".to_owned(),
        }
    }
}

/// What an import did, with each rejection's file.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub files: Vec<(EntityKind, PathBuf)>,
    pub ingest: IngestReport,
}

impl ImportReport {
    /// The file a rejection came from.
    pub fn file_of(&self, rejection: &Rejection) -> Option<&Path> {
        self.files
            .iter()
            .find(|(kind, _)| *kind == rejection.kind)
            .map(|(_, path)| path.as_path())
    }
}

/// Imports `path`: one NDJSON file, or every known `<entity>.ndjson` in a
/// directory, in the order their references need.
pub async fn import_path(db: DatabaseConnection, path: &Path, options: &ImportOptions) -> Result<ImportReport, Error> {
    let files = files_to_import(path)?;
    let atomicity = if options.strict {
        Atomicity::AllOrNothing
    } else {
        Atomicity::PerBatch
    };
    let mut ingestor = Ingestor::begin(db, atomicity, &options.currency).await?;
    for (kind, file) in &files {
        import_file(&mut ingestor, *kind, file, options).await?;
    }
    Ok(ImportReport {
        files,
        ingest: ingestor.finish().await?,
    })
}

fn files_to_import(path: &Path) -> Result<Vec<(EntityKind, PathBuf)>, Error> {
    let kind_of = |file: &Path| {
        file.file_stem()
            .and_then(|stem| stem.to_str())
            .and_then(EntityKind::from_file_stem)
    };
    if path.is_dir() {
        let files: Vec<(EntityKind, PathBuf)> = EntityKind::ALL
            .into_iter()
            .map(|kind| (kind, path.join(format!("{}.ndjson", kind.file_stem()))))
            .filter(|(_, file)| file.is_file())
            .collect();
        if files.is_empty() {
            return Err(Error::validation(
                "path",
                format!("{} holds no <entity>.ndjson file", path.display()),
            ));
        }
        return Ok(files);
    }
    if !path.is_file() {
        return Err(Error::validation("path", format!("{} does not exist", path.display())));
    }
    match kind_of(path) {
        Some(kind) => Ok(vec![(kind, path.to_path_buf())]),
        None => {
            let known: Vec<&str> = EntityKind::ALL.iter().map(|kind| kind.file_stem()).collect();
            Err(Error::validation(
                "path",
                format!(
                    "cannot tell the entity of {}: name it <entity>.ndjson, one of {}",
                    path.display(),
                    known.join(", ")
                ),
            ))
        }
    }
}

async fn import_file(
    ingestor: &mut Ingestor,
    kind: EntityKind,
    path: &Path,
    options: &ImportOptions,
) -> Result<(), Error> {
    match kind {
        EntityKind::Accounts => stream(ingestor, kind, path, options, RecordBatch::Accounts).await,
        EntityKind::Customers => stream(ingestor, kind, path, options, RecordBatch::Customers).await,
        EntityKind::Products => stream(ingestor, kind, path, options, RecordBatch::Products).await,
        EntityKind::Campaigns => stream(ingestor, kind, path, options, RecordBatch::Campaigns).await,
        EntityKind::Surveys => stream(ingestor, kind, path, options, RecordBatch::Surveys).await,
        EntityKind::Orders => stream(ingestor, kind, path, options, RecordBatch::Orders).await,
        EntityKind::Touchpoints => stream(ingestor, kind, path, options, RecordBatch::Touchpoints).await,
        EntityKind::Leads => stream(ingestor, kind, path, options, RecordBatch::Leads).await,
        EntityKind::SurveyResponses => stream(ingestor, kind, path, options, RecordBatch::SurveyResponses).await,
        EntityKind::ProductTests => stream(ingestor, kind, path, options, RecordBatch::ProductTests).await,
        EntityKind::ProductTestVotes => stream(ingestor, kind, path, options, RecordBatch::ProductTestVotes).await,
        EntityKind::BrandMentions => stream(ingestor, kind, path, options, RecordBatch::BrandMentions).await,
    }
}

/// Reads `path` line by line, parsing each line as an `R` and writing
/// full batches as they fill.
async fn stream<R: DeserializeOwned>(
    ingestor: &mut Ingestor,
    kind: EntityKind,
    path: &Path,
    options: &ImportOptions,
    wrap: fn(Vec<Numbered<R>>) -> RecordBatch,
) -> Result<(), Error> {
    let file =
        File::open(path).map_err(|e| Error::validation("path", format!("cannot open {}: {e}", path.display())))?;
    let size = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    let progress = progress_bar(options.progress, size, kind);
    let reader = BufReader::new(file);
    let mut batch = Vec::with_capacity(options.batch_size);
    let mut parse_errors = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_no = u64::try_from(index).unwrap_or(u64::MAX) + 1;
        let line = line.map_err(|e| Error::validation("path", format!("cannot read {}: {e}", path.display())))?;
        progress.inc(u64::try_from(line.len()).unwrap_or(0) + 1);
        if line.trim().is_empty() {
            continue;
        }
        match parse_line::<R>(&line) {
            Ok(record) => batch.push(Numbered { line: line_no, record }),
            Err(error) => parse_errors.push(Rejection {
                kind,
                line: line_no,
                external_id: None,
                error,
            }),
        }
        if batch.len() >= options.batch_size {
            ingestor.write_batch(wrap(std::mem::take(&mut batch))).await?;
        }
    }
    if !batch.is_empty() {
        ingestor.write_batch(wrap(batch)).await?;
    }
    ingestor.reject(parse_errors);
    progress.finish_and_clear();
    Ok(())
}

/// Parses one NDJSON line, naming the field at fault when it is wrong.
fn parse_line<R: DeserializeOwned>(line: &str) -> Result<R, FieldError> {
    read_record(&mut serde_json::Deserializer::from_str(line))
}

fn progress_bar(enabled: bool, size: u64, kind: EntityKind) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:>18} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(kind.file_stem());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::records::OrderRecord;

    #[test]
    fn parse_errors_name_the_field_path() {
        let line = r#"{"externalId":"O1","customerExternalId":"C1","accountExternalId":null,"channel":"ONLINE","orderedAt":"2025-01-01T00:00:00Z","currency":"USD","amountMinor":1,"lines":[{"productExternalId":"P1","quantity":"two","unitAmountMinor":1}]}"#;
        let error = parse_line::<OrderRecord>(line).err();
        assert_eq!(error.map(|e| e.field), Some("lines[0].quantity".to_owned()));
    }

    #[test]
    fn malformed_json_is_called_so() {
        let error = parse_line::<OrderRecord>("{\"externalId\":").err();
        assert!(error.is_some_and(|e| e.message.starts_with("malformed JSON")));
    }
}
