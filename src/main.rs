use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use accord::cli::{Cli, run};

/// How long the runtime waits, once `run` returns, for tasks still running
/// (requests past the shutdown grace period) before the process exits anyway.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            let result = runtime.block_on(async {
                let log = cli.command.log().cloned().unwrap_or_default();
                let telemetry = accord::telemetry::init(&log);
                let result = run(cli).await;
                telemetry.shutdown();
                result
            });
            runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
            result
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, the causes after colons: what failed, never a backtrace
            // (anyhow's Debug form would print one under RUST_BACKTRACE).
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
