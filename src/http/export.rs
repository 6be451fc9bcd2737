//! `GET /segments/{id}/members.csv?channel=EMAIL|SMS|PHONE`: a segment's
//! members who GRANTED consent for the channel (which is required) as CSV,
//! streamed from the database row by row, and refused when fewer than the
//! configured minimum would be sent so that an export cannot single out a
//! person. Cells that start like a spreadsheet formula are escaped
//! ([`formula_safe`]).

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use sea_orm::StreamTrait;
use tracing::Instrument as _;

use super::AppState;
use crate::auth::{AuthError, Viewer};
use crate::db::pools::ReadFrom;
use crate::error::Error;
use entity::enums::ContactChannel;

/// The export's query string: `?channel=EMAIL`.
#[derive(serde::Deserialize)]
pub struct ExportQuery {
    channel: Option<String>,
}

/// The channel an export is for: required, one of EMAIL, SMS, PHONE.
fn channel(query: &ExportQuery) -> Result<ContactChannel, Error> {
    let one_of = || {
        let names: Vec<&str> = ContactChannel::ALL.iter().map(|c| c.as_str()).collect();
        names.join(", ")
    };
    match query.channel.as_deref() {
        None | Some("") => Err(Error::validation(
            "channel",
            format!(
                "is required: ?channel= one of {}; the export holds only members who GRANTED consent for it",
                one_of()
            ),
        )),
        Some(text) => ContactChannel::parse(text)
            .ok_or_else(|| Error::validation("channel", format!("{text:?} is not one of {}", one_of()))),
    }
}

/// Rows buffered between the database and the client.
const CHANNEL_ROWS: usize = 64;

pub async fn segment_members_csv(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    Path(file): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Response {
    // Member lists carry PII: only roles that manage segments export them.
    let Some(Extension(viewer)) = viewer else {
        return super::auth::unauthenticated(&AuthError::Missing);
    };
    match export(state, viewer, file, query).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn export(state: AppState, viewer: Viewer, file: String, query: ExportQuery) -> Result<Response, Error> {
    if !(viewer.may_manage_segments() && viewer.may_read_pii()) {
        return Err(Error::Forbidden(format!(
            "role {} may not export segment members",
            viewer.role
        )));
    }
    let channel = channel(&query)?;
    let id = file.parse::<i64>().map_err(|_| Error::not_found("segment", &file))?;
    // An export reads a refreshed segment's members: the replica may serve
    // it (a refresh it has not replayed yet shows the members before it).
    let (members_db, read_from) = state.pools.read();
    let mut members_db = members_db.clone();
    match crate::segments::find(&members_db, id).await {
        // A replica that stopped answering: the primary serves the export.
        Err(Error::Database(_)) if read_from == ReadFrom::Replica => {
            state.pools.replica_failed().await;
            members_db = state.pools.primary().clone();
            crate::segments::find(&members_db, id).await?;
        }
        found => {
            found?;
        }
    }
    // The minimum applies to the rows sent, the members who granted consent.
    let size = crate::segments::export_count(&members_db, id, channel).await?;
    if size < state.min_audience_size {
        return Err(Error::Forbidden(format!(
            "the segment has {size} members who GRANTED {channel} consent; exports need at least {} so that no one can be singled out (refresh it first if it is new)",
            state.min_audience_size
        )));
    }

    crate::auth::audit::record(
        &state.db,
        &viewer,
        "exportSegmentMembers",
        format!("segment {id}, channel {channel}: {size} rows"),
    )
    .await;

    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(CHANNEL_ROWS);
    let db = members_db;
    let rows = async move {
        let statement = crate::segments::export_statement(db.get_database_backend(), id, channel);
        let header = csv_line(&[
            "external_id",
            "email",
            "name",
            "phone",
            "region",
            "country",
            "joined_at",
        ]);
        if sender.send(Ok(header)).await.is_err() {
            return;
        }
        let stream = match db.stream_raw(statement).await {
            Ok(stream) => stream,
            Err(failure) => {
                tracing::error!(error = %failure, "export stream failed");
                return;
            }
        };
        let mut stream = std::pin::pin!(stream);
        while let Some(row) = stream.next().await {
            let line = row.and_then(|row| {
                let text = |column: &str| row.try_get::<Option<String>>("", column).map(Option::unwrap_or_default);
                let joined: chrono::DateTime<chrono::Utc> = row.try_get("", "joined_at")?;
                Ok(csv_line(&[
                    &text("external_id")?,
                    &text("email")?,
                    &text("name")?,
                    &text("phone")?,
                    &text("region")?,
                    &text("country")?,
                    &joined.to_rfc3339(),
                ]))
            });
            let chunk = line.map_err(|failure| {
                tracing::error!(error = %failure, "export row failed");
                std::io::Error::other("export failed")
            });
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() || failed {
                return;
            }
        }
    };
    // The rows stream from a task that outlives this handler: keep the
    // request's span (and its request id) on what the task logs.
    tokio::spawn(rows.instrument(tracing::Span::current()));
    let body = Body::from_stream(futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    }));
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"segment-{id}-members.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// One CSV record, quoted where needed (RFC 4180, by the `csv` crate),
/// each cell [escaped](formula_safe) so that a spreadsheet shows it as text.
fn csv_line(fields: &[&str]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if writer
        .write_record(fields.iter().map(|field| formula_safe(field).into_owned()))
        .is_err()
    {
        return Vec::new();
    }
    writer.into_inner().unwrap_or_default()
}

/// The characters that make a spreadsheet read a cell as a formula when it
/// starts with one (OWASP, "CSV Injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell`, prefixed with a single quote when it starts like a formula, so
/// that a name such as `=HYPERLINK(…)` opens as text rather than running
/// (the OWASP rule). Phone numbers written `+49…` get the quote too: a
/// spreadsheet shows them unchanged, and a program reading the file sees
/// the quote.
fn formula_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_start_like_formulas_are_quoted() {
        for cell in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://x\",\"y\")",
        ] {
            assert_eq!(formula_safe(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["Max Meyer", "", "a=b", "1-2", "'quoted"] {
            assert_eq!(formula_safe(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn a_formula_name_becomes_one_quoted_text_cell() {
        let line = csv_line(&["c1", "=HYPERLINK(\"http://x\",\"y\")"]);
        assert_eq!(
            String::from_utf8_lossy(&line),
            "c1,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n"
        );
    }
}
