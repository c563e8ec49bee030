//! A full scenario per section of docs/domain.md ("Incidents", "Change requests",
//! "Orders"), over HTTP: incident to reopen and close with
//! its timers; change with quote, attachments and the same-asset warning; order with its
//! reference and status; upgrade and downgrade with their billing months.

use chrono::{DateTime, Datelike, Months, Utc};
use serde_json::{Value, json};

use super::app::{TestApp, on_every_backend};

fn clock<'a>(detail: &'a Value, metric: &str) -> &'a Value {
    detail["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .find(|clock| clock["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} clock in {detail:#}"))
}

#[tokio::test]
async fn an_incident_goes_from_opening_to_reopening_and_closing_with_its_timers() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000124", "Gold", "jean.dupont").await;
        let customer = app.token("jean.dupont", "customer").await;
        let agent = app.token("agent.martin", "agent").await;

        let request = app
            .client
            .post(format!("{}/v1/incidents", app.base))
            .bearer_auth(&customer)
            .header("X-Request-Id", "portal-req-0001")
            .header("Sablier-Channel", "portal")
            .json(&json!({
                "contract_id": "OCB0000124",
                "priority": "P1",
                "title": "Production down",
                "description": "Every VM of the tenant is unreachable"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(request.headers()["x-request-id"], "portal-req-0001");
        let opened = TestApp::read(request).await.expect(201);
        let id = opened["id"].as_str().unwrap().to_owned();
        assert_eq!(
            opened["events"][0]["event_type"], "IncidentOpened",
            "{backend}"
        );

        let detail = app
            .get(&format!("/v1/incidents/{id}"), &customer)
            .await
            .expect(200);
        assert_eq!(detail["detailed_status"], "opened", "{backend}");
        assert_eq!(detail["portal_status"], "transmitted");
        let gti = clock(&detail, "GTI");
        assert_eq!(gti["state"], "running", "{backend}: {detail:#}");
        assert_eq!(gti["target_seconds"], 900, "Gold P1 GTI is 15 min");
        assert_eq!(gti["tier"], "Gold");
        assert_eq!(gti["policy_version"], "default-2026");
        assert_eq!(clock(&detail, "GTR")["target_seconds"], 4 * 3600);
        assert_eq!(clock(&detail, "GTD")["target_seconds"], 2 * 3600);

        // As of the opening instant nothing is counted yet.
        let created_at = detail["created_at"].as_str().unwrap();
        let then = app
            .get(&format!("/v1/incidents/{id}?as_of={created_at}"), &customer)
            .await
            .expect(200);
        assert_eq!(clock(&then, "GTR")["counted_seconds"], 0);
        assert_eq!(clock(&then, "GTR")["remaining_seconds"], 4 * 3600);
        // An hour later (24x7 for Gold P1), an hour is counted and three remain.
        let later = (DateTime::parse_from_rfc3339(created_at).unwrap()
            + chrono::Duration::hours(1))
        .with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
        let in_an_hour = app
            .get(&format!("/v1/incidents/{id}?as_of={later}"), &customer)
            .await
            .expect(200);
        assert_eq!(
            clock(&in_an_hour, "GTR")["counted_seconds"],
            3600,
            "{in_an_hour:#}"
        );
        assert_eq!(clock(&in_an_hour, "GTR")["remaining_seconds"], 3 * 3600);
        assert_eq!(
            clock(&in_an_hour, "GTI")["verdict"],
            "breached",
            "GTI is 15 minutes"
        );

        let act = |path: &'static str, token: String, body: Value| {
            let app = &app;
            let id = id.clone();
            async move {
                app.post(&format!("/v1/incidents/{id}/{path}"), &token, body)
                    .await
            }
        };
        act("start-intervention", agent.clone(), json!({}))
            .await
            .expect(200);
        act(
            "await-customer",
            agent.clone(),
            json!({"reason": "awaiting_customer"}),
        )
        .await
        .expect(200);
        let paused = app
            .get(&format!("/v1/incidents/{id}"), &customer)
            .await
            .expect(200);
        assert_eq!(paused["detailed_status"], "awaiting_customer");
        assert_eq!(clock(&paused, "GTI")["verdict"], "met", "{paused:#}");
        assert_eq!(clock(&paused, "GTR")["state"], "paused");
        act("customer-response", customer.clone(), json!({}))
            .await
            .expect(200);
        act(
            "diagnosis",
            agent.clone(),
            json!({"text": "A storage controller failed"}),
        )
        .await
        .expect(200);
        act(
            "comments",
            customer.clone(),
            json!({"text": "Thanks, waiting for news"}),
        )
        .await
        .expect(200);
        act(
            "restore",
            agent.clone(),
            json!({"text": "Controller replaced"}),
        )
        .await
        .expect(200);
        let restored = app
            .get(&format!("/v1/incidents/{id}"), &customer)
            .await
            .expect(200);
        assert_eq!(restored["detailed_status"], "restored");
        assert_eq!(restored["portal_status"], "completed");
        assert_eq!(clock(&restored, "GTR")["verdict"], "met");
        assert_eq!(clock(&restored, "GTD")["verdict"], "met");

        act(
            "reopen",
            customer.clone(),
            json!({"text": "It failed again"}),
        )
        .await
        .expect(200);
        let reopened = app
            .get(&format!("/v1/incidents/{id}"), &customer)
            .await
            .expect(200);
        assert_eq!(clock(&reopened, "GTR")["state"], "running", "{reopened:#}");
        act(
            "restore",
            agent.clone(),
            json!({"text": "Second controller replaced"}),
        )
        .await
        .expect(200);
        act("close", customer.clone(), json!({})).await.expect(200);
        // A closed incident cannot be restored again: 409, nothing written.
        let head = app.log_head().await;
        act("restore", agent.clone(), json!({"text": "again"}))
            .await
            .problem(409);
        assert_eq!(app.log_head().await, head);

        let history = app
            .get(&format!("/v1/requests/{id}/history"), &agent)
            .await
            .expect(200);
        let history = history.as_array().unwrap();
        let types: Vec<&str> = history
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types.first(),
            Some(&"IncidentOpened"),
            "{backend}: {types:?}"
        );
        assert_eq!(types.last(), Some(&"IncidentClosed"), "{types:?}");
        assert_eq!(history[0]["actor"], "jean.dupont");
        assert_eq!(history[0]["actor_role"], "customer");
        assert_eq!(history[0]["channel"], "portal");
        assert_eq!(history[1]["channel"], "api");
        assert_eq!(history[0]["request_id"], "portal-req-0001");
        assert_eq!(history[1]["actor"], "agent.martin");
        assert_eq!(history[1]["actor_role"], "agent");

        let explained = app
            .get(&format!("/v1/requests/{id}/clocks/GTR"), &customer)
            .await
            .expect(200);
        assert_eq!(explained["verdict"], "met");
        let transitions: Vec<&str> = explained["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            transitions,
            ["start", "pause", "resume", "stop", "reopen", "stop"],
            "{backend}: {explained:#}"
        );
        assert_eq!(explained["transitions"][1]["reason"], "awaiting_customer");
        app
    })
    .await;
}

