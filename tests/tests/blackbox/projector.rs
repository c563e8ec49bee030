//! The projector under crashes and with several processes: views always equal a rebuild
//! from the log (issue 4).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use sablier_projections::{Projector, catalogue, snapshot};
use sablier_store::testing::TestDatabase;
use sablier_store::{Database, EventLog};

use crate::cli::binary;
use crate::workload::Workload;

/// A `sablier project` process, killed (SIGKILL) when dropped, even by a failing test.
struct ProjectorProcess(Child);

impl ProjectorProcess {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ProjectorProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Events per batch for the projector processes: small, so that catching up after each
/// restart goes through full batches (and, on PostgreSQL, lanes), as a rebuild does.
const PROCESS_BATCH_SIZE: &str = "16";

fn projector_process(url: &str) -> ProjectorProcess {
    let child = Command::new(binary("sablier"))
        .arg("project")
        .env("DATABASE_URL", url)
        .env("SABLIER_PROJECTOR_BATCH_SIZE", PROCESS_BATCH_SIZE)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sablier project starts");
    ProjectorProcess(child)
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

/// Rebuilds every view from the log in one transaction (after a reset) and checks that
/// each table equals `live`, the rows the projector under test left.
async fn assert_views_equal_a_rebuild(
    db: &TestDatabase,
    live: &BTreeMap<String, Vec<String>>,
    what: &str,
) {
    assert!(
        live.values().any(|rows| !rows.is_empty()),
        "the views hold something"
    );
    let rebuild = Projector::new(EventLog::new(db.database.clone()), catalogue::all());
    rebuild.reset(&[]).await.unwrap();
    rebuild.catch_up().await.unwrap();
    let rebuilt = snapshot::view_rows(&db.database).await.unwrap();
    for (table, rows) in &rebuilt {
        assert_eq!(
            &live[table],
            rows,
            "{}: {table} after {what} differs from its rebuild",
            db.backend_name()
        );
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
        projector.kill();
    }
    let mut projector = projector_process(&db.url);
    wait_caught_up(&db.database, Duration::from_secs(60)).await;
    projector.kill();

    let live = snapshot::view_rows(&db.database).await.unwrap();
    assert_views_equal_a_rebuild(&db, &live, "crashes").await;
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

/// On PostgreSQL, a catch-up that starts with a full batch goes on in lanes, one
/// transaction per projection; the views it leaves equal a rebuild in one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catching_up_in_lanes_equals_a_rebuild_in_one_transaction_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let mut workload = Workload::start(&db.database).await;
    for _ in 0..40 {
        workload.burst().await;
    }
    let log = EventLog::new(db.database.clone());
    let (head, _) = log.head().await.unwrap();
    let in_lanes = Projector::new(log, catalogue::all()).with_batch_size(7);
    assert_eq!(in_lanes.catch_up().await.unwrap(), head);
    assert_eq!(
        checkpoints(&db.database).await,
        vec![head; catalogue::all().len()]
    );
    let live = snapshot::view_rows(&db.database).await.unwrap();
    assert_views_equal_a_rebuild(&db, &live, "a catch-up in lanes").await;
    db.cleanup().await;
}

/// Two projectors catching up in lanes on one PostgreSQL database at once (no leadership,
/// as `sablier project --once` beside a running projector): each retries what another
/// took first, neither waits forever, and every event is applied once per view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_projectors_catching_up_in_lanes_at_once_finish_and_apply_each_event_once() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let mut workload = Workload::start(&db.database).await;
    for _ in 0..60 {
        workload.burst().await;
    }
    let log = EventLog::new(db.database.clone());
    let (head, _) = log.head().await.unwrap();
    let until_head = |projector: Projector| async move {
        loop {
            // A lost race ends a catch-up early, or with a conflict on a view row: again.
            if let Ok(position) = projector.catch_up().await
                && position == head
            {
                return;
            }
        }
    };
    let racing = || until_head(Projector::new(log.clone(), catalogue::all()).with_batch_size(5));
    tokio::time::timeout(Duration::from_secs(60), async {
        tokio::join!(racing(), racing());
    })
    .await
    .expect("both projectors reach the head");
    let raced = snapshot::view_rows(&db.database).await.unwrap();
    assert_views_equal_a_rebuild(&db, &raced, "two racing catch-ups in lanes").await;
    db.cleanup().await;
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

    // The first process holds the projector lock; the second stands by. Kill the first:
    // the views must move again within 5 s.
    first.kill();
    let killed_at = Instant::now();
    workload.burst().await;
    wait_caught_up(&db.database, Duration::from_secs(5)).await;
    let took = killed_at.elapsed();
    assert!(took < Duration::from_secs(5), "took over after {took:?}");

    // And the other way round: a fresh standby takes over from the survivor.
    let mut third = projector_process(&db.url);
    tokio::time::sleep(Duration::from_millis(300)).await;
    second.kill();
    let killed_at = Instant::now();
    workload.burst().await;
    wait_caught_up(&db.database, Duration::from_secs(5)).await;
    assert!(killed_at.elapsed() < Duration::from_secs(5));
    third.kill();
    db.cleanup().await;
}

/// Read-your-writes: a command reports its position, and a reader may wait (bounded) until
/// every view has reached it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_can_wait_for_the_position_a_command_reported() {
    use sablier_domain::incident::IncidentCommand;
    use sablier_domain::text::{FreeText, Login, Title};
    use sablier_domain::{Actor, ActorRole, Authored, Channel, CommandContext, IncidentId};
    use sablier_projections::{ViewReader, wait_for_position};

    let db = TestDatabase::sqlite().await;
    let workload = Workload::start(&db.database).await;
    let projector = Projector::new(EventLog::new(db.database.clone()), catalogue::all());
    projector.catch_up().await.unwrap();
    let reader = ViewReader::new(db.database.clone());
    let names = catalogue::names();

    let customer = Actor::new(Login::parse("jean.dupont").unwrap(), ActorRole::Customer);
    let context = CommandContext::new(customer.clone(), Channel::Portal, "read-your-writes");
    let id = IncidentId::generate();
    let open = IncidentCommand::Open {
        incident_id: id.clone(),
        contract_id: workload.contract(0),
        priority: sablier_sla::Priority::P2,
        title: Title::parse("Disk full").unwrap(),
        description: FreeText::parse("No space left").unwrap(),
    };
    let committed = workload
        .engine()
        .incidents
        .execute(id.as_str(), Authored::new(customer, open), &context)
        .await
        .unwrap();
    let position = committed.last_position().expect("the command wrote events");

    let not_yet = wait_for_position(&reader, &names, position, Duration::from_millis(100))
        .await
        .unwrap();
    assert!(
        !not_yet,
        "no projector ran: the wait gives up after its bound"
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let follower =
        tokio::spawn(async move { projector.follow(Duration::from_millis(20), stopped).await });
    let reached = wait_for_position(&reader, &names, position, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(reached);
    let clocks = sablier_projections::sla_clocks::SlaClocks::for_request(&reader, id.as_str())
        .await
        .unwrap();
    assert_eq!(
        clocks.len(),
        3,
        "the new incident's clocks are visible once the position is reached"
    );
    stop.send(true).unwrap();
    follower.await.unwrap();
    db.cleanup().await;
}
