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

impl ProjectionError {
    /// Whether the database, rather than the event or the view, is at fault: a batch that
    /// failed so is tried again as it is; any other failure means the view cannot apply
    /// an event, and it stops at that event alone (see the projector).
    pub fn is_environmental(&self) -> bool {
        self.condition().is_some()
    }

    /// The condition of the database this error reveals, if any.
    pub fn condition(&self) -> Option<sablier_store::Condition> {
        match self {
            ProjectionError::Database(error) => sablier_store::error::sqlx_condition(error),
            ProjectionError::Sqlite(error) => sablier_store::error::sqlite_condition(error),
            ProjectionError::Store(error) => Some(
                error
                    .condition()
                    .unwrap_or(sablier_store::Condition::Unavailable),
            ),
            ProjectionError::Damaged { .. }
            | ProjectionError::Malformed(_)
            | ProjectionError::UnknownView { .. } => None,
        }
    }
}
