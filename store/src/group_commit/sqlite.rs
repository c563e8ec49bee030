//! The SQLite writer of group commit: the group is sealed (positions, hashes) inside the
//! write transaction, each command in a savepoint, and the head moved once at the end.
//! A command alone needs no savepoint: its conflict rolls the transaction back.
//!
//! The algorithm (`write_group`) is written once, over the statements a group needs
//! (`GroupTx`), with two drivers:
//! - a file: SQLite's own API (rusqlite) on a blocking thread, on a connection kept
//!   between groups, statements prepared once per connection. One hand-off between
//!   threads per group, where sqlx hands every statement to its worker thread and back
//!   (docs/benchmarks.md, "SQLite groups written through rusqlite"). Its statements never
//!   wait, so the algorithm's future completes at its first poll.
//! - in memory (no file to open a connection on): sqlx, through the pool.
//!
//! Writers queue on an in-process lock shared with the projector's view transactions, so
//! they wait their turn instead of polling the database lock.

use std::borrow::Borrow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::FutureExt;

use super::{Appended, CommandAppend, Commit, GroupWriter, NewEvent, stale};
use crate::error::StoreError;
use crate::read_set::StreamRead;
use crate::seal::chain_hash;

const SQLITE_UNIQUE_VIOLATION: &str = "2067";

const HEAD: &str = "SELECT last_position, last_hash FROM event_log_head WHERE id = 1";
const LAST_SEQUENCE: &str = "SELECT coalesce(max(sequence), 0) FROM events \
                             WHERE aggregate_type = ?1 AND aggregate_id = ?2";
const INSERT: &str = "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, \
                      event_type, event_version, payload, metadata, hash) \
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const SET_HEAD: &str = "UPDATE event_log_head SET last_position = ?1, last_hash = ?2 WHERE id = 1";

/// Where the log ends: the last position and its hash.
type Head = (i64, String);

pub(super) struct SqliteWriter {
    driver: Driver,
    /// Held while a group is written, shared with the projector's view transactions.
    turn: Arc<tokio::sync::Mutex<()>>,
}

enum Driver {
    /// A file, through SQLite's own API, on `kept` once opened (dropped after a failure,
    /// so the next group opens a fresh one).
    File {
        path: PathBuf,
        kept: Arc<Mutex<Option<rusqlite::Connection>>>,
    },
    /// In memory, through sqlx.
    Memory(sqlx::SqlitePool),
}

impl SqliteWriter {
    /// `file`: the database's file, `None` in memory.
    pub(super) fn new(
        pool: sqlx::SqlitePool,
        file: Option<PathBuf>,
        turn: Arc<tokio::sync::Mutex<()>>,
    ) -> Self {
        let driver = match file {
            Some(path) => Driver::File {
                path,
                kept: Arc::new(Mutex::new(None)),
            },
            None => Driver::Memory(pool),
        };
        Self { driver, turn }
    }
}

impl GroupWriter for SqliteWriter {
    /// SQLite commits are durable: `commit` does not apply.
    async fn write(
        &self,
        commands: &[&CommandAppend],
        _commit: Commit,
    ) -> Result<Vec<Appended>, StoreError> {
        let _turn = self.turn.lock().await;
        match &self.driver {
            Driver::File { path, kept } => write_file(path, kept, commands).await,
            Driver::Memory(pool) => write_memory(pool, commands).await,
        }
    }

    async fn confirmed(&self, outcomes: Vec<Appended>) -> Vec<Appended> {
        outcomes
    }
}

/// [`write_group`] on a blocking thread, through SQLite's own API on the kept connection
/// (opened on first use).
async fn write_file(
    path: &std::path::Path,
    kept: &Arc<Mutex<Option<rusqlite::Connection>>>,
    commands: &[&CommandAppend],
) -> Result<Vec<Appended>, StoreError> {
    let commands: Vec<CommandAppend> = commands.iter().map(|&command| command.clone()).collect();
    let (path, kept) = (path.to_owned(), kept.clone());
    tokio::task::spawn_blocking(move || {
        let mut kept = kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let connection = match kept.take() {
            Some(connection) => connection,
            None => crate::database::open_sqlite_file(&path, false)
                .map_err(|error| error.in_sqlite_file(&path))?,
        };
        let written = NativeTx::begin(&connection)
            .and_then(|tx| {
                write_group(tx, &commands)
                    .now_or_never()
                    .expect("SQLite's own API never waits")
            })
            .map_err(|error| error.in_sqlite_file(&path))?;
        *kept = Some(connection);
        Ok(written)
    })
    .await
    .map_err(StoreError::WriterStopped)?
}

