//! `POST /ingest/{entity}`: bulk loads for source systems. The body is
//! NDJSON, one record per line, read as it arrives (memory holds one batch,
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
use crate::graphql::error::code;
use crate::ingest::ndjson::ingest_lines;
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
    let Some(kind) = EntityKind::from_file_stem(&entity) else {
        let known: Vec<&str> = EntityKind::ALL.iter().map(|kind| kind.file_stem()).collect();
        let message = format!("no entity {entity:?}; one of {}", known.join(", "));
        return json_error(StatusCode::NOT_FOUND, code::NOT_FOUND, &message);
    };
    let Some(Extension(viewer)) = viewer else {
        return super::auth::unauthenticated(&AuthError::Missing);
    };
    if !viewer.may_write(kind) {
        let message = format!("role {} may not write {entity}", viewer.role);
        return json_error(StatusCode::FORBIDDEN, code::FORBIDDEN, &message);
    }
    let Ok(Query(options)) = options else {
        return json_error(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            "query parameters are strict=true|false and batchSize=1..10000",
        );
    };
    let batch_size = options.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
    if !(1..=MAX_BATCH_SIZE).contains(&batch_size) {
        return json_error(
            StatusCode::BAD_REQUEST,
            code::BAD_USER_INPUT,
            &format!("batchSize must be between 1 and {MAX_BATCH_SIZE}"),
        );
    }
    if !is_ndjson(&headers) {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_REQUEST,
            "send the records as application/x-ndjson, one JSON object per line",
        );
    }
    let atomicity = if options.strict {
        Atomicity::AllOrNothing
    } else {
        Atomicity::PerBatch
    };
    let mut ingestor = match Ingestor::begin(state.db.clone(), atomicity, &state.currency).await {
        Ok(ingestor) => ingestor.with_events(state.events.clone()),
        Err(error) => return internal(&error),
    };
    let reader = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let read = ingest_lines(&mut ingestor, kind, reader, batch_size, |_| {}).await;
    // Batches written before a failure stay written (unless strict); the
    // report says how far the load got either way.
    let report = match ingestor.finish().await {
        Ok(report) => report,
        Err(error) => return internal(&error),
    };
    let lines = match read {
        Ok(lines) => lines,
        Err(crate::error::Error::Validation { message, .. }) => {
            let message = format!(
                "{message}; {} records of the lines before were written",
                report.written(kind)
            );
            return json_error(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &message);
        }
        Err(error) => return internal(&error),
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
    (status, Json(body)).into_response()
}

/// NDJSON under any of its names; a missing type is taken to be NDJSON,
/// which is what `curl --data-binary @file` sends without `-H`.
fn is_ndjson(headers: &HeaderMap) -> bool {
    content_type_essence(headers).is_none_or(|media| {
        matches!(
            media.as_str(),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/json-lines"
        )
    })
}

fn internal(error: &crate::error::Error) -> Response {
    tracing::error!(%error, "bulk ingest failed");
    json_error(StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL, "internal error")
}
