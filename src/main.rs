use clap::Parser;

use accord::cli::{Cli, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let telemetry = accord::telemetry::init(&cli.log);
    let result = run(cli).await;
    telemetry.shutdown();
    result
}
