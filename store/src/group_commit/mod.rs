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
//! This module holds the queue and the batching loop; how a group is written is the
//! backend's, behind one trait (`GroupWriter`) with one implementation per backend:
//! - `sqlite`: the group is sealed (positions, hashes) inside the write transaction,
//!   each command in a savepoint; one algorithm over either driver (SQLite's own API on a
//!   file, sqlx in memory).
//! - `postgres`: the writer seals the group from where it left the head and writes it in
//!   one statement, falling back to the server sealing it command by command. A group
//!   commits without waiting for its WAL flush, and its commands are answered only once a
//!   flush covers it (`wal`): the next group is written while this one's flush is awaited.
//!   A command written alone (it found no write in progress) commits durably.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::oneshot;

use crate::database::Database;
use crate::error::StoreError;
use crate::read_set::StreamRead;
use crate::seal::SealedFields;

mod postgres;
mod sqlite;

/// Commands written in one transaction at most.
pub const MAX_GROUP: usize = 256;

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

/// How a PostgreSQL group commits: waiting for its WAL flush, or not (`wal`, the group
/// answered after [`GroupWriter::confirmed`]). SQLite commits are durable.
#[derive(Clone, Copy)]
enum Commit {
    Durable,
    Unflushed,
}

/// How one backend writes a group: in one transaction, each command's append conditioned
/// on its read set, a conflict rejecting only its own command. Dispatched once per group.
trait GroupWriter {
    /// Writes one group; `Err` only when the whole group failed.
    async fn write(
        &self,
        commands: &[&CommandAppend],
        commit: Commit,
    ) -> Result<Vec<Appended>, StoreError>;

    /// The outcomes of a written group, once what it committed is durable.
    async fn confirmed(&self, outcomes: Vec<Appended>) -> Vec<Appended>;
}

/// The writer of the database's backend.
enum Writer {
    Sqlite(sqlite::SqliteWriter),
    Postgres(postgres::PostgresWriter),
}

impl GroupWriter for Writer {
    async fn write(
        &self,
        commands: &[&CommandAppend],
        commit: Commit,
    ) -> Result<Vec<Appended>, StoreError> {
        match self {
            Writer::Sqlite(writer) => writer.write(commands, commit).await,
            Writer::Postgres(writer) => writer.write(commands, commit).await,
        }
    }

    async fn confirmed(&self, outcomes: Vec<Appended>) -> Vec<Appended> {
        match self {
            Writer::Sqlite(writer) => writer.confirmed(outcomes).await,
            Writer::Postgres(writer) => writer.confirmed(outcomes).await,
        }
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
    writer: Writer,
    queue: Mutex<Queue>,
}

impl GroupCommit {
    /// `sqlite_writer`: the in-process lock SQLite writers queue on, shared with the
    /// projector's view transactions.
    pub(crate) fn new(database: Database, sqlite_writer: Arc<tokio::sync::Mutex<()>>) -> Self {
        let writer = match &database {
            Database::Sqlite(pool) => Writer::Sqlite(sqlite::SqliteWriter::new(
                pool.clone(),
                database.sqlite_file(),
                sqlite_writer,
            )),
            Database::Postgres(pool) => {
                Writer::Postgres(postgres::PostgresWriter::new(pool.clone()))
            }
        };
        Self {
            writer,
            queue: Mutex::new(Queue::default()),
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
                return answer
                    .await
                    .unwrap_or_else(|_| Err(StoreError::AppendUnanswered));
            }
            Err(command) => command,
        };
        let _hand_over = HandOver(self.clone());
        match self.writer.write(&[&command], Commit::Durable).await {
            Ok(mut outcomes) => outcomes.pop().expect("one outcome per command"),
            Err(error) => Err(StoreError::GroupFailed(Arc::new(error))),
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
            let written = self.writer.write(&commands, Commit::Unflushed).await;
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
                let outcomes = self.writer.confirmed(outcomes).await;
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

/// Hands the queue over when a command that wrote itself is done, or dropped.
struct HandOver(Arc<GroupCommit>);

impl Drop for HandOver {
    fn drop(&mut self) {
        self.0.hand_over();
    }
}
