//! `accord import`: NDJSON or CSV files (one per entity, named like
//! `orders.ndjson` or `orders.csv`) or a directory of them, read line by
//! line so memory does not grow with the file, written in batches through
//! the [`Ingestor`].

use std::path::{Path, PathBuf};

use super::kinds::EntityKind;
use super::stream::{Format, LineOptions, ingest_lines};
use super::writer::{Atomicity, IngestReport, Ingestor, Rejection};
use crate::error::Error;
use crate::events::EventBus;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Write nothing at all when any record is bad.
    pub strict: bool,
    /// Records per transaction.
    pub batch_size: usize,
    /// The longest line a record may take.
    pub max_line_bytes: usize,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// The reporting currency.
    pub currency: String,
    /// Announces written orders and touchpoints to subscribers.
    pub events: Option<EventBus>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            strict: false,
            batch_size: 1000,
            max_line_bytes: super::stream::DEFAULT_MAX_LINE_BYTES,
            progress: false,
            currency: "USD".to_owned(),
            events: None,
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

/// Imports `path`: one NDJSON or CSV file, or every known `<entity>.ndjson`
/// or `<entity>.csv` in a directory, in the order their references need.
pub async fn import_path(db: DatabaseConnection, path: &Path, options: &ImportOptions) -> Result<ImportReport, Error> {
    let files = files_to_import(path)?;
    let atomicity = if options.strict {
        Atomicity::AllOrNothing
    } else {
        Atomicity::PerBatch
    };
    let mut ingestor = Ingestor::begin(db, atomicity, &options.currency).await?;
    if let Some(events) = &options.events {
        ingestor = ingestor.with_events(events.clone());
    }
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
        let mut files = Vec::new();
        for &kind in EntityKind::ALL {
            let found: Vec<PathBuf> = [Format::Ndjson, Format::Csv]
                .iter()
                .map(|format| path.join(format!("{}.{}", kind.file_stem(), format.extension())))
                .filter(|file| file.is_file())
                .collect();
            match found.as_slice() {
                [] => {}
                [file] => files.push((kind, file.clone())),
                _ => {
                    return Err(Error::validation(
                        "path",
                        format!(
                            "{} holds both {1}.ndjson and {1}.csv; keep one",
                            path.display(),
                            kind.file_stem()
                        ),
                    ));
                }
            }
        }
        if files.is_empty() {
            return Err(Error::validation(
                "path",
                format!("{} holds no <entity>.ndjson or <entity>.csv file", path.display()),
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
                    "cannot tell the entity of {}: name it <entity>.ndjson or <entity>.csv, one of {}",
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
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::validation("path", format!("cannot open {}: {e}", path.display())))?;
    let size = file.metadata().await.map(|meta| meta.len()).unwrap_or(0);
    let progress = progress_bar(options.progress, size, kind);
    let reader = tokio::io::BufReader::new(file);
    let lines = LineOptions {
        format: Format::of_file(path),
        batch_size: options.batch_size,
        max_line_bytes: options.max_line_bytes,
    };
    ingest_lines(ingestor, kind, reader, lines, |bytes| progress.inc(bytes)).await?;
    progress.finish_and_clear();
    Ok(())
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
