//! The feed of an SQLite file read through SQLite's own API (rusqlite), for the readers
//! that walk the whole log: `sablier-replay verify` and `export`, rebuilds.
//!
//! sqlx-sqlite copies every column of every row into a heap value on its worker thread and
//! frees it on the reader's, which cost more than the reading itself on a million events
//! (docs/benchmarks.md, "Replay tools"). Here a blocking thread steps the same query
//! ([`crate::EventLog::read_after`]'s, same batches, same order) and builds each
//! [`StoredEvent`] straight from SQLite's buffers. Each batch is its own read transaction,
//! as with sqlx: events committed while the stream runs are seen when it reaches them.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params_from_iter};
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
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(30))?;
    let types = filter.aggregate_types.as_deref().unwrap_or(&[]);
    let mut statement = connection.prepare(&sqlite_feed_sql(types.len()))?;
    loop {
        let mut parameters: Vec<rusqlite::types::Value> =
            vec![after.into(), DEFAULT_BATCH_SIZE.into()];
        parameters.extend(types.iter().map(|t| t.clone().into()));
        let mut rows = statement.query(params_from_iter(parameters))?;
        let mut batch = Vec::with_capacity(DEFAULT_BATCH_SIZE as usize);
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
