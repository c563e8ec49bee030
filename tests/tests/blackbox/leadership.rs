//! A projector whose PostgreSQL lock session ends (a server restart, an operator's
//! `pg_terminate_backend`) stops projecting and stands by, while a standby takes over
//! (issue 4: exactly one projector at a time).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sablier_store::testing::TestDatabase;
use sablier_store::{Database, EventLog};

use crate::cli::binary;
use crate::projector::lock_holders;
use crate::workload::Workload;

/// A `sablier project` process logging at info level into a file; killed when dropped.
struct Projecting {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Projecting {
    fn start(url: &str) -> Self {
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(binary("sablier"))
            .arg("project")
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("sablier project starts");
        Self { child, log }
    }

    fn logged(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }
}

impl Drop for Projecting {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The backend holding the projector's lock on this test's database, if any.
async fn lock_holder(database: &Database) -> Option<i32> {
    lock_holders(database).await.first().copied()
}

/// Polls `check` every 50 ms until it gives something, or panics naming `what` after `within`.
async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < within, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts a `sablier project` process that takes the lock and says it projects, then a
/// second that stands by; returns them with the first one's lock session.
async fn leader_and_standby(db: &TestDatabase) -> (Projecting, i32, Projecting) {
    let first = Projecting::start(&db.url);
    let holder = eventually(
        "the first process takes the lock",
        Duration::from_secs(10),
        || lock_holder(&db.database),
    )
    .await;
    eventually(
        "the first process says it projects",
        Duration::from_secs(5),
        || async {
            first
                .logged()
                .contains("now runs the projector")
                .then_some(())
        },
    )
    .await;
    let second = Projecting::start(&db.url);
    eventually(
        "the second process stands by",
        Duration::from_secs(10),
        || async { second.logged().contains("standing by").then_some(()) },
    )
    .await;
    (first, holder, second)
}

/// Sends commands, then waits until some process projected them: the views reach the
/// log's head within 10 s.
async fn keeps_the_views_up(database: &Database, workload: &mut Workload) {
    for _ in 0..3 {
        workload.burst().await;
    }
    let (head, _) = EventLog::new(database.clone()).head().await.unwrap();
    let Database::Postgres(pool) = database else {
        unreachable!()
    };
    eventually(
        "the views reach the log's head",
        Duration::from_secs(10),
        || async {
            let lowest: Option<i64> =
                sqlx::query_scalar("SELECT min(position) FROM projection_checkpoints")
                    .fetch_one(pool)
                    .await
                    .unwrap();
            (lowest >= Some(head)).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_lock_session_ends_stands_by_and_a_standby_takes_over() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let Database::Postgres(pool) = &db.database else {
        unreachable!()
    };
    let mut workload = Workload::start(&db.database).await;
    let (first, holder, second) = leader_and_standby(&db).await;

    // The leader's lock session ends under it; the process lives on.
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(holder)
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(terminated);
    let started = Instant::now();
    eventually(
        "the first process notices and stands by",
        Duration::from_secs(5),
        || async {
            first
                .logged()
                .contains("lost the projector's leadership")
                .then_some(())
        },
    )
    .await;
    let next = eventually(
        "a process takes the lock again",
        Duration::from_secs(5),
        || async { lock_holder(&db.database).await.filter(|pid| *pid != holder) },
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "taken over within 5 s"
    );
    assert_ne!(next, holder);

    // Whoever leads now keeps the views up with new commands.
    keeps_the_views_up(&db.database, &mut workload).await;
    drop((first, second));
    db.cleanup().await;
}

/// A standby that cannot reach the database to compete (a server restart, a failover that
/// outlasts the pool's 10 s acquire timeout) keeps trying, and takes over once the
/// database answers and the leader dies: no process is left without a projector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_that_cannot_reach_the_database_competes_again_when_it_answers() {
    use sqlx::Connection;
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let mut workload = Workload::start(&db.database).await;
    let (first, holder, second) = leader_and_standby(&db).await;

    // The database refuses connections and drops every session but the leader's lock
    // session and this one, for longer than the pool's acquire timeout.
    let Database::Postgres(pool) = &db.database else {
        unreachable!()
    };
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let (server, _) = db.url.rsplit_once('/').unwrap();
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> $2",
    )
    .bind(&name)
    .bind(holder)
    .execute(&mut admin)
    .await
    .unwrap();
    eventually(
        "the standby reports that it cannot compete",
        Duration::from_secs(20),
        || async {
            second
                .logged()
                .contains("could not compete for the projector's leadership")
                .then_some(())
        },
    )
    .await;
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();

    // The leader dies; the standby that kept trying takes over and projects.
    drop(first);
    let next = eventually(
        "the standby takes the lock",
        Duration::from_secs(10),
        || async { lock_holder(&db.database).await.filter(|pid| *pid != holder) },
    )
    .await;
    assert_ne!(next, holder);
    keeps_the_views_up(&db.database, &mut workload).await;
    drop(second);
    db.cleanup().await;
}
