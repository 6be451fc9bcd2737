//! Ingest throughput into PostgreSQL: touchpoints per second through
//! `POST /ingest/touchpoints` (the real server, over HTTP), beside
//! PostgreSQL's own `COPY` of the same rows into the same table, which is
//! the physical limit. Prints the figures; asserts nothing about time.
//!
//! ```sh
//! cargo bench --bench ingest
//! ACCORD_BENCH_ROWS=500000 ACCORD_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench ingest
//! ```
//! It creates (and finally drops) a database `accord_bench_ingest`.

use std::time::Instant;

use accord::app::Application;
use accord::config::{ApiConfig, DatabaseConfig};
use accord::ingest::records::CustomerRecord;
use accord::ingest::{Atomicity, Ingestor, Numbered, RecordBatch};
use sea_orm::{ConnectionTrait, Database};

const CUSTOMERS: usize = 1000;
const DATABASE: &str = "accord_bench_ingest";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin_url = std::env::var("ACCORD_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let rows: usize = std::env::var("ACCORD_BENCH_ROWS")
        .ok()
        .and_then(|rows| rows.parse().ok())
        .unwrap_or(200_000);
    let admin = Database::connect(&admin_url).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .await?;
    admin.execute_unprepared(&format!("CREATE DATABASE {DATABASE}")).await?;
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{DATABASE}"),
        None => anyhow::bail!("cannot place a database in {admin_url}"),
    };
    let db = accord::db::connect(&DatabaseConfig {
        url,
        max_connections: 10,
        statement_timeout_ms: 0,
    })
    .await?;
    accord::db::migrate(&db).await?;

    // The people the touchpoints belong to.
    let mut ingestor = Ingestor::begin(db.clone(), Atomicity::PerBatch, "USD").await?;
    let customers = (0..CUSTOMERS)
        .map(|i| {
            let line = format!(
                r#"{{"externalId":"C{i}","email":"c{i}@example.com","name":"C {i}","region":"UK","country":"GB","acquisitionChannel":"direct","firstSeenAt":"2025-01-01T00:00:00Z"}}"#
            );
            let record: CustomerRecord = serde_json::from_str(&line)?;
            Ok(Numbered {
                line: u64::try_from(i)? + 1,
                record,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    ingestor.write_batch(RecordBatch::Customers(customers)).await?;
    ingestor.finish().await?;
    let ids: std::collections::HashMap<String, i64> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT external_id, id FROM customer",
        ))
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get("", "external_id")?, row.try_get("", "id")?)))
        .collect::<Result<_, sea_orm::DbErr>>()?;

    let touch = |i: usize| {
        let minute = i % (60 * 24 * 365);
        let at = chrono::DateTime::from_timestamp(1_735_689_600 + i64::try_from(minute).unwrap_or(0) * 60, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        (format!("T{i:08}"), format!("C{}", i % CUSTOMERS), at)
    };
    let mut ndjson = String::with_capacity(rows * 220);
    let mut csv = String::with_capacity(rows * 120);
    let mut csv_body = String::with_capacity(rows * 120);
    csv_body.push_str("externalId,customerExternalId,team,channel,kind,occurredAt,properties\n");
    for i in 0..rows {
        let (id, customer, at) = touch(i);
        ndjson.push_str(&format!(
            r#"{{"externalId":"{id}","customerExternalId":"{customer}","team":"MARKETING","channel":"email","kind":"CLICK","occurredAt":"{at}","properties":{{"utm_campaign":"spring"}}}}"#
        ));
        ndjson.push('\n');
        let properties = "\"{\"\"utm_campaign\"\":\"\"spring\"\"}\"";
        csv_body.push_str(&format!("{id},{customer},MARKETING,email,CLICK,{at},{properties}\n"));
        let customer_id = ids.get(&customer).copied().unwrap_or_default();
        csv.push_str(&format!(
            "{id},{customer_id},MARKETING,email,CLICK,{at},\"{{\"\"utm_campaign\"\":\"\"spring\"\"}}\"\n"
        ));
    }

    // COPY: the same rows, already resolved, straight into the table.
    let copy_seconds = {
        let mut connection = db.get_postgres_connection_pool().acquire().await?;
        let started = Instant::now();
        let mut copy = connection
            .copy_in_raw(
                "COPY touchpoint (external_id, customer_id, team, channel, kind, occurred_at, properties) \
                 FROM STDIN WITH (FORMAT csv)",
            )
            .await?;
        copy.send(csv.as_bytes()).await?;
        copy.finish().await?;
        started.elapsed().as_secs_f64()
    };
    db.execute_unprepared("TRUNCATE touchpoint").await?;

    // The real server, over HTTP, in its default batches and in larger ones.
    let app = Application::build("127.0.0.1:0", db.clone(), ApiConfig::default()).await?;
    let base = format!("http://{}", app.local_addr()?);
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();
    println!("{rows} touchpoints into PostgreSQL ({CUSTOMERS} customers)");
    println!("{:<64} {:>9} {:>12} {:>9}", "path", "seconds", "rows/s", "of COPY");
    let copy_rate = rows as f64 / copy_seconds;
    println!(
        "{:<64} {:>9.2} {:>12.0} {:>8.0}%",
        "COPY FROM STDIN (resolved ids)", copy_seconds, copy_rate, 100.0
    );
    let loads = [
        (1000, "application/x-ndjson", &ndjson),
        (5000, "application/x-ndjson", &ndjson),
        (10_000, "application/x-ndjson", &ndjson),
        (5000, "text/csv", &csv_body),
    ];
    for (batch, media_type, body) in loads {
        db.execute_unprepared("TRUNCATE touchpoint").await?;
        let started = Instant::now();
        let response = client
            .post(format!("{base}/ingest/touchpoints?batchSize={batch}"))
            .header("content-type", media_type)
            .body(body.clone())
            .send()
            .await?;
        let report: serde_json::Value = response.json().await?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            report["written"].as_u64() == u64::try_from(rows).ok(),
            "the load did not write every row: {report}"
        );
        let rate = rows as f64 / seconds;
        println!(
            "{:<64} {:>9.2} {:>12.0} {:>8.0}%",
            format!("POST /ingest/touchpoints?batchSize={batch} ({media_type})"),
            seconds,
            rate,
            100.0 * rate / copy_rate
        );
    }
    db.close().await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .await?;
    Ok(())
}