/// [`write_group`] through sqlx.
async fn write_memory(
    pool: &sqlx::SqlitePool,
    commands: &[&CommandAppend],
) -> Result<Vec<Appended>, StoreError> {
    let tx = SqlxTx(pool.begin_with("BEGIN IMMEDIATE").await?);
    write_group(tx, commands).await
}

/// The statements of a group's write transaction, through one driver.
///
/// The file driver (`NativeTx`) polls `write_group` once, on a blocking thread, and
/// expects it done (`now_or_never().expect(..)`): its methods must never wait. SQLite's
/// own calls block the thread and return; awaiting anything that can be pending there (an
/// async lock, a channel, a timer) makes that `expect` panic. Only the sqlx driver waits.
trait GroupTx: Sized {
    async fn head(&mut self) -> Result<Head, StoreError>;
    /// The last sequence stored of the stream `read` names (0 when it has none).
    async fn last_sequence(&mut self, read: &StreamRead) -> Result<i64, StoreError>;
    /// Inserts `event` at `position`; `Ok(false)` when its sequence is taken.
    async fn insert(
        &mut self,
        position: i64,
        event: &NewEvent,
        hash: &str,
    ) -> Result<bool, StoreError>;
    /// Runs statements without parameters (savepoints), separated by `"; "`.
    async fn execute(&mut self, statements: &'static str) -> Result<(), StoreError>;
    async fn set_head(&mut self, head: &Head) -> Result<(), StoreError>;
    async fn commit(self) -> Result<(), StoreError>;
    async fn rollback(self) -> Result<(), StoreError>;
}

/// One transaction; a savepoint per command. `Err` only when the whole group failed.
async fn write_group<T: GroupTx>(
    mut tx: T,
    commands: &[impl Borrow<CommandAppend>],
) -> Result<Vec<Appended>, StoreError> {
    let mut head = tx.head().await?;
    let alone = commands.len() == 1;
    let mut outcomes = Vec::with_capacity(commands.len());
    for command in commands {
        let outcome = write_command(&mut tx, command.borrow(), &mut head, alone).await?;
        if alone && outcome.is_err() {
            tx.rollback().await?;
            return Ok(vec![outcome]);
        }
        outcomes.push(outcome);
    }
    tx.set_head(&head).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// One command of a group, in a savepoint unless it is `alone`; moves `head` past its
/// events when they are written.
async fn write_command<T: GroupTx>(
    tx: &mut T,
    command: &CommandAppend,
    head: &mut Head,
    alone: bool,
) -> Result<Appended, StoreError> {
    if let Some(read) = first_stale(tx, &command.read_set).await? {
        // Checked before anything of the command is written: nothing to undo.
        return Ok(Err(stale(read)));
    }
    if !alone {
        tx.execute("SAVEPOINT command").await?;
    }
    let (mut position, mut hash) = (head.0, head.1.clone());
    let mut positions = Vec::with_capacity(command.events.len());
    for event in &command.events {
        position += 1;
        hash = chain_hash(&hash, event.sealed(position));
        if !tx.insert(position, event, &hash).await? {
            if !alone {
                tx.execute("ROLLBACK TO command; RELEASE command").await?;
            }
            return Ok(Err(event.conflict()));
        }
        positions.push(position);
    }
    if !alone {
        tx.execute("RELEASE command").await?;
    }
    *head = (position, hash);
    Ok(Ok(positions))
}

/// The first stream of `read_set` that has grown since it was read, under the write lock.
async fn first_stale<'a, T: GroupTx>(
    tx: &mut T,
    read_set: &'a [StreamRead],
) -> Result<Option<&'a StreamRead>, StoreError> {
    for read in read_set {
        if tx.last_sequence(read).await? != read.sequence {
            return Ok(Some(read));
        }
    }
    Ok(None)
}

