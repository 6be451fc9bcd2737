use std::time::Duration;

use clap::Parser;

use accord::cli::{Cli, run};

/// How long the runtime waits, once `run` returns, for tasks still running
/// (requests past the shutdown grace period) before the process exits anyway.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(async {
        let telemetry = accord::telemetry::init(&cli.log);
        let result = run(cli).await;
        telemetry.shutdown();
        result
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}
