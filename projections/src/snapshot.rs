//! Every view table's rows as text, sorted: what "this view equals a rebuild" compares.
//! For tables too large to hold, [`stream_rows`] reads one table in key order, row by
//! row, as values that compare equal across backends (`sablier-replay rebuild` merges two
//! such streams).

use std::collections::BTreeMap;

use sablier_store::Database;
use sqlx::Row;

use crate::catalogue;
use crate::error::ProjectionError;

/// Every view's tables, by name: what the projections in the catalogue declare.
fn view_tables() -> Vec<&'static str> {
    let mut tables: Vec<&'static str> = catalogue::all()
        .iter()
        .flat_map(|projection| projection.tables().iter().copied())
        .collect();
    tables.sort_unstable();
    tables
}

/// Table name → its rows (one JSON text each), sorted.
pub async fn view_rows(
    database: &Database,
) -> Result<BTreeMap<String, Vec<String>>, ProjectionError> {
    let mut views = BTreeMap::new();
    for table in view_tables() {
        let mut rows: Vec<String> = match database {
            Database::Sqlite(pool) => {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                        .bind(table)
                        .fetch_all(pool)
                        .await?;
                let sql = format!("SELECT json_array({}) FROM \"{table}\"", columns.join(", "));
                sqlx::query(&sql)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| row.get::<String, _>(0))
                    .collect()
            }
            Database::Postgres(pool) => {
                let sql = format!("SELECT row_to_json(t)::text FROM \"{table}\" t");
                sqlx::query_scalar(&sql).fetch_all(pool).await?
            }
        };
        rows.sort();
        views.insert(table.to_owned(), rows);
    }
    Ok(views)
}

/// A view table's column, as the schema declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// TEXT: ordered byte by byte on both backends.
    pub text: bool,
    /// Its rank in the primary key (1, 2…), or 0 when it is not part of it.
    pub key: i64,
}

/// A table's columns, primary key first (in key order), then the others in schema order.
/// Read from a SQLite database: both backends' migrations declare the same columns.
pub async fn sqlite_layout(
    database: &Database,
    table: &str,
) -> Result<Vec<Column>, ProjectionError> {
    let Database::Sqlite(pool) = database else {
        return Err(ProjectionError::Malformed(
            "a table layout is read from SQLite".to_owned(),
        ));
    };
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(pool)
            .await?;
    let mut columns: Vec<Column> = rows
        .into_iter()
        .map(|(name, kind, key)| Column {
            name,
            text: kind.eq_ignore_ascii_case("TEXT"),
            key,
        })
        .collect();
    if columns.iter().all(|column| column.key == 0) {
        // No primary key: the whole row is the key.
        for (rank, column) in columns.iter_mut().enumerate() {
            column.key = rank as i64 + 1;
        }
    }
    columns.sort_by_key(|column| {
        if column.key == 0 {
            i64::MAX
        } else {
            column.key
        }
    });
    Ok(columns)
}

/// The query reading `table`'s `columns` as one JSON array per row, ordered by its key the
/// same way on both backends (text byte by byte).
pub fn rows_in_key_order_sql(database: &Database, table: &str, columns: &[Column]) -> String {
    let names: Vec<&str> = columns.iter().map(|column| column.name.as_str()).collect();
    let order: Vec<String> = columns
        .iter()
        .filter(|column| column.key > 0)
        .map(|column| match database {
            Database::Postgres(_) if column.text => format!("{} COLLATE \"C\"", column.name),
            _ => column.name.clone(),
        })
        .collect();
    match database {
        Database::Sqlite(_) => format!(
            "SELECT json_array({}) FROM \"{table}\" ORDER BY {}",
            names.join(", "),
            order.join(", ")
        ),
        Database::Postgres(_) => format!(
            "SELECT json_build_array({})::text FROM \"{table}\" ORDER BY {}",
            names.join(", "),
            order.join(", ")
        ),
    }
}

/// The rows `sql` (from [`rows_in_key_order_sql`]) reads, one at a time, as JSON values
/// that compare equal across backends (PostgreSQL booleans read as SQLite's 0 and 1).
pub fn stream_rows<'a>(
    database: &'a Database,
    sql: &'a str,
) -> futures::stream::BoxStream<'a, Result<Vec<serde_json::Value>, ProjectionError>> {
    use futures::StreamExt;
    let texts = match database {
        Database::Sqlite(pool) => sqlx::query_scalar::<_, String>(sql).fetch(pool),
        Database::Postgres(pool) => sqlx::query_scalar::<_, String>(sql).fetch(pool),
    };
    texts
        .map(|text| {
            let text = text?;
            let values: Vec<serde_json::Value> = serde_json::from_str(&text)
                .map_err(|error| ProjectionError::Malformed(format!("a view row: {error}")))?;
            Ok(values
                .into_iter()
                .map(|value| match value {
                    serde_json::Value::Bool(flag) => serde_json::Value::from(i64::from(flag)),
                    other => other,
                })
                .collect())
        })
        .boxed()
}
