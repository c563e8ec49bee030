//! `sablier`: Sablier's server and administration command line.

use std::process::ExitCode;

use clap::Parser;
use sablier_api::{cli, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    telemetry::init(cli.log_format);
    match cli.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "sablier failed");
            eprintln!("sablier: {error:#}");
            ExitCode::from(2)
        }
    }
}
