//! `sablier-replay export` and `import` (issue 6): export → import → export gives the
//! same bytes, the imported log verifies clean with the source's head and projects to the
//! same views and verdicts, on SQLite and PostgreSQL and across them; a filtered export
//! keeps what it says; import refuses a non-empty database, a filtered, altered or cut
//! file, and then changes nothing.

use std::path::Path;
use std::process::Output;

use sablier_projections::snapshot;
use sablier_store::testing::TestDatabase;
use sablier_store::{Database, EventLog};
use serde_json::Value;

use crate::cli::run;
use crate::workload::Workload;

/// Runs `program args` on `url` off the async runtime.
pub async fn run_on_url(url: &str, program: &'static str, args: &[&str]) -> Output {
    let url = url.to_owned();
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(program, &args, &url, dir.path())
    })
    .await
    .unwrap()
}

pub fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// A log written by the workload: contracts, incidents walked part way, changes, orders,
/// users and tier changes.
pub async fn generated_log(database: &Database, bursts: usize) -> Workload {
    let mut workload = Workload::start(database).await;
    for _ in 0..bursts {
        workload.burst().await;
    }
    workload
}

/// Exports `url` to `file` with `selection` flags; returns the exit code and output.
async fn export(url: &str, file: &Path, selection: &[&str]) -> (i32, String) {
    let mut args = vec!["export", "--output", file.to_str().unwrap()];
    args.extend_from_slice(selection);
    let output = run_on_url(url, "sablier-replay", &args).await;
    (output.status.code().unwrap(), text(&output))
}

async fn import(url: &str, file: &Path) -> (i32, String) {
    let output = run_on_url(url, "sablier-replay", &["import", file.to_str().unwrap()]).await;
    (output.status.code().unwrap(), text(&output))
}