/// A write transaction of SQLite's own API; its statements are prepared once per
/// connection.
struct NativeTx<'c>(rusqlite::Transaction<'c>);

impl<'c> NativeTx<'c> {
    fn begin(connection: &'c rusqlite::Connection) -> Result<Self, StoreError> {
        Ok(Self(rusqlite::Transaction::new_unchecked(
            connection,
            rusqlite::TransactionBehavior::Immediate,
        )?))
    }
}

impl GroupTx for NativeTx<'_> {
    async fn head(&mut self) -> Result<Head, StoreError> {
        Ok(self
            .0
            .prepare_cached(HEAD)?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?)
    }

    async fn last_sequence(&mut self, read: &StreamRead) -> Result<i64, StoreError> {
        Ok(self
            .0
            .prepare_cached(LAST_SEQUENCE)?
            .query_row((&read.aggregate_type, &read.aggregate_id), |row| row.get(0))?)
    }

    async fn insert(
        &mut self,
        position: i64,
        event: &NewEvent,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let inserted = self.0.prepare_cached(INSERT)?.execute(rusqlite::params![
            position,
            event.aggregate_type,
            event.aggregate_id,
            event.sequence,
            event.event_type,
            event.event_version,
            event.payload,
            event.metadata,
            hash,
        ]);
        match inserted {
            Ok(_) => Ok(true),
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                Ok(false)
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn execute(&mut self, statements: &'static str) -> Result<(), StoreError> {
        Ok(self.0.execute_batch(statements)?)
    }

    async fn set_head(&mut self, head: &Head) -> Result<(), StoreError> {
        self.0
            .prepare_cached(SET_HEAD)?
            .execute((head.0, &head.1))?;
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit()?)
    }

    async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.0.rollback()?)
    }
}

/// A write transaction through sqlx. Each statement's future is boxed (in memory only,
/// never on a file): nested in the generic [`write_group`], the compiler cannot prove
/// sqlx's futures `Send` for every lifetime, and proves it here instead.
struct SqlxTx(sqlx::Transaction<'static, sqlx::Sqlite>);

impl GroupTx for SqlxTx {
    async fn head(&mut self) -> Result<Head, StoreError> {
        let tx = &mut *self.0;
        sent(async move { Ok(sqlx::query_as(HEAD).fetch_one(tx).await?) }).await
    }

    async fn last_sequence(&mut self, read: &StreamRead) -> Result<i64, StoreError> {
        let tx = &mut *self.0;
        sent(async move {
            Ok(sqlx::query_scalar(LAST_SEQUENCE)
                .bind(&read.aggregate_type)
                .bind(&read.aggregate_id)
                .fetch_one(tx)
                .await?)
        })
        .await
    }

    async fn insert(
        &mut self,
        position: i64,
        event: &NewEvent,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let tx = &mut *self.0;
        let inserted = sent(
            sqlx::query(INSERT)
                .bind(position)
                .bind(&event.aggregate_type)
                .bind(&event.aggregate_id)
                .bind(event.sequence)
                .bind(&event.event_type)
                .bind(&event.event_version)
                .bind(&event.payload)
                .bind(&event.metadata)
                .bind(hash)
                .execute(tx),
        )
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(error))
                if error.code().as_deref() == Some(SQLITE_UNIQUE_VIOLATION) =>
            {
                Ok(false)
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn execute(&mut self, statements: &'static str) -> Result<(), StoreError> {
        for statement in statements.split("; ") {
            let tx = &mut *self.0;
            sent(sqlx::query(statement).execute(tx)).await?;
        }
        Ok(())
    }

    async fn set_head(&mut self, head: &Head) -> Result<(), StoreError> {
        let tx = &mut *self.0;
        sent(sqlx::query(SET_HEAD).bind(head.0).bind(&head.1).execute(tx)).await?;
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        Ok(sent(self.0.commit()).await?)
    }

    async fn rollback(self) -> Result<(), StoreError> {
        Ok(sent(self.0.rollback()).await?)
    }
}

/// `future`, its `Send` proved here.
fn sent<'a, T>(
    future: impl Future<Output = T> + Send + 'a,
) -> std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>> {
    Box::pin(future)
}
