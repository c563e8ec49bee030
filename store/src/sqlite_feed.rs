//! The feed of an SQLite file read through SQLite's own API (rusqlite), for the readers
//! that walk the whole log (`sablier-replay verify` and `export`, rebuilds) and for
//! [`crate::EventLog::read_after`] on a file (the projector's batches).
//!
//! sqlx-sqlite copies every column of every row into a heap value on its worker thread and
//! frees it on the reader's, which cost more than the reading itself on a million events
//! (docs/benchmarks.md, "Replay tools"). Here a blocking thread steps the same query
//! ([`crate::EventLog::read_after`]'s, same batches, same order) and builds each
//! [`StoredEvent`] straight from SQLite's buffers. Each batch is its own read transaction,
//! as with sqlx: events committed while the stream runs are seen when it reaches them.
//! [`crate::EventLog::read_after`]'s read connections are kept between reads; a stream
//! ([`crate::EventLog::batches_after`]) reads one batch ahead of its reader, on a
//! blocking thread of its own.

use std::path::Path;

use rusqlite::{Connection, Statement, params_from_iter};
use tokio::sync::mpsc::Sender;

use crate::error::StoreError;
use crate::feed::{DEFAULT_BATCH_SIZE, FeedFilter, StoredEvent, read_next_after, sqlite_feed_sql};

/// Reads batch after batch into `batches` until the log is exhausted, a read fails (the
/// error is the last thing sent) or the receiver is gone. Runs on a blocking thread.
pub(crate) fn read_ahead(
    path: &Path,
    after: i64,
    filter: &FeedFilter,
    batches: &Sender<Result<Vec<StoredEvent>, StoreError>>,
) {
    if let Err(error) = read_batches(path, after, filter, batches) {
        // The receiver may be gone already; then nobody is left to tell.
        let _ = batches.blocking_send(Err(error));
    }
}

fn read_batches(
    path: &Path,
    mut after: i64,
    filter: &FeedFilter,
    batches: &Sender<Result<Vec<StoredEvent>, StoreError>>,
) -> Result<(), StoreError> {
    let connection = crate::database::open_sqlite_file(path, true)?;
    let mut statement = connection.prepare(&feed_sql(filter))?;
    loop {
        let batch = read_batch(&mut statement, after, filter, DEFAULT_BATCH_SIZE)?;
        let next = read_next_after(&batch);
        if batches.blocking_send(Ok(batch)).is_err() {
            return Ok(());
        }
        match next {
            Some(position) => after = position,
            None => return Ok(()),
        }
    }
}

/// At most `limit` events after `after` ([`crate::EventLog::read_after`] on a file).
pub(crate) fn read_after(
    connection: &Connection,
    after: i64,
    filter: &FeedFilter,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut statement = connection.prepare_cached(&feed_sql(filter))?;
    read_batch(&mut statement, after, filter, limit)
}

fn feed_sql(filter: &FeedFilter) -> String {
    sqlite_feed_sql(filter.aggregate_types.as_deref().map_or(0, <[String]>::len))
}

/// One batch of the feed query, prepared by [`feed_sql`] for `filter`.
fn read_batch(
    statement: &mut Statement<'_>,
    after: i64,
    filter: &FeedFilter,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let types = filter.aggregate_types.as_deref().unwrap_or(&[]);
    let mut parameters: Vec<rusqlite::types::Value> = vec![after.into(), limit.into()];
    parameters.extend(types.iter().map(|t| t.clone().into()));
    let mut rows = statement.query(params_from_iter(parameters))?;
    let mut batch = Vec::with_capacity(limit.clamp(0, DEFAULT_BATCH_SIZE) as usize);
    while let Some(row) = rows.next()? {
        batch.push(StoredEvent {
            position: row.get(0)?,
            aggregate_type: row.get(1)?,
            aggregate_id: row.get(2)?,
            sequence: row.get(3)?,
            event_type: row.get(4)?,
            event_version: row.get(5)?,
            payload: row.get(6)?,
            metadata: row.get(7)?,
            hash: row.get(8)?,
        });
    }
    Ok(batch)
}
