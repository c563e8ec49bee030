//! Group commit: the appends of commands that arrive together are written in one
//! transaction, each in its own savepoint (SQLite) or subtransaction (PostgreSQL), so one
//! command's conflict leaves the others' events in.
//!
//! Every append must take the single `event_log_head` row (see [`crate::event_log`]), so
//! appends commit one at a time; without grouping, each pays its own commit (and on
//! PostgreSQL its own WAL flush) while the others wait for the row. An append joins the
//! queue when a group is being written; otherwise it writes itself at once. When a write
//! ends, a writer task takes everything queued meanwhile (up to [`MAX_GROUP`] commands),
//! writes it, answers each command, and goes on while the queue is not empty. The queued
//! commands are only ever written by that task, so a caller that gives up waiting cannot
//! leave others without an answer.
//!
//! Each command's append is conditioned on its read set ([`crate::read_set`]): checked
//! after the head row is taken, so no append can slip in between the check and the write.
//!
//! On PostgreSQL a group commits without waiting for its WAL flush, and its commands are
//! answered only once a flush covers it (`wal`): the next group is written while
//! this one's flush is awaited. A command written alone (it found no write in progress)
//! commits durably, on an ordinary connection.
//!
//! How a group is written, by backend:
//! - SQLite: the group is sealed (positions, hashes) inside the write transaction, each
//!   command in a savepoint. On a file, through SQLite's own API on a blocking thread, on
//!   a connection kept between groups (one hand-off between threads per group, where
//!   sqlx hands every statement to its worker thread and back); in memory, through sqlx.
//!   Writers queue on an in-process lock shared with the projector's view transactions.
//! - PostgreSQL: the writer remembers where it left the head and seals the group itself;
//!   `sablier_append_sealed` (migration 0009) moves the head only if it is still there,
//!   checks the read sets and inserts every row, in one statement. When another process
//!   moved the head, a read set is stale or a sequence is taken, it writes nothing and
//!   the group goes through `sablier_append_group` (migration 0007): a subtransaction per
//!   command around `sablier_append_checked`, which seals on the server, so a conflict
//!   rejects only its own command.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::oneshot;

use crate::database::Database;
use crate::error::StoreError;
use crate::read_set::StreamRead;
use crate::seal::{SealedFields, chain_hash};

/// Commands written in one transaction at most.
pub const MAX_GROUP: usize = 256;

const SQLITE_UNIQUE_VIOLATION: &str = "2067";
const POSTGRES_UNIQUE_VIOLATION: &str = "23505";
/// Raised by `sablier_append_checked` (migration 0007), the stale entry's index as detail.
const POSTGRES_STALE_READ: &str = "SB001";

/// An event about to be appended, serialized as it will be stored; its JSON form is what
/// the PostgreSQL append functions take (migrations 0001 and 0007).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct NewEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
}

impl NewEvent {
    fn sealed(&self, position: i64) -> SealedFields<'_> {
        SealedFields {
            position,
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
            metadata: &self.metadata,
        }
    }

    fn conflict(&self) -> StoreError {
        StoreError::Conflict {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.sequence,
        }
    }
}

/// The outcome of one command's append: its positions, or why it was not written.
pub(crate) type Appended = Result<Vec<i64>, StoreError>;

/// One command's append: its events, written only if every stream of its read set still
/// ends at the sequence read. Its JSON form is one command of `sablier_append_group`.
#[derive(Clone, Serialize)]
pub(crate) struct CommandAppend {
    pub events: Vec<NewEvent>,
    pub read_set: Vec<StreamRead>,
}

fn stale(read: &StreamRead) -> StoreError {
    StoreError::Stale {
        aggregate_type: read.aggregate_type.clone(),
        aggregate_id: read.aggregate_id.clone(),
        sequence_read: read.sequence,
    }
}

struct Pending {
    command: CommandAppend,
    reply: oneshot::Sender<Appended>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    writing: bool,
}

