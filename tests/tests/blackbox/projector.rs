//! The projector under crashes and with several processes: views always equal a rebuild
//! from the log (issue 4).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use sablier_projections::{Projector, catalogue, snapshot};
use sablier_store::testing::TestDatabase;
use sablier_store::{Database, EventLog};

use crate::cli::binary;
use crate::workload::Workload;

fn projector_process(url: &str) -> Child {
    Command::new(binary("sablier"))
        .arg("project")
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sablier project starts")
}

async fn checkpoints(database: &Database) -> Vec<i64> {
    let sql = "SELECT position FROM projection_checkpoints ORDER BY name";
    match database {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    }
}

/// Waits until every checkpoint reaches the log's head (or panics after `within`).
async fn wait_caught_up(database: &Database, within: Duration) {
    let log = EventLog::new(database.clone());
    let started = Instant::now();
    loop {
        let (head, _) = log.head().await.unwrap();
        let positions = checkpoints(database).await;
        if positions.len() == catalogue::all().len() && positions.iter().all(|p| *p == head) {
            return;
        }
        assert!(
            started.elapsed() < within,
            "views stuck at {positions:?}, head {head}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// SIGKILL the projector at random moments while commands keep arriving; after a restart
/// and a catch-up, every view equals a rebuild from scratch.
async fn crash_and_compare(db: TestDatabase) {
    let mut workload = Workload::start(&db.database).await;
    let mut rng = rand::thread_rng();
    for _round in 0..6 {
        let mut projector = projector_process(&db.url);
        let kill_after = Duration::from_millis(rng.gen_range(150..700));
        let started = Instant::now();
        while started.elapsed() < kill_after {
            workload.burst().await;
        }
        projector.kill().expect("SIGKILL");
        projector.wait().unwrap();
    }
    let mut projector = projector_process(&db.url);
    wait_caught_up(&db.database, Duration::from_secs(60)).await;
    projector.kill().unwrap();
    projector.wait().unwrap();

    let live = snapshot::view_rows(&db.database).await.unwrap();
    assert!(
        live.values().any(|rows| !rows.is_empty()),
        "the views hold something"
    );
    let rebuild = Projector::new(EventLog::new(db.database.clone()), catalogue::all());
    rebuild.reset(&[]).await.unwrap();
    rebuild.catch_up().await.unwrap();
    let rebuilt = snapshot::view_rows(&db.database).await.unwrap();
    for (table, rows) in &live {
        assert_eq!(
            rows,
            &rebuilt[table],
            "{}: {table} differs from its rebuild",
            db.backend_name()
        );
    }
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_projector_at_random_leaves_views_equal_to_a_rebuild_on_sqlite() {
    crash_and_compare(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_projector_at_random_leaves_views_equal_to_a_rebuild_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        crash_and_compare(db).await;
    }
}

/// Two processes share one PostgreSQL database: one projects; when it dies, the other
/// takes over within 5 seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_projector_takes_over_within_five_seconds() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let mut workload = Workload::start(&db.database).await;
    let mut first = projector_process(&db.url);
    wait_caught_up(&db.database, Duration::from_secs(30)).await;
    let mut second = projector_process(&db.url);
    workload.burst().await;
    wait_caught_up(&db.database, Duration::from_secs(30)).await;

    // Find which one projects: kill the first; if the views still move within 5 s, the
    // survivor took over (or was already projecting).
    first.kill().unwrap();
    first.wait().unwrap();
    let killed_at = Instant::now();
    workload.burst().await;
    wait_caught_up(&db.database, Duration::from_secs(5)).await;
    let took = killed_at.elapsed();
    assert!(took < Duration::from_secs(5), "took over after {took:?}");

    // And the other way round: a fresh standby takes over from the survivor.
    let mut third = projector_process(&db.url);
    tokio::time::sleep(Duration::from_millis(300)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let killed_at = Instant::now();
    workload.burst().await;
    wait_caught_up(&db.database, Duration::from_secs(5)).await;
    assert!(killed_at.elapsed() < Duration::from_secs(5));
    third.kill().unwrap();
    third.wait().unwrap();
    db.cleanup().await;
}
