//! A scratch database for views rebuilt from the log: a fresh SQLite file in a temporary
//! directory, removed when dropped. The database being replayed is only read; the
//! rebuilt views live here (`rebuild`, `as-of`).

use std::sync::Arc;

use anyhow::Context;
use futures::TryStreamExt;
use sablier_projections::sql::begin;
use sablier_projections::{FeedEvent, Projection};
use sablier_store::{Database, EventLog, FeedFilter};

/// Events applied per scratch transaction.
const BATCH: usize = 2_000;

pub struct Scratch {
    pub database: Database,
    _directory: tempfile::TempDir,
}

/// A projection to rebuild, and the last position it may apply.
pub struct Target {
    pub projection: Arc<dyn Projection>,
    pub up_to: i64,
}

/// What feeding the scratch views met on the way.
#[derive(Debug, Default)]
pub struct Fed {
    pub applied: u64,
    /// Events that could not be decoded: position and why. They were left out.
    pub damaged: Vec<(i64, String)>,
}

impl Scratch {
    pub async fn new() -> anyhow::Result<Self> {
        let directory = tempfile::tempdir().context("cannot create a temporary directory")?;
        let url = format!("sqlite://{}", directory.path().join("views.db").display());
        let database = Database::connect_and_migrate(&url)
            .await
            .context("cannot create the scratch database")?;
        Ok(Self {
            database,
            _directory: directory,
        })
    }

    /// Reads `log` in position order up to the highest `up_to` and applies to each target
    /// the events at or before its own `up_to` that `keep` accepts. An event that does not
    /// decode is left out and listed; `on_event` sees every position read.
    pub async fn feed(
        &self,
        log: &EventLog,
        filter: FeedFilter,
        targets: &[Target],
        mut keep: impl FnMut(&FeedEvent) -> bool,
        mut on_event: impl FnMut(i64),
    ) -> anyhow::Result<Fed> {
        let last = targets.iter().map(|target| target.up_to).max().unwrap_or(0);
        let mut fed = Fed::default();
        let mut batch = Vec::with_capacity(BATCH);
        let mut events = std::pin::pin!(log.stream_after(0, filter));
        while let Some(stored) = events
            .try_next()
            .await
            .context("cannot read the event log")?
        {
            if stored.position > last {
                break;
            }
            on_event(stored.position);
            match FeedEvent::decode(&stored) {
                Ok(event) if keep(&event) => batch.push(event),
                Ok(_) => {}
                Err(error) => fed.damaged.push((stored.position, error.to_string())),
            }
            if batch.len() >= BATCH {
                fed.applied += batch.len() as u64;
                self.apply(targets, &batch).await?;
                batch.clear();
            }
        }
        fed.applied += batch.len() as u64;
        self.apply(targets, &batch).await?;
        Ok(fed)
    }

    async fn apply(&self, targets: &[Target], events: &[FeedEvent]) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = begin(&self.database).await?;
        for target in targets {
            let within = events.partition_point(|event| event.position <= target.up_to);
            if within > 0 {
                target
                    .projection
                    .apply_batch(&mut tx, &events[..within])
                    .await
                    .with_context(|| format!("rebuilding {}", target.projection.name()))?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn close(self) {
        self.database.close().await;
    }
}
