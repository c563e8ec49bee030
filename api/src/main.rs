//! `sablier`: Sablier's server and administration command line.

mod cli;
mod demo;
mod project;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

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
