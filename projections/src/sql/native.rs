//! View transactions on an SQLite file through SQLite's own API (rusqlite), run where they
//! are called.
//!
//! sqlx-sqlite runs every statement on a worker thread of its own: each statement is a
//! hand-off between threads, each bound and each read value a heap copy made on one thread
//! and freed on the other. A rebuild of the views spent more there than in SQLite
//! (docs/benchmarks.md, "Projections"). Here a statement is prepared once per connection,
//! bound from borrowed values and stepped on the caller's thread; the projector runs a
//! batch on a thread that may block ([`crate::projector`]).
//!
//! Rows are read into the same types as with sqlx: each row type also derives
//! `serde::Deserialize`, and [`RowDeserializer`] hands it the row's columns by name (a
//! struct) or in order (a tuple).

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use crate::error::ProjectionError;
use crate::sql::Param;

/// Statements each connection keeps prepared (rusqlite's default is 16; the views use
/// about 40 distinct statements).
const PREPARED_STATEMENTS_KEPT: usize = 128;

/// Where a connection waits between transactions, keeping its page cache and prepared
/// statements (the projector's, one batch after another).
#[derive(Clone, Default)]
pub struct ConnectionSlot(std::sync::Arc<std::sync::Mutex<Option<Connection>>>);

impl ConnectionSlot {
    fn take(&self) -> Option<Connection> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn put(&self, connection: Connection) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(connection);
    }
}

impl std::fmt::Debug for ConnectionSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionSlot")
    }
}

/// An open `BEGIN IMMEDIATE` transaction on a connection of its own: rolled back when
/// dropped uncommitted; its connection then goes back to the slot it came from.
pub struct NativeTx {
    /// `Some` until the transaction is dropped.
    connection: Option<Connection>,
    committed: bool,
    slot: Option<ConnectionSlot>,
}

impl std::fmt::Debug for NativeTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeTx")
            .field("committed", &self.committed)
            .finish_non_exhaustive()
    }
}

impl NativeTx {
    /// Opens a connection to the file and begins a write transaction on it, waiting for
    /// the database's write lock as long as the pool's connections do.
    /// The connection kept in `slot` is used when there is one (a new one otherwise) and
    /// goes back there when the transaction ends.
    pub(crate) fn begin(
        path: &std::path::Path,
        slot: Option<&ConnectionSlot>,
    ) -> Result<Self, ProjectionError> {
        let connection = match slot.and_then(ConnectionSlot::take) {
            Some(connection) => connection,
            None => {
                let connection = sablier_store::database::open_sqlite_file(path, false)?;
                connection.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS_KEPT);
                connection
            }
        };
        connection.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Self {
            connection: Some(connection),
            committed: false,
            slot: slot.cloned(),
        })
    }

    fn connection(&self) -> &Connection {
        self.connection
            .as_ref()
            .expect("a transaction has its connection until it is dropped")
    }

    pub(crate) fn execute(
        &self,
        sql: &str,
        params: &[Param],
        keep: bool,
    ) -> Result<u64, ProjectionError> {
        let changed = if keep {
            self.connection()
                .prepare_cached(sql)?
                .execute(bound(params))?
        } else {
            self.connection().prepare(sql)?.execute(bound(params))?
        };
        Ok(changed as u64)
    }

    /// Runs the one-row statement `sql` once per row of `width` values.
    pub(crate) fn execute_each_row(
        &self,
        sql: &str,
        width: usize,
        values: &[Param],
    ) -> Result<u64, ProjectionError> {
        let mut statement = self.connection().prepare_cached(sql)?;
        let mut changed = 0;
        for row in values.chunks(width) {
            changed += statement.execute(bound(row))? as u64;
        }
        Ok(changed)
    }

    pub(crate) fn fetch_all<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[Param],
        keep: bool,
    ) -> Result<Vec<T>, ProjectionError> {
        let read = |statement: &mut rusqlite::Statement<'_>| {
            let mut rows = statement.query(bound(params))?;
            let mut found = Vec::new();
            while let Some(row) = rows.next()? {
                found.push(T::deserialize(RowDeserializer { row })?);
            }
            Ok(found)
        };
        if keep {
            read(&mut *self.connection().prepare_cached(sql)?)
        } else {
            read(&mut self.connection().prepare(sql)?)
        }
    }

    pub(crate) fn commit(mut self) -> Result<(), ProjectionError> {
        self.connection().execute_batch("COMMIT")?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for NativeTx {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        // A connection whose rollback failed is closed (which rolls back), not kept.
        let ended = self.committed || connection.execute_batch("ROLLBACK").is_ok();
        if let (true, Some(slot)) = (ended, &self.slot) {
            slot.put(connection);
        }
    }
}

