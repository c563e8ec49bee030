//! The PostgreSQL writer of group commit.
//!
//! The writer remembers where it left the head and seals the group itself;
//! `sablier_append_sealed` (migration 0009) moves the head only if it is still there,
//! checks the read sets and inserts every row, in one statement. When another process
//! moved the head, a read set is stale or a sequence is taken, it writes nothing and the
//! group goes through `sablier_append_group` (migration 0007): a subtransaction per command
//! around `sablier_append_checked`, which seals on the server, so a conflict rejects only
//! its own command.
//!
//! A group written by the writer task commits on connections that do not wait for the WAL
//! flush, and is answered once a flush covers it (`wal`); a command written alone commits
//! durably, on an ordinary connection.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{Appended, CommandAppend, Commit, GroupWriter, NewEvent, stale};
use crate::error::StoreError;
use crate::read_set::StreamRead;
use crate::seal::chain_hash;

const POSTGRES_UNIQUE_VIOLATION: &str = "23505";
/// Raised by `sablier_append_checked` (migration 0007), the stale entry's index as detail.
const POSTGRES_STALE_READ: &str = "SB001";

/// Where a write left the head: its position and hash.
type Head = (i64, String);

pub(super) struct PostgresWriter {
    pool: sqlx::PgPool,
    /// The appends' connections whose commits do not wait for the WAL flush.
    unflushed: sqlx::PgPool,
    /// Where this process last left the head, when no other write may have moved it
    /// since; the next group is sealed from it.
    known_head: Mutex<Option<Head>>,
}

impl PostgresWriter {
    pub(super) fn new(pool: sqlx::PgPool) -> Self {
        Self {
            unflushed: crate::wal::unflushed_pool(&pool),
            pool,
            known_head: Mutex::new(None),
        }
    }

    fn known_head(&self) -> std::sync::MutexGuard<'_, Option<Head>> {
        self.known_head
            .lock()
            .expect("the known head is never poisoned")
    }
}

impl GroupWriter for PostgresWriter {
    /// Sealed here from the known head (read when unknown); through the server's sealing
    /// when that writes nothing.
    async fn write(
        &self,
        commands: &[&CommandAppend],
        commit: Commit,
    ) -> Result<Vec<Appended>, StoreError> {
        let connections = match commit {
            Commit::Durable => &self.pool,
            Commit::Unflushed => &self.unflushed,
        };
        // Taken, and put back only if this write leaves the head known.
        let known = self.known_head().take();
        let head = match known {
            Some(head) => head,
            None => {
                sqlx::query_as("SELECT last_position, last_hash FROM event_log_head WHERE id = 1")
                    .fetch_one(connections)
                    .await?
            }
        };
        match write_postgres_sealed(connections, head, commands).await? {
            Some((outcomes, head)) => {
                *self.known_head() = Some(head);
                Ok(outcomes)
            }
            None => Ok(write_postgres(connections, commands).await?),
        }
    }

    /// After a WAL flush (`wal`); a flush that fails leaves the commands' outcomes
    /// unknown ([`StoreError::Unconfirmed`]).
    async fn confirmed(&self, outcomes: Vec<Appended>) -> Vec<Appended> {
        if outcomes.iter().all(Result::is_err) {
            return outcomes;
        }
        match crate::wal::flush(&self.pool).await {
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
}

/// The group sealed here from `head` (positions and hash chain, as the SQLite writer does)
/// and written in one round trip by `sablier_append_sealed` (migration 0009), with the
/// outcomes and the head it leaves. `None`, nothing written, when the head was no longer
/// `head`, a stream read had grown or a sequence was taken: [`write_postgres`] then tells
/// which command could not be written.
async fn write_postgres_sealed(
    pool: &sqlx::PgPool,
    head: Head,
    commands: &[&CommandAppend],
) -> Result<Option<(Vec<Appended>, Head)>, sqlx::Error> {
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
/// what the SQLite writer does in process (migration 0007), a subtransaction per command.
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
        None => StoreError::StaleReadUnnamed,
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
