//! The projector under crashes and with several processes: views always equal a rebuild
//! from the log (issue 4).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use sablier_projections::leadership::PROJECTOR_LOCK_KEY;
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

/// Each projection's checkpoint, by projection name.
async fn checkpoints_by_name(database: &Database) -> BTreeMap<String, i64> {
    let sql = "SELECT name, position FROM projection_checkpoints";
    let rows: Vec<(String, i64)> = match database {
        Database::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    };
    rows.into_iter().collect()
}

/// The checkpoints, in projection name order.
async fn checkpoints(database: &Database) -> Vec<i64> {
    checkpoints_by_name(database).await.into_values().collect()
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

/// What one SIGKILL cut short: the checkpoints when the process started and when it died,
/// and the log's last position when it died.
#[derive(Debug)]
struct Kill {
    at_start: BTreeMap<String, i64>,
    at_death: BTreeMap<String, i64>,
    head: i64,
}

impl Kill {
    /// The process had committed something and still had events to apply: the kill
    /// interrupted work in progress, not a process that had yet to start.
    fn landed_mid_work(&self) -> bool {
        let committed = self
            .at_death
            .iter()
            .any(|(name, position)| *position > self.at_start.get(name).copied().unwrap_or(0));
        let behind = self.at_death.values().any(|position| *position < self.head);
        committed && behind
    }
}

/// Kills at random moments per run, at least.
const KILLS: usize = 6;
/// Kills that must land mid-work ([`Kill::landed_mid_work`]): a run goes on killing at
/// random, up to [`MAX_KILLS`], until that many did (a slow machine may need more kills).
const KILLS_MID_WORK: usize = 3;
const MAX_KILLS: usize = 24;

/// SIGKILL the projector at random moments while commands keep arriving; after a restart
/// and a catch-up, every view equals a rebuild from scratch.
async fn crash_and_compare(db: TestDatabase) {
    let log = EventLog::new(db.database.clone());
    let mut workload = Workload::start(&db.database).await;
    let mut rng = rand::thread_rng();
    let mut kills: Vec<Kill> = Vec::new();
    let mid_work = |kills: &[Kill]| kills.iter().filter(|kill| kill.landed_mid_work()).count();
    while kills.len() < KILLS || (mid_work(&kills) < KILLS_MID_WORK && kills.len() < MAX_KILLS) {
        let at_start = checkpoints_by_name(&db.database).await;
        let mut projector = projector_process(&db.url);
        let kill_after = Duration::from_millis(rng.gen_range(150..700));
        let started = Instant::now();
        while started.elapsed() < kill_after {
            workload.burst().await;
        }
        projector.kill();
        // Dead, and no command runs meanwhile: both are what they were at the kill.
        let at_death = checkpoints_by_name(&db.database).await;
        let (head, _) = log.head().await.unwrap();
        kills.push(Kill {
            at_start,
            at_death,
            head,
        });
    }
    assert!(
        mid_work(&kills) >= KILLS_MID_WORK,
        "{}: only {} of {} kills landed while the projector had committed something and \
         still had events to apply: {kills:#?}",
        db.backend_name(),
        mid_work(&kills),
        kills.len()
    );
    let mut projector = projector_process(&db.url);
    wait_caught_up(&db.database, Duration::from_secs(60)).await;
    projector.kill();

    let live = snapshot::view_rows(&db.database).await.unwrap();
    for table in [
        "billing_expert_minutes",
        "billing_changes",
        "billing_orders",
        "billing_lines",
    ] {
        assert!(
            !live[table].is_empty(),
            "the workload leaves rows in {table}, compared below"
        );
    }
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

/// The backends (server process ids) of this test's database that hold the projector's
/// lock. Other tests' databases run projectors of their own at the same time.
pub async fn lock_holders(database: &Database) -> Vec<i32> {
    let Database::Postgres(pool) = database else {
        unreachable!("advisory locks are PostgreSQL's")
    };
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND classid = ($1 >> 32)::oid AND objid = ($1 & 4294967295)::oid AND objsubid = 1 \
         ORDER BY pid",
    )
    .bind(PROJECTOR_LOCK_KEY)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Waits until exactly one backend holds the projector's lock and it is not `previous`;
/// returns it (or panics after `within`).
async fn next_lock_holder(database: &Database, previous: Option<i32>, within: Duration) -> i32 {
    let started = Instant::now();
    loop {
        let holders = lock_holders(database).await;
        if let [holder] = holders[..]
            && Some(holder) != previous
        {
            return holder;
        }
        assert!(
            started.elapsed() < within,
            "the projector's lock held by {holders:?} after {within:?} (before: {previous:?})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts a projector process beside `leader` (the backend holding the lock) and waits
/// until it stands by: a backend of this database that started with it tried to take the
/// lock and, not holding it, failed. Then checks, over a standby poll or two, that
/// `leader` alone holds the lock.
async fn start_standby(db: &TestDatabase, leader: i32) -> ProjectorProcess {
    let Database::Postgres(pool) = &db.database else {
        unreachable!("advisory locks are PostgreSQL's")
    };
    let before: String = sqlx::query_scalar("SELECT clock_timestamp()::text")
        .fetch_one(pool)
        .await
        .unwrap();
    let standby = projector_process(&db.url);
    let started = Instant::now();
    loop {
        let tried: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND backend_start > $1::timestamptz \
             AND query LIKE '%pg_try_advisory_lock%'",
        )
        .bind(&before)
        .fetch_one(pool)
        .await
        .unwrap();
        if tried > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the new process never tried the projector's lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let watched = Instant::now();
    while watched.elapsed() < Duration::from_millis(600) {
        assert_eq!(
            lock_holders(&db.database).await,
            vec![leader],
            "the leader alone holds the projector's lock while a standby polls"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    standby
}

/// Two processes share one PostgreSQL database: exactly one holds the projector's lock and
/// projects; when it dies, the other takes the lock over and the views move within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_projector_takes_over_within_five_seconds() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let mut workload = Workload::start(&db.database).await;
    let mut first = projector_process(&db.url);
    wait_caught_up(&db.database, Duration::from_secs(30)).await;
    let leader = next_lock_holder(&db.database, None, Duration::from_secs(5)).await;
    let mut second = start_standby(&db, leader).await;
    workload.burst().await;
    wait_caught_up(&db.database, Duration::from_secs(30)).await;
    assert_eq!(lock_holders(&db.database).await, vec![leader]);

    // Kill the leader: the standby takes the lock, and the views move again, within 5 s.
    first.kill();
    let killed_at = Instant::now();
    let leader = next_lock_holder(&db.database, Some(leader), Duration::from_secs(5)).await;
    workload.burst().await;
    wait_caught_up(&db.database, Duration::from_secs(5)).await;
    let took = killed_at.elapsed();
    assert!(took < Duration::from_secs(5), "took over after {took:?}");

    // And the other way round: a fresh standby takes over from the survivor.
    let mut third = start_standby(&db, leader).await;
    second.kill();
    let killed_at = Instant::now();
    next_lock_holder(&db.database, Some(leader), Duration::from_secs(5)).await;
    workload.burst().await;
    wait_caught_up(&db.database, Duration::from_secs(5)).await;
    let took = killed_at.elapsed();
    assert!(took < Duration::from_secs(5), "took over after {took:?}");
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