/// `params` bound by reference, in order.
fn bound(params: &[Param]) -> rusqlite::ParamsFromIter<std::slice::Iter<'_, Param>> {
    rusqlite::params_from_iter(params.iter())
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Param::Text(value) => ValueRef::Text(value.as_bytes()),
            Param::Int(value) => ValueRef::Integer(*value),
            // As sqlx-sqlite stores a bool: 0 or 1.
            Param::Bool(value) => ValueRef::Integer(i64::from(*value)),
            Param::NullText | Param::NullInt => ValueRef::Null,
        }))
    }
}

/// Why a row did not fit the type it was read into.
#[derive(Debug)]
pub(crate) struct RowError(String);

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RowError {}

impl de::Error for RowError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        RowError(message.to_string())
    }
}

impl From<rusqlite::Error> for RowError {
    fn from(error: rusqlite::Error) -> Self {
        RowError(error.to_string())
    }
}

impl From<RowError> for ProjectionError {
    fn from(error: RowError) -> Self {
        ProjectionError::Malformed(format!("a view row: {error}"))
    }
}

/// A row as a struct (columns by name) or a tuple (columns in order).
struct RowDeserializer<'a, 'statement> {
    row: &'a rusqlite::Row<'statement>,
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'_, '_> {
    type Error = RowError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_map(Columns {
            row: self.row,
            next: 0,
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        visitor.visit_seq(Columns {
            row: self.row,
            next: 0,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, RowError> {
        self.deserialize_seq(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct map struct enum identifier ignored_any
    }
}

/// A row's columns, walked in order.
struct Columns<'a, 'statement> {
    row: &'a rusqlite::Row<'statement>,
    next: usize,
}

impl Columns<'_, '_> {
    fn count(&self) -> usize {
        self.row.as_ref().column_count()
    }

    fn value(&mut self) -> Result<Column<'_>, RowError> {
        let value = self.row.get_ref(self.next)?;
        self.next += 1;
        Ok(Column(value))
    }
}

impl<'de> de::MapAccess<'de> for Columns<'_, '_> {
    type Error = RowError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, RowError> {
        if self.next >= self.count() {
            return Ok(None);
        }
        let name = self.row.as_ref().column_name(self.next)?;
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, RowError> {
        seed.deserialize(self.value()?)
    }
}

impl<'de> de::SeqAccess<'de> for Columns<'_, '_> {
    type Error = RowError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, RowError> {
        if self.next >= self.count() {
            return Ok(None);
        }
        seed.deserialize(self.value()?).map(Some)
    }
}

/// One column's value: integers, reals, text, blobs and NULL as SQLite stores them; an
/// integer read as a bool is true when it is not 0 (how sqlx-sqlite reads a bool).
struct Column<'a>(ValueRef<'a>);

impl<'de> de::Deserializer<'de> for Column<'_> {
    type Error = RowError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.0 {
            ValueRef::Null => visitor.visit_unit(),
            ValueRef::Integer(value) => visitor.visit_i64(value),
            ValueRef::Real(value) => visitor.visit_f64(value),
            ValueRef::Text(text) => visitor
                .visit_str(std::str::from_utf8(text).map_err(|error| RowError(error.to_string()))?),
            ValueRef::Blob(bytes) => visitor.visit_bytes(bytes),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.0 {
            ValueRef::Integer(value) => visitor.visit_bool(value != 0),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, RowError> {
        match self.0 {
            ValueRef::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}
