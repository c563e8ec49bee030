//! `sablier-replay what-if` (issue 6): under the policy the tickets were opened under, no
//! verdict changes (priority changes and calendar moves included); under a stricter Gold
//! P1 policy, exactly the demo incident's GTI (12 min against 10) and GTR (2 h 27 min
//! against 2 h) flip from met to breached, and GTD (1 h 12 min against 2 h) does not.

use std::path::Path;

use sablier_sla::policy::DEFAULT_2026_TEXT;
use sablier_store::testing::TestDatabase;
use serde_json::Value;

use crate::export::{generated_log, run_on_url, text};

fn policy_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn stricter() -> String {
    let text = DEFAULT_2026_TEXT
        .replace("version = \"default-2026\"", "version = \"strict-gold-p1\"")
        .replace(
            "GTI = [\"15 min\", \"30 min\", \"1 h bh\", \"2 h bh\"]",
            "GTI = [\"10 min\", \"30 min\", \"1 h bh\", \"2 h bh\"]",
        )
        .replace(
            "GTR = [\"4 h\", \"8 h\", \"16 h bh\", \"none\"]",
            "GTR = [\"2 h\", \"8 h\", \"16 h bh\", \"none\"]",
        );
    assert_eq!(text.matches("10 min").count(), 1);
    text
}

async fn what_if(url: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["what-if"];
    all.extend_from_slice(args);
    let output = run_on_url(url, "sablier-replay", &all).await;
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout.clone()).unwrap(),
        text(&output),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_policy_changes_no_verdict() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        generated_log(&db.database, 24).await;
        assert!(
            run_on_url(&db.url, "sablier", &["demo"])
                .await
                .status
                .success()
        );
        let project = run_on_url(&db.url, "sablier", &["project", "--once"]).await;
        assert!(project.status.success(), "{}", text(&project));
        let dir = tempfile::tempdir().unwrap();
        let file = policy_file(dir.path(), "default.toml", DEFAULT_2026_TEXT);
        let later = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        for args in [
            vec!["--policy", "default-2026"],
            vec!["--policy", file.as_str()],
            vec!["--policy", file.as_str(), "--as-of", later.as_str()],
        ] {
            let (code, _, output) = what_if(&db.url, &args).await;
            assert_eq!(code, 0, "{backend} {args:?}: {output}");
            assert!(output.contains(": 0 verdicts differ"), "{output}");
            assert!(!output.contains("compared 0 clocks"), "{output}");
        }
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stricter_policy_flips_the_expected_clocks() {
    let db = TestDatabase::sqlite().await;
    let demo = run_on_url(&db.url, "sablier", &["demo"]).await;
    assert!(demo.status.success());
    let incident = String::from_utf8(demo.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|event| event["event_type"] == "IncidentOpened")
        .unwrap()["aggregate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        run_on_url(&db.url, "sablier", &["project", "--once"])
            .await
            .status
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let strict = policy_file(dir.path(), "strict.toml", &stricter());

    let (code, stdout, output) = what_if(&db.url, &["--policy", &strict, "--json"]).await;
    assert_eq!(code, 1, "{output}");
    let flipped: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let named: Vec<(&str, &str)> = flipped
        .iter()
        .map(|d| {
            (
                d["request_id"].as_str().unwrap(),
                d["metric"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [(incident.as_str(), "GTI"), (incident.as_str(), "GTR")],
        "{output}"
    );
    for difference in &flipped {
        assert_eq!(difference["actual_verdict"], "met");
        assert_eq!(difference["actual_policy"], "default-2026");
        assert_eq!(difference["what_if_verdict"], "breached");
        assert_eq!(difference["what_if_policy"], "strict-gold-p1");
    }

    // The table, and a selection that leaves the incident out.
    let (code, stdout, _) = what_if(&db.url, &["--policy", &strict, "--request", &incident]).await;
    assert_eq!(code, 1);
    assert!(
        stdout.contains("met (default-2026)") && stdout.contains("breached (strict-gold-p1)"),
        "{stdout}"
    );
    assert!(stdout.contains("compared 3 clocks"), "{stdout}");
    let (code, stdout, _) = what_if(&db.url, &["--policy", &strict, "--request", "INC-none"]).await;
    assert_eq!(code, 0, "{stdout}");

    // A policy that does not parse: could not run.
    let broken = policy_file(dir.path(), "broken.toml", "version = 1");
    let (code, _, output) = what_if(&db.url, &["--policy", &broken]).await;
    assert_eq!(code, 2, "{output}");
    db.cleanup().await;
}
