//! Loading a whole log, as exported, into an empty database: the one way events enter the
//! log other than [`EventLog::append`](crate::EventLog::append).
//!
//! The events keep their positions, sequences, exact payload and metadata text, and hashes,
//! so the chain the source sealed still verifies. Everything happens in one transaction,
//! written in multi-row statements: a refused or failed import leaves the database as it
//! was. The caller checks the chain before handing events over; this module checks that
//! the database holds no log yet, writes the rows, the head, and the order reference
//! counters the imported orders imply.

use sqlx::{Postgres, Sqlite, Transaction};

use crate::database::{Database, on_pool};
use crate::error::StoreError;
use crate::feed::StoredEvent;

/// Events per INSERT statement (9 values each, below both backends' placeholder limits).
const ROWS_PER_STATEMENT: usize = 500;

/// An order reference counter: the last sequence used for a contract and month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferenceCounter {
    pub contract_id: String,
    pub month: String,
    pub last_sequence: i64,
}

/// Why a database is not an empty target, or `None` when it is one. Reads only: call it
/// before migrating, so a refused target is left untouched.
pub async fn why_not_empty(database: &Database) -> Result<Option<String>, StoreError> {
    let has_events_table: bool = match database {
        Database::Sqlite(pool) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'",
            )
            .fetch_one(pool)
            .await?
                > 0
        }
        Database::Postgres(pool) => {
            sqlx::query_scalar("SELECT to_regclass('events') IS NOT NULL")
                .fetch_one(pool)
                .await?
        }
    };
    if !has_events_table {
        return Ok(None);
    }
    let queries = [
        (
            "SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) AS any_event",
            "it holds events",
        ),
        (
            "SELECT count(*) FROM event_log_head WHERE last_position <> 0",
            "its log head is past position 0",
        ),
        (
            "SELECT count(*) FROM projection_checkpoints WHERE position <> 0",
            "its views have applied events",
        ),
    ];
    for (sql, reason) in queries {
        let count: i64 = on_pool!(database, |pool| sqlx::query_scalar(sql)
            .fetch_optional(pool)
            .await)
        .or_else(|error| match error {
            // A table a partial schema lacks: nothing in it.
            sqlx::Error::Database(_) => Ok(None),
            other => Err(other),
        })?
        .unwrap_or(0);
        if count > 0 {
            return Ok(Some(reason.to_owned()));
        }
    }
    Ok(None)
}

enum ImportTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$tx` bound to whichever transaction `$import_tx` holds.
macro_rules! on_tx {
    ($import_tx:expr, |$tx:ident| $body:expr) => {
        match $import_tx {
            ImportTx::Sqlite($tx) => $body,
            ImportTx::Postgres($tx) => $body,
        }
    };
}

/// An import in progress: one transaction, events buffered and written in multi-row
/// statements. Dropping it without [`LogImport::finish`] rolls everything back.
pub struct LogImport {
    tx: ImportTx,
    pending: Vec<StoredEvent>,
    last: Option<(i64, String)>,
}

impl LogImport {
    /// Starts the transaction on a migrated database, and refuses one that holds a log.
    pub async fn begin(database: &Database) -> Result<Self, StoreError> {
        let tx = match database {
            // Take the write lock first, so no append slips in between check and write.
            Database::Sqlite(pool) => ImportTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT 1 FROM event_log_head WHERE id = 1 FOR UPDATE")
                    .execute(&mut *tx)
                    .await?;
                ImportTx::Postgres(tx)
            }
        };
        let mut import = Self {
            tx,
            pending: Vec::with_capacity(ROWS_PER_STATEMENT),
            last: None,
        };
        let any: Option<i64> = on_tx!(&mut import.tx, |tx| {
            sqlx::query_scalar("SELECT position FROM events LIMIT 1")
                .fetch_optional(&mut **tx)
                .await?
        });
        if any.is_some() {
            return Err(StoreError::NotEmpty);
        }
        Ok(import)
    }

    /// Adds the next event (in position order) to the import.
    pub async fn push(&mut self, event: StoredEvent) -> Result<(), StoreError> {
        self.last = Some((event.position, event.hash.clone()));
        self.pending.push(event);
        if self.pending.len() >= ROWS_PER_STATEMENT {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = self.pending.len();
        // SQLite binds anonymous `?` fastest (numbered ones are looked up by name); JSON
        // (not JSONB) on PostgreSQL keeps the exact text the seal covers.
        let sql = match &self.tx {
            ImportTx::Sqlite(_) => {
                insert_statement(rows, |_| "(?, ?, ?, ?, ?, ?, ?, ?, ?)".to_owned())
            }
            ImportTx::Postgres(_) => insert_statement(rows, |row| {
                let n = row * 9;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}::json, ${}::json, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6,
                    n + 7,
                    n + 8,
                    n + 9
                )
            }),
        };
        on_tx!(&mut self.tx, |tx| {
            let mut query = sqlx::query(&sql);
            for event in self.pending.drain(..) {
                query = query
                    .bind(event.position)
                    .bind(event.aggregate_type)
                    .bind(event.aggregate_id)
                    .bind(event.sequence)
                    .bind(event.event_type)
                    .bind(event.event_version)
                    .bind(event.payload)
                    .bind(event.metadata)
                    .bind(event.hash);
            }
            query.execute(&mut **tx).await?;
        });
        Ok(())
    }

    /// Writes what is left, moves the head to the last event, sets the order reference
    /// counters, and commits.
    pub async fn finish(mut self, counters: &[ReferenceCounter]) -> Result<(), StoreError> {
        self.flush().await?;
        // An empty log keeps the genesis head.
        let (last_position, last_hash) = self
            .last
            .take()
            .unwrap_or_else(|| (0, crate::seal::GENESIS_HASH.to_owned()));
        const HEAD: &str =
            "UPDATE event_log_head SET last_position = $1, last_hash = $2 WHERE id = 1";
        const COUNTER: &str = "INSERT INTO order_reference_counters (contract_id, month, last_sequence) \
             VALUES ($1, $2, $3) ON CONFLICT (contract_id, month) DO UPDATE \
             SET last_sequence = excluded.last_sequence";
        on_tx!(self.tx, |tx| {
            let mut tx = tx;
            sqlx::query(HEAD)
                .bind(last_position)
                .bind(&last_hash)
                .execute(&mut *tx)
                .await?;
            for counter in counters {
                sqlx::query(COUNTER)
                    .bind(&counter.contract_id)
                    .bind(&counter.month)
                    .bind(counter.last_sequence)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}

fn insert_statement(rows: usize, row: impl Fn(usize) -> String) -> String {
    let values: Vec<String> = (0..rows).map(row).collect();
    format!(
        "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type, \
         event_version, payload, metadata, hash) VALUES {}",
        values.join(", ")
    )
}
