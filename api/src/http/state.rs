//! What every handler shares: the command buses, the view reader, tokens and idempotency
//! records, the throttles, the wall clock, and the gate that gives a caller
//! read-your-writes.
//!
//! Read-your-writes has two waits, each at most 5 s: every read waits for the views it is
//! served by to show the writes this server acknowledged ([`AppState::views_caught_up`]),
//! and a request naming a position (`Sablier-Read-After`, any server on the database)
//! waits for every checkpoint to reach it, else 503 with Retry-After
//! ([`AppState::views_reach`]). The second reads the checkpoints, not this server's own
//! projector, which learns of a rebuild started elsewhere only at its next round (its
//! report is lowered to the checkpoints at each round and forgotten while it stands by).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sablier_domain::change::ChangeCatalogue;
use sablier_domain::order::ServiceCatalogue;
use sablier_domain::services::PolicyBook;
use sablier_domain::{Clock, Services};
use sablier_projections::{
    Stall, ViewReader, ViewsWait, catalogue, views_position, wait_for_views,
};
use sablier_store::access::{IdempotencyKeys, IdempotencyRetention, Tokens};
use sablier_store::attachments::Attachments;
use sablier_store::{Database, Engine};
use tokio::sync::{Notify, watch};

use crate::http::metrics::Metrics;
use crate::http::problem::Problem;
use crate::http::throttle::{RateLimits, Throttle};
use crate::http::token_cache::TokenCache;

/// Limits of the HTTP edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON body accepted.
    pub max_body_bytes: usize,
    /// Largest attachment accepted (10 MiB by default, docs/domain.md "Change requests").
    pub max_attachment_bytes: usize,
    /// How long a read waits for the views to show the server's own writes.
    pub read_your_writes: Duration,
    /// Requests per token, failed authentications per address.
    pub rate: RateLimits,
    /// How long idempotency records are kept, and how many per token.
    pub idempotency: IdempotencyRetention,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            max_attachment_bytes: 10 * 1024 * 1024,
            read_your_writes: Duration::from_secs(5),
            rate: RateLimits::default(),
            idempotency: IdempotencyRetention::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub database: Database,
    pub engine: Engine,
    pub reader: ViewReader,
    pub tokens: Tokens,
    pub idempotency: IdempotencyKeys,
    pub attachments: Attachments,
    pub token_cache: TokenCache,
    pub throttle: Throttle,
    pub clock: Arc<dyn Clock>,
    pub policies: Arc<dyn PolicyBook>,
    pub change_catalogue: Arc<ChangeCatalogue>,
    pub service_catalogue: Arc<ServiceCatalogue>,
    pub metrics: Metrics,
    pub limits: Limits,
    /// Whether a write found the storage full, until one succeeds again.
    pub storage: StorageHealth,
    views: ViewsGate,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    pub fn new(
        database: Database,
        engine: Engine,
        services: &Services,
        limits: Limits,
        projector: (watch::Receiver<i64>, Arc<Notify>),
    ) -> Self {
        let (reached, waker) = projector;
        Self {
            inner: Arc::new(Inner {
                reader: ViewReader::new(database.clone()),
                tokens: Tokens::new(database.clone()),
                idempotency: IdempotencyKeys::new(database.clone(), limits.idempotency),
                attachments: Attachments::new(database.clone()),
                token_cache: TokenCache::default(),
                throttle: Throttle::new(limits.rate),
                database,
                engine,
                clock: services.clock.clone(),
                policies: services.policies.clone(),
                change_catalogue: services.change_catalogue.clone(),
                service_catalogue: services.service_catalogue.clone(),
                metrics: Metrics::default(),
                limits,
                storage: StorageHealth::default(),
                views: ViewsGate {
                    committed: AtomicI64::new(0),
                    names: catalogue::names(),
                    reached,
                    waker,
                },
            }),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Records that this server committed up to `position`, and wakes the projector.
    pub fn committed(&self, position: Option<i64>) {
        if let Some(position) = position {
            self.views.committed.fetch_max(position, Ordering::AcqRel);
            self.views.waker.notify_one();
        }
    }

    /// Waits until the `views` a read is served by show every write this server
    /// acknowledged so far (at most `limits.read_your_writes`; after that the read is
    /// served as the views stand, and the delay is logged). A stalled view that does not
    /// show them will not by waiting: 503 naming it, rather than stale data.
    pub async fn views_caught_up(&self, views: &[&'static str]) -> Result<(), Problem> {
        let wanted = self.views.committed.load(Ordering::Acquire);
        if *self.views.reached.borrow() >= wanted {
            return Ok(());
        }
        match wait_for_views(&self.reader, views, wanted, self.limits.read_your_writes).await? {
            ViewsWait::Reached => {}
            ViewsWait::Stalled(stall) => return Err(stalled(&stall)),
            ViewsWait::TimedOut => tracing::warn!(
                position = wanted,
                "views are behind the log; answering from them as they stand"
            ),
        }
        Ok(())
    }

    /// Waits until the views have reached `position` (a position a command answered with,
    /// here or in another process sharing the database), at most
    /// `limits.read_your_writes`; past that, 503: the caller asked for that position and
    /// would otherwise be answered from views that do not show it.
    /// It reads the checkpoints, never this process's own report: a rebuild started by
    /// another process empties the views before this process's projector (if it runs
    /// one) has seen it.
    pub async fn views_reach(&self, position: i64) -> Result<(), Problem> {
        let names = &self.views.names;
        match wait_for_views(&self.reader, names, position, self.limits.read_your_writes).await? {
            ViewsWait::Reached => return Ok(()),
            ViewsWait::Stalled(stall) => return Err(stalled(&stall)),
            ViewsWait::TimedOut => {}
        }
        let standing = self.views_position().await?;
        Err(Problem::unavailable(
            format!(
                "the views have not reached position {position} within {} ms (they stand at {standing}); retry",
                self.limits.read_your_writes.as_millis()
            ),
            1,
        ))
    }

    /// The views this server's reads wait for.
    pub fn view_names(&self) -> &[&'static str] {
        &self.views.names
    }

    /// The position every view has reached, read from their checkpoints (so it is right in
    /// a process that does not run the projector too).
    pub async fn views_position(&self) -> Result<i64, sablier_projections::ProjectionError> {
        views_position(&self.reader, &self.views.names).await
    }
}

/// Whether the storage took the last write this process tried: a write refused for a full
/// disk makes the server not ready until a write succeeds again.
#[derive(Default)]
pub struct StorageHealth {
    full: std::sync::atomic::AtomicBool,
}

impl StorageHealth {
    /// A write found the storage full.
    pub fn full(&self) {
        self.full.store(true, Ordering::Release);
    }

    /// A write succeeded.
    pub fn written(&self) {
        self.full.store(false, Ordering::Release);
    }

    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Acquire)
    }
}

/// The answer of a read served by a stalled view: its data would be stale.
fn stalled(stall: &Stall) -> Problem {
    Problem::unavailable(
        format!(
            "the {} view is stalled at position {}: it cannot apply the event at position {}, and \
             would answer without what followed; operators see why in /readyz; retry later",
            stall.view, stall.position, stall.event_position
        ),
        60,
    )
    .with_type("view-stalled")
}

struct ViewsGate {
    committed: AtomicI64,
    /// The views a read waits for.
    names: Vec<&'static str>,
    reached: watch::Receiver<i64>,
    waker: Arc<Notify>,
}
