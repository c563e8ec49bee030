//! Opening the database named by a URL, and running its migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::StoreError;

/// Runs `$body` with `$pool` bound to whichever pool `$database` holds: for statements
/// whose SQL is the same on both backends, written once.
macro_rules! on_pool {
    ($database:expr, |$pool:ident| $body:expr) => {
        match $database {
            $crate::database::Database::Sqlite($pool) => $body,
            $crate::database::Database::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// SQLite settings of every connection: the pool's and those opened with
/// [`open_sqlite_file`]. `(pragma, value)`.
const SQLITE_PRAGMAS: [(&str, &str); 5] = [
    // FULL: a commit is on disk before it is acknowledged, even on power loss.
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    // 64 MiB of page cache per connection (SQLite's default is 2 MiB): the projector
    // rewrites the same view index pages batch after batch.
    ("cache_size", "-65536"),
    // Checkpoint the WAL into the database every 64 MiB (default 4 MiB): pages written
    // again by the next batches are copied once, not at every commit.
    ("wal_autocheckpoint", "16384"),
    // Savepoints (group commit) journal in memory, not in a temporary file.
    ("temp_store", "memory"),
];

/// How long an SQLite connection waits for another's write lock before it fails.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a connection of SQLite's own API (rusqlite) to an existing database file, with the
/// settings of the pool's connections: for the readers and writers that move many rows,
/// where sqlx-sqlite's per-value copies and hand-offs between threads cost more than
/// SQLite's work (docs/benchmarks.md). `read_only` opens it for reading only.
pub fn open_sqlite_file(
    path: &std::path::Path,
    read_only: bool,
) -> Result<rusqlite::Connection, StoreError> {
    use rusqlite::OpenFlags;
    let access = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let connection = rusqlite::Connection::open_with_flags(
        path,
        access | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    if !read_only {
        for (pragma, value) in SQLITE_PRAGMAS {
            connection.pragma_update(None, pragma, value)?;
        }
    }
    Ok(connection)
}

/// Whether a released SQLite connection may go back to the pool: only outside any
/// transaction. A commit that fails for a full disk (or an I/O error) is rolled back by
/// SQLite itself; sqlx still counts the transaction open, the `ROLLBACK` it sends on drop
/// fails, and every later `BEGIN` on that connection would be refused. Such a connection
/// is closed instead (the ping first lets the `ROLLBACK` queued on drop run).
async fn outside_transaction(connection: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::{Connection, TransactionManager};
    connection.ping().await?;
    Ok(
        <sqlx::Sqlite as sqlx::Database>::TransactionManager::get_transaction_depth(connection)
            == 0,
    )
}

/// The embedded default: a file `sablier.db` in the current directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://sablier.db";

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let mut options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            for (pragma, value) in SQLITE_PRAGMAS {
                if !matches!(pragma, "synchronous" | "foreign_keys") {
                    options = options.pragma(pragma, value);
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .after_release(|connection, _| Box::pin(outside_transaction(connection)))
                .connect_with(options)
                .await?;
            Ok(Database::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok(Database::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// The file of an SQLite database (`None` for PostgreSQL and in-memory SQLite).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match self {
            Database::Sqlite(pool) => {
                let options = pool.connect_options();
                // An in-memory database has a made-up name, no file.
                let path = options.get_filename();
                path.is_file().then(|| path.to_owned())
            }
            Database::Postgres(_) => None,
        }
    }

    /// Connects and brings the schema up to date.
    pub async fn connect_and_migrate(url: &str) -> Result<Self, StoreError> {
        let database = Self::connect(url).await?;
        database.migrate().await?;
        Ok(database)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Database::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn close(&self) {
        match self {
            Database::Sqlite(pool) => pool.close().await,
            Database::Postgres(pool) => pool.close().await,
        }
    }
}
