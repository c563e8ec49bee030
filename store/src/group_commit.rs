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

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::database::Database;
use crate::error::StoreError;
use crate::seal::{SealedFields, chain_hash};

/// Commands written in one transaction at most.
pub const MAX_GROUP: usize = 256;

const SQLITE_UNIQUE_VIOLATION: &str = "2067";
const POSTGRES_UNIQUE_VIOLATION: &str = "23505";

/// An event about to be appended, serialized as it will be stored.
#[derive(Clone, Debug)]
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

struct Pending {
    events: Vec<NewEvent>,
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
    queue: Mutex<Queue>,
    /// Held while a group is written on SQLite, shared with the projector's view
    /// transactions so that writers queue in process instead of polling the file lock.
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
}

impl GroupCommit {
    pub(crate) fn new(database: Database, sqlite_writer: Arc<tokio::sync::Mutex<()>>) -> Self {
        Self {
            database,
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
    pub(crate) async fn append(self: &Arc<Self>, events: Vec<NewEvent>) -> Appended {
        let events = match self.join_or_lead(events) {
            Ok(answer) => {
                return answer.await.unwrap_or_else(|_| {
                    Err(StoreError::Unexpected(
                        "the append writer stopped before answering".to_owned(),
                    ))
                });
            }
            Err(events) => events,
        };
        let _hand_over = HandOver(self.clone());
        match self.write(&[events.as_slice()]).await {
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
    /// otherwise takes the turn to write and gives the events back.
    fn join_or_lead(
        &self,
        events: Vec<NewEvent>,
    ) -> Result<oneshot::Receiver<Appended>, Vec<NewEvent>> {
        let mut queue = self.queue();
        if !queue.writing {
            queue.writing = true;
            return Err(events);
        }
        let (reply, answer) = oneshot::channel();
        queue.pending.push(Pending { events, reply });
        Ok(answer)
    }

    /// Writes one group in one transaction; `Err` only when the whole group failed.
    async fn write(&self, commands: &[&[NewEvent]]) -> Result<Vec<Appended>, sqlx::Error> {
        match &self.database {
            Database::Sqlite(pool) => {
                let _writer = self.sqlite_writer.lock().await;
                write_sqlite(pool, commands).await
            }
            Database::Postgres(pool) => write_postgres(pool, commands).await,
        }
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
            let commands: Vec<&[NewEvent]> = group
                .iter()
                .map(|pending| pending.events.as_slice())
                .collect();
            match self.write(&commands).await {
                Ok(outcomes) => {
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
    commands: &[&[NewEvent]],
) -> Result<Vec<Appended>, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let (mut last_position, mut last_hash): (i64, String) =
        sqlx::query_as("SELECT last_position, last_hash FROM event_log_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
    // Alone, a command needs no savepoint: a conflict rolls the whole transaction back.
    let alone = commands.len() == 1;
    let mut outcomes = Vec::with_capacity(commands.len());
    for events in commands {
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

/// One round trip: `sablier_append_group` does on the server what [`write_sqlite`] does
/// here (migration 0005), a subtransaction per command.
async fn write_postgres(
    pool: &sqlx::PgPool,
    commands: &[&[NewEvent]],
) -> Result<Vec<Appended>, sqlx::Error> {
    let body: Vec<Vec<serde_json::Value>> = commands
        .iter()
        .map(|events| {
            events
                .iter()
                .map(|event| {
                    serde_json::json!({
                        "aggregate_type": event.aggregate_type,
                        "aggregate_id": event.aggregate_id,
                        "sequence": event.sequence,
                        "event_type": event.event_type,
                        "event_version": event.event_version,
                        "payload": event.payload,
                        "metadata": event.metadata,
                    })
                })
                .collect()
        })
        .collect();
    if let [events] = commands {
        // Alone: no subtransaction needed, a conflict fails the one statement.
        let body = serde_json::to_string(&body[0]).expect("strings and integers serialize");
        let appended = sqlx::query_scalar("SELECT sablier_append($1::json)")
            .bind(body)
            .fetch_all(pool)
            .await;
        return match appended {
            Ok(positions) => Ok(vec![Ok(positions)]),
            Err(sqlx::Error::Database(error))
                if error.code().as_deref() == Some(POSTGRES_UNIQUE_VIOLATION) =>
            {
                Ok(vec![Err(first_taken(pool, events).await?.conflict())])
            }
            Err(error) => Err(error),
        };
    }
    let body = serde_json::to_string(&body).expect("strings and integers serialize");
    let rows: Vec<(i32, Option<Vec<i64>>)> =
        sqlx::query_as("SELECT command, positions FROM sablier_append_group($1::json)")
            .bind(body)
            .fetch_all(pool)
            .await?;
    let mut outcomes: Vec<Appended> = Vec::with_capacity(commands.len());
    for (index, (command, positions)) in rows.into_iter().enumerate() {
        debug_assert_eq!(command as usize, index);
        outcomes.push(match positions {
            Some(positions) => Ok(positions),
            None => Err(first_taken(pool, commands[index]).await?.conflict()),
        });
    }
    Ok(outcomes)
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
