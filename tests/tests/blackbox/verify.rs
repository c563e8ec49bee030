//! `sablier-replay verify` against a log written by `sablier demo`, then tampered with
//! behind the store's back: one payload byte changed, a row deleted, two rows swapped.
//! Each must exit 1 naming the event; the untouched log verifies clean, on SQLite and, when
//! enabled, PostgreSQL.

use sablier_store::Database;
use sablier_store::testing::TestDatabase;

use crate::cli::run;

async fn verify(db: &TestDatabase, extra: &[&str]) -> (i32, String) {
    let url = db.url.clone();
    let extra: Vec<String> = extra.iter().map(|arg| arg.to_string()).collect();
    let output = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["verify"];
        args.extend(extra.iter().map(String::as_str));
        run("sablier-replay", &args, &url, dir.path())
    })
    .await
    .unwrap();
    (
        output.status.code().expect("an exit code"),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// A fresh database holding the demo's events.
async fn demo(db: &TestDatabase) {
    let url = db.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        run("sablier", &["demo"], &url, dir.path())
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "demo: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn execute(database: &Database, sql: &str) {
    match database {
        Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// The head hash a clean run prints on its last line.
fn recorded_head(output: &str) -> String {
    output
        .lines()
        .last()
        .and_then(|line| line.rsplit(' ').next())
        .expect("a summary line ending with the head hash")
        .to_owned()
}

#[tokio::test]
async fn an_untouched_log_verifies_clean_and_prints_its_head() {
    for db in TestDatabase::all().await {
        demo(&db).await;
        let (code, output) = verify(&db, &[]).await;
        assert_eq!(code, 0, "{}: {output}", db.backend_name());
        assert!(output.contains(": clean;"), "{output}");
        let head = recorded_head(&output);
        assert_eq!(head.len(), 64, "{output}");
        let (code, output) = verify(&db, &["--head", &head]).await;
        assert_eq!(code, 0, "{}: {output}", db.backend_name());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn one_payload_byte_changed_is_found_and_named() {
    for db in TestDatabase::all().await {
        demo(&db).await;
        // The demo's fifth event pauses the GTD clock: make it pause GTR instead, one
        // byte ('D' -> 'R') of its stored JSON.
        let sql = match db.database {
            Database::Sqlite(_) => {
                r#"UPDATE events SET payload = replace(payload, '"GTD"', '"GTR"') WHERE position = 5"#
            }
            Database::Postgres(_) => {
                r#"UPDATE events SET payload = replace(payload::text, '"GTD"', '"GTR"')::json WHERE position = 5"#
            }
        };
        execute(&db.database, sql).await;
        let (code, output) = verify(&db, &[]).await;
        assert_eq!(code, 1, "{}: {output}", db.backend_name());
        assert!(
            output.contains("position 5 (") && output.contains("the seal is broken"),
            "{}: {output}",
            db.backend_name()
        );
        assert_eq!(
            output.matches("the seal is broken").count(),
            1,
            "one altered event, one report: {output}"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_deleted_row_is_found_and_named() {
    for db in TestDatabase::all().await {
        demo(&db).await;
        execute(&db.database, "DELETE FROM events WHERE position = 4").await;
        let (code, output) = verify(&db, &[]).await;
        assert_eq!(code, 1, "{}: {output}", db.backend_name());
        assert!(
            output.contains("positions 4..=4 are missing"),
            "{}: {output}",
            db.backend_name()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn two_swapped_rows_are_found_and_named() {
    for db in TestDatabase::all().await {
        demo(&db).await;
        // Exchange the events at positions 6 and 7 (each keeps its hash): the order of
        // history changes, not one byte of any event.
        for sql in [
            "UPDATE events SET position = -1 WHERE position = 6",
            "UPDATE events SET position = 6 WHERE position = 7",
            "UPDATE events SET position = 7 WHERE position = -1",
        ] {
            execute(&db.database, sql).await;
        }
        let (code, output) = verify(&db, &[]).await;
        assert_eq!(code, 1, "{}: {output}", db.backend_name());
        for position in [6, 7] {
            assert!(
                output.contains(&format!("position {position} (")),
                "{}: position {position} named: {output}",
                db.backend_name()
            );
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_log_rewritten_since_a_recorded_head_fails_against_it() {
    for db in TestDatabase::all().await {
        demo(&db).await;
        let (_, output) = verify(&db, &[]).await;
        let head = recorded_head(&output);
        let (code, output) = verify(&db, &["--head", &"f".repeat(64)]).await;
        assert_eq!(code, 1, "{output}");
        assert!(output.contains("is not the hash of any event"), "{output}");
        assert_ne!(head, "f".repeat(64));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_missing_database_is_not_created_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        "sablier-replay",
        &["verify"],
        "sqlite://absent.db",
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(!dir.path().join("absent.db").exists());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no database at absent.db"));
}
