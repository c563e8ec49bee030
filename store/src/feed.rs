//! The global event feed: every event after a position, in position order, in bounded
//! batches. Because positions follow commit order (see [`crate::event_log`]), a reader that
//! has seen everything up to P and asks again for "after P" never misses an event.

use std::collections::HashMap;

use futures::{Stream, TryStreamExt};
use serde_json::Value;
use sqlx::Row;

use crate::database::Database;
use crate::error::StoreError;
use crate::event_log::EventLog;
use crate::seal::SealedFields;

/// How many events one feed query reads at most.
pub const DEFAULT_BATCH_SIZE: i64 = 1000;

/// An event as stored: exact payload and metadata text (what the seal covers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
    pub hash: String,
}

impl StoredEvent {
    pub fn payload_json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }

    pub fn metadata_map(&self) -> Result<HashMap<String, String>, serde_json::Error> {
        serde_json::from_str(&self.metadata)
    }

    /// The fields its hash seals, as stored: recompute the chain with
    /// [`crate::seal::chain_hash`] to check it.
    pub fn sealed(&self) -> SealedFields<'_> {
        SealedFields {
            position: self.position,
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
            metadata: &self.metadata,
        }
    }
}

/// Which events a feed reader wants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// `None`: every aggregate type.
    pub aggregate_types: Option<Vec<String>>,
}

impl FeedFilter {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn aggregate_types(types: &[&str]) -> Self {
        Self {
            aggregate_types: Some(types.iter().map(|t| (*t).to_owned()).collect()),
        }
    }
}

const COLUMNS_SQLITE: &str = "position, aggregate_type, aggregate_id, sequence, event_type, \
                              event_version, payload, metadata, hash";
const COLUMNS_POSTGRES: &str = "position, aggregate_type, aggregate_id, sequence, event_type, \
                                event_version, payload::text AS payload, metadata::text AS metadata, hash";

impl EventLog {
    /// At most `limit` events with a position above `after`, in position order. On an
    /// SQLite file, read through SQLite's own API on a blocking thread.
    pub async fn read_after(
        &self,
        after: i64,
        filter: &FeedFilter,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        if let Some(path) = self.sqlite_file() {
            let (log, path, filter) = (self.clone(), path.to_owned(), filter.clone());
            return tokio::task::spawn_blocking(move || {
                log.with_sqlite_reader(&path, |connection| {
                    crate::sqlite_feed::read_after(connection, after, &filter, limit)
                })
            })
            .await
            .map_err(StoreError::FeedReaderStopped)?;
        }
        let types = filter.aggregate_types.as_deref().unwrap_or(&[]);
        match self.database() {
            Database::Sqlite(pool) => {
                let sql = sqlite_feed_sql(types.len());
                let mut query = sqlx::query(&sql).bind(after).bind(limit);
                for aggregate_type in types {
                    query = query.bind(aggregate_type);
                }
                query
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(stored_event)
                    .collect()
            }
            Database::Postgres(pool) => {
                let type_clause =
                    in_clause("aggregate_type", types.len(), |i| format!("${}", i + 3));
                let sql = format!(
                    "SELECT {COLUMNS_POSTGRES} FROM events WHERE position > $1 {type_clause} \
                     ORDER BY position LIMIT $2"
                );
                let mut query = sqlx::query(&sql).bind(after).bind(limit);
                for aggregate_type in types {
                    query = query.bind(aggregate_type);
                }
                durable_events(pool, query.fetch_all(pool).await?).await
            }
        }
    }

