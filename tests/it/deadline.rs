//! A per-request cap on database time (issue 11): a statement still
//! running when its request's deadline passes is stopped inside the
//! database — SQLite by the connection's progress handler, PostgreSQL by
//! `statement_timeout` — and becomes LIMIT_EXCEEDED, as the HTTP deadline
//! does; the connection it ran on serves the next statement.

use std::time::{Duration, Instant};

use accord::config::DatabaseConfig;
use accord::db::deadline;
use accord::error::Error;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::json;

use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::limits::with_tiny_deadline;

on_both_backends!(
    a_running_statement_stops_at_its_time_limit,
    a_request_past_its_deadline_is_limit_exceeded with with_tiny_deadline
);

/// A statement of `rows` steps of a recursive count, on either backend.
fn counting(db: &DatabaseConnection, rows: u64) -> Statement {
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => format!("SELECT COUNT(*) AS n FROM generate_series(1, {rows}) AS s(x)"),
        _ => format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT COUNT(*) AS n FROM c"
        ),
    };
    Statement::from_string(db.get_database_backend(), sql)
}

/// The count `statement` gives, or the code of the error it becomes.
async fn run(db: &DatabaseConnection, statement: Statement) -> Result<i64, &'static str> {
    match db.query_one_raw(statement).await {
        Ok(row) => Ok(row.and_then(|row| row.try_get::<i64>("", "n").ok()).unwrap_or(-1)),
        Err(error) => Err(Error::from(error).code()),
    }
}

async fn a_running_statement_stops_at_its_time_limit(app: TestApp) {
    // One connection: the next statement runs on the one that was stopped.
    let db = accord::db::connect(&DatabaseConfig {
        url: app.database_url.clone(),
        max_connections: 1,
        statement_timeout_ms: 100,
    })
    .await
    .expect("connect");
    match app.backend {
        Backend::Sqlite => {
            // A deadline already past stops a statement at its first look at
            // the clock, however fast the machine (ten million steps run to
            // their end without it).
            let stopped = deadline::scope(Instant::now(), run(&db, counting(&db, 10_000_000))).await;
            assert_eq!(stopped, Err("LIMIT_EXCEEDED"));
            // A billion steps cannot end within 100 ms: stopped while running.
            let ends_at = Instant::now() + Duration::from_millis(100);
            let stopped = deadline::scope(ends_at, run(&db, counting(&db, 1_000_000_000))).await;
            assert_eq!(stopped, Err("LIMIT_EXCEEDED"));
            // Outside a request nothing is stopped: the connection was re-armed.
            assert_eq!(run(&db, counting(&db, 100_000)).await, Ok(100_000));
        }
        Backend::Postgres => {
            // statement_timeout (100 ms here) cancels it inside PostgreSQL.
            assert_eq!(run(&db, counting(&db, 1_000_000_000)).await, Err("LIMIT_EXCEEDED"));
            assert_eq!(run(&db, counting(&db, 100_000)).await, Ok(100_000));
        }
    }
    // Within a deadline it has time for, a statement runs to its end.
    let ends_at = Instant::now() + Duration::from_secs(600);
    assert_eq!(
        deadline::scope(ends_at, run(&db, counting(&db, 1_000))).await,
        Ok(1_000)
    );
}

/// Over HTTP, with a 1 ms deadline, a query over the fixture is
/// LIMIT_EXCEEDED whether the timer or the stopped statement ends it first,
/// never INTERNAL; the server goes on answering.
async fn a_request_past_its_deadline_is_limit_exceeded(app: TestApp) {
    app.import_golden().await;
    let query = r#"{ insights(filter: { from: "2025-01-01", to: "2026-06-30" }) {
        attribution { customers } churn(thresholdDays: 180) { churned } } }"#;
    for _ in 0..3 {
        let (status, body) = app.post(query, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("deadline"), "{message}");
        assert!(!message.to_lowercase().contains("select"), "no SQL text: {message}");
    }
    let health = app
        .client
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
}
