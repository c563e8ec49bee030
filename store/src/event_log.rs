//! The event log: appends under one write lock, with global positions and the hash chain,
//! and serves cqrs-es's reads of one aggregate through sqlite-es / postgres-es.
//!
//! Why one write lock: positions must follow commit order, or a reader asking for
//! "everything after P" could pass over an event whose transaction commits late with a
//! smaller position. Every append first updates the single `event_log_head` row, which
//! serializes appends (a row lock on PostgreSQL, the database write lock on SQLite, plus an
//! in-process mutex so SQLite writers queue instead of polling). Positions are taken from
//! that row, so they are dense and a rolled-back append leaves no gap.

use std::sync::Arc;

use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;

use crate::database::Database;
use crate::error::StoreError;
use crate::seal::{SealedFields, chain_hash};

const SQLITE_UNIQUE_VIOLATION: &str = "2067";
const POSTGRES_UNIQUE_VIOLATION: &str = "23505";

#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    database: Database,
    sqlite_writer: tokio::sync::Mutex<()>,
    streams: StreamReader,
}

enum StreamReader {
    Sqlite(SqliteEventRepository),
    Postgres(PostgresEventRepository),
}

/// An event about to be appended, serialized as it will be stored.
struct Row<'a> {
    event: &'a SerializedEvent,
    payload: String,
    metadata: String,
}

impl EventLog {
    pub fn new(database: Database) -> Self {
        let streams = match &database {
            Database::Sqlite(pool) => {
                StreamReader::Sqlite(SqliteEventRepository::new(pool.clone()))
            }
            Database::Postgres(pool) => {
                StreamReader::Postgres(PostgresEventRepository::new(pool.clone()))
            }
        };
        Self {
            inner: Arc::new(Inner {
                database,
                sqlite_writer: tokio::sync::Mutex::new(()),
                streams,
            }),
        }
    }

    pub fn database(&self) -> &Database {
        &self.inner.database
    }

    /// The in-process queue of SQLite writers: hold it around any other SQLite write so
    /// that writers wait their turn instead of polling the database lock.
    pub(crate) fn sqlite_writer(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.sqlite_writer
    }

    /// On SQLite, waits for this process's turn to write and holds it until the guard is
    /// dropped (appends queue behind it); on PostgreSQL, `None` at once.
    pub async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.inner.database {
            Database::Sqlite(_) => Some(self.inner.sqlite_writer.lock().await),
            Database::Postgres(_) => None,
        }
    }

    /// Appends the events of one command in one transaction and returns their global
    /// positions. All must belong to one aggregate, with consecutive sequences; a sequence
    /// already taken is a [`StoreError::Conflict`] and nothing is written.
    pub async fn append(&self, events: &[SerializedEvent]) -> Result<Vec<i64>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let rows = events
            .iter()
            .map(|event| {
                Ok(Row {
                    event,
                    payload: serde_json::to_string(&event.payload)?,
                    metadata: serde_json::to_string(&event.metadata)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let count = rows.len() as i64;
        let conflict = |error: sqlx::Error, event: &SerializedEvent, code: &str| match &error {
            sqlx::Error::Database(db) if db.code().as_deref() == Some(code) => {
                StoreError::Conflict {
                    aggregate_type: event.aggregate_type.clone(),
                    aggregate_id: event.aggregate_id.clone(),
                    sequence: event.sequence as i64,
                }
            }
            _ => StoreError::Database(error),
        };
        match &self.inner.database {
            Database::Sqlite(pool) => {
                let _writer = self.inner.sqlite_writer.lock().await;
                let mut tx = pool.begin().await?;
                let (last_position, mut hash): (i64, String) = sqlx::query_as(
                    "UPDATE event_log_head SET last_position = last_position + ?1 WHERE id = 1 \
                     RETURNING last_position, last_hash",
                )
                .bind(count)
                .fetch_one(&mut *tx)
                .await?;
                let first = last_position - count + 1;
                let mut positions = Vec::with_capacity(rows.len());
                for (offset, row) in rows.iter().enumerate() {
                    let position = first + offset as i64;
                    hash = chain_hash(&hash, sealed(position, row));
                    sqlx::query(
                        "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, \
                         event_type, event_version, payload, metadata, hash) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )
                    .bind(position)
                    .bind(&row.event.aggregate_type)
                    .bind(&row.event.aggregate_id)
                    .bind(row.event.sequence as i64)
                    .bind(&row.event.event_type)
                    .bind(&row.event.event_version)
                    .bind(&row.payload)
                    .bind(&row.metadata)
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| conflict(error, row.event, SQLITE_UNIQUE_VIOLATION))?;
                    positions.push(position);
                }
                sqlx::query("UPDATE event_log_head SET last_hash = ?1 WHERE id = 1")
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(positions)
            }
            Database::Postgres(pool) => {
                // One round trip: the function does on the server what the SQLite branch
                // does here (see the migration), so the head row is held only that long.
                let batch: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|row| {
                        serde_json::json!({
                            "aggregate_type": row.event.aggregate_type,
                            "aggregate_id": row.event.aggregate_id,
                            "sequence": row.event.sequence,
                            "event_type": row.event.event_type,
                            "event_version": row.event.event_version,
                            "payload": row.payload,
                            "metadata": row.metadata,
                        })
                    })
                    .collect();
                let batch = serde_json::to_string(&batch)?;
                let appended = sqlx::query_scalar("SELECT sablier_append($1::json)")
                    .bind(batch)
                    .fetch_all(pool)
                    .await;
                match appended {
                    Ok(positions) => Ok(positions),
                    Err(error) => {
                        let taken = match conflict(error, rows[0].event, POSTGRES_UNIQUE_VIOLATION)
                        {
                            StoreError::Conflict { .. } => self.first_taken(events).await?,
                            other => return Err(other),
                        };
                        Err(StoreError::Conflict {
                            aggregate_type: taken.aggregate_type.clone(),
                            aggregate_id: taken.aggregate_id.clone(),
                            sequence: taken.sequence as i64,
                        })
                    }
                }
            }
        }
    }

    /// After a conflict: the first of `events` whose sequence another append already took.
    async fn first_taken<'a>(
        &self,
        events: &'a [SerializedEvent],
    ) -> Result<&'a SerializedEvent, StoreError> {
        let Database::Postgres(pool) = self.database() else {
            return Ok(&events[0]);
        };
        for event in events {
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3)",
            )
            .bind(&event.aggregate_type)
            .bind(&event.aggregate_id)
            .bind(event.sequence as i64)
            .fetch_one(pool)
            .await?;
            if taken {
                return Ok(event);
            }
        }
        Ok(&events[0])
    }

    /// The last position written and the chain's head hash.
    pub async fn head(&self) -> Result<(i64, String), StoreError> {
        let query = "SELECT last_position, last_hash FROM event_log_head WHERE id = 1";
        Ok(match &self.inner.database {
            Database::Sqlite(pool) => sqlx::query_as(query).fetch_one(pool).await?,
            Database::Postgres(pool) => sqlx::query_as(query).fetch_one(pool).await?,
        })
    }
}

