//! `POST /ingest/{entity}`: bulk loads for source systems. The body is
//! NDJSON (one record per line) or CSV (`text/csv`: a header row, then one
//! record per row), read as it arrives (memory holds one batch,
//! whatever the body's size) and written through the same reader and
//! writer as `accord import`: a transaction per batch, bad records skipped
//! and reported by line, or nothing at all with `?strict=true`.
//!
//! An upload cannot hold the server: a body that stays silent for
//! `ACCORD_INGEST_READ_TIMEOUT_MS` is refused with 408, and strict loads,
//! which keep one transaction (one pooled connection) open for their whole
//! body, may hold only a share of the pool at once ([`StrictLoads`],
//! `ACCORD_STRICT_LOAD_SHARE`); one more is answered 503 with `Retry-After`
//! while every other request goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures::{Stream, StreamExt as _, TryStreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::io::StreamReader;

use super::negotiation::content_type_essence;
use super::{AppState, json_error};
use crate::auth::{AuthError, Viewer};
use crate::config::LimitsConfig;
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

/// The places strict loads may hold at once: a share of the pool.
#[derive(Clone)]
pub struct StrictLoads {
    places: Arc<Semaphore>,
    size: usize,
}

impl StrictLoads {
    /// Places for `limits.strict_load_share` percent of a pool of `pool_size` (at least one).
    pub fn new(pool_size: u32, limits: &LimitsConfig) -> Self {
        let size = crate::db::pool_share(pool_size, limits.strict_load_share);
        Self {
            places: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// A place for one strict load, held until dropped; refused at once when
    /// all are taken, so that the load's client retries rather than queues.
    fn enter(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.places.clone().try_acquire_owned().map_err(|_| {
            Error::Unavailable(format!(
                "{} strict bulk loads are running, the most this server takes at once: retry shortly, \
                 or load without strict=true",
                self.size
            ))
        })
    }
}

/// The body's data, failing with `TimedOut` when nothing arrives for
/// `timeout` (and noting so in `timed_out`).
fn with_read_timeout(
    body: Body,
    timeout: Duration,
    timed_out: Arc<AtomicBool>,
) -> impl Stream<Item = std::io::Result<axum::body::Bytes>> {
    let data = body.into_data_stream().map_err(std::io::Error::other);
    futures::stream::unfold(Some(data), move |data| {
        let timed_out = timed_out.clone();
        async move {
            let mut data = data?;
            match tokio::time::timeout(timeout, data.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(data))),
                Ok(None) => None,
                Err(_) => {
                    timed_out.store(true, Ordering::Relaxed);
                    let silence = std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("nothing arrived for {} ms", timeout.as_millis()),
                    );
                    Some((Err(silence), None))
                }
            }
        }
    })
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
    let (atomicity, _place) = if options.strict {
        (Atomicity::AllOrNothing, Some(state.strict_loads.enter()?))
    } else {
        (Atomicity::PerBatch, None)
    };
    let mut ingestor = Ingestor::begin(state.db.clone(), atomicity, &state.currency)
        .await?
        .with_events(state.events.clone());
    let lines = LineOptions {
        format,
        batch_size,
        max_line_bytes: state.max_line_bytes,
    };
    let timed_out = Arc::new(AtomicBool::new(false));
    let reader = StreamReader::new(Box::pin(with_read_timeout(
        body,
        state.limits.ingest_read_timeout(),
        timed_out.clone(),
    )));
    let read = ingest_lines(&mut ingestor, kind, reader, lines, |_| {}).await;
    // Without `strict`, batches written before a failure stay written; a
    // strict load that could not read its body to the end writes nothing.
    let report = ingestor.finish().await?;
    let outcome = if report.committed {
        "committed"
    } else {
        "nothing committed"
    };
    let target = format!(
        "{entity}: {} written, {} rejected, {outcome}",
        report.written(kind),
        report.rejected.len()
    );
    crate::auth::audit::record(&state.db, &viewer, "bulkIngest", target).await;
    let lines = match read {
        Ok(lines) => lines,
        Err(Error::Validation { field, message }) => {
            let outcome = if report.committed {
                format!("{} records of the lines before were written", report.written(kind))
            } else {
                "strict: nothing was written".to_owned()
            };
            let message = format!("{message}; {outcome}");
            if timed_out.load(Ordering::Relaxed) {
                return Ok(json_error(
                    StatusCode::REQUEST_TIMEOUT,
                    code::LIMIT_EXCEEDED,
                    &format!("{field}: {message}"),
                ));
            }
            return Err(Error::Validation { field, message });
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
