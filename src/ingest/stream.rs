//! Records in, batches out: the reader that `accord import` (files) and
//! `POST /ingest/{entity}` (request bodies) share, for NDJSON (one JSON
//! object per line) and CSV (see [`super::csv_rows`]). Lines are read one
//! at a time from any async reader, so memory holds one batch, never the
//! input.

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use tokio::io::AsyncBufRead;

use super::csv_rows::{CsvRows, Decoded};
use super::kinds::{EntityKind, Kind, KindVisitor, Numbered};
use super::lines::{Line, LineReader};
use super::records::{FieldError, read_record};
use super::writer::{Ingestor, Rejection};
use crate::error::Error;

/// Reads records of `kind` in `options.format` from `reader` into `ingestor`, writing a
/// batch every `batch_size` records. `read` is told how many bytes each
/// line took (for progress). Returns the number of lines read.
pub async fn ingest_lines<Rd: AsyncBufRead + Unpin + Send>(
    ingestor: &mut Ingestor,
    kind: EntityKind,
    reader: Rd,
    options: LineOptions,
    read: impl FnMut(u64) + Send,
) -> Result<u64, Error> {
    kind.visit(Stream {
        ingestor,
        reader,
        options,
        read,
    })
    .await
}

/// How the input is read and cut into batches.
#[derive(Debug, Clone, Copy)]
pub struct LineOptions {
    /// NDJSON or CSV.
    pub format: Format,
    /// Records per batch (and transaction, unless the run is all-or-nothing).
    pub batch_size: usize,
    /// The longest line a record may take, in bytes.
    pub max_line_bytes: usize,
}

/// The formats records arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// A header row naming the fields, then one record per row.
    Csv,
}

impl Format {
    /// The format of a request body by its media type (its essence, as
    /// `text/csv`); a body without one is NDJSON, which is what
    /// `curl --data-binary @file` sends without `-H`.
    pub fn of_media_type(essence: Option<&str>) -> Option<Format> {
        match essence {
            None
            | Some("application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/json-lines") => {
                Some(Format::Ndjson)
            }
            Some("text/csv") => Some(Format::Csv),
            Some(_) => None,
        }
    }

    /// The format of a file by its extension: `.csv` is CSV, any other NDJSON.
    pub fn of_file(path: &std::path::Path) -> Format {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Ndjson,
        }
    }

    /// The extension of a file in this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}

/// `ACCORD_MAX_LINE_BYTES`' default: 1 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1024 * 1024;

/// The lines of one kind's records, streamed into an ingestor.
struct Stream<'a, Rd, F> {
    ingestor: &'a mut Ingestor,
    reader: Rd,
    options: LineOptions,
    read: F,
}

impl<'a, Rd: AsyncBufRead + Unpin + Send + 'a, F: FnMut(u64) + Send + 'a> KindVisitor for Stream<'a, Rd, F> {
    type Output = BoxFuture<'a, Result<u64, Error>>;

    fn visit<R: Kind>(self) -> Self::Output {
        Box::pin(stream::<R, Rd, F>(self))
    }
}

async fn stream<R: Kind, Rd: AsyncBufRead + Unpin, F: FnMut(u64)>(input: Stream<'_, Rd, F>) -> Result<u64, Error> {
    let Stream {
        ingestor,
        reader,
        options,
        mut read,
    } = input;
    let batch_size = options.batch_size.max(1);
    let mut lines = LineReader::new(reader, options.max_line_bytes);
    let mut decoder = Decoder::new(options.format, options.max_line_bytes);
    let mut batch = Vec::with_capacity(batch_size);
    let mut bad_lines = Vec::new();
    let mut line_no = 0u64;
    let mut refuse = |line: u64, error: FieldError| {
        bad_lines.push(Rejection {
            kind: R::KIND,
            line,
            external_id: None,
            error,
        });
    };
    loop {
        let next = lines.next_line().await;
        let decoded = match next {
            Ok(Some((line, bytes))) => {
                read(bytes);
                line_no += 1;
                decoder.decode::<R>(line_no, &line, options.max_line_bytes)
            }
            Ok(None) => break,
            Err(error) => Err(Error::validation(
                "body",
                format!("reading stopped after line {line_no}: {error}"),
            )),
        };
        match decoded {
            Ok(Some((line, Ok(record)))) => batch.push(Numbered { line, record }),
            Ok(Some((line, Err(error)))) => refuse(line, error),
            Ok(None) => {}
            Err(error) => {
                // The rest never arrived or cannot be read: the good
                // records so far are written (an all-or-nothing run rolls
                // back instead).
                ingestor.abandon();
                if !batch.is_empty() {
                    ingestor.write_batch(R::into_batch(std::mem::take(&mut batch))).await?;
                }
                ingestor.reject(bad_lines);
                return Err(error);
            }
        }
        if batch.len() >= batch_size {
            ingestor.write_batch(R::into_batch(std::mem::take(&mut batch))).await?;
        }
    }
    if let Some((line, error)) = decoder.finish() {
        refuse(line, error);
    }
    if !batch.is_empty() {
        ingestor.write_batch(R::into_batch(batch)).await?;
    }
    ingestor.reject(bad_lines);
    Ok(line_no)
}

/// How lines become records in each format.
enum Decoder {
    Ndjson,
    Csv(CsvRows),
}

impl Decoder {
    fn new(format: Format, max_line_bytes: usize) -> Self {
        match format {
            Format::Ndjson => Decoder::Ndjson,
            Format::Csv => Decoder::Csv(CsvRows::new(max_line_bytes)),
        }
    }

    /// Line `line_no` in; a record (or why not, with the line it started
    /// on) out once one is complete. An error ends the input.
    fn decode<R: DeserializeOwned>(
        &mut self,
        line_no: u64,
        line: &Line,
        max_line_bytes: usize,
    ) -> Result<Option<Decoded<R>>, Error> {
        let text = match line {
            Line::Text(text) => text,
            refused => {
                let line = match self {
                    Decoder::Ndjson => line_no,
                    Decoder::Csv(rows) => rows.refuse_line(line_no),
                };
                let reason = refused.refusal(max_line_bytes).unwrap_or_default();
                return Ok(Some((line, Err(FieldError::new("record", reason)))));
            }
        };
        match self {
            Decoder::Ndjson if text.trim().is_empty() => Ok(None),
            Decoder::Ndjson => Ok(Some((line_no, parse_line::<R>(text)))),
            Decoder::Csv(rows) => rows.push::<R>(line_no, text),
        }
    }

    /// What is left at the end of the input.
    fn finish(&mut self) -> Option<(u64, FieldError)> {
        match self {
            Decoder::Ndjson => None,
            Decoder::Csv(rows) => rows.finish(),
        }
    }
}

/// Parses one NDJSON line, naming the field at fault when it is wrong.
pub fn parse_line<R: DeserializeOwned>(line: &str) -> Result<R, FieldError> {
    read_record(&mut serde_json::Deserializer::from_str(line))
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
