//! NDJSON in, batches out: the reader that `accord import` (files) and
//! `POST /ingest/{entity}` (request bodies) share. Lines are read one at a
//! time from any async reader, so memory holds one batch, never the input.

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use tokio::io::AsyncBufRead;

use super::kinds::{EntityKind, Kind, KindVisitor, Numbered};
use super::lines::{Line, LineReader};
use super::records::{FieldError, read_record};
use super::writer::{Ingestor, Rejection};
use crate::error::Error;

/// Reads NDJSON records of `kind` from `reader` into `ingestor`, writing a
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

/// How lines are cut into batches.
#[derive(Debug, Clone, Copy)]
pub struct LineOptions {
    /// Records per batch (and transaction, unless the run is all-or-nothing).
    pub batch_size: usize,
    /// The longest line a record may take, in bytes.
    pub max_line_bytes: usize,
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
    let mut batch = Vec::with_capacity(batch_size);
    let mut bad_lines = Vec::new();
    let mut line_no = 0u64;
    loop {
        let line = match lines.next_line().await {
            Ok(Some((line, bytes))) => {
                read(bytes);
                line
            }
            Ok(None) => break,
            Err(error) => {
                // The rest never arrived: the good lines read so far are
                // written (an all-or-nothing run rolls back instead).
                ingestor.abandon();
                if !batch.is_empty() {
                    ingestor.write_batch(R::into_batch(std::mem::take(&mut batch))).await?;
                }
                ingestor.reject(bad_lines);
                return Err(Error::validation(
                    "body",
                    format!("reading stopped after line {line_no}: {error}"),
                ));
            }
        };
        line_no += 1;
        let parsed = match &line {
            Line::Text(text) if text.trim().is_empty() => continue,
            Line::Text(text) => parse_line::<R>(text),
            refused => Err(FieldError::new(
                "record",
                refused.refusal(options.max_line_bytes).unwrap_or_default(),
            )),
        };
        match parsed {
            Ok(record) => batch.push(Numbered { line: line_no, record }),
            Err(error) => bad_lines.push(Rejection {
                kind: R::KIND,
                line: line_no,
                external_id: None,
                error,
            }),
        }
        if batch.len() >= batch_size {
            ingestor.write_batch(R::into_batch(std::mem::take(&mut batch))).await?;
        }
    }
    if !batch.is_empty() {
        ingestor.write_batch(R::into_batch(batch)).await?;
    }
    ingestor.reject(bad_lines);
    Ok(line_no)
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
