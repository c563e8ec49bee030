//! `sablier`: Sablier's server and administration command line.

use std::process::ExitCode;

use clap::Parser;
use sablier_api::{cli, project, telemetry};

/// The server and its projector move rows from the database driver's threads to the ones
/// that use them; mimalloc frees across threads far more cheaply than the system
/// allocator (measured in docs/benchmarks.md, "Projections" and "HTTP API").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    telemetry::init(cli.log_format);
    match cli.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.downcast_ref::<project::StalledViews>().is_some() => {
            // The work ran; what it found is a problem to report (exit 1), not a failure.
            eprintln!("sablier: {error:#}");
            ExitCode::from(1)
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "sablier failed");
            eprintln!("sablier: {error:#}");
            ExitCode::from(2)
        }
    }
}
