//! The `sablier` binary from the outside: exit codes, output, the embedded default.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sablier_store::testing::TestDatabase;
use serde_json::Value;

/// A workspace binary, next to this test's own executable (`target/<profile>/`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test --workspace`",
        path.display()
    );
    path
}

/// Runs the workspace binary `program` on `database_url`, in `dir`.
pub fn run(program: &str, args: &[&str], database_url: &str, dir: &Path) -> Output {
    Command::new(binary(program))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .current_dir(dir)
        .output()
        .unwrap_or_else(|error| panic!("{program} runs: {error}"))
}

fn sablier(args: &[&str], database_url: &str, dir: &Path) -> Output {
    run("sablier", args, database_url, dir)
}

fn demo_lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn check_demo(lines: &[Value]) {
    let types: Vec<&str> = lines
        .iter()
        .map(|l| l["event_type"].as_str().unwrap())
        .collect();
    for expected in [
        "ContractCreated",
        "UserDeclared",
        "IncidentOpened",
        "InterventionStarted",
        "CustomerInputRequested",
        "CustomerResponded",
        "DiagnosisShared",
        "ServiceRestored",
        "ChangeSubmitted",
        "OrderPlaced",
        "OrderConfirmationRecorded",
        "SupportTierUpgraded",
    ] {
        assert!(
            types.contains(&expected),
            "the demo wrote no {expected}: {types:?}"
        );
    }
    let positions: Vec<i64> = lines
        .iter()
        .map(|l| l["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive positions: {positions:?}"
    );
    for line in lines {
        let metadata = &line["metadata"];
        for key in ["actor", "actor_role", "channel", "request_id"] {
            assert!(metadata[key].is_string(), "{key} missing in {line}");
        }
        assert_eq!(line["hash"].as_str().unwrap().len(), 64);
    }
    let opened = lines
        .iter()
        .find(|l| l["event_type"] == "IncidentOpened")
        .unwrap();
    assert_eq!(opened["payload"]["IncidentOpened"]["tier"], "Gold");
    assert_eq!(
        opened["payload"]["IncidentOpened"]["policy_version"],
        "default-2026"
    );
    let upgraded = lines
        .iter()
        .find(|l| l["event_type"] == "SupportTierUpgraded")
        .unwrap();
    assert_eq!(
        upgraded["payload"]["SupportTierUpgraded"]["from"],
        "Standard"
    );
    assert_eq!(upgraded["payload"]["SupportTierUpgraded"]["to"], "Silver");
}

#[test]
fn demo_runs_on_the_embedded_default_and_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = "sqlite://sablier.db";
    let first = demo_lines(&sablier(&["demo"], url, dir.path()));
    check_demo(&first);
    assert!(
        dir.path().join("sablier.db").exists(),
        "the default database file is created"
    );
    let second = demo_lines(&sablier(&["demo"], url, dir.path()));
    check_demo(&second);
    assert_eq!(
        second[0]["position"].as_i64().unwrap(),
        first.last().unwrap()["position"].as_i64().unwrap() + 1,
        "the second demo prints only its own events"
    );
}

#[test]
fn migrate_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = sablier(&["migrate"], "sqlite://fresh.db", dir.path());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn an_unsupported_database_url_is_named_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = sablier(&["migrate"], "mysql://localhost/sablier", dir.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unsupported database URL 'mysql://localhost/sablier'"),
        "{stderr}"
    );
}

#[tokio::test]
async fn demo_runs_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.clone();
    let output = tokio::task::spawn_blocking(move || sablier(&["demo"], &url, dir.path()))
        .await
        .unwrap();
    check_demo(&demo_lines(&output));
    db.cleanup().await;
}

/// The `sablier.db` in `dir`, as the views' reader sees it.
async fn demo_database(dir: &Path) -> sqlx::SqlitePool {
    let url = format!("sqlite://{}", dir.join("sablier.db").display());
    sqlx::SqlitePool::connect(&url).await.unwrap()
}

async fn count(pool: &sqlx::SqlitePool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn rebuild_rebuilds_the_named_views_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = "sqlite://sablier.db";
    demo_lines(&sablier(&["demo"], url, dir.path()));
    let projected = sablier(&["project", "--once"], url, dir.path());
    assert!(
        projected.status.success(),
        "{}",
        String::from_utf8_lossy(&projected.stderr)
    );
    let pool = demo_database(dir.path()).await;
    let (requests, trail) = (
        count(&pool, "request_list").await,
        count(&pool, "audit_trail").await,
    );
    assert!(
        requests > 0 && trail > 0,
        "the demo's requests are projected"
    );
    // Damage one view behind the projector's back: only a rebuild brings it back.
    sqlx::query("DELETE FROM audit_trail")
        .execute(&pool)
        .await
        .unwrap();

    let refused = sablier(&["rebuild", "audit_trail", "requests"], url, dir.path());
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("no view named requests") && stderr.contains("audit_trail"),
        "{stderr}"
    );
    assert_eq!(
        count(&pool, "audit_trail").await,
        0,
        "a refused rebuild changes nothing"
    );

    let rebuilt = sablier(&["rebuild", "audit_trail"], url, dir.path());
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert_eq!(count(&pool, "audit_trail").await, trail);
    let all = sablier(&["rebuild"], url, dir.path());
    assert!(
        all.status.success(),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    assert_eq!(count(&pool, "request_list").await, requests);
    assert_eq!(count(&pool, "audit_trail").await, trail);
}