/// The queue of appends of one [`crate::EventLog`].
pub(crate) struct GroupCommit {
    database: Database,
    /// PostgreSQL: the appends' connections, whose commits do not wait for the WAL flush.
    unflushed: Option<sqlx::PgPool>,
    /// PostgreSQL: where this process last left the head (position and hash), when no
    /// other write may have moved it since; the next group is sealed from it.
    known_head: Mutex<Option<(i64, String)>>,
    /// SQLite file: groups are written through SQLite's own API on a blocking thread, on
    /// this connection once opened (one hand-off per group instead of one per statement).
    sqlite_file: Option<std::path::PathBuf>,
    sqlite_connection: Arc<Mutex<Option<rusqlite::Connection>>>,
    queue: Mutex<Queue>,
    /// Held while a group is written on SQLite, shared with the projector's view
    /// transactions so that writers queue in process instead of polling the file lock.
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
}

impl GroupCommit {
    pub(crate) fn new(database: Database, sqlite_writer: Arc<tokio::sync::Mutex<()>>) -> Self {
        let unflushed = match &database {
            Database::Sqlite(_) => None,
            Database::Postgres(pool) => Some(crate::wal::unflushed_pool(pool)),
        };
        let sqlite_file = database.sqlite_file();
        Self {
            database,
            unflushed,
            known_head: Mutex::new(None),
            sqlite_file,
            sqlite_connection: Arc::new(Mutex::new(None)),
            queue: Mutex::new(Queue::default()),
            sqlite_writer,
        }
    }

    /// Appends one command's events (one aggregate, consecutive sequences) and returns
    /// their positions once committed.
    ///
    /// A command that finds no group being written writes itself at once, in its own
    /// task (alone, nothing is gained by handing over), then hands the queue that formed
    /// meanwhile to a writer task. If the caller stops waiting mid-write, only its own
    /// outcome is unknown, as with any dropped append, and the hand-over still happens.
    /// On PostgreSQL the turn is handed over before the flush is awaited.
    pub(crate) async fn append(self: &Arc<Self>, command: CommandAppend) -> Appended {
        let command = match self.join_or_lead(command) {
            Ok(answer) => {
                return answer.await.unwrap_or_else(|_| {
                    Err(StoreError::Unexpected(
                        "the append writer stopped before answering".to_owned(),
                    ))
                });
            }
            Err(command) => command,
        };
        let _hand_over = HandOver(self.clone());
        match self.write(&[&command], Commit::Durable).await {
            Ok(mut outcomes) => outcomes.pop().expect("one outcome per command"),
            Err(error) => Err(StoreError::GroupFailed(Arc::new(error))),
        }
    }

