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
    /// Committed, but the WAL flush that makes it durable failed ([`crate::wal`]): the
    /// command may or may not be in the log; read it to know.
    #[error("the append was committed but not confirmed durable; read the log to know its outcome")]
    Unconfirmed(#[source] std::sync::Arc<sqlx::Error>),
    #[error("the database is not empty: {0}; import only into an empty database")]
    NotEmpty(String),
    #[error("{0}")]
    Unexpected(String),
}

impl StoreError {
    /// Races lost to another append: the aggregate's sequence was taken, or a stream the
    /// decision read has grown. Deciding again on what is stored now may succeed.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. } | StoreError::Stale { .. })
    }
}
