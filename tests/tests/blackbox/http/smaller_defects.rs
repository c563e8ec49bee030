//! Issue 20, point 5: what a clock shows after a priority change, drafts read back by
//! those who may go on with them, who paused a clock, and what a billable submission says.

use serde_json::{Value, json};

use super::app::on_every_backend;
use crate::explain::{args, run_on};

fn clock<'a>(detail: &'a Value, metric: &str) -> &'a Value {
    detail["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .find(|clock| clock["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} clock in {detail:#}"))
}

/// Gold, P4 to P1: GTI moves from 2 h on business hours to 15 min round the clock. The
/// detail, the explanation and `sablier-replay explain` show the calendar it counts on
/// now, not the one it started on.
#[tokio::test]
async fn issue_20_a_clock_shows_the_calendar_it_counts_on_after_a_priority_change() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000620", "Gold", "paul.priority").await;
        let customer = app.token("paul.priority", "customer").await;
        let agent = app.token("agent.martin", "agent").await;
        let opened = app
            .post(
                "/v1/incidents",
                &customer,
                json!({"contract_id": "OCB0000620", "priority": "P4", "title": "Question",
                       "description": "How do I resize a disk?"}),
            )
            .await
            .expect(201);
        let id = opened["id"].as_str().unwrap().to_owned();
        let before = app
            .get(&format!("/v1/incidents/{id}"), &customer)
            .await
            .expect(200);
        assert_eq!(
            clock(&before, "GTI")["calendar"],
            "business-hours-fr",
            "{backend}"
        );

        app.post(
            &format!("/v1/incidents/{id}/priority"),
            &agent,
            json!({"to": "P1", "reason": "production is down after all"}),
        )
        .await
        .expect(200);
        let after = app
            .get(&format!("/v1/incidents/{id}"), &customer)
            .await
            .expect(200);
        let gti = clock(&after, "GTI");
        assert_eq!(gti["target_seconds"], 900, "{backend}: {after:#}");
        assert_eq!(gti["calendar"], "24x7", "{backend}: {after:#}");
        let explained = app
            .get(&format!("/v1/requests/{id}/clocks/GTI"), &customer)
            .await
            .expect(200);
        assert_eq!(explained["calendar"], "24x7", "{backend}: {explained:#}");

        let cli = run_on(
            &app.db,
            "sablier-replay",
            args(&["explain", &id, "--metric", "GTI", "--json"]),
        )
        .await;
        assert_eq!(cli.status.code(), Some(0), "{backend}: {cli:?}");
        let line: Value = serde_json::from_slice(&cli.stdout).unwrap();
        assert_eq!(line["calendar"], "24x7", "{backend}: {line:#}");
        assert_eq!(
            line["started_on_calendar"], "business-hours-fr",
            "{backend}"
        );
        app
    })
    .await;
}
