//! Fresh databases for tests: a temporary SQLite file always, and a new PostgreSQL
//! database when `SABLIER_TEST_POSTGRES_URL` names a server (`.ci/run` sets it). Under CI
//! (`CI` set) a missing PostgreSQL is a failure, never a silent skip. Tests that fill a
//! disk (they mount one, so need root) run when `SABLIER_TEST_FULL_DISK` is `1`, likewise.

use std::path::{Path, PathBuf};

use sqlx::Connection;
use uuid::Uuid;

use crate::database::Database;

/// The variable that turns the PostgreSQL tests on: a server URL without a database name,
/// e.g. `postgres://postgres@127.0.0.1:5432`.
pub const POSTGRES_URL_VARIABLE: &str = "SABLIER_TEST_POSTGRES_URL";

/// The variable that turns on the tests that fill a filesystem: `1` where the tests may
/// mount a small tmpfs (as root) and give PostgreSQL a tablespace on it.
pub const FULL_DISK_VARIABLE: &str = "SABLIER_TEST_FULL_DISK";

/// A database that exists for one test. SQLite files live in a temporary directory removed
/// on drop; PostgreSQL databases are dropped on [`TestDatabase::cleanup`].
pub struct TestDatabase {
    pub url: String,
    pub database: Database,
    server_url: Option<String>,
    name: Option<String>,
    _directory: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn sqlite() -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        Self::sqlite_in(directory.path()).await.owning(directory)
    }

    /// The same database, its directory removed when dropped.
    fn owning(mut self, directory: tempfile::TempDir) -> Self {
        self._directory = Some(directory);
        self
    }

    /// A fresh, migrated SQLite database in the existing `directory` (a filesystem a test
    /// set up), left there when dropped.
    pub async fn sqlite_in(directory: &Path) -> Self {
        let path: PathBuf = directory.join("sablier.db");
        let url = format!("sqlite://{}", path.display());
        let database = Database::connect_and_migrate(&url)
            .await
            .expect("a fresh SQLite database");
        Self {
            url,
            database,
            server_url: None,
            name: None,
            _directory: None,
        }
    }

    /// A new, migrated PostgreSQL database, or `None` when PostgreSQL tests are off.
    /// Panics under CI when they are off.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with("").await
    }

    /// The same, its tables in the existing `tablespace`.
    pub async fn postgres_in_tablespace(tablespace: &str) -> Option<Self> {
        Self::postgres_with(&format!(" TABLESPACE {tablespace}")).await
    }

    async fn postgres_with(create_options: &str) -> Option<Self> {
        let server_url = postgres_server_url()?;
        let name = format!("sablier_test_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&format!("{server_url}/postgres"))
            .await
            .expect("PostgreSQL is reachable at SABLIER_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}{create_options}"))
            .execute(&mut admin)
            .await
            .expect("a fresh PostgreSQL database");
        let url = format!("{server_url}/{name}");
        let database = Database::connect_and_migrate(&url)
            .await
            .expect("migrations run");
        Some(Self {
            url,
            database,
            server_url: Some(server_url),
            name: Some(name),
            _directory: None,
        })
    }

    /// A migrated copy of the SQLite database file `fixture` (a database written by an
    /// earlier version, say).
    pub async fn sqlite_copy_of(fixture: &Path) -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        std::fs::copy(fixture, directory.path().join("sablier.db"))
            .expect("the fixture is readable");
        Self::sqlite_in(directory.path()).await.owning(directory)
    }

    /// A new PostgreSQL database loaded from the plain `pg_dump` file `dump` with `psql`,
    /// then migrated; `None` when PostgreSQL tests are off (panics under CI).
    pub async fn postgres_restored_from(dump: &Path) -> Option<Self> {
        let server_url = postgres_server_url()?;
        let name = format!("sablier_test_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&format!("{server_url}/postgres"))
            .await
            .expect("PostgreSQL is reachable at SABLIER_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a fresh PostgreSQL database");
        let url = format!("{server_url}/{name}");
        let restored = std::process::Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &url, "-f"])
            .arg(dump)
            .output()
            .expect("psql runs");
        assert!(
            restored.status.success(),
            "psql could not load {}: {}",
            dump.display(),
            String::from_utf8_lossy(&restored.stderr)
        );
        let database = Database::connect_and_migrate(&url)
            .await
            .expect("the restored database migrates");
        Some(Self {
            url,
            database,
            server_url: Some(server_url),
            name: Some(name),
            _directory: None,
        })
    }

    /// Every backend enabled here: SQLite, and PostgreSQL when enabled.
    pub async fn all() -> Vec<Self> {
        let mut databases = vec![Self::sqlite().await];
        databases.extend(Self::postgres().await);
        databases
    }

    pub fn backend_name(&self) -> &'static str {
        match self.database {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool and drops a PostgreSQL database.
    pub async fn cleanup(self) {
        self.database.close().await;
        if let (Some(server_url), Some(name)) = (self.server_url, self.name)
            && let Ok(mut admin) =
                sqlx::PgConnection::connect(&format!("{server_url}/postgres")).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }
}

/// The PostgreSQL server URL for tests, if enabled. Under CI it must be.
pub fn postgres_server_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {POSTGRES_URL_VARIABLE} is not: PostgreSQL tests must run in CI"
            );
            None
        }
    }
}

/// Whether the tests that fill a filesystem may run here ([`FULL_DISK_VARIABLE`] is `1`).
/// Under CI they must.
pub fn full_disk_tests_enabled() -> bool {
    let enabled = std::env::var(FULL_DISK_VARIABLE).is_ok_and(|value| value.trim() == "1");
    assert!(
        enabled || std::env::var_os("CI").is_none(),
        "CI is set but {FULL_DISK_VARIABLE} is not 1: the full-disk tests must run in CI"
    );
    enabled
}
