//! One way to run view SQL on either backend. View SQL is written once, with `$1, $2…`
//! placeholders (PostgreSQL's, which sqlx also reads positionally on SQLite) and only
//! the SQL both dialects share (`INSERT … ON CONFLICT … DO UPDATE`, `RETURNING`, TEXT JSON).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

use crate::error::ProjectionError;

mod columns;
mod native;
pub use native::{ConnectionSlot, NativeTx};

/// How views store an instant: RFC 3339 UTC text to the second (`2026-03-27T16:30:00Z`),
/// fixed width, so it sorts like time on both backends.
pub fn instant_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Placeholders per statement, below both SQLite's (32,766) and PostgreSQL's (65,535) limit.
const MAX_PARAMETERS: usize = 30_000;

/// Rows per multi-row statement: past this, longer statements stop paying for themselves.
const MAX_ROWS_PER_STATEMENT: usize = 500;

/// The statement text for [`ViewTx::execute_rows`]. On SQLite the placeholders are
/// anonymous (`?`): sqlx-sqlite looks every numbered placeholder up by name, which SQLite
/// does by a linear scan, so a statement of n numbered placeholders costs n² to bind.
fn rows_statement(head: &str, tail: &str, width: usize, rows: usize, numbered: bool) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * width * 6);
    sql.push_str(head);
    let mut placeholder = 0;
    for row in 0..rows {
        sql.push_str(if row == 0 { " (" } else { ", (" });
        for column in 0..width {
            placeholder += 1;
            if column > 0 {
                sql.push_str(", ");
            }
            if numbered {
                sql.push('$');
                sql.push_str(&placeholder.to_string());
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
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

/// Rows both backends can decode into `T`: through sqlx, and from SQLite's own rows by
/// their serde form (`native`).
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + DeserializeOwned + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow>
        + for<'r> FromRow<'r, PgRow>
        + DeserializeOwned
        + Send
        + Unpin
{
}

macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                Param::Text(value) => query.bind(value.as_str()),
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
    /// An SQLite file, through SQLite's own API: statements run where they are called.
    SqliteFile(NativeTx),
    /// In-memory SQLite, through sqlx.
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl ViewTx {
    /// Whether multi-row statements number their placeholders (see [`rows_statement`]).
    fn numbered(&self) -> bool {
        self.is_postgres()
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, ViewTx::Postgres(_))
    }

    /// Whether its statements block the thread they are called on (see [`NativeTx`]).
    pub fn blocks(&self) -> bool {
        matches!(self, ViewTx::SqliteFile(_))
    }

    pub async fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, ProjectionError> {
        self.execute_kept(sql, params, true).await
    }

    /// [`ViewTx::execute`]; `keep`: whether the connection keeps the prepared statement
    /// for the next time the same text comes. A multi-row statement shorter than the
    /// longest is rarely seen twice, and kept it would push useful statements out of the
    /// connection's cache and hold its (large) program in memory.
    async fn execute_kept(
        &mut self,
        sql: &str,
        params: &[Param],
        keep: bool,
    ) -> Result<u64, ProjectionError> {
        Ok(match self {
            ViewTx::SqliteFile(tx) => tx.execute(sql, params, keep)?,
            ViewTx::Sqlite(tx) => bind_all!(sqlx::query(sql).persistent(keep), params)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            ViewTx::Postgres(tx) => bind_all!(sqlx::query(sql).persistent(keep), params)
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
            ViewTx::SqliteFile(tx) => tx.fetch_all(sql, params, true)?.into_iter().next(),
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
        self.fetch_all_kept(sql, params, true).await
    }

    /// [`ViewTx::fetch_all`]; `keep` as for [`ViewTx::execute_kept`].
    async fn fetch_all_kept<T: AnyRow>(
        &mut self,
        sql: &str,
        params: &[Param],
        keep: bool,
    ) -> Result<Vec<T>, ProjectionError> {
        Ok(match self {
            ViewTx::SqliteFile(tx) => tx.fetch_all(sql, params, keep)?,
            ViewTx::Sqlite(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql).persistent(keep), params)
                    .fetch_all(&mut **tx)
                    .await?
            }
            ViewTx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql).persistent(keep), params)
                    .fetch_all(&mut **tx)
                    .await?
            }
        })
    }

    /// Runs `{head} (…), (…) {tail}` with one parenthesised group of `width` placeholders
    /// per row of `values` (row after row, `width` values each), in as few statements as
    /// the backends' parameter limits allow. For multi-row `INSERT … VALUES` (and
    /// [`ViewTx::delete_rows`]). Returns the rows affected; no rows run no statement.
    pub async fn execute_rows(
        &mut self,
        head: &str,
        tail: &str,
        width: usize,
        values: Vec<Param>,
    ) -> Result<u64, ProjectionError> {
        assert!(
            width > 0 && values.len().is_multiple_of(width),
            "{} values do not make rows of {width}",
            values.len()
        );
        if values.is_empty() {
            return Ok(0);
        }
        if let ViewTx::SqliteFile(tx) = self {
            // Stepping one prepared row statement per row costs SQLite less than parsing
            // and binding a long one, once nothing crosses threads.
            let sql = rows_statement(head, tail, width, 1, false);
            return tx.execute_each_row(&sql, width, &values);
        }
        let mut values = values;
        if let (ViewTx::Postgres(tx), Some(insert)) =
            (&mut *self, head.trim_end().strip_suffix("VALUES"))
        {
            match columns::execute(tx, width, values, |rows| format!("{insert}{rows} {tail}"))
                .await?
            {
                Ok(affected) => return Ok(affected),
                Err(unsent) => values = unsent,
            }
        }
        let rows_per_statement = (MAX_PARAMETERS / width).clamp(1, MAX_ROWS_PER_STATEMENT);
        let mut affected = 0;
        for chunk in values.chunks(rows_per_statement * width) {
            let rows = chunk.len() / width;
            let sql = rows_statement(head, tail, width, rows, self.numbered());
            affected += self
                .execute_kept(&sql, chunk, rows == rows_per_statement)
                .await?;
        }
        Ok(affected)
    }

    /// Deletes the rows of `table` whose `key` columns hold one of the rows of `values`
    /// (row after row, one value per key column each). Returns the rows deleted.
    pub async fn delete_rows(
        &mut self,
        table: &str,
        key: &[&str],
        values: Vec<Param>,
    ) -> Result<u64, ProjectionError> {
        if values.is_empty() {
            return Ok(0);
        }
        if let ViewTx::SqliteFile(tx) = self {
            // A one-row `IN (VALUES …)` fills a temporary table at each step; an equality
            // per column is a plain primary-key seek.
            let condition: Vec<String> = key.iter().map(|column| format!("{column} = ?")).collect();
            let sql = format!("DELETE FROM {table} WHERE {}", condition.join(" AND "));
            return tx.execute_each_row(&sql, key.len(), &values);
        }
        let key_list = key.join(", ");
        let mut values = values;
        if let ViewTx::Postgres(tx) = self {
            let delete = |rows: &str| format!("DELETE FROM {table} WHERE ({key_list}) IN ({rows})");
            match columns::execute(tx, key.len(), values, delete).await? {
                Ok(affected) => return Ok(affected),
                Err(unsent) => values = unsent,
            }
        }
        let head = format!("DELETE FROM {table} WHERE ({key_list}) IN (VALUES");
        self.execute_rows(&head, ")", key.len(), values).await
    }

    /// `{select} IN (…keys…)`, in as many statements as the parameter limits need; the
    /// rows of every chunk together. `select` ends just before `IN`.
    pub async fn fetch_by_keys<T: AnyRow>(
        &mut self,
        select: &str,
        keys: &[String],
    ) -> Result<Vec<T>, ProjectionError> {
        if let ViewTx::Postgres(tx) = self {
            // One array, one statement prepared once, whatever the number of keys.
            return Ok(
                sqlx::query_as::<_, T>(&format!("{select} = ANY($1::text[])"))
                    .bind(keys)
                    .fetch_all(&mut **tx)
                    .await?,
            );
        }
        let mut rows = Vec::new();
        for chunk in keys.chunks(MAX_ROWS_PER_STATEMENT) {
            let (sql, params) = self.keys_statement(select, chunk);
            let keep = chunk.len() == MAX_ROWS_PER_STATEMENT;
            rows.extend(self.fetch_all_kept::<T>(&sql, &params, keep).await?);
        }
        Ok(rows)
    }

    /// `{statement} IN (…keys…)` (e.g. a `DELETE … WHERE id`), chunked like
    /// [`ViewTx::fetch_by_keys`]. Returns the rows affected.
    pub async fn execute_by_keys(
        &mut self,
        statement: &str,
        keys: &[String],
    ) -> Result<u64, ProjectionError> {
        if let ViewTx::Postgres(tx) = self {
            return Ok(sqlx::query(&format!("{statement} = ANY($1::text[])"))
                .bind(keys)
                .execute(&mut **tx)
                .await?
                .rows_affected());
        }
        let mut affected = 0;
        for chunk in keys.chunks(MAX_ROWS_PER_STATEMENT) {
            let (sql, params) = self.keys_statement(statement, chunk);
            let keep = chunk.len() == MAX_ROWS_PER_STATEMENT;
            affected += self.execute_kept(&sql, &params, keep).await?;
        }
        Ok(affected)
    }

    fn keys_statement(&self, head: &str, keys: &[String]) -> (String, Vec<Param>) {
        let placeholders: Vec<String> = (1..=keys.len())
            .map(|i| {
                if self.numbered() {
                    format!("${i}")
                } else {
                    "?".to_owned()
                }
            })
            .collect();
        let sql = format!("{head} IN ({})", placeholders.join(", "));
        (
            sql,
            keys.iter().map(|key| Param::Text(key.clone())).collect(),
        )
    }

    pub async fn commit(self) -> Result<(), ProjectionError> {
        match self {
            ViewTx::SqliteFile(tx) => tx.commit()?,
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

/// Runs `work`, a view transaction that may block its thread ([`ViewTx::blocks`]), so that
/// the runtime's other tasks go on meanwhile: on a multi-threaded runtime, this worker
/// hands them over to the others while `work` runs here (`block_in_place`); on a
/// single-threaded one (tests, one-shot commands) there is nobody else to let through.
pub async fn off_runtime<F: Future>(work: F) -> F::Output {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(work))
        }
        _ => work.await,
    }
}

/// Begins a view transaction. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads first cannot upgrade once another
/// writer has committed, and would fail instead of waiting. On an SQLite file, it is a
/// [`NativeTx`] on a connection of its own: waiting for the lock blocks this thread.
pub async fn begin(database: &sablier_store::Database) -> Result<ViewTx, ProjectionError> {
    begin_kept(database, None).await
}

/// [`begin`]; on an SQLite file, with the connection kept in `slot` (see
/// [`ConnectionSlot`]).
pub async fn begin_kept(
    database: &sablier_store::Database,
    slot: Option<&ConnectionSlot>,
) -> Result<ViewTx, ProjectionError> {
    if let Some(path) = database.sqlite_file() {
        return Ok(ViewTx::SqliteFile(NativeTx::begin(&path, slot)?));
    }
    Ok(match database {
        sablier_store::Database::Sqlite(pool) => {
            ViewTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)
        }
        sablier_store::Database::Postgres(pool) => ViewTx::Postgres(pool.begin().await?),
    })
}
