//! `sablier serve`: the HTTP API with the projector running in the same process (one
//! projector per database, as `sablier project` takes it: a second server stands by and
//! takes over when the first stops). SIGTERM or SIGINT stops accepting connections, lets
//! in-flight requests finish, then stops the projector. Every minute it deletes expired
//! idempotency records and forgets idle throttle entries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sablier_domain::services::{DomainSettings, StaticPolicyBook};
use sablier_domain::text::TokenLabel;
use sablier_domain::{Clock, SystemClock};
use sablier_projections::{Projector, catalogue};
use sablier_store::access::{IssuedToken, Tokens};
use sablier_store::{Database, Engine, EventLog, ports};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::bare_refusals::{ClientAddress, ProblemListener};
use crate::http::state::{AppState, Limits};
use crate::{http, project};

/// The login of the first admin token a fresh database gets.
pub const FIRST_ADMIN_LOGIN: &str = "sablier.admin";

/// What the handlers share over `database`, and the projector that keeps its views.
pub(crate) fn shared_state(database: &Database, limits: Limits) -> (AppState, Arc<Projector>) {
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
    (state, projector)
}

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
        let (state, projector) = shared_state(&database, limits);
        let (stop, stopped) = watch::channel(false);
        let projecting = tokio::spawn({
            let (database, stopped) = (database.clone(), stopped.clone());
            async move {
                if let Err(error) = project::lead_and_follow(&database, &projector, stopped).await {
                    tracing::error!(error = format!("{error:#}"), "the projector stopped");
                }
            }
        });
        let sweeping = tokio::spawn(housekeeping(state.clone(), stopped.clone()));
        let router = http::router(state).into_make_service_with_connect_info::<ClientAddress>();
        let task = tokio::spawn(async move {
            let served = axum::serve(ProblemListener(listener), router)
                .with_graceful_shutdown(project::wait_for(stopped))
                .await;
            // The projector stops once every in-flight request has been answered.
            let _ = projecting.await;
            let _ = sweeping.await;
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
        project::shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        self.stop().await
    }
}

/// How often expired idempotency records and idle throttle entries are let go.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(60);

/// Until `stopped`: at start and every [`HOUSEKEEPING_INTERVAL`], deletes the idempotency
/// records that expired or exceed a token's bound, and forgets idle throttle entries.
async fn housekeeping(state: AppState, stopped: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = project::wait_for(stopped.clone()) => return,
            _ = interval.tick() => {}
        }
        match state.idempotency.sweep(state.now()).await {
            Ok(swept) if swept.expired + swept.beyond_bound > 0 => tracing::info!(
                expired = swept.expired,
                beyond_bound = swept.beyond_bound,
                "idempotency records deleted"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "could not sweep idempotency records"),
        }
        state.throttle.forget_idle();
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
            &TokenLabel::parse("first admin token").expect("a valid label"),
            "sablier",
            chrono::Utc::now(),
        )
        .await?;
    Ok(Some(issued))
}
