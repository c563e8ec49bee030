//! The command line: global options and the subcommands.

use std::io::Write;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sablier_domain::text::{Login, TokenLabel};
use sablier_store::access::{IdempotencyRetention, Tokens};
use sablier_store::{DEFAULT_DATABASE_URL, Database};

use crate::http::state::Limits;
use crate::http::throttle::RateLimits;
use crate::http::tokens::{TokenView, token_role};
use crate::serve::Server;

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
    /// Serve the HTTP API, with the projector running in the same process. A fresh
    /// database gets a first admin token, printed once on stdout.
    Serve(ServeArgs),
    /// Manage the HTTP API's bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Create or update the database schema.
    Migrate,
    /// Write a demonstration scenario and print every event it wrote as JSON lines.
    Demo,
    /// Run the projector: keep the views up to date with the event log.
    Project {
        /// Catch up with the log, then exit.
        #[arg(long)]
        once: bool,
        /// Events applied per batch, at most (more: faster catch-up, more memory).
        #[arg(long, env = "SABLIER_PROJECTOR_BATCH_SIZE", default_value_t = sablier_projections::projector::DEFAULT_BATCH_SIZE, value_parser = clap::value_parser!(i64).range(1..))]
        batch_size: i64,
    },
    /// Rebuild views from the whole log: empty them and set their checkpoints to 0 in one
    /// transaction, then catch up here, unless another process runs the projector (it
    /// rebuilds them). Readers meanwhile see the views as far as the rebuild has come.
    Rebuild {
        /// The views to rebuild, by projection name (all when none is named; an unknown
        /// name is refused, with the list of names, before anything changes).
        views: Vec<String>,
        /// Events applied per batch, at most.
        #[arg(long, env = "SABLIER_PROJECTOR_BATCH_SIZE", default_value_t = sablier_projections::projector::DEFAULT_BATCH_SIZE, value_parser = clap::value_parser!(i64).range(1..))]
        batch_size: i64,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "SABLIER_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Largest attachment accepted, in bytes.
    #[arg(long, env = "SABLIER_MAX_ATTACHMENT_BYTES", default_value_t = Limits::default().max_attachment_bytes)]
    max_attachment_bytes: usize,
    /// Requests one token may send per second (sustained and in a burst); past it, 429.
    #[arg(long, env = "SABLIER_REQUESTS_PER_TOKEN_PER_SECOND", default_value_t = RateLimits::default().requests_per_token_per_second)]
    requests_per_token_per_second: NonZeroU32,
    /// Failed authentications one client address may make per minute (sustained and in a
    /// burst); past it, 429 instead of 401.
    #[arg(long, env = "SABLIER_FAILED_AUTHENTICATIONS_PER_ADDRESS_PER_MINUTE", default_value_t = RateLimits::default().failed_authentications_per_address_per_minute)]
    failed_authentications_per_address_per_minute: NonZeroU32,
    /// How long the answer to an Idempotency-Key is kept, in seconds.
    #[arg(long, env = "SABLIER_IDEMPOTENCY_TTL_SECONDS", default_value_t = IdempotencyRetention::default().ttl.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    idempotency_ttl_seconds: u64,
    /// The most Idempotency-Key answers kept per token; past it, its oldest go first.
    #[arg(long, env = "SABLIER_IDEMPOTENCY_KEYS_PER_TOKEN", default_value_t = IdempotencyRetention::default().records_per_caller, value_parser = clap::value_parser!(u32).range(1..))]
    idempotency_keys_per_token: u32,
}

impl ServeArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_attachment_bytes: self.max_attachment_bytes,
            rate: RateLimits {
                requests_per_token_per_second: self.requests_per_token_per_second,
                failed_authentications_per_address_per_minute: self
                    .failed_authentications_per_address_per_minute,
            },
            idempotency: IdempotencyRetention {
                ttl: Duration::from_secs(self.idempotency_ttl_seconds),
                records_per_caller: self.idempotency_keys_per_token,
            },
            ..Limits::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it (it is stored only as its SHA-256).
    Create {
        /// The user the token acts as.
        #[arg(long)]
        login: String,
        /// customer, agent, analyst or admin.
        #[arg(long)]
        role: String,
        /// What the token is for.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List every token (never their secrets), as JSON lines.
    List,
    /// Revoke a token by id (`tok_…`).
    Revoke { token_id: String },
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let database = Database::connect_and_migrate(&self.database_url).await?;
        let result = match self.command {
            Command::Migrate => {
                tracing::info!(url = %redact(&self.database_url), "schema is up to date");
                Ok(())
            }
            Command::Serve(args) => serve(database.clone(), args.listen, args.limits()).await,
            Command::Token(command) => token(&database, command).await,
            Command::Demo => crate::demo::run(&database).await,
            Command::Project { once, batch_size } => {
                crate::project::run(&database, once, batch_size).await
            }
            Command::Rebuild { views, batch_size } => {
                crate::project::rebuild(&database, &views, batch_size).await
            }
        };
        database.close().await;
        result
    }
}

async fn serve(database: Database, listen: SocketAddr, limits: Limits) -> anyhow::Result<()> {
    let server = Server::start(database, listen, limits).await?;
    if let Some(issued) = &server.first_admin_token {
        let mut stdout = std::io::stdout().lock();
        writeln!(
            stdout,
            "first admin token (login {}), shown once; keep it:\n{}",
            issued.grant.login, issued.secret
        )?;
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{}", server.address)?;
    drop(stdout);
    server.run_until_signal().await
}

async fn token(database: &Database, command: TokenCommand) -> anyhow::Result<()> {
    let tokens = Tokens::new(database.clone());
    let mut stdout = std::io::stdout().lock();
    match command {
        TokenCommand::Create { login, role, label } => {
            let login =
                Login::parse(&login).map_err(|error| anyhow::anyhow!("--login: {}", error.rule))?;
            let role = token_role(&role).map_err(|problem| {
                anyhow::anyhow!("--role: {}", problem.rule.unwrap_or_default())
            })?;
            let label = TokenLabel::parse(&label)
                .map_err(|error| anyhow::anyhow!("--label: {}", error.rule))?;
            let issued = tokens
                .issue(
                    login.as_str(),
                    role.as_str(),
                    &label,
                    "cli",
                    chrono::Utc::now(),
                )
                .await?;
            writeln!(stdout, "{}", issued.secret)?;
            eprintln!(
                "token {} for {} ({}) created; it is shown only this once",
                issued.grant.token_id, login, role
            );
        }
        TokenCommand::List => {
            for grant in tokens.list().await? {
                writeln!(
                    stdout,
                    "{}",
                    serde_json::to_string(&TokenView::from(grant))?
                )?;
            }
        }
        TokenCommand::Revoke { token_id } => {
            if !tokens.revoke(&token_id, chrono::Utc::now()).await? {
                anyhow::bail!("no live token {token_id}");
            }
            eprintln!("token {token_id} revoked");
        }
    }
    Ok(())
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
