//! The `accord` binary as a person runs it: each subcommand's `--help`
//! lists its own options only, a database that cannot be used is named
//! with what failed in one line (no backtrace), and `accord bench` leaves
//! the database it measures as it found it.

use std::process::{Command, Output};

use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(bench_writes_nothing_into_the_database_it_measures);

fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("ACCORD_DATABASE_URL")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the accord binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn each_subcommand_help_lists_its_own_options_only() {
    // (command, options it shows, options it must not show)
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["--help"],
            &["serve", "schema", "bench"],
            &["--database-url", "--currency", "--log"],
        ),
        (
            &["schema", "--help"],
            &["--client"],
            &["--database-url", "--log", "--currency", "--max-depth"],
        ),
        (
            &["migrate", "--help"],
            &["--database-url", "--log"],
            &["--currency", "--max-depth", "--cors-origins", "--bind"],
        ),
        (
            &["seed", "--help"],
            &["--scale", "--currency", "--database-url"],
            &["--cors-origins", "--max-depth", "--bind", "--max-page-size"],
        ),
        (
            &["import", "--help"],
            &["--strict", "--max-line-bytes", "--currency"],
            &["--cors-origins", "--max-depth", "--bind"],
        ),
        (
            &["keys", "list", "--help"],
            &["--database-url"],
            &["--currency", "--cors-origins", "--max-depth", "--role"],
        ),
        (
            &["keys", "create", "--help"],
            &["--role", "--name", "--database-url"],
            &["--currency", "--cors-origins"],
        ),
        (
            &["bench", "--help"],
            &["--iterations", "--database-url", "--max-depth"],
            &["--bind", "--insecure-no-auth", "--role"],
        ),
        (
            &["serve", "--help"],
            &[
                "--bind",
                "--demo",
                "--database-url",
                "--cors-origins",
                "--max-depth",
                "--log",
            ],
            &["--iterations", "--role", "--scale", "--client"],
        ),
    ];
    for (args, shown, hidden) in cases {
        let output = accord(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let help = stdout(&output);
        for option in *shown {
            assert!(
                help.contains(option),
                "`accord {}` does not show {option}:\n{help}",
                args.join(" ")
            );
        }
        for option in *hidden {
            assert!(
                !help.contains(option),
                "`accord {}` shows {option}, not its own:\n{help}",
                args.join(" ")
            );
        }
    }
    // The options are the subcommand's: given after it, they are taken.
    let output = accord(&["migrate", "--database-url", "mysql://root@127.0.0.1/accord"]);
    assert!(stderr(&output).contains("unsupported scheme"), "{}", stderr(&output));
}

/// One line naming what failed, a failing exit status, no backtrace even
/// with RUST_BACKTRACE=1, no password.
fn assert_one_line_error(output: &Output, expected: &str) {
    let text = stderr(output);
    assert!(!output.status.success(), "{text}");
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line:\n{text}");
    assert!(lines[0].starts_with("error: "), "{text}");
    assert!(lines[0].contains(expected), "{expected:?} not in {text}");
    for leak in ["backtrace", "Caused by", ".rs:", "secret"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

#[test]
fn database_errors_say_what_failed() {
    let output = accord(&["migrate", "--database-url", "mysql://root:secret@127.0.0.1/accord"]);
    assert_one_line_error(&output, "unsupported scheme mysql; use sqlite:// or postgres://");

    let output = accord(&["keys", "list", "--database-url", "accord.db"]);
    assert_one_line_error(&output, "is not a database URL");

    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://accord:secret@127.0.0.1:{port}/accord");
    let output = accord(&["migrate", "--database-url", &url]);
    assert_one_line_error(&output, &format!("connection refused at 127.0.0.1:{port}"));

    // bench opens SQLite read-only, so a missing file is not created.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("missing.db");
    let url = format!("sqlite://{}?mode=rwc", missing.display());
    let output = accord(&["bench", "--iterations", "1", "--database-url", &url]);
    assert_one_line_error(&output, "missing.db");
    assert!(!missing.exists(), "bench created {}", missing.display());
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"),
        ))
        .await
        .expect("count query")
        .expect("a row");
    row.try_get("", "n").expect("n")
}

/// The database's files (SQLite) or nothing (PostgreSQL refuses writes
/// to a read-only session itself, which fails the bench).
fn files(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let Some(path) = app.database_url.strip_prefix("sqlite://") else {
        return Vec::new();
    };
    let path = path.split('?').next().unwrap_or(path);
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let file = format!("{path}{suffix}");
            std::fs::read(&file).ok().map(|bytes| (file, bytes))
        })
        .collect()
}

async fn bench_writes_nothing_into_the_database_it_measures(app: TestApp) {
    app.import_golden().await;
    let tables = ["segment", "segment_member", "server_secret", "customer", "orders"];
    let mut before = Vec::new();
    for table in tables {
        before.push(count(&app, table).await);
    }
    let files_before = files(&app);
    let url = app.database_url.clone();
    let output = tokio::task::spawn_blocking(move || accord(&["bench", "--iterations", "1", "--database-url", &url]))
        .await
        .expect("bench ran");
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("segment preview"), "{report}");
    assert!(report.contains("retention"), "{report}");
    let mut after = Vec::new();
    for table in tables {
        after.push(count(&app, table).await);
    }
    assert_eq!(before, after, "row counts of {tables:?} changed");
    assert!(files(&app) == files_before, "the SQLite files changed");
}
