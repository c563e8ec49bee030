//! One way to run view SQL on either backend. View SQL is written once, with `$1, $2…`
//! placeholders (PostgreSQL's, which sqlx also reads positionally on SQLite) and only
//! the SQL both dialects share (`INSERT … ON CONFLICT … DO UPDATE`, `RETURNING`, TEXT JSON).

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

use crate::error::ProjectionError;

/// How views store an instant: RFC 3339 UTC text to the second (`2026-03-27T16:30:00Z`),
/// fixed width, so it sorts like time on both backends.
pub fn instant_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A value bound to a placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Bool(bool),
    NullText,
    NullInt,
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Param::Text(value.to_owned())
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Param::Text(value)
    }
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Param::Int(value)
    }
}

impl From<bool> for Param {
    fn from(value: bool) -> Self {
        Param::Bool(value)
    }
}

impl From<Option<String>> for Param {
    fn from(value: Option<String>) -> Self {
        value.map_or(Param::NullText, Param::Text)
    }
}

impl From<Option<i64>> for Param {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Param::NullInt, Param::Int)
    }
}

/// Rows both backends can decode into `T`.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                Param::Text(value) => query.bind(value.clone()),
                Param::Int(value) => query.bind(*value),
                Param::Bool(value) => query.bind(*value),
                Param::NullText => query.bind(None::<String>),
                Param::NullInt => query.bind(None::<i64>),
            };
        }
        query
    }};
}

/// The transaction a batch of events is applied in, with the projector's checkpoint.
pub enum ViewTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl ViewTx {
    pub async fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, ProjectionError> {
        Ok(match self {
            ViewTx::Sqlite(tx) => bind_all!(sqlx::query(sql), params)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            ViewTx::Postgres(tx) => bind_all!(sqlx::query(sql), params)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    pub async fn fetch_optional<T: AnyRow>(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<T>, ProjectionError> {
        Ok(match self {
            ViewTx::Sqlite(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql), params)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            ViewTx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql), params)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        })
    }

    pub async fn fetch_all<T: AnyRow>(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Vec<T>, ProjectionError> {
        Ok(match self {
            ViewTx::Sqlite(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql), params)
                    .fetch_all(&mut **tx)
                    .await?
            }
            ViewTx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql), params)
                    .fetch_all(&mut **tx)
                    .await?
            }
        })
    }

    pub async fn commit(self) -> Result<(), ProjectionError> {
        match self {
            ViewTx::Sqlite(tx) => tx.commit().await?,
            ViewTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Reads of the views outside the projector (the API, the replay tools).
#[derive(Clone, Debug)]
pub struct ViewReader {
    database: sablier_store::Database,
}

impl ViewReader {
    pub fn new(database: sablier_store::Database) -> Self {
        Self { database }
    }

    pub async fn fetch_optional<T: AnyRow>(
        &self,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<T>, ProjectionError> {
        Ok(match &self.database {
            sablier_store::Database::Sqlite(pool) => {
                bind_all!(sqlx::query_as::<_, T>(sql), params)
                    .fetch_optional(pool)
                    .await?
            }
            sablier_store::Database::Postgres(pool) => {
                bind_all!(sqlx::query_as::<_, T>(sql), params)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    pub async fn fetch_all<T: AnyRow>(
        &self,
        sql: &str,
        params: &[Param],
    ) -> Result<Vec<T>, ProjectionError> {
        Ok(match &self.database {
            sablier_store::Database::Sqlite(pool) => {
                bind_all!(sqlx::query_as::<_, T>(sql), params)
                    .fetch_all(pool)
                    .await?
            }
            sablier_store::Database::Postgres(pool) => {
                bind_all!(sqlx::query_as::<_, T>(sql), params)
                    .fetch_all(pool)
                    .await?
            }
        })
    }
}

/// Begins a view transaction. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads first cannot upgrade once another
/// writer has committed, and would fail instead of waiting.
pub async fn begin(database: &sablier_store::Database) -> Result<ViewTx, ProjectionError> {
    Ok(match database {
        sablier_store::Database::Sqlite(pool) => {
            ViewTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)
        }
        sablier_store::Database::Postgres(pool) => ViewTx::Postgres(pool.begin().await?),
    })
}
