//! `sablier-replay explain` on the demo's incident, once the views are projected: the
//! verdicts, pinned terms and an explanation whose counted intervals add up.

use std::process::Output;

use sablier_store::testing::TestDatabase;
use serde_json::Value;

use crate::cli::run;

/// Runs `program args` on `db` off the async runtime.
pub async fn run_on(db: &TestDatabase, program: &'static str, args: Vec<String>) -> Output {
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(program, &args, &url, dir.path())
    })
    .await
    .unwrap()
}

pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| arg.to_string()).collect()
}

#[tokio::test]
async fn explain_gives_the_demo_incident_s_verdicts_and_their_reasons() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let demo = run_on(&db, "sablier", args(&["demo"])).await;
        assert!(demo.status.success(), "{backend}: demo failed");
        let incident = String::from_utf8(demo.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .find(|event| event["event_type"] == "IncidentOpened")
            .expect("the demo opens an incident")["aggregate_id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Not projected yet: no clock, said so, exit 1.
        let early = run_on(&db, "sablier-replay", args(&["explain", &incident])).await;
        assert_eq!(early.status.code(), Some(1), "{backend}");
        let stderr = String::from_utf8_lossy(&early.stderr);
        assert!(
            stderr.contains("has applied the log up to position 0"),
            "{stderr}"
        );

        let project = run_on(&db, "sablier", args(&["project", "--once"])).await;
        assert!(project.status.success(), "{backend}: project failed");
        let output = run_on(
            &db,
            "sablier-replay",
            args(&["explain", &incident, "--json"]),
        )
        .await;
        assert_eq!(output.status.code(), Some(0), "{backend}: {output:?}");
        let clocks: Vec<Value> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let metrics: Vec<&str> = clocks
            .iter()
            .map(|c| c["metric"].as_str().unwrap())
            .collect();
        assert_eq!(metrics, ["GTD", "GTI", "GTR"], "{backend}");
        for clock in &clocks {
            // The demo walks a Gold P1 incident to restoration within every target.
            assert_eq!(clock["tier"], "Gold", "{clock}");
            assert_eq!(clock["policy_version"], "default-2026", "{clock}");
            assert_eq!(clock["verdict"], "met", "{clock}");
            assert_eq!(clock["state"], "stopped", "{clock}");
            let intervals = clock["intervals"].as_array().unwrap();
            let counted: i64 = intervals
                .iter()
                .filter(|interval| interval["kind"] == "counted")
                .map(|interval| {
                    let at = |field: &str| {
                        chrono::DateTime::parse_from_rfc3339(interval[field].as_str().unwrap())
                            .unwrap()
                    };
                    (at("to") - at("from")).num_seconds()
                })
                .sum();
            assert_eq!(clock["counted_seconds"].as_i64(), Some(counted), "{clock}");
            for pair in intervals.windows(2) {
                assert_eq!(pair[0]["to"], pair[1]["from"], "contiguous: {clock}");
            }
        }
        let gtr = &clocks[2];
        assert!(
            gtr["intervals"]
                .as_array()
                .unwrap()
                .iter()
                .any(|interval| interval["kind"] == "paused"
                    && interval["detail"] == "awaiting_customer"),
            "the demo awaits the customer: {gtr}"
        );

        let text = run_on(
            &db,
            "sablier-replay",
            args(&["explain", &incident, "--metric", "gtr"]),
        )
        .await;
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.contains(" GTR (incident, contract "), "{text}");
        assert!(text.contains("verdict met, stopped"), "{text}");

        let unknown = run_on(&db, "sablier-replay", args(&["explain", "INC-nope"])).await;
        assert_eq!(unknown.status.code(), Some(1), "{backend}");

        // The timeline: every event of the incident in order, with its clocks after it.
        let output = run_on(
            &db,
            "sablier-replay",
            args(&["timeline", &incident, "--json"]),
        )
        .await;
        assert_eq!(output.status.code(), Some(0), "{backend}: {output:?}");
        let steps: Vec<Value> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let sequences: Vec<i64> = steps
            .iter()
            .map(|s| s["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(
            sequences,
            (1..=steps.len() as i64).collect::<Vec<_>>(),
            "{backend}"
        );
        let first = &steps[0];
        assert_eq!(first["event_type"], "IncidentOpened");
        assert_eq!(first["actor_role"], "customer");
        assert!(
            first["clocks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|clock| clock["state"] == "running" && clock["counted_seconds"] == 0),
            "every clock starts at 0: {first}"
        );
        let after_intervention = steps
            .iter()
            .find(|step| step["event_type"] == "InterventionStarted")
            .unwrap();
        let gti = after_intervention["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|clock| clock["metric"] == "GTI")
            .unwrap();
        assert_eq!(gti["state"], "stopped", "{after_intervention}");
        assert_eq!(gti["verdict"], "met", "{after_intervention}");
        let last = steps.last().unwrap();
        assert!(
            last["clocks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|clock| clock["verdict"] == "met"),
            "{last}"
        );
        db.cleanup().await;
    }
}
