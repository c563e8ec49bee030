//! Issue 20: no accepted command can stop the views. Values out of range are refused at
//! the edge; a view that cannot apply an event stops alone, at that event, and says so;
//! events written before the bounds still read.

use cqrs_es::persist::SerializedEvent;
use sablier_projections::billing::Billing;
use sablier_projections::request_list::RequestList;
use sablier_store::EventLog;
use serde_json::{Value, json};

use super::app::{TestApp, on_every_backend};

/// Appends `events` (type, payload) to the stream `to` (aggregate type and id) after its
/// last event, if any, as an older server would have written them, with the metadata of
/// the last event of the stream `like`.
async fn append_as_written_before(
    app: &TestApp,
    like: (&str, &str),
    to: (&str, &str),
    events: &[(&str, Value)],
) -> Vec<i64> {
    let log = EventLog::new(app.db.database.clone());
    let stored = log
        .read_after(0, &sablier_store::FeedFilter::all(), 100_000)
        .await
        .unwrap();
    let last_of = |(aggregate_type, aggregate_id): (&str, &str)| {
        stored.iter().rev().find(|event| {
            event.aggregate_type == aggregate_type && event.aggregate_id == aggregate_id
        })
    };
    let metadata: Value =
        serde_json::from_str(&last_of(like).expect("the stream exists").metadata).unwrap();
    let after = last_of(to).map_or(0, |last| usize::try_from(last.sequence).unwrap());
    let serialized: Vec<SerializedEvent> = events
        .iter()
        .enumerate()
        .map(|(offset, (event_type, payload))| {
            SerializedEvent::new(
                to.1.to_owned(),
                after + offset + 1,
                to.0.to_owned(),
                (*event_type).to_owned(),
                "1".to_owned(),
                json!({ *event_type: payload }),
                metadata.clone(),
            )
        })
        .collect();
    log.append(&serialized).await.expect("appended")
}