#[tokio::test]
async fn a_change_is_quoted_accepted_and_warns_of_other_changes_on_its_asset() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000200", "Silver", "claire.moreau").await;
        let customer = app.token("claire.moreau", "customer").await;
        let agent = app.token("agent.martin", "agent").await;

        let upload = app
            .client
            .post(format!("{}/v1/attachments?contract_id=OCB0000200&name=plan.pdf", app.base))
            .bearer_auth(&customer)
            .header("content-type", "application/pdf")
            .body(b"%PDF-1.7 migration plan".to_vec())
            .send()
            .await
            .unwrap();
        let file = TestApp::read(upload).await.expect(201);
        assert_eq!(file["size_bytes"], 23);
        assert_eq!(file["sha256"].as_str().unwrap().len(), 64);

        let form = json!({
            "asset": "vm-web-01",
            "catalogue": "Catalogue de Changement Standard",
            "category": "Quotas",
            "article": "Modifier mes quotas",
            "lead_time": "standard",
            "customer_reference": "REF-42",
            "attachments": [file],
            "comment": "Double the vCPU quota"
        });
        let first = app
            .post("/v1/changes", &customer, json!({"contract_id": "OCB0000200", "form": form}))
            .await
            .expect(201);
        let first_id = first["id"].as_str().unwrap().to_owned();
        assert_eq!(first["events"][0]["event_type"], "ChangeSubmitted", "{backend}");
        assert!(first.get("warnings").is_none(), "{first:#}");

        let download = app
            .client
            .get(format!(
                "{}/v1/changes/{first_id}/attachments/{}",
                app.base,
                file["sha256"].as_str().unwrap()
            ))
            .bearer_auth(&customer)
            .send()
            .await
            .unwrap();
        assert_eq!(download.status(), 200);
        assert_eq!(download.headers()["content-type"], "application/pdf");
        assert_eq!(download.bytes().await.unwrap().as_ref(), b"%PDF-1.7 migration plan");

        // A second change on the same asset: accepted, with the warning naming the first.
        let study = json!({
            "asset": "vm-web-01",
            "catalogue": "OCB - FE: Autres Demandes",
            "category": "Autres Demandes",
            "article": "Faire une demande sur étude",
            "lead_time": "standard"
        });
        let second = app
            .post("/v1/changes", &customer, json!({"contract_id": "OCB0000200", "form": study}))
            .await
            .expect(201);
        let second_id = second["id"].as_str().unwrap().to_owned();
        let warning = second["warnings"][0].as_str().expect("a same-asset warning");
        assert!(warning.contains(&first_id), "{warning}");

        // A study article cannot start before its quote is accepted.
        app.post(&format!("/v1/changes/{second_id}/start"), &agent, json!({})).await.problem(409);
        app.post(&format!("/v1/changes/{second_id}/quote"), &agent, json!({"amount_cents": 120000}))
            .await
            .expect(200);
        let quoted = app.get(&format!("/v1/changes/{second_id}"), &customer).await.expect(200);
        assert_eq!(quoted["detailed_status"], "quoted", "{quoted:#}");
        app.post(&format!("/v1/changes/{second_id}/accept-quote"), &customer, json!({}))
            .await
            .expect(200);
        app.post(&format!("/v1/changes/{second_id}/start"), &agent, json!({})).await.expect(200);
        app.post(&format!("/v1/changes/{second_id}/complete"), &agent, json!({"note": "done"}))
            .await
            .expect(200);
        let done = app.get(&format!("/v1/changes/{second_id}"), &customer).await.expect(200);
        assert_eq!(done["detailed_status"], "completed");
        assert_eq!(done["portal_status"], "completed");
        assert_eq!(clock(&done, "delivery")["state"], "stopped", "{done:#}");

        // A draft, edited, then submitted.
        let draft = app
            .post(
                "/v1/changes",
                &customer,
                json!({"contract_id": "OCB0000200", "submit": false, "form": {"asset": "vm-db-01"}}),
            )
            .await
            .expect(201);
        let draft_id = draft["id"].as_str().unwrap().to_owned();
        app.post(&format!("/v1/changes/{draft_id}/submit"), &customer, json!({}))
            .await
            .problem(422);
        app.put(
            &format!("/v1/changes/{draft_id}/draft"),
            &customer,
            json!({"asset": "vm-db-01", "catalogue": "Gérer mes licences RDS",
                   "category": "Licences RDS", "article": "Ajouter des licences RDS",
                   "lead_time": "urgent"}),
        )
        .await
        .expect(200);
        app.post(&format!("/v1/changes/{draft_id}/submit"), &customer, json!({}))
            .await
            .expect(200);
        app
    })
    .await;
}

