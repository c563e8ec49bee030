//! Issue 20: a full disk is said, not hidden. The database's filesystem is filled for real
//! (a small tmpfs, written until `ENOSPC`): a command answers 503 `storage-full` with
//! `Retry-After`, `/readyz` says so, reads go on, nothing acknowledged is lost, and once
//! space is freed the same command succeeds and the server is ready again.
//!
//! These tests mount filesystems, so they run as root and only when
//! `SABLIER_TEST_FULL_DISK=1` (`sablier_store::testing::full_disk_tests_enabled`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sablier_store::testing::{TestDatabase, full_disk_tests_enabled, postgres_server_url};
use sablier_store::{EventLog, FeedFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use super::app::{Answer, TestApp};

/// Commands tried on a full disk before one must be refused: PostgreSQL takes rows while
/// the pages its tables already have hold them.
const COMMANDS_UNTIL_REFUSED: usize = 2_000;

/// A tmpfs of `size` mounted on a new temporary directory, unmounted on drop (lazily if
/// something still holds a file open on it, after a failed test).
struct Tmpfs {
    directory: tempfile::TempDir,
}

impl Tmpfs {
    /// `options` are added to the mount options (an owner, say).
    fn mount(size: &str, options: &str) -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}{options}"),
                "tmpfs",
            ])
            .arg(directory.path())
            .output()
            .expect("mount runs");
        assert!(
            mounted.status.success(),
            "cannot mount a tmpfs (the full-disk tests need root): {}",
            String::from_utf8_lossy(&mounted.stderr)
        );
        Self { directory }
    }

    fn path(&self) -> &Path {
        self.directory.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(self.path()).status();
        if !unmounted.is_ok_and(|status| status.success()) {
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}

/// A file written until its filesystem is full.
struct Filler {
    path: PathBuf,
}

impl Filler {
    fn fill(directory: &Path) -> Self {
        let path = directory.join("filler");
        let mut file = std::fs::File::create(&path).expect("the filler file");
        let chunk = vec![0x5a_u8; 1 << 20];
        loop {
            match file.write_all(&chunk) {
                Ok(()) => {}
                Err(error) if error.raw_os_error() == Some(28) => break,
                Err(error) => panic!("writing the filler failed otherwise: {error}"),
            }
        }
        // Whatever a smaller write still finds.
        while file.write(&[0x5a]).is_ok_and(|written| written == 1) {}
        Self { path }
    }

    fn free(self) {
        std::fs::remove_file(&self.path).expect("the filler is removed");
    }
}

/// A PostgreSQL tablespace on its own tmpfs. On drop, the databases in it and the
/// tablespace are dropped, then the tmpfs unmounted; if they could not be dropped, the tmpfs
/// stays mounted: the server may still hold pages of those databases to write, and taking
/// their files away would fail its checkpoints from then on.
struct Tablespace {
    server_url: String,
    name: String,
    disk: Option<Tmpfs>,
}

impl Tablespace {
    fn create(server_url: &str, size: &str) -> Self {
        let owner = |field: &str| {
            let output = Command::new("id")
                .args([field, "postgres"])
                .output()
                .expect("id runs");
            assert!(output.status.success(), "a user postgres");
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        };
        let disk = Tmpfs::mount(
            size,
            &format!(",mode=0700,uid={},gid={}", owner("-u"), owner("-g")),
        );
        let name = format!("sablier_full_{}", Uuid::new_v4().simple());
        psql(
            server_url,
            &format!(
                "CREATE TABLESPACE {name} LOCATION '{}'",
                disk.path().display()
            ),
        )
        .expect("the tablespace is created");
        Self {
            server_url: server_url.to_owned(),
            name,
            disk: Some(disk),
        }
    }

    fn path(&self) -> &Path {
        self.disk.as_ref().expect("mounted").path()
    }

    fn drop_all(&self) -> Result<(), String> {
        let databases = psql(
            &self.server_url,
            &format!(
                "SELECT datname FROM pg_database WHERE dattablespace = \
                 (SELECT oid FROM pg_tablespace WHERE spcname = '{}')",
                self.name
            ),
        )?;
        for database in databases.lines().filter(|line| !line.is_empty()) {
            psql(
                &self.server_url,
                &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            )?;
        }
        psql(
            &self.server_url,
            &format!("DROP TABLESPACE IF EXISTS {}", self.name),
        )
        .map(drop)
    }
}

impl Drop for Tablespace {
    fn drop(&mut self) {
        if let Err(error) = self.drop_all() {
            let disk = self.disk.take().expect("mounted");
            eprintln!(
                "tablespace {} left on {} (still mounted): {error}",
                self.name,
                disk.path().display()
            );
            std::mem::forget(disk);
        }
    }
}

/// Runs one statement on the server's `postgres` database; its rows, one a line.
fn psql(server_url: &str, statement: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(format!("{server_url}/postgres"))
        .args(["-c", statement])
        .output()
        .map_err(|error| format!("psql does not run: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "psql failed on {statement}: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn create_contract(app: &TestApp, contract_id: &str) -> Answer {
    app.send(
        reqwest::Method::POST,
        "/v1/contracts",
        Some(&app.admin),
        Some(&json!({
            "contract_id": contract_id,
            "name": format!("SI_{contract_id}"),
            "offer": "Flexible Computing Advanced",
            "company": "ACME SA",
            "tier": "Silver",
            "referent": {
                "login": format!("ref.{}", contract_id.to_lowercase()),
                "email": format!("ref.{}@acme.example", contract_id.to_lowercase()),
                "first_name": "Jean",
                "last_name": "Dupont"
            }
        })),
    )
    .await
}

/// The positions a command's answer acknowledged.
fn positions(body: &Value) -> Vec<i64> {
    body["events"]
        .as_array()
        .expect("the events written")
        .iter()
        .map(|event| event["position"].as_i64().expect("a position"))
        .collect()
}

#[track_caller]
fn assert_storage_full(answer: Answer, what: &str) {
    let retry_after = answer
        .headers
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let body = answer.problem(503);
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|kind| kind.ends_with("storage-full")),
        "{what}: a storage-full problem, got {body:#}"
    );
    assert!(
        retry_after.is_some_and(|seconds| seconds > 0),
        "{what}: a Retry-After in seconds"
    );
}

/// Waits until `/readyz` reports every view at `position` (30 s at most).
async fn views_reach(app: &TestApp, position: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = app.get("/readyz", &app.admin).await.expect(200);
        if ready["views_reached"] == position {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: the views did not reach position {position}: {ready:#}",
            app.backend()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The scenario on `app`, whose database lives on `disk` alone.
async fn a_full_disk_is_said_then_gotten_over(app: TestApp, disk: &Path) -> TestApp {
    let backend = app.backend();
    let mut acknowledged: Vec<(String, i64)> = Vec::new();
    for contract_id in ["OCB0002001", "OCB0002002"] {
        let body = create_contract(&app, contract_id).await.expect(201);
        acknowledged.extend(
            positions(&body)
                .into_iter()
                .map(|p| (contract_id.to_owned(), p)),
        );
    }
    views_reach(&app, app.log_head().await).await;

    let filler = Filler::fill(disk);

    // Commands are taken while the database's files still hold them, then refused.
    let mut refused = None;
    for number in 0..COMMANDS_UNTIL_REFUSED {
        let contract_id = format!("OCB{:07}", 2_100 + number);
        let answer = create_contract(&app, &contract_id).await;
        if answer.status.as_u16() == 201 {
            acknowledged.extend(
                positions(&answer.body)
                    .into_iter()
                    .map(|p| (contract_id.clone(), p)),
            );
            continue;
        }
        assert_storage_full(answer, &format!("{backend}: the command on a full disk"));
        refused = Some(contract_id);
        break;
    }
    let refused = refused.unwrap_or_else(|| {
        panic!("{backend}: {COMMANDS_UNTIL_REFUSED} commands taken on a full disk")
    });

    // Refused again while the disk stays full; the server says it is not ready.
    assert_storage_full(
        create_contract(&app, &refused).await,
        &format!("{backend}: the same command again"),
    );
    assert_storage_full(
        app.get("/readyz", &app.admin).await,
        &format!("{backend}: /readyz on a full disk"),
    );
    assert_storage_full(
        app.get("/readyz", &app.admin).await,
        &format!("{backend}: /readyz asked again"),
    );
    // Reads go on.
    let read = app
        .get("/v1/contracts/OCB0002001", &app.admin)
        .await
        .expect(200);
    assert_eq!(read["contract_id"], "OCB0002001", "{backend}: {read:#}");

    filler.free();

    let ready = app.get("/readyz", &app.admin).await.expect(200);
    assert_eq!(ready["status"], "ready", "{backend}: {ready:#}");
    let body = create_contract(&app, &refused).await.expect(201);
    acknowledged.extend(positions(&body).into_iter().map(|p| (refused.clone(), p)));

    // Everything acknowledged is in the log, where it was acknowledged, and nothing else.
    let log = EventLog::new(app.db.database.clone())
        .read_after(0, &FeedFilter::all(), 1_000_000)
        .await
        .expect("the log reads");
    let head = log.last().map_or(0, |event| event.position);
    for (contract_id, position) in &acknowledged {
        let event = log
            .iter()
            .find(|event| event.position == *position)
            .unwrap_or_else(|| panic!("{backend}: acknowledged position {position} is lost"));
        assert_eq!(
            &event.aggregate_id, contract_id,
            "{backend}: position {position}"
        );
    }
    assert_eq!(
        head,
        acknowledged
            .iter()
            .map(|(_, position)| *position)
            .max()
            .unwrap(),
        "{backend}: events written but not acknowledged"
    );

    // The views catch up with the log by themselves.
    views_reach(&app, head).await;
    let read = app
        .get(&format!("/v1/contracts/{refused}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(read["contract_id"], refused.as_str(), "{backend}: {read:#}");
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_a_full_disk_under_sqlite_answers_503_storage_full_and_recovers_when_space_returns()
 {
    if !full_disk_tests_enabled() {
        return;
    }
    let disk = Tmpfs::mount("16m", "");
    let app = TestApp::spawn(TestDatabase::sqlite_in(disk.path()).await).await;
    let app = a_full_disk_is_said_then_gotten_over(app, disk.path()).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_a_full_disk_under_postgresql_answers_503_storage_full_and_recovers_when_space_returns()
 {
    if !full_disk_tests_enabled() {
        return;
    }
    let Some(server_url) = postgres_server_url() else {
        return;
    };
    let tablespace = Tablespace::create(&server_url, "48m");
    let db = TestDatabase::postgres_in_tablespace(&tablespace.name)
        .await
        .expect("PostgreSQL tests are on");
    let app = TestApp::spawn(db).await;
    let app = a_full_disk_is_said_then_gotten_over(app, tablespace.path()).await;
    app.stop().await;
}
