//! NDJSON in, batches out: the reader that `accord import` (files) and
//! `POST /ingest/{entity}` (request bodies) share. Lines are read one at a
//! time from any async reader, so memory holds one batch, never the input.

use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use super::batch::{EntityKind, Numbered, RecordBatch};
use super::records::{FieldError, read_record};
use super::writer::{Ingestor, Rejection};
use crate::error::Error;

/// Reads NDJSON records of `kind` from `reader` into `ingestor`, writing a
/// batch every `batch_size` records. `read` is told how many bytes each
/// line took (for progress). Returns the number of lines read.
pub async fn ingest_lines<Rd: AsyncBufRead + Unpin>(
    ingestor: &mut Ingestor,
    kind: EntityKind,
    reader: Rd,
    batch_size: usize,
    read: impl FnMut(u64),
) -> Result<u64, Error> {
    match kind {
        EntityKind::Accounts => stream(ingestor, kind, reader, batch_size, read, RecordBatch::Accounts).await,
        EntityKind::Customers => stream(ingestor, kind, reader, batch_size, read, RecordBatch::Customers).await,
        EntityKind::Products => stream(ingestor, kind, reader, batch_size, read, RecordBatch::Products).await,
        EntityKind::Campaigns => stream(ingestor, kind, reader, batch_size, read, RecordBatch::Campaigns).await,
        EntityKind::Surveys => stream(ingestor, kind, reader, batch_size, read, RecordBatch::Surveys).await,
        EntityKind::Orders => stream(ingestor, kind, reader, batch_size, read, RecordBatch::Orders).await,
        EntityKind::Touchpoints => stream(ingestor, kind, reader, batch_size, read, RecordBatch::Touchpoints).await,
        EntityKind::Leads => stream(ingestor, kind, reader, batch_size, read, RecordBatch::Leads).await,
        EntityKind::SurveyResponses => {
            stream(ingestor, kind, reader, batch_size, read, RecordBatch::SurveyResponses).await
        }
        EntityKind::ProductTests => stream(ingestor, kind, reader, batch_size, read, RecordBatch::ProductTests).await,
        EntityKind::ProductTestVotes => {
            stream(ingestor, kind, reader, batch_size, read, RecordBatch::ProductTestVotes).await
        }
        EntityKind::BrandMentions => stream(ingestor, kind, reader, batch_size, read, RecordBatch::BrandMentions).await,
    }
}

async fn stream<R: DeserializeOwned, Rd: AsyncBufRead + Unpin>(
    ingestor: &mut Ingestor,
    kind: EntityKind,
    reader: Rd,
    batch_size: usize,
    mut read: impl FnMut(u64),
    wrap: fn(Vec<Numbered<R>>) -> RecordBatch,
) -> Result<u64, Error> {
    let batch_size = batch_size.max(1);
    let mut lines = reader.lines();
    let mut batch = Vec::with_capacity(batch_size);
    let mut parse_errors = Vec::new();
    let mut line_no = 0u64;
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(error) => {
                // What was read so far is written; the rest never arrived.
                return Err(Error::validation(
                    "input",
                    format!("reading stopped after line {line_no}: {error}"),
                ));
            }
        };
        line_no += 1;
        read(u64::try_from(line.len()).unwrap_or(0) + 1);
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
        if batch.len() >= batch_size {
            ingestor.write_batch(wrap(std::mem::take(&mut batch))).await?;
        }
    }
    if !batch.is_empty() {
        ingestor.write_batch(wrap(batch)).await?;
    }
    ingestor.reject(parse_errors);
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
