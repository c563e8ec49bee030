//! The event log: appends under one write lock, with global positions and the hash chain,
//! and serves cqrs-es's reads of one aggregate through sqlite-es / postgres-es.
//!
//! Why one write lock: positions must follow commit order, or a reader asking for
//! "everything after P" could pass over an event whose transaction commits late with a
//! smaller position. Every append first updates the single `event_log_head` row, which
//! serializes appends (a row lock on PostgreSQL, the database write lock on SQLite, plus an
//! in-process mutex so SQLite writers queue instead of polling). Positions are taken from
//! that row, so they are dense and a rolled-back append leaves no gap. Commands appended
//! together share one transaction ([`crate::group_commit`]); on PostgreSQL the row is
//! held until the commit, not through the WAL flush (`wal`).

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
use crate::group_commit::{CommandAppend, GroupCommit, NewEvent};
use crate::read_set::StreamRead;

#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    database: Database,
    /// The database's file when it is an SQLite file: the feed is read there through
    /// SQLite's own API ([`crate::sqlite_feed`]).
    sqlite_file: Option<std::path::PathBuf>,
    /// Read connections to that file, kept between reads (each keeps its prepared feed
    /// query).
    sqlite_readers: std::sync::Mutex<Vec<rusqlite::Connection>>,
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    appends: Arc<GroupCommit>,
    streams: StreamReader,
}

enum StreamReader {
    Sqlite(SqliteEventRepository),
    Postgres(PostgresEventRepository),
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
        let sqlite_writer = Arc::new(tokio::sync::Mutex::new(()));
        let appends = Arc::new(GroupCommit::new(database.clone(), sqlite_writer.clone()));
        Self {
            inner: Arc::new(Inner {
                sqlite_file: database.sqlite_file(),
                sqlite_readers: std::sync::Mutex::new(Vec::new()),
                database,
                sqlite_writer,
                appends,
                streams,
            }),
        }
    }

    pub fn database(&self) -> &Database {
        &self.inner.database
    }

    /// The database's file when it is an SQLite file (not in memory).
    pub(crate) fn sqlite_file(&self) -> Option<&std::path::Path> {
        self.inner.sqlite_file.as_deref()
    }

    /// Runs `read` on a kept read connection to the SQLite file (opened when none is
    /// free). Blocking: call it on a blocking thread.
    pub(crate) fn with_sqlite_reader<T>(
        &self,
        path: &std::path::Path,
        read: impl FnOnce(&rusqlite::Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let kept = self
            .inner
            .sqlite_readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let connection = match kept {
            Some(connection) => connection,
            None => crate::database::open_sqlite_file(path, true)?,
        };
        let result = read(&connection);
        if result.is_ok() {
            self.inner
                .sqlite_readers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(connection);
        }
        result
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

    /// Appends the events of one command and returns their global positions once
    /// committed. All must belong to one aggregate, with consecutive sequences; a sequence
    /// already taken is a [`StoreError::Conflict`] and nothing of the command is written.
    /// Commands appended together commit together ([`crate::group_commit`]).
    pub async fn append(&self, events: &[SerializedEvent]) -> Result<Vec<i64>, StoreError> {
        self.append_checked(events, &[]).await
    }

    /// Appends as [`EventLog::append`] does, only if every stream of `read_set` still ends
    /// at the sequence read; otherwise [`StoreError::Stale`], and nothing is written.
    pub async fn append_checked(
        &self,
        events: &[SerializedEvent],
        read_set: &[StreamRead],
    ) -> Result<Vec<i64>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let events = events
            .iter()
            .map(|event| {
                Ok(NewEvent {
                    aggregate_type: event.aggregate_type.clone(),
                    aggregate_id: event.aggregate_id.clone(),
                    sequence: event.sequence as i64,
                    event_type: event.event_type.clone(),
                    event_version: event.event_version.clone(),
                    payload: serde_json::to_string(&event.payload)?,
                    metadata: serde_json::to_string(&event.metadata)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let command = CommandAppend {
            events,
            read_set: read_set.to_vec(),
        };
        self.inner.appends.append(command).await
    }

    /// The last position written and the chain's head hash.
    pub async fn head(&self) -> Result<(i64, String), StoreError> {
        let query = "SELECT last_position, last_hash FROM event_log_head WHERE id = 1";
        Ok(match &self.inner.database {
            Database::Sqlite(pool) => sqlx::query_as(query).fetch_one(pool).await?,
            Database::Postgres(pool) => {
                let head = sqlx::query_as(query).fetch_one(pool).await?;
                // Not a position a crash could still undo (see `crate::wal`).
                crate::wal::ensure_durable(pool).await?;
                head
            }
        })
    }
}

impl EventLog {
    /// Writes without changing anything: whether the database takes a write now that needs
    /// new space, e.g. after its storage was found full. On SQLite the head row changed and
    /// changed back in one transaction (its commit appends the page to the WAL file; a row
    /// merely set to itself leaves the page clean, and the commit writes nothing); on
    /// PostgreSQL a row in a temporary table
    /// in the events' tablespace, rolled back (an update of the head row would find room in
    /// its own page on a full disk, where appends must extend the tables).
    pub async fn probe_write(&self) -> Result<(), StoreError> {
        match &self.inner.database {
            Database::Sqlite(pool) => {
                if let Err(error) = probe_sqlite(pool).await {
                    let error = StoreError::from(error);
                    return Err(match self.inner.database.sqlite_file() {
                        Some(path) => error.in_sqlite_file(&path),
                        None => error,
                    });
                }
            }
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let tablespace: Option<String> = sqlx::query_scalar(
                    "SELECT quote_ident(spcname) FROM pg_class \
                     JOIN pg_tablespace ON pg_tablespace.oid = pg_class.reltablespace \
                     WHERE pg_class.oid = 'events'::regclass",
                )
                .fetch_optional(&mut *tx)
                .await?;
                let tablespace = tablespace
                    .map(|name| format!(" TABLESPACE {name}"))
                    .unwrap_or_default();
                sqlx::query(&format!(
                    "CREATE TEMPORARY TABLE sablier_storage_probe{tablespace} AS SELECT 1 AS one"
                ))
                .execute(&mut *tx)
                .await?;
                tx.rollback().await?;
            }
        }
        Ok(())
    }
}

/// [`EventLog::probe_write`] on SQLite.
async fn probe_sqlite(pool: &sqlx::SqlitePool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("UPDATE event_log_head SET last_hash = last_hash || '.' WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE event_log_head SET last_hash = substr(last_hash, 1, length(last_hash) - 1) \
         WHERE id = 1",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
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