    /// Every event after `after` that exists when the stream reaches it, read in batches of
    /// [`DEFAULT_BATCH_SIZE`]: memory stays bounded whatever the log's size.
    pub fn stream_after(
        &self,
        after: i64,
        filter: FeedFilter,
    ) -> impl Stream<Item = Result<StoredEvent, StoreError>> + Send + 'static {
        self.batches_after(after, filter)
            .map_ok(|batch| futures::stream::iter(batch.into_iter().map(Ok)))
            .try_flatten()
    }

    /// [`Self::stream_after`] batch by batch (each at most [`DEFAULT_BATCH_SIZE`] events,
    /// possibly empty at the end), for readers that hand whole batches to other threads.
    ///
    /// The next batch is read while the caller works through the current one (one batch
    /// ahead at most), so reading the database and what the caller does with each event
    /// overlap: on SQLite by a blocking thread of its own (`sqlite_feed`), on
    /// PostgreSQL by a task of the runtime this is called on. Dropping the stream stops
    /// the reader at its next batch.
    pub fn batches_after(
        &self,
        after: i64,
        filter: FeedFilter,
    ) -> impl Stream<Item = Result<Vec<StoredEvent>, StoreError>> + Send + 'static {
        let (batches, received) = tokio::sync::mpsc::channel(1);
        match self.sqlite_file().map(std::path::Path::to_owned) {
            Some(path) => {
                tokio::task::spawn_blocking(move || {
                    crate::sqlite_feed::read_ahead(&path, after, &filter, &batches);
                });
            }
            None => {
                tokio::spawn(read_ahead(self.clone(), after, filter, batches));
            }
        }
        futures::stream::unfold(received, |mut received| async move {
            let batch = received.recv().await?;
            Some((batch, received))
        })
    }

    /// One aggregate's events in sequence order, as stored.
    pub async fn load_stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        match self.database() {
            Database::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {COLUMNS_SQLITE} FROM events WHERE aggregate_type = ?1 AND aggregate_id = ?2 \
                     ORDER BY sequence"
                );
                sqlx::query(&sql)
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(stored_event)
                    .collect()
            }
            Database::Postgres(pool) => {
                let sql = format!(
                    "SELECT {COLUMNS_POSTGRES} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
                     ORDER BY sequence"
                );
                let rows = sqlx::query(&sql)
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .fetch_all(pool)
                    .await?;
                durable_events(pool, rows).await
            }
        }
    }
}

/// The events of `rows`, once durable: PostgreSQL appends are visible before their WAL
/// flush (`wal`), and a reader must not see what a crash could undo.
async fn durable_events(
    pool: &sqlx::PgPool,
    rows: Vec<sqlx::postgres::PgRow>,
) -> Result<Vec<StoredEvent>, StoreError> {
    if !rows.is_empty() {
        crate::wal::ensure_durable(pool).await?;
    }
    rows.iter().map(stored_event).collect()
}

/// Reads batch after batch into `batches` until the log is exhausted, a read fails (the
/// error is the last thing sent) or the reader is gone.
async fn read_ahead(
    log: EventLog,
    mut after: i64,
    filter: FeedFilter,
    batches: tokio::sync::mpsc::Sender<Result<Vec<StoredEvent>, StoreError>>,
) {
    loop {
        let batch = log.read_after(after, &filter, DEFAULT_BATCH_SIZE).await;
        let next = batch
            .as_ref()
            .ok()
            .and_then(|events| read_next_after(events));
        if batches.send(batch).await.is_err() {
            return;
        }
        match next {
            Some(position) => after = position,
            None => return,
        }
    }
}

/// Where a reader goes on after a batch: after its last event when the batch was full,
/// nowhere (the log is exhausted) when it was not.
pub(crate) fn read_next_after(batch: &[StoredEvent]) -> Option<i64> {
    match batch.last() {
        Some(last) if batch.len() as i64 == DEFAULT_BATCH_SIZE => Some(last.position),
        _ => None,
    }
}

/// The SQLite feed query: `?1` after, `?2` limit, then `types` aggregate types.
pub(crate) fn sqlite_feed_sql(types: usize) -> String {
    let type_clause = in_clause("aggregate_type", types, |i| format!("?{}", i + 3));
    format!(
        "SELECT {COLUMNS_SQLITE} FROM events WHERE position > ?1 {type_clause} \
         ORDER BY position LIMIT ?2"
    )
}

fn in_clause(column: &str, count: usize, placeholder: impl Fn(usize) -> String) -> String {
    if count == 0 {
        return String::new();
    }
    let placeholders: Vec<String> = (0..count).map(placeholder).collect();
    format!("AND {column} IN ({})", placeholders.join(", "))
}

fn stored_event<R: Row>(row: &R) -> Result<StoredEvent, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredEvent {
        position: row.try_get("position")?,
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        hash: row.try_get("hash")?,
    })
}
