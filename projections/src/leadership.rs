//! Which process runs the projector. Exactly one at a time per database: on PostgreSQL the
//! holder of a session advisory lock (released by the server the moment the holder's
//! connection dies), on SQLite the holder of an OS lock on `<database file>.projector.lock`
//! (released by the kernel when the process dies). Others poll and take over.
//!
//! A PostgreSQL leader checks its lock every [`Leadership::lost`] period: a session the
//! server ended (a restart, `pg_terminate_backend`, a network cut it noticed) has freed the
//! lock for a standby, so the process that held it must stop projecting and stand by too.
//!
//! The periods are `sablier`'s (`api::project`): standbys try every 500 ms, a PostgreSQL
//! leader checks its lock every second and, when its session has ended, finishes its round
//! and stands by; a process that cannot reach the database to compete (a restart, a
//! failover) tries again every second instead of stopping its projector. A standby takes
//! over within 5 s of the leader's process dying: its OS closes the socket, the server ends
//! the session and frees the lock. If the leader's host or network vanishes without
//! closing it, the server keeps the session (and the lock) until its TCP keepalive gives
//! up (`tcp_keepalives_*` in postgresql.conf; hours by default): set them on the server
//! where that case must meet the same bound.
//!
//! Exactly-once does not rest on this: the projector's conditional checkpoint update already
//! makes a second projector harmless. Leadership only keeps it from doing work in vain.

use std::fs::{File, OpenOptions};
use std::time::Duration;

use sablier_store::Database;
use sqlx::{PgConnection, Row};
use tracing::{info, warn};

use crate::error::ProjectionError;

/// The advisory lock key of the projector ("Sablier" in ASCII).
pub const PROJECTOR_LOCK_KEY: i64 = 0x0053_6162_6c69_6572;

/// Held for as long as this process is the projector.
pub enum Leadership {
    /// Detached from the pool: dropping it closes the session and frees the lock.
    Postgres(PgConnection),
    Sqlite(File),
}

impl Leadership {
    /// Tries once to become the projector.
    pub async fn try_acquire(database: &Database) -> Result<Option<Self>, ProjectionError> {
        match database {
            Database::Postgres(pool) => {
                let mut connection = pool.acquire().await?;
                let acquired: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
                    .bind(PROJECTOR_LOCK_KEY)
                    .fetch_one(&mut *connection)
                    .await?
                    .get(0);
                Ok(acquired.then(|| Leadership::Postgres(connection.detach())))
            }
            Database::Sqlite(pool) => {
                let database_file = pool.connect_options().get_filename().to_owned();
                let lock_path = format!("{}.projector.lock", database_file.display());
                let file = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .map_err(|error| {
                        ProjectionError::Malformed(format!("cannot open {lock_path}: {error}"))
                    })?;
                match file.try_lock() {
                    Ok(()) => Ok(Some(Leadership::Sqlite(file))),
                    Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                    Err(std::fs::TryLockError::Error(error)) => Err(ProjectionError::Malformed(
                        format!("cannot lock {lock_path}: {error}"),
                    )),
                }
            }
        }
    }

    /// Resolves once this process no longer holds the leadership, checking every `every`:
    /// on PostgreSQL when the lock's session no longer answers within `every`, or answers
    /// that it does not hold the lock; never on SQLite (the OS lock lasts as long as the
    /// process). The caller then stops projecting and drops the leadership.
    pub async fn lost(&mut self, every: Duration) {
        let Leadership::Postgres(connection) = self else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(every).await;
            let held = sqlx::query(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
                 AND pid = pg_backend_pid() AND granted \
                 AND classid = ($1 >> 32)::oid AND objid = ($1 & 4294967295)::oid AND objsubid = 1)",
            )
            .bind(PROJECTOR_LOCK_KEY)
            .fetch_one(&mut *connection);
            match tokio::time::timeout(every, held).await {
                Ok(Ok(row)) if row.get::<bool, _>(0) => {}
                Ok(Ok(_)) => {
                    warn!("the projector's lock is no longer held by its session");
                    return;
                }
                Ok(Err(error)) => {
                    warn!(error = %error, "the projector's lock session failed");
                    return;
                }
                Err(_) => {
                    warn!("the projector's lock session does not answer");
                    return;
                }
            }
        }
    }

    /// Waits, polling every `every`, until this process is the projector.
    pub async fn acquire(database: &Database, every: Duration) -> Result<Self, ProjectionError> {
        let mut waiting = false;
        loop {
            if let Some(leadership) = Self::try_acquire(database).await? {
                info!("this process now runs the projector");
                return Ok(leadership);
            }
            if !waiting {
                info!("another process runs the projector; standing by");
                waiting = true;
            }
            tokio::time::sleep(every).await;
        }
    }
}
