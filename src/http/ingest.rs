//! `POST /ingest/{entity}`: bulk loads for source systems. The body is
//! NDJSON (one record per line) or CSV (`text/csv`: a header row, then one
//! record per row), read as it arrives (memory holds one batch,
//! whatever the body's size) and written through the same reader and
//! writer as `accord import`: a transaction per batch, bad records skipped
//! and reported by line, or nothing at all with `?strict=true`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::io::StreamReader;

use super::negotiation::content_type_essence;
use super::{AppState, json_error};
use crate::auth::{AuthError, Viewer};
use crate::error::{Error, code};
use crate::ingest::stream::{Format, LineOptions, ingest_lines};
use crate::ingest::{Atomicity, EntityKind, Ingestor, Rejection};

/// Records per transaction when the request does not say.
const DEFAULT_BATCH_SIZE: usize = 5000;
/// The largest batch a request may ask for.
const MAX_BATCH_SIZE: usize = 10_000;
/// Rejections listed in a response; the count covers all of them.
const LISTED_REJECTIONS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkOptions {
    /// Write nothing when any record is bad.
    #[serde(default)]
    strict: bool,
    /// Records per transaction.
    batch_size: Option<usize>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BulkReport {
    entity: String,
    lines: u64,
    written: u64,
    rejected_count: usize,
    /// The first rejections, in line order.
    rejected: Vec<RejectedLine>,
    /// False when a strict load wrote nothing.
    committed: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RejectedLine {
    line: u64,
    external_id: Option<String>,
    field: String,
    message: String,
}

pub async fn bulk(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    Path(entity): Path<String>,
    options: Result<Query<BulkOptions>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match load(state, viewer, entity, options, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn load(
    state: AppState,
    viewer: Option<Extension<Viewer>>,
    entity: String,
    options: Result<Query<BulkOptions>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let Some(kind) = EntityKind::from_file_stem(&entity) else {
        return Err(Error::not_found(
            "entity",
            format!("{entity:?} (one of {})", EntityKind::file_stems()),
        ));
    };
    let Some(Extension(viewer)) = viewer else {
        return Ok(super::auth::unauthenticated(&AuthError::Missing));
    };
    if !viewer.may_write(kind) {
        return Err(Error::Forbidden(format!("role {} may not write {entity}", viewer.role)));
    }
    let Ok(Query(options)) = options else {
        return Err(Error::validation(
            "query",
            "the parameters are strict=true|false and batchSize=1..10000",
        ));
    };
    let batch_size = options.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
    if !(1..=MAX_BATCH_SIZE).contains(&batch_size) {
        return Err(Error::validation(
            "batchSize",
            format!("must be between 1 and {MAX_BATCH_SIZE}"),
        ));
    }
    let Some(format) = Format::of_media_type(content_type_essence(&headers).as_deref()) else {
        return Ok(json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_REQUEST,
            "send the records as application/x-ndjson (one JSON object per line) \
             or text/csv (a header row naming the fields, then one record per row)",
        ));
    };
    let atomicity = if options.strict {
        Atomicity::AllOrNothing
    } else {
        Atomicity::PerBatch
    };
    let mut ingestor = Ingestor::begin(state.db.clone(), atomicity, &state.currency)
        .await?
        .with_events(state.events.clone());
    let lines = LineOptions {
        format,
        batch_size,
        max_line_bytes: state.max_line_bytes,
    };
    let reader = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let read = ingest_lines(&mut ingestor, kind, reader, lines, |_| {}).await;
    // Without `strict`, batches written before a failure stay written; a
    // strict load that could not read its body to the end writes nothing.
    let report = ingestor.finish().await?;
    let lines = match read {
        Ok(lines) => lines,
        Err(Error::Validation { field, message }) => {
            let outcome = if report.committed {
                format!("{} records of the lines before were written", report.written(kind))
            } else {
                "strict: nothing was written".to_owned()
            };
            return Err(Error::Validation {
                field,
                message: format!("{message}; {outcome}"),
            });
        }
        Err(error) => return Err(error),
    };
    let mut rejections: Vec<&Rejection> = report.rejected.iter().collect();
    rejections.sort_by_key(|rejection| rejection.line);
    let body = BulkReport {
        entity: kind.file_stem().to_owned(),
        lines,
        written: report.written(kind),
        rejected_count: rejections.len(),
        rejected: rejections
            .into_iter()
            .take(LISTED_REJECTIONS)
            .map(|rejection| RejectedLine {
                line: rejection.line,
                external_id: rejection.external_id.clone(),
                field: rejection.error.field.clone(),
                message: rejection.error.message.clone(),
            })
            .collect(),
        committed: report.committed,
    };
    let status = if body.committed {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(body)).into_response())
}