#[tokio::test]
async fn an_order_gets_its_reference_and_walks_its_statuses() {
    on_every_backend(|app| async move {
        app.contract("OCB0000301", "Bronze", "paul.durand").await;
        let customer = app.token("paul.durand", "customer").await;
        let agent = app.token("agent.martin", "agent").await;
        let contact = json!({
            "civility": "mr", "last_name": "Durand", "first_name": "Paul",
            "email": "paul@acme.example", "mobile": "+33 6 12 34 56 78"
        });
        let placed = app
            .post(
                "/v1/orders",
                &customer,
                json!({"contract_id": "OCB0000301", "item": "pack-expert-4h", "contact": contact}),
            )
            .await
            .expect(201);
        let id = placed["id"].as_str().unwrap().to_owned();
        let order = app.get(&format!("/v1/orders/{id}"), &customer).await.expect(200);
        let reference = order["reference"].as_str().expect("an assigned reference");
        let month = Utc::now().format("%y%m").to_string();
        assert!(
            reference.starts_with(&format!("FCA0301-{month}-")),
            "{}: {reference}",
            app.backend()
        );
        assert_eq!(order["detailed_status"], "transmitted");
        app.post(&format!("/v1/orders/{id}/start"), &agent, json!({})).await.expect(200);
        app.post(&format!("/v1/orders/{id}/complete"), &agent, json!({})).await.expect(200);
        let done = app.get(&format!("/v1/orders/{id}"), &customer).await.expect(200);
        assert_eq!(done["detailed_status"], "completed");

        // An item sold on quote needs the customer's acceptance before work starts.
        let on_quote = app
            .post(
                "/v1/orders",
                &customer,
                json!({"contract_id": "OCB0000301", "item": "prestation-migration", "contact": contact}),
            )
            .await
            .expect(201);
        let quote_id = on_quote["id"].as_str().unwrap().to_owned();
        app.post(&format!("/v1/orders/{quote_id}/start"), &agent, json!({})).await.problem(409);
        app.post(&format!("/v1/orders/{quote_id}/quote"), &agent, json!({"amount_cents": 250000}))
            .await
            .expect(200);
        app.post(&format!("/v1/orders/{quote_id}/accept-quote"), &customer, json!({}))
            .await
            .expect(200);
        app.post(&format!("/v1/orders/{quote_id}/cancel"), &agent, json!({"reason": "customer withdrew"}))
            .await
            .expect(200);
        let listed = app
            .get("/v1/requests?kind=order&contract_id=OCB0000301", &customer)
            .await
            .expect(200);
        assert_eq!(listed["requests"].as_array().unwrap().len(), 2, "{listed:#}");
        app
    })
    .await;
}

