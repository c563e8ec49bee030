//! `sablier project`: runs the projector until SIGTERM or SIGINT (or, with `--once`, until
//! the views have caught up with the log). Several processes may run it against one
//! database: one projects, the others stand by and take over when it dies.

use std::time::Duration;

use sablier_projections::Projector;
use sablier_projections::catalogue;
use sablier_projections::leadership::Leadership;
use sablier_store::{Database, EventLog};
use tokio::sync::watch;
use tracing::{info, warn};

/// How often a standby process checks whether it may take over.
const TAKEOVER_POLL: Duration = Duration::from_millis(500);
/// How often the projector checks that it still holds its leadership.
const LEADERSHIP_CHECK: Duration = Duration::from_secs(1);
/// How long a process waits to compete again when the database did not answer.
const LEADERSHIP_RETRY: Duration = Duration::from_secs(1);
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
        report_stalls(database).await?;
        info!(position, "views are up to date");
        return Ok(());
    }
    lead_and_follow(database, &projector, stopped).await
}

/// `sablier rebuild`: resets `views` (all when empty), then rebuilds them here if no other
/// process runs the projector. The reset comes first either way, so a running projector
/// picks it up at its next round.
pub async fn rebuild(database: &Database, views: &[String], batch_size: i64) -> anyhow::Result<()> {
    let projector = Projector::new(EventLog::new(database.clone()), catalogue::all())
        .with_batch_size(batch_size);
    let names: Vec<&str> = views.iter().map(String::as_str).collect();
    projector.reset(&names).await?;
    let Some(leadership) = Leadership::try_acquire(database).await? else {
        info!("views reset; the process that runs the projector rebuilds them");
        return Ok(());
    };
    let started = std::time::Instant::now();
    let position = projector.catch_up().await?;
    drop(leadership);
    report_stalls(database).await?;
    info!(
        position,
        seconds = started.elapsed().as_secs_f64(),
        "views rebuilt"
    );
    Ok(())
}

/// Views stalled at an event they cannot apply (`sablier` exits 1 on it).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct StalledViews(pub Vec<sablier_projections::Stall>);

/// Fails with [`StalledViews`] when a view of `database` is stalled.
async fn report_stalls(database: &Database) -> anyhow::Result<()> {
    let stalls =
        sablier_projections::stalled_views(&sablier_projections::ViewReader::new(database.clone()))
            .await?;
    if stalls.is_empty() {
        Ok(())
    } else {
        Err(StalledViews(stalls).into())
    }
}

/// Takes the projector's leadership (standing by while another process holds it), then
/// follows the log until `stopped` turns true. A leader that loses its lock (its
/// PostgreSQL session ended) finishes the round in progress, stands by and competes again;
/// a process that cannot reach the database to compete tries again every second.
pub async fn lead_and_follow(
    database: &Database,
    projector: &Projector,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    loop {
        projector.stand_by();
        let acquired = tokio::select! {
            acquired = Leadership::acquire(database, TAKEOVER_POLL) => acquired,
            _ = wait_for(stopped.clone()) => return Ok(()),
        };
        let mut leadership = match acquired {
            Ok(leadership) => leadership,
            Err(error) => {
                // The database is unreachable or restarting: compete again once it answers,
                // rather than leave every process without a projector.
                warn!(error = %error, "could not compete for the projector's leadership; retrying");
                tokio::select! {
                    () = tokio::time::sleep(LEADERSHIP_RETRY) => continue,
                    () = wait_for(stopped.clone()) => return Ok(()),
                }
            }
        };
        let (halt, halted) = watch::channel(false);
        let following = projector.follow(FOLLOW_POLL, halted);
        tokio::pin!(following);
        let lost = tokio::select! {
            () = &mut following => false,
            () = leadership.lost(LEADERSHIP_CHECK) => true,
            () = wait_for(stopped.clone()) => false,
        };
        let _ = halt.send(true);
        following.await;
        drop(leadership);
        if !lost {
            return Ok(());
        }
        warn!("this process lost the projector's leadership; standing by");
    }
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
