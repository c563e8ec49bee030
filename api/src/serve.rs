//! `sablier serve`: the HTTP API with the projector running in the same process (one
//! projector per database: a second server stands by and takes over when the first
//! stops). SIGTERM or SIGINT stops accepting connections, lets in-flight requests finish,
//! then stops the projector.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sablier_domain::services::{DomainSettings, StaticPolicyBook};
use sablier_domain::{Clock, SystemClock};
use sablier_projections::leadership::Leadership;
use sablier_projections::{Projector, catalogue};
use sablier_store::access::{IssuedToken, Tokens};
use sablier_store::{Database, Engine, EventLog, ports};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http;
use crate::http::state::{AppState, Limits};

/// How often a standby server checks whether it may take the projector over.
const TAKEOVER_POLL: Duration = Duration::from_millis(500);
/// How often the projector looks for events written by other processes.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// The login of the first admin token a fresh database gets.
pub const FIRST_ADMIN_LOGIN: &str = "sablier.admin";

/// A running server.
pub struct Server {
    pub address: SocketAddr,
    /// The token created for a fresh database (shown once).
    pub first_admin_token: Option<IssuedToken>,
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// Binds `listen`, creates the first admin token if no token exists, starts the
    /// projector and serves.
    pub async fn start(
        database: Database,
        listen: SocketAddr,
        limits: Limits,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let first_admin_token = first_admin_token(&database).await?;

        let log = EventLog::new(database.clone());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let services = ports::services(
            &log,
            clock,
            Arc::new(StaticPolicyBook::default()),
            DomainSettings {
                max_attachment_bytes: limits.max_attachment_bytes as u64,
                ..DomainSettings::default()
            },
        );
        let engine = Engine::new(log.clone(), services.clone());
        let projector = Arc::new(Projector::new(log, catalogue::all()));
        let state = AppState::new(
            database.clone(),
            engine,
            &services,
            limits,
            (projector.reached(), projector.waker()),
        );
        let (stop, stopped) = watch::channel(false);
        let projecting = tokio::spawn(project(database.clone(), projector, stopped.clone()));
        let router = http::router(state);
        let task = tokio::spawn(async move {
            let mut shutdown = stopped.clone();
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    while !*shutdown.borrow() {
                        if shutdown.changed().await.is_err() {
                            break;
                        }
                    }
                })
                .await;
            // The projector stops once every in-flight request has been answered.
            let _ = projecting.await;
            served.context("the HTTP server failed")
        });
        tracing::info!(%address, "listening");
        Ok(Self {
            address,
            first_admin_token,
            stop,
            task,
        })
    }

    /// Stops accepting connections, waits for in-flight requests and the projector.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("the server task panicked")?
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        crate::project::shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        self.stop().await
    }
}

async fn first_admin_token(database: &Database) -> anyhow::Result<Option<IssuedToken>> {
    let tokens = Tokens::new(database.clone());
    if tokens.any().await? {
        return Ok(None);
    }
    let issued = tokens
        .issue(
            FIRST_ADMIN_LOGIN,
            "admin",
            "first admin token",
            "sablier",
            chrono::Utc::now(),
        )
        .await?;
    Ok(Some(issued))
}

/// Takes the projector's leadership (or stands by for it) and follows the log until told
/// to stop.
async fn project(database: Database, projector: Arc<Projector>, stopped: watch::Receiver<bool>) {
    let mut waiting = stopped.clone();
    let leadership = tokio::select! {
        leadership = Leadership::acquire(&database, TAKEOVER_POLL) => leadership,
        _ = async { while !*waiting.borrow() { if waiting.changed().await.is_err() { break; } } } => return,
    };
    match leadership {
        Ok(leadership) => {
            projector.follow(FOLLOW_POLL, stopped).await;
            drop(leadership);
        }
        Err(error) => tracing::error!(error = %error, "cannot take the projector's leadership"),
    }
}
