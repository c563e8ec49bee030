//! Every view table's rows as text, sorted: what "this view equals a rebuild" compares.

use std::collections::BTreeMap;

use sablier_store::Database;
use sqlx::Row;

use crate::error::ProjectionError;

/// Tables that are not views: the log, its bookkeeping, and the projector's own.
const NOT_VIEWS: [&str; 5] = [
    "events",
    "event_log_head",
    "order_reference_counters",
    "projection_checkpoints",
    "_sqlx_migrations",
];

/// Table name → its rows (one JSON text each), sorted.
pub async fn view_rows(
    database: &Database,
) -> Result<BTreeMap<String, Vec<String>>, ProjectionError> {
    let mut views = BTreeMap::new();
    match database {
        Database::Sqlite(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(pool)
            .await?;
            for table in tables
                .into_iter()
                .filter(|t| !NOT_VIEWS.contains(&t.as_str()))
            {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                        .bind(&table)
                        .fetch_all(pool)
                        .await?;
                let sql = format!("SELECT json_array({}) FROM \"{table}\"", columns.join(", "));
                let mut rows: Vec<String> = sqlx::query(&sql)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| row.get::<String, _>(0))
                    .collect();
                rows.sort();
                views.insert(table, rows);
            }
        }
        Database::Postgres(pool) => {
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
                    .fetch_all(pool)
                    .await?;
            for table in tables
                .into_iter()
                .filter(|t| !NOT_VIEWS.contains(&t.as_str()))
            {
                let sql = format!("SELECT row_to_json(t)::text FROM \"{table}\" t");
                let mut rows: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await?;
                rows.sort();
                views.insert(table, rows);
            }
        }
    }
    Ok(views)
}
