//! Issue 20: a full disk is said, not hidden. The database is put on a filesystem of its
//! own (a small tmpfs; for PostgreSQL, a tablespace on it), which the test fills for real:
//! commands are refused with 503 `storage-full` and `Retry-After` (never an opaque 500),
//! `/readyz` says not ready until a write succeeds again, nothing acknowledged is lost,
//! and writes resume once space is freed.
//!
//! Mounting needs root, so these tests run only with `SABLIER_TEST_FULL_DISK=1` (which
//! `.ci/run` sets); without it they are skipped, except under `CI`, where that is a
//! failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sablier_store::testing::{TestDatabase, postgres_server_url};
use serde_json::{Value, json};

use super::app::{Answer, TestApp};

const VARIABLE: &str = "SABLIER_TEST_FULL_DISK";

/// Whether the full-disk tests run here.
fn enabled() -> bool {
    if std::env::var(VARIABLE).is_ok_and(|value| value == "1") {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {VARIABLE} is not: the full-disk tests must run in CI"
    );
    eprintln!("skipped: set {VARIABLE}=1 to fill a filesystem (needs root to mount a tmpfs)");
    false
}

/// A small tmpfs of the test's own, unmounted when dropped.
struct SmallDisk {
    directory: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Self {
        let directory = tempfile::tempdir().expect("a mount point");
        run(Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={megabytes}m,mode=0777"),
                "tmpfs",
            ])
            .arg(directory.path()));
        Self { directory }
    }

    fn path(&self) -> &Path {
        self.directory.path()
    }

    /// Writes a file until the filesystem refuses another byte; returns it.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut filler = std::fs::File::create(&path).expect("a filler file");
        for chunk in [1 << 16, 1 << 12, 1 << 9, 1] {
            let bytes = vec![0_u8; chunk];
            loop {
                match filler.write_all(&bytes).and_then(|()| filler.sync_all()) {
                    Ok(()) => {}
                    Err(error) if error.raw_os_error() == Some(28) => break,
                    Err(error) => panic!("filling {}: {error}", path.display()),
                }
            }
        }
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn open_incident(app: &TestApp, customer: &str, contract: &str) -> Answer {
    app.post(
        "/v1/incidents",
        customer,
        json!({"contract_id": contract, "title": "VM down", "description": "The VM does not answer.", "priority": "P2"}),
    )
    .await
}

/// The scenario on a database whose files live on `disk`.
async fn a_full_disk_is_said_and_writes_resume(app: TestApp, disk: &SmallDisk) -> TestApp {
    let backend = app.backend();
    let contract = app.contract("OCB0000931", "Gold", "paul.durand").await;
    let customer = app.token("paul.durand", "customer").await;
    let mut acknowledged: Vec<String> = Vec::new();
    let first = open_incident(&app, &customer, &contract).await.expect(201);
    acknowledged.push(first["id"].as_str().unwrap().to_owned());

    let filler = disk.fill();
    // A command may still fit in room the database's files already hold; then the first
    // that needs more is refused as storage-full, never with an opaque 500.
    let mut refused = None;
    for _ in 0..2_000 {
        let answer = open_incident(&app, &customer, &contract).await;
        match answer.status.as_u16() {
            201 => acknowledged.push(answer.body["id"].as_str().unwrap().to_owned()),
            _ => {
                refused = Some(answer);
                break;
            }
        }
    }
    let refused = refused.unwrap_or_else(|| panic!("{backend}: the disk never filled"));
    assert!(
        refused.headers.get("retry-after").is_some(),
        "{backend}: {refused:?}"
    );
    let problem = refused.problem(503);
    assert!(
        problem["type"].as_str().unwrap().ends_with("/storage-full"),
        "{backend}: {problem:#}"
    );
    let ready = app
        .send(reqwest::Method::GET, "/readyz", None, None)
        .await
        .problem(503);
    assert!(
        ready["type"].as_str().unwrap().ends_with("/storage-full"),
        "{backend}: {ready:#}"
    );
    // Still full: still not ready, and commands still refused the same way.
    let again = open_incident(&app, &customer, &contract).await.problem(503);
    assert_eq!(again["type"], problem["type"], "{backend}: {again:#}");
    app.send(reqwest::Method::GET, "/readyz", None, None)
        .await
        .problem(503);

    std::fs::remove_file(&filler).expect("the filler is removed");
    let mut ready = Value::Null;
    for _ in 0..100 {
        let answer = app.send(reqwest::Method::GET, "/readyz", None, None).await;
        if answer.status == 200 {
            ready = answer.body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        ready["status"], "ready",
        "{backend}: not ready once space returned"
    );
    let resumed = open_incident(&app, &customer, &contract).await.expect(201);
    acknowledged.push(resumed["id"].as_str().unwrap().to_owned());

    // Nothing acknowledged was lost, and the log is whole.
    for id in &acknowledged {
        app.get(&format!("/v1/incidents/{id}"), &customer)
            .await
            .expect(200);
    }
    let verify = Command::new(crate::cli::binary("sablier-replay"))
        .arg("verify")
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "error")
        .output()
        .expect("verify runs");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{backend}: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
    app
}