fn sealed<'a>(position: i64, row: &'a Row<'a>) -> SealedFields<'a> {
    SealedFields {
        position,
        aggregate_type: &row.event.aggregate_type,
        aggregate_id: &row.event.aggregate_id,
        sequence: row.event.sequence as i64,
        event_type: &row.event.event_type,
        event_version: &row.event.event_version,
        payload: &row.payload,
        metadata: &row.metadata,
    }
}

fn persistence_error(error: StoreError) -> PersistenceError {
    match error {
        StoreError::Conflict { .. } => PersistenceError::OptimisticLockError,
        StoreError::Database(error) => PersistenceError::ConnectionError(Box::new(error)),
        StoreError::Serialization(error) => PersistenceError::DeserializationError(Box::new(error)),
        other => PersistenceError::UnknownError(Box::new(other)),
    }
}

/// cqrs-es's view of the log: stream reads are sqlite-es's and postgres-es's own; writes
/// go through [`EventLog::append`]; snapshots are refused.
impl PersistedEventRepository for EventLog {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match &self.inner.streams {
            StreamReader::Sqlite(reader) => reader.get_events::<A>(aggregate_id).await,
            StreamReader::Postgres(reader) => reader.get_events::<A>(aggregate_id).await,
        }
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match &self.inner.streams {
            StreamReader::Sqlite(reader) => {
                reader
                    .get_last_events::<A>(aggregate_id, last_sequence)
                    .await
            }
            StreamReader::Postgres(reader) => {
                reader
                    .get_last_events::<A>(aggregate_id, last_sequence)
                    .await
            }
        }
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(persistence_error(StoreError::SnapshotsUnsupported));
        }
        self.append(events)
            .await
            .map(drop)
            .map_err(persistence_error)
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        match &self.inner.streams {
            StreamReader::Sqlite(reader) => reader.stream_events::<A>(aggregate_id).await,
            StreamReader::Postgres(reader) => reader.stream_events::<A>(aggregate_id).await,
        }
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        match &self.inner.streams {
            StreamReader::Sqlite(reader) => reader.stream_all_events::<A>().await,
            StreamReader::Postgres(reader) => reader.stream_all_events::<A>().await,
        }
    }
}