    /// The outcomes of a written group, once what it committed is durable: on PostgreSQL
    /// after a WAL flush (`wal`); a flush that fails leaves the commands'
    /// outcomes unknown ([`StoreError::Unconfirmed`]).
    async fn confirmed(&self, outcomes: Vec<Appended>) -> Vec<Appended> {
        let Database::Postgres(pool) = &self.database else {
            return outcomes;
        };
        if outcomes.iter().all(Result::is_err) {
            return outcomes;
        }
        match crate::wal::flush(pool).await {
            Ok(()) => outcomes,
            Err(error) => {
                let error = Arc::new(error);
                outcomes
                    .into_iter()
                    .map(|outcome| {
                        outcome.and_then(|_| Err(StoreError::Unconfirmed(error.clone())))
                    })
                    .collect()
            }
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .expect("the append queue is never poisoned")
    }

    /// Joins the queue when a group is being written (`Ok`: the answer to wait for);
    /// otherwise takes the turn to write and gives the command back.
    fn join_or_lead(
        &self,
        command: CommandAppend,
    ) -> Result<oneshot::Receiver<Appended>, CommandAppend> {
        let mut queue = self.queue();
        if !queue.writing {
            queue.writing = true;
            return Err(command);
        }
        let (reply, answer) = oneshot::channel();
        queue.pending.push(Pending { command, reply });
        Ok(answer)
    }

    /// Writes one group in one transaction; `Err` only when the whole group failed.
    async fn write(
        &self,
        commands: &[&CommandAppend],
        commit: Commit,
    ) -> Result<Vec<Appended>, StoreError> {
        match &self.database {
            Database::Sqlite(pool) => {
                let _writer = self.sqlite_writer.lock().await;
                match &self.sqlite_file {
                    Some(path) => self.write_sqlite_file(path, commands).await,
                    None => Ok(write_sqlite(pool, commands).await?),
                }
            }
            Database::Postgres(pool) => {
                let connections = match commit {
                    Commit::Durable => pool,
                    Commit::Unflushed => self.unflushed.as_ref().expect("set for PostgreSQL"),
                };
                // Taken, and put back only if this write leaves the head known.
                let known = self
                    .known_head
                    .lock()
                    .expect("the known head is never poisoned")
                    .take();
                let head = match known {
                    Some(head) => head,
                    None => {
                        sqlx::query_as(
                            "SELECT last_position, last_hash FROM event_log_head WHERE id = 1",
                        )
                        .fetch_one(connections)
                        .await?
                    }
                };
                match write_postgres_sealed(connections, head, commands).await? {
                    Some((outcomes, head)) => {
                        *self
                            .known_head
                            .lock()
                            .expect("the known head is never poisoned") = Some(head);
                        Ok(outcomes)
                    }
                    None => Ok(write_postgres(connections, commands).await?),
                }
            }
        }
    }

    /// [`write_sqlite_native`] on a blocking thread, with the kept connection (opened on
    /// first use; dropped after a failure, so the next group opens a fresh one).
    async fn write_sqlite_file(
        &self,
        path: &std::path::Path,
        commands: &[&CommandAppend],
    ) -> Result<Vec<Appended>, StoreError> {
        let commands: Vec<CommandAppend> =
            commands.iter().map(|&command| command.clone()).collect();
        let (path, kept) = (path.to_owned(), self.sqlite_connection.clone());
        tokio::task::spawn_blocking(move || {
            let mut kept = kept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let connection = match kept.take() {
                Some(connection) => connection,
                None => crate::database::open_sqlite_file(&path, false)
                    .map_err(|error| error.in_sqlite_file(&path))?,
            };
            let written = write_sqlite_native(&connection, &commands)
                .map_err(|error| error.in_sqlite_file(&path))?;
            *kept = Some(connection);
            Ok(written)
        })
        .await
        .map_err(|error| StoreError::Unexpected(format!("the SQLite writer stopped: {error}")))?
    }

    /// Ends a write turn: a writer task takes what queued meanwhile, or no one writes.
    fn hand_over(self: &Arc<Self>) {
        let mut queue = self.queue();
        if queue.pending.is_empty() {
            queue.writing = false;
        } else {
            tokio::spawn(self.clone().write_while_queued());
        }
    }

    async fn write_while_queued(self: Arc<Self>) {
        loop {
            let group: Vec<Pending> = {
                let mut queue = self.queue();
                if queue.pending.is_empty() {
                    queue.writing = false;
                    return;
                }
                let take = queue.pending.len().min(MAX_GROUP);
                queue.pending.drain(..take).collect()
            };
            let commands: Vec<&CommandAppend> =
                group.iter().map(|pending| &pending.command).collect();
            let written = self.write(&commands, Commit::Unflushed).await;
            // Answered once durable, while the next group is written.
            tokio::spawn(self.clone().answer(group, written));
        }
    }

    async fn answer(
        self: Arc<Self>,
        group: Vec<Pending>,
        written: Result<Vec<Appended>, StoreError>,
    ) {
        match written {
            Ok(outcomes) => {
                let outcomes = self.confirmed(outcomes).await;
                for (pending, outcome) in group.into_iter().zip(outcomes) {
                    let _ = pending.reply.send(outcome);
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for pending in group {
                    let _ = pending
                        .reply
                        .send(Err(StoreError::GroupFailed(error.clone())));
                }
            }
        }
    }
}

/// How a PostgreSQL group commits: waiting for its WAL flush, or not (`wal`,
/// the group answered after [`GroupCommit::confirmed`]). SQLite commits are durable.
#[derive(Clone, Copy)]
enum Commit {
    Durable,
    Unflushed,
}

/// Hands the queue over when a command that wrote itself is done, or dropped.
struct HandOver(Arc<GroupCommit>);

impl Drop for HandOver {
    fn drop(&mut self) {
        self.0.hand_over();
    }
}

/// One transaction; a savepoint per command. `Err` only when the whole group failed.
async fn write_sqlite(
    pool: &sqlx::SqlitePool,
    commands: &[&CommandAppend],
) -> Result<Vec<Appended>, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let (mut last_position, mut last_hash): (i64, String) =
        sqlx::query_as("SELECT last_position, last_hash FROM event_log_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
    // Alone, a command needs no savepoint: a conflict rolls the whole transaction back.
    let alone = commands.len() == 1;
    let mut outcomes = Vec::with_capacity(commands.len());
    for command in commands {
        if let Some(read) = first_stale_sqlite(&mut tx, &command.read_set).await? {
            // Checked before anything of the command is written: nothing to undo.
            if alone {
                tx.rollback().await?;
                return Ok(vec![Err(stale(read))]);
            }
            outcomes.push(Err(stale(read)));
            continue;
        }
        let events = &command.events;
        if !alone {
            sqlx::query("SAVEPOINT command").execute(&mut *tx).await?;
        }
        let mut hash = last_hash.clone();
        let mut positions = Vec::with_capacity(events.len());
        let mut conflict = None;
        for (offset, event) in events.iter().enumerate() {
            let position = last_position + 1 + offset as i64;
            hash = chain_hash(&hash, event.sealed(position));
            let inserted = sqlx::query(
                "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, \
                 event_type, event_version, payload, metadata, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(position)
            .bind(&event.aggregate_type)
            .bind(&event.aggregate_id)
            .bind(event.sequence)
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(&event.payload)
            .bind(&event.metadata)
            .bind(&hash)
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => positions.push(position),
                Err(sqlx::Error::Database(error))
                    if error.code().as_deref() == Some(SQLITE_UNIQUE_VIOLATION) =>
                {
                    conflict = Some(event.conflict());
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        match conflict {
            Some(conflict) if alone => {
                tx.rollback().await?;
                return Ok(vec![Err(conflict)]);
            }
            Some(conflict) => {
                sqlx::query("ROLLBACK TO command").execute(&mut *tx).await?;
                sqlx::query("RELEASE command").execute(&mut *tx).await?;
                outcomes.push(Err(conflict));
            }
            None => {
                if !alone {
                    sqlx::query("RELEASE command").execute(&mut *tx).await?;
                }
                last_position += events.len() as i64;
                last_hash = hash;
                outcomes.push(Ok(positions));
            }
        }
    }
    sqlx::query("UPDATE event_log_head SET last_position = ?1, last_hash = ?2 WHERE id = 1")
        .bind(last_position)
        .bind(&last_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// [`write_sqlite`] through SQLite's own API: the same transaction, savepoints and
/// checks, statements prepared once per connection. `Err` only when the whole group failed.
fn write_sqlite_native(
    connection: &rusqlite::Connection,
    commands: &[CommandAppend],
) -> Result<Vec<Appended>, StoreError> {
    let tx =
        rusqlite::Transaction::new_unchecked(connection, rusqlite::TransactionBehavior::Immediate)?;
    let (mut last_position, mut last_hash): (i64, String) = tx
        .prepare_cached("SELECT last_position, last_hash FROM event_log_head WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let alone = commands.len() == 1;
    let mut outcomes = Vec::with_capacity(commands.len());
    for command in commands {
        let mut stale_read = None;
        for read in &command.read_set {
            let last: i64 = tx
                .prepare_cached(
                    "SELECT coalesce(max(sequence), 0) FROM events \
                     WHERE aggregate_type = ?1 AND aggregate_id = ?2",
                )?
                .query_row((&read.aggregate_type, &read.aggregate_id), |row| row.get(0))?;
            if last != read.sequence {
                stale_read = Some(read);
                break;
            }
        }
        if let Some(read) = stale_read {
            // Checked before anything of the command is written: nothing to undo.
            if alone {
                tx.rollback()?;
                return Ok(vec![Err(stale(read))]);
            }
            outcomes.push(Err(stale(read)));
            continue;
        }
        if !alone {
            tx.execute_batch("SAVEPOINT command")?;
        }
        let mut hash = last_hash.clone();
        let mut positions = Vec::with_capacity(command.events.len());
        let mut conflict = None;
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, \
             event_type, event_version, payload, metadata, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (offset, event) in command.events.iter().enumerate() {
            let position = last_position + 1 + offset as i64;
            hash = chain_hash(&hash, event.sealed(position));
            let inserted = insert.execute(rusqlite::params![
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
                Ok(_) => positions.push(position),
                Err(rusqlite::Error::SqliteFailure(error, _))
                    if error.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
                {
                    conflict = Some(event.conflict());
                    break;
                }
                Err(error) => return Err(error.into()),
            }
        }
        drop(insert);
        match conflict {
            Some(conflict) if alone => {
                tx.rollback()?;
                return Ok(vec![Err(conflict)]);
            }
            Some(conflict) => {
                tx.execute_batch("ROLLBACK TO command; RELEASE command")?;
                outcomes.push(Err(conflict));
            }
            None => {
                if !alone {
                    tx.execute_batch("RELEASE command")?;
                }
                last_position += command.events.len() as i64;
                last_hash = hash;
                outcomes.push(Ok(positions));
            }
        }
    }
    tx.prepare_cached("UPDATE event_log_head SET last_position = ?1, last_hash = ?2 WHERE id = 1")?
        .execute((last_position, &last_hash))?;
    tx.commit()?;
    Ok(outcomes)
}

/// The first stream of `read_set` that has grown since it was read, under the write lock.
async fn first_stale_sqlite<'a>(
    tx: &mut sqlx::SqliteConnection,
    read_set: &'a [StreamRead],
) -> Result<Option<&'a StreamRead>, sqlx::Error> {
    for read in read_set {
        let last: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(sequence), 0) FROM events \
             WHERE aggregate_type = ?1 AND aggregate_id = ?2",
        )
        .bind(&read.aggregate_type)
        .bind(&read.aggregate_id)
        .fetch_one(&mut *tx)
        .await?;
        if last != read.sequence {
            return Ok(Some(read));
        }
    }
    Ok(None)
}

/// The group sealed here from `head` (positions and hash chain, as [`write_sqlite`] does)
/// and written in one round trip by `sablier_append_sealed` (migration 0009), with the
/// outcomes and the head it leaves. `None`, nothing written, when the head was no longer
/// `head`, a stream read had grown or a sequence was taken: [`write_postgres`] then tells
/// which command could not be written.
async fn write_postgres_sealed(
    pool: &sqlx::PgPool,
    head: (i64, String),
    commands: &[&CommandAppend],
) -> Result<Option<(Vec<Appended>, (i64, String))>, sqlx::Error> {
    let (mut position, mut hash) = head.clone();
    let events = commands.iter().flat_map(|command| &command.events);
    let total = events.clone().count();
    let mut positions = Vec::with_capacity(total);
    let mut hashes = Vec::with_capacity(total);
    let mut outcomes = Vec::with_capacity(commands.len());
    let mut read_set: Vec<&StreamRead> = Vec::new();
    for command in commands {
        let first = position + 1;
        for event in &command.events {
            position += 1;
            hash = chain_hash(&hash, event.sealed(position));
            positions.push(position);
            hashes.push(hash.clone());
        }
        outcomes.push(Ok((first..=position).collect()));
        for read in &command.read_set {
            if !read_set.contains(&read) {
                read_set.push(read);
            }
        }
    }
    let column = |field: fn(&NewEvent) -> &str| events.clone().map(field).collect::<Vec<_>>();
    let written = sqlx::query_scalar(
        "SELECT sablier_append_sealed($1, $2, $3, $4, $5::json, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14)",
    )
    .bind(head.0)
    .bind(&head.1)
    .bind(position)
    .bind(&hash)
    .bind(to_json(&read_set))
    .bind(&positions)
    .bind(column(|event| &event.aggregate_type))
    .bind(column(|event| &event.aggregate_id))
    .bind(
        events
            .clone()
            .map(|event| event.sequence)
            .collect::<Vec<_>>(),
    )
    .bind(column(|event| &event.event_type))
    .bind(column(|event| &event.event_version))
    .bind(column(|event| &event.payload))
    .bind(column(|event| &event.metadata))
    .bind(&hashes)
    .fetch_one(pool)
    .await;
    match written {
        Ok(true) => Ok(Some((outcomes, (position, hash)))),
        Ok(false) => Ok(None),
        Err(sqlx::Error::Database(error))
            if matches!(
                error.code().as_deref(),
                Some(POSTGRES_UNIQUE_VIOLATION | POSTGRES_STALE_READ)
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// One round trip: `sablier_append_checked` and `sablier_append_group` do on the server
/// what [`write_sqlite`] does here (migration 0007), a subtransaction per command.
async fn write_postgres(
    pool: &sqlx::PgPool,
    commands: &[&CommandAppend],
) -> Result<Vec<Appended>, sqlx::Error> {
    if let [command] = commands {
        // Alone: no subtransaction needed, a conflict fails the one statement.
        let appended = sqlx::query_scalar("SELECT sablier_append_checked($1::json, $2::json)")
            .bind(to_json(&command.events))
            .bind(to_json(&command.read_set))
            .fetch_all(pool)
            .await;
        return match appended {
            Ok(positions) => Ok(vec![Ok(positions)]),
            Err(sqlx::Error::Database(error))
                if error.code().as_deref() == Some(POSTGRES_UNIQUE_VIOLATION) =>
            {
                Ok(vec![Err(first_taken(pool, &command.events)
                    .await?
                    .conflict())])
            }
            Err(sqlx::Error::Database(error))
                if error.code().as_deref() == Some(POSTGRES_STALE_READ) =>
            {
                let detail = error
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .and_then(|error| error.detail())
                    .and_then(|detail| detail.parse::<usize>().ok());
                Ok(vec![Err(stale_entry(&command.read_set, detail))])
            }
            Err(error) => Err(error),
        };
    }
    let rows: Vec<(i32, Option<Vec<i64>>, Option<i32>)> = sqlx::query_as(
        "SELECT command, positions, stale_entry FROM sablier_append_group($1::json)",
    )
    .bind(to_json(commands))
    .fetch_all(pool)
    .await?;
    let mut outcomes: Vec<Appended> = Vec::with_capacity(commands.len());
    for (index, (command, positions, stale_index)) in rows.into_iter().enumerate() {
        debug_assert_eq!(command as usize, index);
        let read_set = &commands[index].read_set;
        outcomes.push(match (positions, stale_index) {
            (Some(positions), _) => Ok(positions),
            (None, Some(entry)) => Err(stale_entry(read_set, usize::try_from(entry).ok())),
            (None, None) => Err(first_taken(pool, &commands[index].events).await?.conflict()),
        });
    }
    Ok(outcomes)
}

fn to_json(value: &(impl Serialize + ?Sized)) -> String {
    serde_json::to_string(value).expect("strings and integers serialize")
}

/// The stale entry the server named (the first one if it named none it could be).
fn stale_entry(read_set: &[StreamRead], index: Option<usize>) -> StoreError {
    match index
        .and_then(|index| read_set.get(index))
        .or(read_set.first())
    {
        Some(read) => stale(read),
        None => StoreError::Unexpected("a stale read reported without a read set".to_owned()),
    }
}

/// After a conflict: the first of `events` whose sequence another append already took.
async fn first_taken<'a>(
    pool: &sqlx::PgPool,
    events: &'a [NewEvent],
) -> Result<&'a NewEvent, sqlx::Error> {
    for event in events {
        let taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3)",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .fetch_one(pool)
        .await?;
        if taken {
            return Ok(event);
        }
    }
    Ok(&events[0])
}