#[tokio::test]
async fn issue_20_a_full_disk_under_sqlite_answers_storage_full_until_space_returns() {
    if !enabled() {
        return;
    }
    let disk = SmallDisk::mount(8);
    let app = TestApp::spawn(TestDatabase::sqlite_in(disk.path()).await).await;
    let app = a_full_disk_is_said_and_writes_resume(app, &disk).await;
    app.stop().await;
}

/// A tablespace on a [`SmallDisk`] of its own. Dropped (even after a failed assertion),
/// it drops the database in it, then itself, and only then unmounts the disk: PostgreSQL
/// must never keep files on a filesystem that is gone. When it cannot drop them, it leaves
/// the disk mounted.
struct Tablespace {
    name: String,
    server: String,
    database: Option<String>,
    disk: Option<SmallDisk>,
}

impl Tablespace {
    fn create(server: String) -> Self {
        let disk = SmallDisk::mount(48);
        let location = disk.path().join("tablespace");
        std::fs::create_dir(&location).unwrap();
        run(Command::new("chown")
            .arg("postgres:postgres")
            .arg(&location));
        let name = format!("sablier_full_{}", std::process::id());
        let tablespace = Self {
            name,
            server,
            database: None,
            disk: Some(disk),
        };
        tablespace
            .psql(&format!(
                "CREATE TABLESPACE {} LOCATION '{}'",
                tablespace.name,
                location.display()
            ))
            .expect("the tablespace is created");
        tablespace
    }

    fn psql(&self, sql: &str) -> Result<(), String> {
        let output = Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(format!("{}/postgres", self.server))
            .args(["-c", sql])
            .output()
            .map_err(|error| error.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }
}

impl Drop for Tablespace {
    fn drop(&mut self) {
        let dropped = self
            .database
            .iter()
            .map(|database| self.psql(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")))
            .chain([self.psql(&format!("DROP TABLESPACE IF EXISTS {}", self.name))])
            .collect::<Result<Vec<()>, String>>();
        if let Err(error) = dropped {
            eprintln!(
                "the tablespace {} stays, and its disk mounted: {error}",
                self.name
            );
            std::mem::forget(self.disk.take());
        }
    }
}

#[tokio::test]
async fn issue_20_a_full_disk_under_postgresql_answers_storage_full_until_space_returns() {
    if !enabled() {
        return;
    }
    let Some(server) = postgres_server_url() else {
        return;
    };
    let mut tablespace = Tablespace::create(server);
    let database = TestDatabase::postgres_in_tablespace(&tablespace.name)
        .await
        .unwrap();
    tablespace.database = database.url.rsplit('/').next().map(str::to_owned);
    let app = TestApp::spawn(database).await;
    let disk = tablespace.disk.as_ref().unwrap();
    let app = a_full_disk_is_said_and_writes_resume(app, disk).await;
    app.stop().await;
}
