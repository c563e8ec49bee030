//! Durability on PostgreSQL: queued groups of appends commit without waiting for the WAL
//! flush (a command written alone commits durably), and nothing is acknowledged or read
//! from the log before the flush that covers it.
//!
//! Every append holds the `event_log_head` row until its transaction ends
//! ([`crate::event_log`]). Committed the usual way, it would hold the row through its WAL
//! flush, and appends would pay one flush each, one after the other, where plain inserts
//! share theirs. Instead the appends' connections commit with `synchronous_commit = off`:
//! the commit record is written to the WAL buffers, the row is free at once and the next
//! group of appends goes on while this one's flush is awaited.
//!
//! What is not yet flushed could still vanish with the machine, so:
//! - an append is acknowledged only after [`flush`] returned on an ordinary connection:
//!   its commit (of `pg_logical_emit_message`, the smallest write whose commit waits for
//!   the disk) is after the append's in the WAL, and waits for the WAL to be on disk up to
//!   itself (concurrent flushes share the disk write, as plain commits do);
//! - a read of the log ([`crate::EventLog::read_after`], [`crate::EventLog::load_stream`],
//!   [`crate::EventLog::head`]) answers only after [`ensure_durable`]: no reader sees a
//!   position that a crash could give to another event;
//! - whatever is written after reading an unflushed event (a projection's view rows, a
//!   command decided on the stream) commits after it in the WAL, so it cannot outlive it.
//!
//! SQLite commits each group durably (`synchronous = FULL`): none of this applies there.

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Connections for the appends only: the same server and settings as `pool`, with
/// commits that do not wait for the WAL flush.
pub(crate) fn unflushed_pool(pool: &PgPool) -> PgPool {
    let options: PgConnectOptions = (*pool.connect_options())
        .clone()
        .options([("synchronous_commit", "off")]);
    // One group is written at a time; the second connection covers a connection being
    // replaced.
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(pool.options().get_acquire_timeout())
        .connect_lazy_with(options)
}

/// Returns once the WAL is on disk up to now: everything committed before the call is
/// durable. A transactional logical message is the smallest write that makes a commit
/// wait for the flush (a transaction that only takes an id writes no WAL and does not
/// wait); logical decoding clients, if any, see it under the prefix `sablier`.
pub(crate) async fn flush(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_logical_emit_message(true, 'sablier', 'flush')")
        .execute(pool)
        .await
        .map(drop)
}

/// [`flush`], unless the WAL is already on disk up to now (one round trip then).
pub(crate) async fn ensure_durable(pool: &PgPool) -> Result<(), sqlx::Error> {
    let flushed: bool =
        sqlx::query_scalar("SELECT pg_current_wal_insert_lsn() <= pg_current_wal_flush_lsn()")
            .fetch_one(pool)
            .await?;
    if !flushed {
        flush(pool).await?;
    }
    Ok(())
}
