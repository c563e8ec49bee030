//! `sablier project`: runs the projector until SIGTERM or SIGINT (or, with `--once`, until
//! the views have caught up with the log). Several processes may run it against one
//! database: one projects, the others stand by and take over when it dies.

use std::time::Duration;

use sablier_projections::Projector;
use sablier_projections::catalogue;
use sablier_projections::leadership::Leadership;
use sablier_store::{Database, EventLog};
use tokio::sync::watch;
use tracing::info;

/// How often a standby process checks whether it may take over.
const TAKEOVER_POLL: Duration = Duration::from_millis(500);
/// How often a projector with nothing to do looks for new events.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

pub async fn run(database: &Database, once: bool, batch_size: i64) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutting down the projector");
        let _ = stop.send(true);
    });
    let projector = Projector::new(EventLog::new(database.clone()), catalogue::all())
        .with_batch_size(batch_size);
    if once {
        let position = projector.catch_up().await?;
        info!(position, "views are up to date");
        return Ok(());
    }
    lead_and_follow(database, &projector, stopped).await
}

/// Takes the projector's leadership (standing by while another process holds it), then
/// follows the log until `stopped` turns true.
pub async fn lead_and_follow(
    database: &Database,
    projector: &Projector,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let leadership = tokio::select! {
        leadership = Leadership::acquire(database, TAKEOVER_POLL) => leadership?,
        _ = wait_for(stopped.clone()) => return Ok(()),
    };
    projector.follow(FOLLOW_POLL, stopped).await;
    drop(leadership);
    Ok(())
}

/// Resolves once `stopped` turns true (or its sender is gone).
pub async fn wait_for(mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        if stopped.changed().await.is_err() {
            return;
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