fn first_of_next_month(now: DateTime<Utc>) -> String {
    let next = now.date_naive().with_day(1).unwrap() + Months::new(1);
    next.format("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn upgrades_bill_from_next_month_and_downgrades_take_effect_next_month() {
    on_every_backend(|app| async move {
        app.contract("OCB0000402", "Standard", "sophie.bernard").await;
        let customer = app.token("sophie.bernard", "customer").await;
        let agent = app.token("agent.martin", "agent").await;
        app.post("/v1/contracts/OCB0000402/upgrade", &customer, json!({"to": "Silver"}))
            .await
            .expect(200);
        // Only upward: 422 naming `to`.
        let refused = app
            .post("/v1/contracts/OCB0000402/upgrade", &customer, json!({"to": "Bronze"}))
            .await
            .problem(422);
        assert_eq!(refused["field"], "to");
        // Customers ask Support to downgrade; staff do it.
        app.post("/v1/contracts/OCB0000402/downgrade", &customer, json!({"to": "Bronze"}))
            .await
            .problem(403);
        app.post("/v1/contracts/OCB0000402/downgrade", &agent, json!({"to": "Bronze"}))
            .await
            .expect(200);

        let contract = app.get("/v1/contracts/OCB0000402", &customer).await.expect(200);
        let tiers: Vec<(&str, &str)> = contract["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["tier"].as_str().unwrap(), t["billing_effective_on"].as_str().unwrap()))
            .collect();
        let next = first_of_next_month(Utc::now());
        assert_eq!(tiers.len(), 3, "{}: {contract:#}", app.backend());
        assert_eq!(tiers[1], ("Silver", next.as_str()));
        assert_eq!(tiers[2], ("Bronze", next.as_str()));

        // This month is billed Standard; an incident opened now is pinned to Silver.
        let month = Utc::now().format("%Y-%m").to_string();
        let bill = app
            .get(&format!("/v1/contracts/OCB0000402/billing/{month}"), &customer)
            .await
            .expect(200);
        assert_eq!(bill["tiers"][0]["tier"], "Standard", "{bill:#}");
        assert_eq!(bill["amounts_shown"], true);
        let incident = app
            .post(
                "/v1/incidents",
                &customer,
                json!({"contract_id": "OCB0000402", "priority": "P2", "title": "Slow", "description": "Latency"}),
            )
            .await
            .expect(201);
        let detail = app
            .get(&format!("/v1/incidents/{}", incident["id"].as_str().unwrap()), &customer)
            .await
            .expect(200);
        assert_eq!(clock(&detail, "GTR")["tier"], "Silver", "{detail:#}");

        app.post(
            "/v1/contracts/OCB0000402/expert-time",
            &agent,
            json!({"performed_on": Utc::now().format("%Y-%m-%d").to_string(), "minutes": 90}),
        )
        .await
        .expect(200);
        let bill = app
            .get(&format!("/v1/contracts/OCB0000402/billing/{month}"), &customer)
            .await
            .expect(200);
        assert_eq!(bill["expert_minutes_used"], 90, "{bill:#}");
        app
    })
    .await;
}
