//! Views that meet a log already written: a projection added later backfills itself, a
//! renamed one (its meaning changed) rebuilds over the rows of its old name, and an
//! operator's reset rebuilds the views it names (issue 4).

use sablier_projections::{Projection, ProjectionError, Projector, catalogue, snapshot};
use sablier_store::testing::TestDatabase;
use sablier_store::{Database, EventLog};
use std::sync::Arc;

use crate::workload::Workload;

/// A log of a few dozen commands, with every view caught up on it by one projector.
async fn projected_log(db: &TestDatabase) -> (Workload, Projector) {
    let mut workload = Workload::start(&db.database).await;
    for _ in 0..12 {
        workload.burst().await;
    }
    let projector = Projector::new(EventLog::new(db.database.clone()), catalogue::all());
    projector.catch_up().await.unwrap();
    (workload, projector)
}

/// Every view's rows after a reset of all of them and a catch-up from position 0.
async fn rebuilt_rows(database: &Database) -> std::collections::BTreeMap<String, Vec<String>> {
    let rebuild = Projector::new(EventLog::new(database.clone()), catalogue::all());
    rebuild.reset(&[]).await.unwrap();
    rebuild.catch_up().await.unwrap();
    snapshot::view_rows(database).await.unwrap()
}

async fn execute(database: &Database, sql: &str) {
    match database {
        Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_added_later_backfills_from_the_whole_log() {
    for db in TestDatabase::all().await {
        let mut workload = Workload::start(&db.database).await;
        for _ in 0..12 {
            workload.burst().await;
        }
        let log = EventLog::new(db.database.clone());
        let without_audit: Vec<Arc<dyn Projection>> = catalogue::all()
            .into_iter()
            .filter(|projection| projection.name() != "audit_trail")
            .collect();
        Projector::new(log.clone(), without_audit)
            .catch_up()
            .await
            .unwrap();
        let before = snapshot::view_rows(&db.database).await.unwrap();
        assert!(before["audit_trail"].is_empty(), "{}", db.backend_name());

        let head = Projector::new(log, catalogue::all())
            .catch_up()
            .await
            .unwrap();
        let (last, _) = EventLog::new(db.database.clone()).head().await.unwrap();
        assert_eq!(head, last, "{}", db.backend_name());
        let live = snapshot::view_rows(&db.database).await.unwrap();
        assert!(!live["audit_trail"].is_empty(), "{}", db.backend_name());
        assert_eq!(
            live,
            rebuilt_rows(&db.database).await,
            "{}: a view added later differs from its rebuild",
            db.backend_name()
        );
        db.cleanup().await;
    }
}

/// A view renamed to rebuild it (`Projection::name`) has no checkpoint under its new name
/// and its tables still hold the rows of the old one: the projector empties them first.
/// Before it did, the first insert of an existing key failed every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_view_rebuilds_over_the_rows_of_its_old_name() {
    for db in TestDatabase::all().await {
        let (mut workload, projector) = projected_log(&db).await;
        // What a rename looks like to the projector: no checkpoint under the view's name.
        execute(
            &db.database,
            "DELETE FROM projection_checkpoints WHERE name IN ('request_list', 'audit_trail', 'billing_effective_dates')",
        )
        .await;
        workload.burst().await;
        projector.catch_up().await.unwrap();
        let live = snapshot::view_rows(&db.database).await.unwrap();
        assert_eq!(
            live,
            rebuilt_rows(&db.database).await,
            "{}: a renamed view differs from its rebuild",
            db.backend_name()
        );
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resetting_named_views_rebuilds_them_and_refuses_unknown_names() {
    for db in TestDatabase::all().await {
        let (_workload, projector) = projected_log(&db).await;
        let before = snapshot::view_rows(&db.database).await.unwrap();

        let refused = projector.reset(&["request_list_v2", "no_such_view"]).await;
        let Err(ProjectionError::UnknownView { unknown, known }) = refused else {
            panic!("an unknown view is refused, got {refused:?}");
        };
        assert_eq!(unknown, "no_such_view");
        assert!(known.contains("request_list_v2"), "{known}");
        assert_eq!(
            snapshot::view_rows(&db.database).await.unwrap(),
            before,
            "{}: a refused reset changes nothing",
            db.backend_name()
        );

        projector.reset(&["request_list_v2"]).await.unwrap();
        let reset = snapshot::view_rows(&db.database).await.unwrap();
        assert!(reset["request_list"].is_empty(), "{}", db.backend_name());
        assert_eq!(reset["audit_trail"], before["audit_trail"]);
        projector.catch_up().await.unwrap();
        assert_eq!(
            snapshot::view_rows(&db.database).await.unwrap(),
            before,
            "{}: a reset view rebuilds to what it was",
            db.backend_name()
        );
        db.cleanup().await;
    }
}
