//! Sablier's event store: one event log on embedded SQLite (the default) or PostgreSQL,
//! with what cqrs-es 0.5's stores lack.
//!
//! - [`EventLog`] appends events under one write lock, giving each a dense **global
//!   position** in commit order and a **hash** chained to the event before it; reads of one
//!   aggregate's stream go through sqlite-es / postgres-es.
//! - The feed ([`EventLog::read_after`], [`EventLog::stream_after`]) reads everything after
//!   a position, in order, in bounded batches, optionally by aggregate type.
//! - [`CommandBus`] executes a command: load, decide, append, and on an optimistic-lock
//!   conflict reload and decide again, a bounded number of times. It reports the positions
//!   written, so readers can wait for projections to reach them.
//! - [`ports`] implements the domain's ports over the log; what a decision read through
//!   them is its [`read_set`], which its append is conditioned on.
//! - [`import`] loads an exported log, positions and hashes kept, into an empty database.
//!
//! - [`access`] keeps the HTTP API's bearer tokens (hashed) and idempotency records;
//!   [`attachments`] the files attached to changes, by SHA-256.
//!
//! No snapshot store is used: cqrs-es 0.5 applies events twice with them.

pub mod access;
pub mod attachments;
pub mod commands;
pub mod database;
pub mod engine;
pub mod error;
pub mod event_log;
pub mod feed;
pub mod group_commit;
pub mod import;
pub mod ports;
pub mod read_set;
pub mod seal;
mod sqlite_feed;
/// Fakes and fixtures for tests (the `testing` feature): never in a release build.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod wal;

pub use commands::{CommandBus, CommandError, Committed, RetryPolicy};
pub use database::{Backend, DEFAULT_DATABASE_URL, Database};
pub use engine::Engine;
pub use error::{Condition, StoreError};
pub use event_log::EventLog;
pub use feed::{FeedFilter, StoredEvent};