/// The last line of a clean `verify`, which names the head.
async fn verified_head(url: &str) -> String {
    let output = run_on_url(url, "sablier-replay", &["verify"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

async fn event_count(database: &Database) -> i64 {
    let sql = "SELECT count(*) FROM events";
    match database {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

fn lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

/// The incidents of a log, from an export's lines.
fn incidents(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|line| line["event_type"] == "IncidentOpened")
        .map(|line| line["aggregate_id"].as_str().unwrap().to_owned())
        .collect()
}

/// `explain --json` of each incident as of a fixed instant.
async fn verdicts(url: &str, incidents: &[String]) -> Vec<String> {
    let mut verdicts = Vec::new();
    for incident in incidents {
        let output = run_on_url(
            url,
            "sablier-replay",
            &[
                "explain",
                incident,
                "--json",
                "--as-of",
                "2030-01-01T00:00:00Z",
            ],
        )
        .await;
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        verdicts.push(String::from_utf8(output.stdout).unwrap());
    }
    verdicts
}

async fn project(url: &str) {
    let output = run_on_url(url, "sablier", &["project", "--once"]).await;
    assert!(output.status.success(), "{}", text(&output));
}

/// Source → file → target → file again; the target must be a copy in every way.
async fn round_trip(source: &TestDatabase, target: &TestDatabase) {
    let backends = format!("{} → {}", source.backend_name(), target.backend_name());
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (
        dir.path().join("first.jsonl"),
        dir.path().join("second.jsonl"),
    );
    let (code, output) = export(&source.url, &first, &[]).await;
    assert_eq!(code, 0, "{backends}: {output}");
    let (code, output) = import(&target.url, &first).await;
    assert_eq!(code, 0, "{backends}: {output}");
    assert!(output.contains("imported "), "{output}");
    let (code, output) = export(&target.url, &second, &[]).await;
    assert_eq!(code, 0, "{backends}: {output}");
    assert!(
        std::fs::read(&first).unwrap() == std::fs::read(&second).unwrap(),
        "{backends}: export → import → export changed the bytes"
    );
    assert_eq!(
        verified_head(&source.url).await,
        verified_head(&target.url).await,
        "{backends}: the imported log verifies clean with the source's head"
    );

    project(&source.url).await;
    project(&target.url).await;
    let incidents = incidents(&lines(&first));
    assert!(!incidents.is_empty());
    assert_eq!(
        verdicts(&source.url, &incidents).await,
        verdicts(&target.url, &incidents).await,
        "{backends}: same verdicts"
    );
    if source.backend_name() == target.backend_name() {
        assert_eq!(
            snapshot::view_rows(&source.database).await.unwrap(),
            snapshot::view_rows(&target.database).await.unwrap(),
            "{backends}: same views"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_import_export_gives_the_same_bytes_views_and_verdicts() {
    for source in TestDatabase::all().await {
        generated_log(&source.database, 24).await;
        let target = match source.database {
            Database::Sqlite(_) => TestDatabase::sqlite().await,
            Database::Postgres(_) => TestDatabase::postgres().await.unwrap(),
        };
        round_trip(&source, &target).await;
        target.cleanup().await;
        source.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_moves_from_sqlite_to_postgres_and_back() {
    let Some(postgres) = TestDatabase::postgres().await else {
        return;
    };
    let sqlite = TestDatabase::sqlite().await;
    generated_log(&sqlite.database, 12).await;
    round_trip(&sqlite, &postgres).await;
    let back = TestDatabase::sqlite().await;
    round_trip(&postgres, &back).await;
    for db in [sqlite, postgres, back] {
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_creates_a_missing_sqlite_file_and_fills_it() {
    let source = TestDatabase::sqlite().await;
    generated_log(&source.database, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.jsonl");
    assert_eq!(export(&source.url, &file, &[]).await.0, 0);
    let target = format!("sqlite://{}", dir.path().join("new.db").display());
    let (code, output) = import(&target, &file).await;
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        verified_head(&source.url).await,
        verified_head(&target).await
    );
    source.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_export_keeps_what_it_says_and_is_not_importable() {
    let db = TestDatabase::sqlite().await;
    let workload = generated_log(&db.database, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let everything = dir.path().join("all.jsonl");
    assert_eq!(export(&db.url, &everything, &[]).await.0, 0);
    let all = lines(&everything);
    assert_eq!(all[0]["format"], "sablier-event-log");
    assert_eq!(all[0]["version"], 1);
    assert_eq!(all[0]["complete"], true);
    let events = &all[1..all.len() - 1];
    assert_eq!(all.last().unwrap()["end"]["events"], events.len());

    // One request.
    let incident = incidents(&all)[0].clone();
    let file = dir.path().join("request.jsonl");
    let (code, output) = export(&db.url, &file, &["--request", &incident]).await;
    assert_eq!(code, 0, "{output}");
    let kept = lines(&file);
    assert_eq!(kept[0]["complete"], false);
    assert_eq!(kept[0]["selection"]["request"], incident.as_str());
    let expected: Vec<&Value> = events
        .iter()
        .filter(|event| event["aggregate_id"] == incident.as_str())
        .collect();
    assert_eq!(kept[1..kept.len() - 1].iter().collect::<Vec<_>>(), expected);

    // One contract: its own events, and every event of a request opened on it.
    let contract = workload.contract(0);
    let file = dir.path().join("contract.jsonl");
    let (code, output) = export(&db.url, &file, &["--contract", contract.as_str()]).await;
    assert_eq!(code, 0, "{output}");
    let kept = lines(&file);
    let payload = |event: &Value| -> Value {
        serde_json::from_str(event["payload"].as_str().unwrap()).unwrap()
    };
    let mut on_contract = std::collections::HashSet::new();
    let expected: Vec<&Value> = events
        .iter()
        .filter(|event| {
            let id = event["aggregate_id"].as_str().unwrap();
            let body = payload(event);
            let body = body.as_object().unwrap().values().next().unwrap();
            let named =
                body["contract_id"] == contract.as_str() || body["contract"] == contract.as_str();
            if event["aggregate_type"] != "Contract" && named {
                on_contract.insert(id.to_owned());
            }
            id == contract.as_str() || on_contract.contains(id)
        })
        .collect();
    assert!(expected.len() > 2);
    assert_eq!(kept[1..kept.len() - 1].iter().collect::<Vec<_>>(), expected);

    // A time window, on each event's own instant.
    let at = |event: &Value| -> String {
        let body = payload(event);
        body.as_object().unwrap().values().next().unwrap()["at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let instant = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap();
    let middle = instant(&at(&events[events.len() / 2]));
    let from = (middle - chrono::Duration::seconds(1)).to_rfc3339();
    let to = (middle + chrono::Duration::seconds(1)).to_rfc3339();
    let file = dir.path().join("window.jsonl");
    let (code, output) = export(&db.url, &file, &["--from", &from, "--to", &to]).await;
    assert_eq!(code, 0, "{output}");
    let kept = lines(&file);
    let expected: Vec<&Value> = events
        .iter()
        .filter(|event| {
            let at = instant(&at(event));
            at >= instant(&from) && at <= instant(&to)
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(kept[1..kept.len() - 1].iter().collect::<Vec<_>>(), expected);

    // Not importable: nothing of it enters the target.
    let target = TestDatabase::sqlite().await;
    let (code, output) = import(&target.url, &file).await;
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("a filtered export"), "{output}");
    assert_eq!(event_count(&target.database).await, 0);
    target.cleanup().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_a_database_that_holds_a_log_and_changes_nothing() {
    for db in TestDatabase::all().await {
        generated_log(&db.database, 3).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("log.jsonl");
        assert_eq!(export(&db.url, &file, &[]).await.0, 0);
        let before = verified_head(&db.url).await;
        let count = event_count(&db.database).await;
        let (code, output) = import(&db.url, &file).await;
        assert_eq!(code, 2, "{}: {output}", db.backend_name());
        assert!(output.contains("it holds events"), "{output}");
        assert_eq!(event_count(&db.database).await, count);
        assert_eq!(verified_head(&db.url).await, before);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_an_altered_or_cut_file_and_writes_nothing() {
    for source in TestDatabase::all().await {
        generated_log(&source.database, 6).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("log.jsonl");
        assert_eq!(export(&source.url, &file, &[]).await.0, 0);
        let original = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = original.lines().collect();

        // One payload byte of the first incident's opening: its hash no longer matches.
        let mut altered = lines.clone();
        let opened = lines
            .iter()
            .position(|line| line.contains("Something broke"))
            .unwrap();
        let changed = lines[opened].replacen("Something broke", "Something brokE", 1);
        altered[opened] = &changed;
        // The end line dropped: cut short.
        let cut = &lines[..lines.len() - 1];
        // An event line dropped in the middle: a gap.
        let mut gap = lines.clone();
        gap.remove(3);
        for (case, content, expected) in [
            ("altered", altered.join("\n") + "\n", "is not the chain's"),
            ("cut", cut.join("\n") + "\n", "cut short"),
            (
                "gap",
                gap.join("\n") + "\n",
                "positions must run without gaps",
            ),
        ] {
            let path = dir.path().join(format!("{case}.jsonl"));
            std::fs::write(&path, content).unwrap();
            let target = match source.database {
                Database::Sqlite(_) => TestDatabase::sqlite().await,
                Database::Postgres(_) => TestDatabase::postgres().await.unwrap(),
            };
            let (code, output) = import(&target.url, &path).await;
            assert_eq!(code, 2, "{case}: {output}");
            assert!(output.contains(expected), "{case}: {output}");
            assert_eq!(event_count(&target.database).await, 0, "{case}");
            let (head, _) = EventLog::new(target.database.clone()).head().await.unwrap();
            assert_eq!(head, 0, "{case}");
            target.cleanup().await;
        }
        source.cleanup().await;
    }
}

#[test]
fn export_of_a_missing_database_exits_2_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        "sablier-replay",
        &["export"],
        "sqlite://absent.db",
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(!dir.path().join("absent.db").exists());
}
