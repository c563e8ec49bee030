//! The command line: global options and the subcommands.

use clap::{Parser, Subcommand};
use sablier_store::{DEFAULT_DATABASE_URL, Database};

use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "sablier",
    version,
    about = "Sablier: an event-sourced ticketing and SLA engine"
)]
pub struct Cli {
    /// sqlite://PATH (created if missing) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Log format on stderr.
    #[arg(long, env = "SABLIER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the database schema.
    Migrate,
    /// Write a demonstration scenario and print every event it wrote as JSON lines.
    Demo,
    /// Run the projector: keep the views up to date with the event log.
    Project {
        /// Catch up with the log, then exit.
        #[arg(long)]
        once: bool,
    },
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let database = Database::connect_and_migrate(&self.database_url).await?;
        let result = match self.command {
            Command::Migrate => {
                tracing::info!(url = %redact(&self.database_url), "schema is up to date");
                Ok(())
            }
            Command::Demo => crate::demo::run(&database).await,
            Command::Project { once } => crate::project::run(&database, once).await,
        };
        database.close().await;
        result
    }
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/sablier"),
            "postgres://app:***@db:5432/sablier"
        );
        assert_eq!(
            redact("postgres://app@db/sablier"),
            "postgres://app@db/sablier"
        );
        assert_eq!(redact("sqlite://sablier.db"), "sqlite://sablier.db");
    }
}
