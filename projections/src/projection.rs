//! What a view is to the projector: a name, tables it owns, and how an event changes them.

use async_trait::async_trait;

use crate::error::ProjectionError;
use crate::event::FeedEvent;
use crate::sql::ViewTx;

#[async_trait]
pub trait Projection: Send + Sync {
    /// Unique and stable: it keys the projection's checkpoint. Change it (e.g. a `_v2`
    /// suffix) when the view's meaning changes, and the view rebuilds itself from 0.
    fn name(&self) -> &'static str;

    /// Applies one event. Called in position order, exactly once per event, inside the
    /// transaction that also moves this projection's checkpoint.
    async fn apply(&self, tx: &mut ViewTx, event: &FeedEvent) -> Result<(), ProjectionError>;

    /// Empties the view's tables (before a rebuild from position 0).
    async fn reset(&self, tx: &mut ViewTx) -> Result<(), ProjectionError>;
}
