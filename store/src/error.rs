//! Errors of the storage layer.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL '{0}': expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("database error (reading the SQLite feed)")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(
        "event {aggregate_type}/{aggregate_id} #{sequence} already exists (optimistic lock conflict)"
    )]
    Conflict {
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
    },
    /// A stream the command's decision read has grown since (see [`crate::read_set`]).
    #[error(
        "{aggregate_type} {aggregate_id} changed after the command read it (at event #{sequence_read})"
    )]
    Stale {
        aggregate_type: String,
        aggregate_id: String,
        sequence_read: i64,
    },
    #[error("cannot serialize or read an event")]
    Serialization(#[from] serde_json::Error),
    #[error("snapshots are not supported (cqrs-es 0.5 applies events twice with them)")]
    SnapshotsUnsupported,
    #[error("the group of appends this one was committed with failed")]
    GroupFailed(#[source] std::sync::Arc<StoreError>),
    /// Committed, but the WAL flush that makes it durable failed (`wal`): the
    /// command may or may not be in the log; read it to know.
    #[error("the append was committed but not confirmed durable; read the log to know its outcome")]
    Unconfirmed(#[source] std::sync::Arc<sqlx::Error>),
    #[error("the database is not empty: it holds events; import only into an empty database")]
    NotEmpty,
    /// A write failed with an I/O error on a filesystem left with no room: the full disk
    /// that SQLite does not name as such (see [`StoreError::in_sqlite_file`]).
    #[error("the storage holding the database is full")]
    StorageFull(#[source] Box<StoreError>),
    /// Reading an aggregate's stream failed, or an event of it did not deserialize;
    /// `source` is `None` when the load reported a conflict or a refusal, which no load makes.
    #[error("cannot load the aggregate")]
    LoadFailed {
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The group commit task that queued this append ended without answering it.
    #[error("the append writer stopped before answering")]
    AppendUnanswered,
    /// The blocking thread writing a group to the SQLite file panicked or was cancelled.
    #[error("the SQLite writer stopped")]
    WriterStopped(#[source] tokio::task::JoinError),
    /// The blocking thread reading the SQLite feed panicked or was cancelled.
    #[error("the feed reader stopped")]
    FeedReaderStopped(#[source] tokio::task::JoinError),
    /// PostgreSQL reported a stale read for a command whose read set is empty.
    #[error("a stale read reported without a read set")]
    StaleReadUnnamed,
    /// An attachment larger than the database can record the size of.
    #[error("an attachment of {size} bytes is too large to store")]
    AttachmentTooLarge { size: usize },
}

impl StoreError {
    /// Races lost to another append: the aggregate's sequence was taken, or a stream the
    /// decision read has grown. Deciding again on what is stored now may succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. } | StoreError::Stale { .. })
    }
}

/// What a failed statement says about the database itself rather than about the statement:
/// the same statement may succeed once the condition passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The disk (or the database's quota) is full: nothing more can be written until space
    /// is freed (SQLite `SQLITE_FULL`, PostgreSQL class 53 `insufficient_resources`).
    StorageFull,
    /// The database cannot be reached or cannot answer now: connection lost, busy, out of
    /// memory, an I/O error, a server shutting down.
    Unavailable,
}

impl StoreError {
    /// The condition of the database this error reveals, if any (see [`Condition`]).
    pub fn condition(&self) -> Option<Condition> {
        match self {
            StoreError::Database(error) => sqlx_condition(error),
            StoreError::Sqlite(error) => sqlite_condition(error),
            StoreError::GroupFailed(error) => error.condition(),
            StoreError::StorageFull(_) => Some(Condition::StorageFull),
            StoreError::Unconfirmed(error) => {
                sqlx_condition(error).or(Some(Condition::Unavailable))
            }
            _ => None,
        }
    }
}

/// Space left below which an I/O error on a filesystem is taken for a full disk.
const NEARLY_FULL_BYTES: u64 = 1 << 20;

impl StoreError {
    /// This error of a write to the SQLite database file at `path`, told apart as
    /// [`StoreError::StorageFull`] when it is an I/O error (`SQLITE_IOERR_*`) and the file's
    /// filesystem has (nearly) no space left. SQLite answers `SQLITE_FULL` only when a write
    /// to the database or its WAL runs out of space; extending the WAL index (`-shm`),
    /// syncing or checkpointing on a full disk answer `SQLITE_IOERR_SHMSIZE`,
    /// `SQLITE_IOERR_FSYNC`, `SQLITE_IOERR_WRITE`…, and its API does not give the `ENOSPC`
    /// behind them.
    pub fn in_sqlite_file(self, path: &std::path::Path) -> StoreError {
        const SQLITE_IOERR: i32 = 10;
        let code = match &self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => {
                Some(failure.extended_code)
            }
            StoreError::Database(sqlx::Error::Database(error)) => {
                error.code().and_then(|code| code.parse::<i32>().ok())
            }
            _ => None,
        };
        if code.is_some_and(|code| code & 0xff == SQLITE_IOERR) && filesystem_full(path) {
            StoreError::StorageFull(Box::new(self))
        } else {
            self
        }
    }
}

/// Whether the filesystem holding `path` has (nearly) no space left for a writer that is
/// not privileged.
fn filesystem_full(path: &std::path::Path) -> bool {
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty());
    match rustix::fs::statvfs(directory.unwrap_or(std::path::Path::new("."))) {
        Ok(stats) => stats.f_bavail.saturating_mul(stats.f_frsize) < NEARLY_FULL_BYTES,
        Err(_) => false,
    }
}

/// [`Condition`] of an sqlx error.
pub fn sqlx_condition(error: &sqlx::Error) -> Option<Condition> {
    match error {
        sqlx::Error::Database(database) => {
            let code = database.code()?;
            if database
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                postgres_condition(&code)
            } else {
                code.parse::<i32>().ok().and_then(sqlite_code_condition)
            }
        }
        sqlx::Error::Io(error) if error.raw_os_error() == Some(28) => Some(Condition::StorageFull),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(Condition::Unavailable),
        _ => None,
    }
}

/// [`Condition`] of an error of SQLite's own API.
pub fn sqlite_condition(error: &rusqlite::Error) -> Option<Condition> {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => sqlite_code_condition(failure.extended_code),
        _ => None,
    }
}

/// SQLite's result codes (primary code in the low byte).
fn sqlite_code_condition(code: i32) -> Option<Condition> {
    const SQLITE_BUSY: i32 = 5;
    const SQLITE_LOCKED: i32 = 6;
    const SQLITE_NOMEM: i32 = 7;
    const SQLITE_READONLY: i32 = 8;
    const SQLITE_IOERR: i32 = 10;
    const SQLITE_FULL: i32 = 13;
    const SQLITE_CANTOPEN: i32 = 14;
    match code & 0xff {
        SQLITE_FULL => Some(Condition::StorageFull),
        SQLITE_BUSY | SQLITE_LOCKED | SQLITE_NOMEM | SQLITE_READONLY | SQLITE_IOERR
        | SQLITE_CANTOPEN => Some(Condition::Unavailable),
        _ => None,
    }
}

/// PostgreSQL's SQLSTATE: 53100 disk full; classes 53 other insufficient resources, 08
/// connection, 57 operator intervention (shutdown), 58 system error, 40 rollbacks
/// (serialization, deadlock), 55 object in use (a lock not available).
fn postgres_condition(code: &str) -> Option<Condition> {
    if code == "53100" {
        return Some(Condition::StorageFull);
    }
    match code.get(..2)? {
        "08" | "53" | "57" | "58" | "40" | "55" => Some(Condition::Unavailable),
        _ => None,
    }
}
