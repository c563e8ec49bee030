//! `sablier-replay report` (issue 6): the demo's Gold P1 incident met every target, its
//! GTR deadline drawn where the policy puts it (4 h of counted time after creation, plus
//! the 25 minutes it awaited the customer); a workload evaluated a month later shows
//! breaches with their worst overrun; CSV and JSON carry the same figures.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Paris;
use sablier_domain::YearMonth;
use sablier_store::testing::TestDatabase;
use serde_json::Value;

use crate::export::{generated_log, run_on_url, text};

async fn report(url: &str, args: &[&str]) -> String {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    let output = run_on_url(url, "sablier-replay", &all).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_incident_met_every_target_and_its_deadline_is_drawn() {
    let db = TestDatabase::sqlite().await;
    let demo = run_on_url(&db.url, "sablier", &["demo"]).await;
    assert!(demo.status.success());
    let opened = String::from_utf8(demo.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|event| event["event_type"] == "IncidentOpened")
        .unwrap();
    let incident = opened["aggregate_id"].as_str().unwrap().to_owned();
    let body = &opened["payload"]["IncidentOpened"];
    let contract = body["contract_id"].as_str().unwrap().to_owned();
    let at: DateTime<Utc> = body["at"].as_str().unwrap().parse().unwrap();
    let month = YearMonth::containing(at, Paris).to_string();
    assert!(
        run_on_url(&db.url, "sablier", &["project", "--once"])
            .await
            .status
            .success()
    );

    let json: Value = serde_json::from_str(
        &report(
            &db.url,
            &[
                "--contract",
                &contract,
                "--month",
                &month,
                "--format",
                "json",
            ],
        )
        .await,
    )
    .unwrap();
    let lines = json["lines"].as_array().unwrap();
    let metrics: Vec<&str> = lines
        .iter()
        .map(|l| l["metric"].as_str().unwrap())
        .collect();
    assert_eq!(metrics, ["GTD", "GTI", "GTR"], "{json}");
    for line in lines {
        assert_eq!(line["priority"], "P1");
        assert_eq!(
            (line["requests"].as_u64(), line["met"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(line["breached"], 0);
        assert_eq!(line["met_per_mille"], 1000);
    }

    let csv = report(
        &db.url,
        &[
            "--contract",
            &contract,
            "--month",
            &month,
            "--format",
            "csv",
        ],
    )
    .await;
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].starts_with("metric,priority,requests,met,breached"),
        "{csv}"
    );
    assert_eq!(rows[3], "GTR,P1,1,1,0,0,100.0,,", "{csv}");

    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart.svg");
    let table = report(
        &db.url,
        &[
            "--contract",
            &contract,
            "--month",
            &month,
            "--chart",
            chart.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        table.contains("GTR      P1              1      1        0        0   100.0  -"),
        "{table}"
    );
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(&incident) && svg.contains("<rect") && svg.contains("fill=\"#2e7d32\""));
    let deadline = (at + Duration::hours(4) + Duration::minutes(25))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(
        svg.contains(&format!("<title>deadline {deadline}</title>")),
        "{deadline}: {svg}"
    );

    let empty = report(&db.url, &["--contract", &contract, "--month", "2001-01"]).await;
    assert!(
        empty.contains("no incident clock started that month"),
        "{empty}"
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_later_the_open_incidents_are_breached_with_their_overrun() {
    for db in TestDatabase::all().await {
        let workload = generated_log(&db.database, 12).await;
        assert!(
            run_on_url(&db.url, "sablier", &["project", "--once"])
                .await
                .status
                .success()
        );
        let now = Utc::now();
        let month = YearMonth::containing(now, Paris).to_string();
        let later = (now + Duration::days(30)).to_rfc3339();
        let gold = workload.contract(0);
        let args = [
            "--contract",
            gold.as_str(),
            "--month",
            &month,
            "--as-of",
            &later,
            "--format",
            "json",
        ];
        let json: Value = serde_json::from_str(&report(&db.url, &args).await).unwrap();
        let lines = json["lines"].as_array().unwrap();
        assert!(!lines.is_empty(), "{json}");
        let mut breached = 0;
        for line in lines {
            let count = |field: &str| line[field].as_u64().unwrap();
            assert_eq!(
                count("requests"),
                count("met") + count("breached") + count("pending")
            );
            if count("breached") > 0 {
                breached += count("breached");
                assert!(
                    line["worst_overrun_seconds"].as_i64().unwrap() > 0,
                    "{line}"
                );
                assert!(line["worst_overrun_request"].is_string(), "{line}");
            }
        }
        assert!(breached > 0, "{}: {json}", db.backend_name());
        db.cleanup().await;
    }
}
