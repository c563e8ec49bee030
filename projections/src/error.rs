//! Why a projection could not apply an event or answer a read.

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("event at position {position} cannot be read: {reason}")]
    Damaged { position: i64, reason: String },
    #[error("view storage failed")]
    Database(#[from] sqlx::Error),
    #[error("view storage failed (SQLite)")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the event store failed")]
    Store(#[from] sablier_store::StoreError),
    #[error("view data is malformed: {0}")]
    Malformed(String),
    #[error("no view named {unknown}; the views are {known}")]
    UnknownView { unknown: String, known: String },
}