async fn place_order_on_quote(app: &TestApp, contract: &str, customer: &str) -> (String, String) {
    let contact = json!({
        "civility": "mr", "last_name": "Durand", "first_name": "Paul",
        "email": "paul@acme.example", "mobile": "+33 6 12 34 56 78"
    });
    let placed = app
        .post(
            "/v1/orders",
            customer,
            json!({"contract_id": contract, "item": "prestation-migration", "contact": contact}),
        )
        .await
        .expect(201);
    let id = placed["id"].as_str().unwrap().to_owned();
    let order = app
        .get(&format!("/v1/orders/{id}"), customer)
        .await
        .expect(200);
    (id, order["reference"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn issue_20_amounts_and_dates_out_of_range_are_refused_naming_the_field() {
    on_every_backend(|app| async move {
        app.contract("OCB0000910", "Gold", "paul.durand").await;
        let customer = app.token("paul.durand", "customer").await;
        let agent = app.token("agent.martin", "agent").await;
        let (order, _) = place_order_on_quote(&app, "OCB0000910", &customer).await;
        let head = app.log_head().await;
        for amount in [
            json!(100_000_000_001_u64),
            json!(9_223_372_036_854_775_808_u64),
        ] {
            let refused = app
                .post(
                    &format!("/v1/orders/{order}/quote"),
                    &agent,
                    json!({"amount_cents": amount}),
                )
                .await
                .problem(422);
            assert_eq!(refused["field"], "amount_cents", "{refused:#}");
        }
        for day in ["-0001-12-31", "+99999-01-01", "2100-01-01", "1969-12-31"] {
            let refused = app
                .post(
                    "/v1/contracts/OCB0000910/expert-time",
                    &agent,
                    json!({"performed_on": day, "minutes": 30}),
                )
                .await
                .problem(422);
            assert_eq!(refused["field"], "performed_on", "{day}: {refused:#}");
        }
        let refused = app
            .get(
                &format!("/v1/orders/{order}?as_of=2100-01-01T00:00:00Z"),
                &customer,
            )
            .await;
        assert!(refused.status.is_client_error(), "{:#}", refused.body);
        assert_eq!(app.log_head().await, head, "nothing appended");
        // The bounds themselves are accepted.
        app.post(
            &format!("/v1/orders/{order}/quote"),
            &agent,
            json!({"amount_cents": 100_000_000_000_u64}),
        )
        .await
        .expect(200);
        app.post(
            "/v1/contracts/OCB0000910/expert-time",
            &agent,
            json!({"performed_on": "2099-12-31", "minutes": 30}),
        )
        .await
        .expect(200);
        app
    })
    .await;
}

#[tokio::test]
async fn issue_20_a_view_that_cannot_apply_an_event_stops_alone_and_says_so() {
    on_every_backend(|app| async move {
        app.contract("OCB0000911", "Gold", "paul.durand").await;
        let customer = app.token("paul.durand", "customer").await;
        let (order, reference) = place_order_on_quote(&app, "OCB0000911", &customer).await;
        // An order completed that was never placed: a log no aggregate writes, which the
        // billing view cannot apply (it bills only orders it saw placed).
        let never_placed = "ORD00000000000000000000000000000911";
        let at = "2026-12-01T10:00:00Z";
        let positions = append_as_written_before(
            &app,
            ("Order", &order),
            ("Order", never_placed),
            &[(
                "OrderCompleted",
                json!({"at": at, "reference": reference, "amount_cents": 1000, "note": null}),
            )],
        )
        .await;
        let completed = positions[0];

        // The other views go on: an incident opened afterwards is found at once.
        let opened = app
            .post(
                "/v1/incidents",
                &customer,
                json!({"contract_id": "OCB0000911", "title": "VM down", "description": "The VM does not answer.", "priority": "P2"}),
            )
            .await
            .expect(201);
        let incident = opened["id"].as_str().unwrap();
        app.get(&format!("/v1/incidents/{incident}"), &customer).await.expect(200);
        app.get(&format!("/v1/orders/{order}"), &customer).await.expect(200);

        // Readiness names the view, its position and the event.
        let ready = app.send(reqwest::Method::GET, "/readyz", None, None).await.problem(503);
        let detail = ready["detail"].as_str().unwrap();
        assert!(detail.contains(Billing::NAME), "{detail}");
        assert!(detail.contains(&format!("position {}", completed - 1)), "{detail}");
        assert!(detail.contains(&format!("event at position {completed}")), "{detail}");
        assert!(detail.contains("OrderCompleted"), "{detail}");

        // Metrics: each view's position and a stalled flag.
        let metrics = app
            .client
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (billing, requests) = (Billing::NAME, RequestList::NAME);
        assert!(metrics.contains(&format!("sablier_view_stalled{{view=\"{billing}\"}} 1")), "{metrics}");
        assert!(metrics.contains(&format!("sablier_view_stalled{{view=\"{requests}\"}} 0")), "{metrics}");
        assert!(
            metrics.contains(&format!("sablier_view_position{{view=\"{billing}\"}} {}", completed - 1)),
            "{metrics}"
        );

        // A read the stalled view serves answers 503 with Retry-After, not stale data.
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let stale = app
            .get(&format!("/v1/contracts/OCB0000911/billing/{month}"), &customer)
            .await;
        assert!(stale.headers.get("retry-after").is_some(), "{:#}", stale.body);
        stale.problem(503);

        // The tools report the stalled view and exit 1; `sablier rebuild` rebuilds here
        // (and so reports) once no other process runs the projector.
        let mut app = app;
        for (tool, args) in [
            ("sablier", vec!["project", "--once"]),
            ("sablier-replay", vec!["verify"]),
            ("sablier-replay", vec!["rebuild"]),
            ("sablier", vec!["rebuild"]),
        ] {
            if args == ["rebuild"] && tool == "sablier" {
                app.stop_server().await;
            }
            let output = std::process::Command::new(crate::cli::binary(tool))
                .args(&args)
                .env("DATABASE_URL", &app.db.url)
                .env("RUST_LOG", "error")
                .output()
                .expect("the tool runs");
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(output.status.code(), Some(1), "{tool} {args:?}: {said}");
            assert!(said.contains(Billing::NAME), "{tool} {args:?}: {said}");
            assert!(said.contains(&format!("event at position {completed}")), "{said}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn issue_20_an_expert_time_month_written_before_dates_were_bounded_reads_again() {
    on_every_backend(|app| async move {
        app.contract("OCB0000912", "Gold", "paul.durand").await;
        let customer = app.token("paul.durand", "customer").await;
        let agent = app.token("agent.martin", "agent").await;
        append_as_written_before(
            &app,
            ("Contract", "OCB0000912"),
            ("Contract", "OCB0000912"),
            &[(
                "ExpertTimeLogged",
                json!({"at": "2026-12-01T10:00:00Z", "expert": "agent.martin", "performed_on": "-0001-12-31", "billing_month": "-001-12", "minutes": 30, "note": null}),
            )],
        )
        .await;
        // Commands on the contract and the views go on.
        app.post(
            "/v1/contracts/OCB0000912/expert-time",
            &agent,
            json!({"performed_on": "2026-12-01", "minutes": 30}),
        )
        .await
        .expect(200);
        let opened = app
            .post(
                "/v1/incidents",
                &customer,
                json!({"contract_id": "OCB0000912", "title": "VM down", "description": "The VM does not answer.", "priority": "P2"}),
            )
            .await
            .expect(201);
        app.get(&format!("/v1/incidents/{}", opened["id"].as_str().unwrap()), &customer)
            .await
            .expect(200);
        let ready = app.send(reqwest::Method::GET, "/readyz", None, None).await.expect(200);
        assert_eq!(ready["views_reached"], ready["log_head"], "{ready:#}");
        app
    })
    .await;
}
