//! Rows sent to PostgreSQL as one array per column (`UNNEST($1::text[], $2::int8[], …)`):
//! a batch's rows of a table are one statement with as many parameters as the table has
//! columns, prepared once, instead of chunks of multi-row `VALUES` whose thousands of
//! placeholders the server parses and plans at each chunk.

use sqlx::{Postgres, Transaction};

use crate::error::ProjectionError;
use crate::sql::Param;

/// One column's values, in row order.
enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

impl Column {
    fn for_value(first: &Param, rows: usize) -> Self {
        match first {
            Param::Text(_) | Param::NullText => Column::Text(Vec::with_capacity(rows)),
            Param::Int(_) | Param::NullInt => Column::Int(Vec::with_capacity(rows)),
            Param::Bool(_) => Column::Bool(Vec::with_capacity(rows)),
        }
    }

    fn array_type(&self) -> &'static str {
        match self {
            Column::Text(_) => "text[]",
            Column::Int(_) => "int8[]",
            Column::Bool(_) => "bool[]",
        }
    }

    fn accepts(&self, value: &Param) -> bool {
        matches!(
            (self, value),
            (Column::Text(_), Param::Text(_) | Param::NullText)
                | (Column::Int(_), Param::Int(_) | Param::NullInt)
                | (Column::Bool(_), Param::Bool(_))
        )
    }

    fn push(&mut self, value: Param) {
        match (self, value) {
            (Column::Text(values), Param::Text(value)) => values.push(Some(value)),
            (Column::Int(values), Param::Int(value)) => values.push(Some(value)),
            (Column::Bool(values), Param::Bool(value)) => values.push(Some(value)),
            (Column::Text(values), _) => values.push(None),
            (Column::Int(values), _) => values.push(None),
            (Column::Bool(values), _) => values.push(None),
        }
    }
}

/// `values` (row after row, `width` each) as columns, typed by the first row; the values
/// back when a column mixes types (the caller then sends rows as they are).
fn columns(width: usize, values: Vec<Param>) -> Result<Vec<Column>, Vec<Param>> {
    let rows = values.len() / width;
    let mut columns: Vec<Column> = values[..width]
        .iter()
        .map(|first| Column::for_value(first, rows))
        .collect();
    let uniform = values.chunks(width).all(|row| {
        columns
            .iter()
            .zip(row)
            .all(|(column, value)| column.accepts(value))
    });
    if !uniform {
        return Err(values);
    }
    for (index, value) in values.into_iter().enumerate() {
        columns[index % width].push(value);
    }
    Ok(columns)
}

/// Runs `statement(rows)`, where `rows` is `SELECT * FROM UNNEST($1::text[], …)` over
/// `values` (row after row, `width` each) bound as one array per column. The values come
/// back unsent when a column mixes types.
pub(crate) async fn execute(
    tx: &mut Transaction<'static, Postgres>,
    width: usize,
    values: Vec<Param>,
    statement: impl FnOnce(&str) -> String,
) -> Result<Result<u64, Vec<Param>>, ProjectionError> {
    if values.is_empty() {
        return Ok(Ok(0));
    }
    let columns = match columns(width, values) {
        Ok(columns) => columns,
        Err(values) => return Ok(Err(values)),
    };
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(index, column)| format!("${}::{}", index + 1, column.array_type()))
        .collect();
    let sql = statement(&format!("SELECT * FROM UNNEST({})", arrays.join(", ")));
    let mut query = sqlx::query(&sql);
    for column in columns {
        query = match column {
            Column::Text(values) => query.bind(values),
            Column::Int(values) => query.bind(values),
            Column::Bool(values) => query.bind(values),
        };
    }
    Ok(Ok(query.execute(&mut **tx).await?.rows_affected()))
}
