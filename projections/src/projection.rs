//! What a view is to the projector: a name, tables it owns, and how an event changes them.
//!
//! A view applies a batch at once ([`Projection::apply_batch`]). The request list, the
//! SLA clocks and the directory do it through `InMemoryBatch`: the rows the batch
//! touches read together, changed in memory, each written back once in multi-row
//! statements; billing does the same in `billing::batch`; the audit trail only inserts
//! rows made in [`Projection::prepare`]. A view reads only its own tables.
//!
//! The name keys the view's checkpoint. Renaming a view is a stop-the-world deploy: a
//! binary still projecting under the old name would write the same tables from its old
//! checkpoint.

use async_trait::async_trait;

use crate::error::ProjectionError;
use crate::event::FeedEvent;
use crate::sql::ViewTx;

/// What [`Projection::prepare`] made of a batch, for the same projection's
/// [`Projection::apply_prepared`].
#[derive(Default)]
pub struct Prepared(Option<Box<dyn std::any::Any + Send>>);

impl Prepared {
    pub(crate) fn new<T: std::any::Any + Send>(value: T) -> Self {
        Self(Some(Box::new(value)))
    }

    /// The prepared value, if it is a `T`.
    pub(crate) fn take<T: std::any::Any>(self) -> Option<T> {
        self.0
            .and_then(|value| value.downcast::<T>().ok())
            .map(|value| *value)
    }
}

#[async_trait]
pub trait Projection: Send + Sync {
    /// Unique and stable: it keys the projection's checkpoint. Change it (e.g. a `_v2`
    /// suffix) when the view's meaning changes, and the view rebuilds itself from 0.
    fn name(&self) -> &'static str;

    /// Applies a batch of consecutive events, in position order. Called exactly once per
    /// event, inside the transaction that also moves this projection's checkpoint. A view
    /// that writes much per event reads what the batch touches once, changes it in memory
    /// and writes each row back once; the result must equal applying the events one by one
    /// (`testing::feed` checks it for every projection test).
    async fn apply_batch(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError>;

    /// The part of applying `events` that depends on the events alone (no view row):
    /// the projector runs it for the next batch on the thread that reads and decodes it,
    /// while the current batch is applied, and hands the result to
    /// [`Projection::apply_prepared`]. Nothing by default.
    fn prepare(&self, _events: &[FeedEvent]) -> Prepared {
        Prepared::default()
    }

    /// Applies `events` as [`Projection::apply_batch`] does, with what
    /// [`Projection::prepare`] made of these same events.
    async fn apply_prepared(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
        _prepared: Prepared,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, events).await
    }

    /// Applies one event: a batch of one.
    async fn apply(&self, tx: &mut ViewTx, event: &FeedEvent) -> Result<(), ProjectionError> {
        self.apply_batch(tx, std::slice::from_ref(event)).await
    }

    /// Every table the view owns, in an order they can be emptied in.
    fn tables(&self) -> &'static [&'static str];

    /// Empties the view's tables (before a rebuild from position 0). PostgreSQL truncates
    /// them: a `DELETE` leaves every row dead in the tables and their indexes until a
    /// vacuum, and the rebuild that follows then pays for them (a 1M-event rebuild took
    /// twice as long after a `DELETE` as after a `TRUNCATE`, docs/benchmarks.md). Readers
    /// wait for the reset's transaction to end instead of reading the old rows meanwhile.
    async fn reset(&self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        if tx.is_postgres() {
            tx.execute(&format!("TRUNCATE {}", self.tables().join(", ")), &[])
                .await?;
            return Ok(());
        }
        for table in self.tables() {
            tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
        }
        Ok(())
    }
}

/// How a view that writes much per event applies a batch: it reads what the batch touches
/// once ([`InMemoryBatch::load`]), changes it in memory event by event
/// ([`InMemoryBatch::apply`]) and writes each changed row back once
/// ([`InMemoryBatch::write`]).
#[async_trait]
pub(crate) trait InMemoryBatch: Sized + Send {
    /// Reads the rows `events` will change.
    async fn load(tx: &mut ViewTx, events: &[FeedEvent]) -> Result<Self, ProjectionError>;

    /// Applies one event to the rows in memory.
    fn apply(&mut self, event: &FeedEvent) -> Result<(), ProjectionError>;

    /// Writes what changed.
    async fn write(self, tx: &mut ViewTx) -> Result<(), ProjectionError>;

    /// A whole batch: load, apply each event in order, write.
    async fn apply_all(tx: &mut ViewTx, events: &[FeedEvent]) -> Result<(), ProjectionError> {
        Self::load(tx, events).await?.apply_loaded(tx, events).await
    }

    /// The rest of a batch once its rows are loaded: apply each event in order, write.
    async fn apply_loaded(
        mut self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(event)?;
        }
        self.write(tx).await
    }
}
