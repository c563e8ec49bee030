//! `sablier-replay rebuild` (issue 6): views rebuilt from the log in a scratch database
//! equal the live ones after `sablier project`; live rows tampered with on purpose (a
//! changed column, a deleted row, an extra row, a flipped boolean) are each named, on
//! SQLite and PostgreSQL.

use sablier_store::Database;
use sablier_store::testing::TestDatabase;

use crate::export::{generated_log, run_on_url, text};

async fn execute(database: &Database, sql: &str) {
    match database {
        Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

async fn first(database: &Database, sql: &str) -> String {
    match database {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

async fn rebuild(db: &TestDatabase) -> (i32, String) {
    let output = run_on_url(&db.url, "sablier-replay", &["rebuild"]).await;
    (output.status.code().unwrap(), text(&output))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_finds_no_drift_then_names_each_tampered_row() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        generated_log(&db.database, 16).await;

        // Not projected yet: every view is compared at position 0, and says so.
        let (code, output) = rebuild(&db).await;
        assert_eq!(code, 0, "{backend}: {output}");
        assert!(output.contains("up to position 0 of"), "{output}");

        let project = run_on_url(&db.url, "sablier", &["project", "--once"]).await;
        assert!(project.status.success(), "{}", text(&project));
        let (code, output) = rebuild(&db).await;
        assert_eq!(code, 0, "{backend}: {output}");
        assert!(output.contains(": no drift"), "{output}");

        let incident = first(
            &db.database,
            "SELECT request_id FROM sla_clocks WHERE metric = 'GTR' ORDER BY request_id LIMIT 1",
        )
        .await;
        let order = first(
            &db.database,
            "SELECT request_id FROM request_list WHERE kind = 'order' ORDER BY request_id LIMIT 1",
        )
        .await;
        let change = first(
            &db.database,
            "SELECT change_id FROM billing_changes ORDER BY change_id LIMIT 1",
        )
        .await;
        execute(
            &db.database,
            &format!(
                "UPDATE sla_clocks SET state = 'tampered' WHERE request_id = '{incident}' AND metric = 'GTR'"
            ),
        )
        .await;
        execute(
            &db.database,
            &format!("DELETE FROM request_list WHERE request_id = '{order}'"),
        )
        .await;
        execute(
            &db.database,
            "INSERT INTO audit_trail (aggregate_id, sequence, aggregate_type, position, at, actor, \
             actor_role, on_behalf_of, channel, request_id, event_type, summary) VALUES \
             ('INC-forged', 1, 'Incident', 1, '2026-01-01T00:00:00Z', 'mallory', 'agent', NULL, \
             'cli', 'forged', 'IncidentOpened', 'never happened')",
        )
        .await;
        let flip = match db.database {
            Database::Sqlite(_) => "1 - billable",
            Database::Postgres(_) => "NOT billable",
        };
        execute(
            &db.database,
            &format!("UPDATE billing_changes SET billable = {flip} WHERE change_id = '{change}'"),
        )
        .await;

        let (code, output) = rebuild(&db).await;
        assert_eq!(code, 1, "{backend}: {output}");
        for expected in [
            format!(
                "sla_clocks (request_id=\"{incident}\", metric=\"GTR\"): differs: state is \"tampered\" live"
            ),
            format!("request_list (request_id=\"{order}\"): missing from the live view"),
            "audit_trail (aggregate_id=\"INC-forged\", sequence=1): in the live view, not in the rebuild"
                .to_owned(),
            format!("billing_changes (change_id=\"{change}\"): differs: billable is"),
            ": 4 problems".to_owned(),
        ] {
            assert!(output.contains(&expected), "{backend}: {expected} in\n{output}");
        }
        db.cleanup().await;
    }
}
