//! A server killed in the middle of a bulk load: whole batches only, and
//! re-running the load finishes it without duplicates. The server here is
//! the real `accord` binary in its own process, killed with SIGKILL. And
//! SIGTERM stops a server whose request never finishes, after the grace period.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, on_both_backends};
use crate::process::ServerProcess;
use crate::records::{customer, ndjson, touchpoint};

on_both_backends!(
    a_killed_bulk_load_leaves_whole_batches_and_the_rerun_completes_it,
    sigterm_stops_the_server_with_a_request_in_flight
);

const BATCH: usize = 100;
const TOTAL: usize = 2000;

async fn touchpoint_count(app: &TestApp) -> usize {
    let count = app.data("{ touchpoints { totalCount } }", json!({})).await["touchpoints"]["totalCount"]
        .as_u64()
        .expect("count");
    usize::try_from(count).expect("fits")
}

async fn a_killed_bulk_load_leaves_whole_batches_and_the_rerun_completes_it(app: TestApp) {
    let people: Vec<_> = (0..10)
        .map(|i| customer(&format!("C{i}"), &format!("c{i}@example.com"), None))
        .collect();
    app.bulk(&app.base_url, "customers", "", ndjson(&people)).await;
    let lines: Vec<String> = (0..TOTAL)
        .map(|i| ndjson(&[touchpoint(&format!("T{i:05}"), &format!("C{}", i % 10), None)]))
        .collect();

    let mut server = ServerProcess::start(&app.database_url, &["--log", "warn"], Stdio::inherit()).await;
    // The body arrives in chunks; the server commits batches as it reads.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    let upload = tokio::spawn(
        app.client
            .post(format!("{}/ingest/touchpoints?batchSize={BATCH}", server.base_url))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send(),
    );
    // Send the first half, and kill the server once some batches are in.
    for chunk in lines[..TOTAL / 2].chunks(50) {
        sender.send(Ok(chunk.concat())).await.expect("body chunk sent");
    }
    let mut waited = 0;
    while touchpoint_count(&app).await < 3 * BATCH && waited < 400 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reaped");
    drop(sender);
    // The client sees its connection cut; what matters is what was stored.
    let _cut = upload.await;

    let survived = touchpoint_count(&app).await;
    assert!(
        survived >= 3 * BATCH,
        "some batches committed before the kill ({survived})"
    );
    assert!(survived < TOTAL, "the load did not finish ({survived})");
    assert_eq!(survived % BATCH, 0, "only whole batches survive a kill");

    // Re-running the whole load (through a fresh process) completes it, and
    // re-running it again changes nothing.
    let server = ServerProcess::start(&app.database_url, &["--log", "warn"], Stdio::inherit()).await;
    for _ in 0..2 {
        let (status, report) = app
            .bulk(
                &server.base_url,
                "touchpoints",
                &format!("?batchSize={BATCH}"),
                lines.concat(),
            )
            .await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["written"], TOTAL);
        assert_eq!(touchpoint_count(&app).await, TOTAL);
    }
    drop(server);
}

/// Far longer than the grace period: a hang detector, not a timing.
const HANG: Duration = Duration::from_secs(20);

async fn sigterm_stops_the_server_with_a_request_in_flight(app: TestApp) {
    let mut server = ServerProcess::start(
        &app.database_url,
        &["--log", "warn", "--shutdown-grace-ms", "500"],
        Stdio::inherit(),
    )
    .await;
    // An upload that sends one line and then waits: in flight for good.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    let upload = tokio::spawn(
        app.client
            .post(format!("{}/ingest/customers", server.base_url))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send(),
    );
    let line = ndjson(&[customer("C1", "c1@example.com", None)]);
    sender.send(Ok(line)).await.expect("first line sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.child.id().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let mut exited = None;
    let started = std::time::Instant::now();
    while exited.is_none() && started.elapsed() < HANG {
        exited = server.child.try_wait().expect("the child can be waited for");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        exited.is_some(),
        "the server stopped after SIGTERM despite the upload in flight"
    );
    drop(sender);
    let _cut = upload.await;
}
