//! Sablier's projections: the views the portal and staff read, built from the global event
//! feed alone and always rebuildable from it.
//!
//! The [`projector`] reads the feed in position order and applies each event to every
//! [`Projection`] in the transaction that moves that projection's checkpoint, so each event
//! takes effect exactly once, whatever crashes in between.

pub mod audit_trail;
pub mod billing;
pub mod catalogue;
pub mod directory;
pub mod error;
pub mod event;
pub mod leadership;
pub mod projection;
pub mod projector;
pub mod request_list;
pub mod sla_clocks;
pub mod snapshot;
pub mod sql;
/// Fakes and fixtures for tests (the `testing` feature): never in a release build.
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::ProjectionError;
pub use event::{Audit, DomainEvent, FeedEvent};
pub use projection::Projection;
pub use projector::{
    Checkpoints, Projector, Stall, ViewCheckpoint, ViewsWait, stalled_views, views_position,
    wait_for_position, wait_for_views,
};
pub use sql::{Param, ViewReader, ViewTx};
