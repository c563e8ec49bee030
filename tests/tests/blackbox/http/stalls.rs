//! Issue 20: no accepted command can stop the views. Values out of range are refused at
//! the edge; a view that cannot apply an event stops alone, at that event, and says so;
//! events written before the bounds still read.

use sablier_projections::billing::Billing;
use sablier_projections::request_list::RequestList;
use serde_json::json;

use super::app::{append_as_written_before, on_every_backend, place_order_on_quote};

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
        // An order completed that the log never placed (its stream holds only the
        // completion, as a damaged copy of a log could): billing cannot tell whose bill
        // the line belongs to and stops there. (A quote above the maximum, which stopped
        // billing before, is now a line awaiting correction: see quote_correction.rs.)
        let orphan = format!("ORD{}", "0d".repeat(16));
        let positions = append_as_written_before(
            &app,
            "Order",
            &orphan,
            &[(
                "OrderCompleted",
                json!({"at": "2026-12-01T10:00:00Z", "reference": reference, "amount_cents": 45_000, "note": null}),
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
        let placed = app.get(&format!("/v1/orders/{order}"), &customer).await.expect(200);
        assert_eq!(placed["detailed_status"], "transmitted", "{placed:#}");

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

        // The tools report the stalled view and exit 1.
        // `sablier rebuild` rebuilds here (and so reports) once no other process runs the
        // projector.
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
            "Contract",
            "OCB0000912",
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
