//! Read-your-writes across servers: two `sablier` servers share one database, a command
//! goes through one, and a read through the other names the position the command answered
//! with (`Sablier-Read-After`). Only one of them runs the projector, and it is not woken by
//! the other's commits: without the header the read may come before the view.

use std::time::Duration;

use reqwest::StatusCode;
use sablier_api::Server;
use sablier_api::http::state::Limits;
use sablier_projections::{Projector, catalogue};
use sablier_store::EventLog;
use serde_json::{Value, json};

use super::app::{Answer, TestApp, on_every_backend};

/// `GET path` on the server at `base`, with `Sablier-Read-After: after` when given.
async fn get(app: &TestApp, base: &str, path: &str, token: &str, after: Option<&str>) -> Answer {
    let mut request = app.client.get(format!("{base}{path}")).bearer_auth(token);
    if let Some(after) = after {
        request = request.header("Sablier-Read-After", after);
    }
    TestApp::read(request.send().await.unwrap()).await
}

fn last_position(answer: &Value) -> i64 {
    answer["events"]
        .as_array()
        .and_then(|events| events.last())
        .and_then(|event| event["position"].as_i64())
        .expect("the command reports its events' positions")
}

#[tokio::test]
async fn a_read_through_another_server_waits_for_the_position_a_command_reported() {
    on_every_backend(|app| async move {
        let limits = Limits {
            read_your_writes: Duration::from_millis(500),
            ..Limits::default()
        };
        // The test app's server runs the projector; this one stands by.
        let other = Server::start(
            app.db.database.clone(),
            "127.0.0.1:0".parse().unwrap(),
            limits,
        )
        .await
        .expect("a second server starts on the same database");
        let other_base = format!("http://{}", other.address);
        app.contract("OCB0000610", "Gold", "jean.dupont").await;
        let customer = app.token("jean.dupont", "customer").await;
        // The other server authorizes from the directory view: the contract's creation
        // through the first one must show there before the customer may act on it.
        let declared = app.log_head().await.to_string();

        for attempt in 0..5 {
            let opened = app
                .client
                .post(format!("{other_base}/v1/incidents"))
                .bearer_auth(&customer)
                .header("Sablier-Read-After", &declared)
                .json(&json!({
                    "contract_id": "OCB0000610",
                    "priority": "P2",
                    "title": format!("Disk full {attempt}"),
                    "description": "No space left on the database volume"
                }))
                .send()
                .await
                .unwrap();
            let opened = TestApp::read(opened).await.expect(201);
            let id = opened["id"].as_str().unwrap().to_owned();
            let position = last_position(&opened).to_string();
            let detail = get(
                &app,
                &app.base,
                &format!("/v1/incidents/{id}"),
                &customer,
                Some(&position),
            )
            .await
            .expect(200);
            assert_eq!(detail["request_id"], id.as_str(), "{}", app.backend());
            let listed = get(&app, &app.base, "/v1/requests", &customer, Some(&position))
                .await
                .expect(200);
            assert!(
                listed.to_string().contains(&id),
                "{}: the list shows the request just created: {listed:#}",
                app.backend()
            );
        }

        // The standby reads the views' position from the checkpoints, not as 0.
        let head = app.log_head().await;
        get(
            &app,
            &app.base,
            "/v1/requests",
            &customer,
            Some(&head.to_string()),
        )
        .await
        .expect(200);
        let ready = get(&app, &other_base, "/readyz", &customer, None)
            .await
            .expect(200);
        assert_eq!(ready["views_reached"], head, "{}: {ready:#}", app.backend());

        // A position the log has not reached: 503 after the bound, naming it.
        let ahead = (head + 1_000).to_string();
        let problem = get(&app, &other_base, "/v1/requests", &customer, Some(&ahead))
            .await
            .problem(503);
        assert!(
            problem["detail"].as_str().unwrap().contains(&ahead),
            "{problem:#}"
        );

        // Not a position: 400 naming the header, and nothing is read.
        for bad in ["-1", "twelve", "1.5", ""] {
            let answer = get(&app, &other_base, "/v1/requests", &customer, Some(bad)).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{bad:?}: {:#}",
                answer.body
            );
            assert!(
                answer.body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("Sablier-Read-After"),
                "{:#}",
                answer.body
            );
        }
        other.stop().await.expect("a clean stop");
        app
    })
    .await;
}

/// A rebuild started by another process empties the views: a read naming a position waits
/// for the rebuild to reach it again, instead of trusting what this server's projector
/// reported before the reset and answering from the emptied views.
#[tokio::test]
async fn a_read_after_a_position_waits_for_a_rebuild_started_elsewhere() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000611", "Gold", "rita.rebuild").await;
        let customer = app.token("rita.rebuild", "customer").await;
        let opened = app
            .post(
                "/v1/incidents",
                &customer,
                json!({"contract_id": "OCB0000611", "priority": "P3", "title": "Rebuilt", "description": "D"}),
            )
            .await
            .expect(201);
        let position = last_position(&opened).to_string();
        let listed = get(&app, &app.base, "/v1/requests", &customer, Some(&position)).await;
        assert_eq!(listed.status, StatusCode::OK, "{backend}: {:#}", listed.body);
        assert_eq!(listed.body["requests"][0]["request_id"], opened["id"]);

        // What `sablier rebuild` does first, from another process: every view emptied,
        // every checkpoint at 0. This server's projector rebuilds them.
        Projector::new(EventLog::new(app.db.database.clone()), catalogue::all())
            .reset(&[])
            .await
            .unwrap();
        let listed = get(&app, &app.base, "/v1/requests", &customer, Some(&position)).await;
        assert_eq!(listed.status, StatusCode::OK, "{backend}: {:#}", listed.body);
        assert_eq!(
            listed.body["requests"][0]["request_id"], opened["id"],
            "{backend}: answered from emptied views: {:#}",
            listed.body
        );
        app
    })
    .await;
}
