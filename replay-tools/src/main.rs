//! `sablier-replay`: the analysts' command line. It reads facts, asks `sablier-sla`, and
//! prints JSON an analyst can keep as evidence. Each subcommand is a module of
//! `commands`; this file only parses the arguments and turns the outcome into an exit
//! code, as ripgrep does: 0 all answered, 1 some input was refused (each refusal is
//! reported), 2 the command could not run.

mod commands;
mod export_format;
mod instants;
mod outcome;
mod progress;
mod scratch;
mod selection;

use std::process::ExitCode;

use clap::Parser;

use outcome::Outcome;

/// Replays move millions of rows from the database driver's thread to the one that reads
/// them; mimalloc frees across threads far more cheaply than the system allocator
/// (measured in docs/benchmarks.md, "Replay tools").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Replay and explain Sablier's SLA clocks and calendars.
#[derive(Debug, Parser)]
#[command(name = "sablier-replay", version, about)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.run() {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            eprintln!("sablier-replay: {error:#}");
            Outcome::could_not_run()
        }
    }
}
