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

/// docs/domain.md "What each step does to the clocks": a pause carries a reason code and
/// an actor. The explanation's paused
/// interval names both, over HTTP and in `sablier-replay explain` (JSON and text).
#[tokio::test]
async fn issue_20_a_paused_interval_names_who_paused_the_clock() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000621", "Gold", "paula.pause").await;
        let customer = app.token("paula.pause", "customer").await;
        let agent = app.token("agent.martin", "agent").await;
        let opened = app
            .post(
                "/v1/incidents",
                &customer,
                json!({"contract_id": "OCB0000621", "priority": "P1", "title": "Down",
                       "description": "Nothing answers"}),
            )
            .await
            .expect(201);
        let id = opened["id"].as_str().unwrap().to_owned();
        app.post(
            &format!("/v1/incidents/{id}/start-intervention"),
            &agent,
            json!({}),
        )
        .await
        .expect(200);
        app.post(
            &format!("/v1/incidents/{id}/await-customer"),
            &agent,
            json!({"reason": "awaiting_customer"}),
        )
        .await
        .expect(200);
        let later = (chrono::Utc::now() + chrono::Duration::minutes(5))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let explained = app
            .get(
                &format!("/v1/requests/{id}/clocks/GTR?as_of={later}"),
                &customer,
            )
            .await
            .expect(200);
        let paused: Vec<&Value> = explained["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|interval| interval["kind"] == "paused")
            .collect();
        assert_eq!(paused.len(), 1, "{backend}: {explained:#}");
        assert_eq!(paused[0]["detail"], "awaiting_customer");
        assert_eq!(
            paused[0]["actor"], "agent.martin",
            "{backend}: {explained:#}"
        );

        let json_lines = run_on(
            &app.db,
            "sablier-replay",
            args(&[
                "explain", &id, "--metric", "GTR", "--as-of", &later, "--json",
            ]),
        )
        .await;
        assert_eq!(
            json_lines.status.code(),
            Some(0),
            "{backend}: {json_lines:?}"
        );
        let line: Value = serde_json::from_slice(&json_lines.stdout).unwrap();
        let paused = line["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|interval| interval["kind"] == "paused")
            .unwrap_or_else(|| panic!("{backend}: no pause in {line:#}"));
        assert_eq!(paused["actor"], "agent.martin", "{backend}: {line:#}");
        let text = run_on(
            &app.db,
            "sablier-replay",
            args(&["explain", &id, "--metric", "GTR", "--as-of", &later]),
        )
        .await;
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(
            text.contains("paused (awaiting_customer, by agent.martin)"),
            "{backend}: {text}"
        );
        app
    })
    .await;
}

/// docs/domain.md "Submission": each contract has free changes per calendar month (5 by
/// default); a change submitted beyond them is marked billable at submission, with its
/// catalogue price. The submission's answer says so (whether submitted at once or from a
/// draft), and so does the change's detail.
#[tokio::test]
async fn issue_20_a_change_beyond_the_free_quota_says_it_is_billable_with_its_price() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000622", "Silver", "berthe.billable").await;
        let customer = app.token("berthe.billable", "customer").await;
        let form = |article: &str, category: &str| {
            json!({"asset": "vm-1", "catalogue": "Catalogue de Changement Standard",
                   "category": category, "article": article, "lead_time": "standard"})
        };
        let mut free = Vec::new();
        for rank in 1..=5 {
            let answer = app
                .post(
                    "/v1/changes",
                    &customer,
                    json!({"contract_id": "OCB0000622", "form": form("Modifier mes quotas", "Quotas")}),
                )
                .await
                .expect(201);
            assert_eq!(answer["billing"]["billable"], false, "{backend}: {answer:#}");
            assert_eq!(answer["billing"]["rank_in_month"], rank, "{backend}: {answer:#}");
            assert!(answer["billing"]["price_cents"].is_null(), "{answer:#}");
            free.push(answer["id"].as_str().unwrap().to_owned());
        }
        // The sixth, saved as a draft first: its submission answers billable, 150 €.
        let draft = app
            .post(
                "/v1/changes",
                &customer,
                json!({"contract_id": "OCB0000622", "submit": false,
                       "form": form("Faire une autre demande", "Autres Demandes")}),
            )
            .await
            .expect(201);
        assert!(draft.get("billing").is_none(), "a draft is not billed: {draft:#}");
        let sixth = draft["id"].as_str().unwrap().to_owned();
        let submitted = app
            .post(&format!("/v1/changes/{sixth}/submit"), &customer, json!({}))
            .await
            .expect(200);
        let billing = &submitted["billing"];
        assert_eq!(billing["billable"], true, "{backend}: {submitted:#}");
        assert_eq!(billing["price_cents"], 15_000, "{backend}: {submitted:#}");
        assert_eq!(billing["rank_in_month"], 6);

        let detail = app
            .get(&format!("/v1/changes/{sixth}"), &customer)
            .await
            .expect(200);
        assert_eq!(detail["billing"]["billable"], true, "{backend}: {detail:#}");
        assert_eq!(detail["billing"]["price_cents"], 15_000, "{backend}: {detail:#}");
        assert_eq!(detail["billing"]["month"], billing["month"]);
        let first = app
            .get(&format!("/v1/changes/{}", free[0]), &customer)
            .await
            .expect(200);
        assert_eq!(first["billing"]["billable"], false, "{backend}: {first:#}");
        assert!(first["billing"]["price_cents"].is_null(), "{first:#}");
        app
    })
    .await;
}

/// Seed 000's "Enregistrer en brouillon": the author, and the Services managers of the
/// contract, find their drafts in the request list, open them and go on (save again,
/// submit); anyone else (a visitor or a user without role on Services, another contract's
/// customer, staff) is told the draft does not exist.
#[tokio::test]
async fn issue_20_a_saved_draft_reads_back_for_its_author_and_the_services_managers_only() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000623", "Gold", "rita.referent").await;
        app.contract("OCB0000624", "Gold", "otto.outsider").await;
        let referent = app.token("rita.referent", "customer").await;
        let roles = |services: &str| {
            json!({"contract": "none", "dashboard": "none", "services": services,
                   "invoices": "none", "support": "visitor", "users": "none"})
        };
        for (login, services) in [
            ("carl.comanager", "manager"),
            ("vera.visitor", "visitor"),
            ("nora.noservices", "none"),
        ] {
            app.post(
                "/v1/contracts/OCB0000623/users",
                &referent,
                json!({"login": login, "email": format!("{login}@acme.example"),
                       "first_name": "Test", "last_name": "User", "roles": roles(services)}),
            )
            .await
            .expect(200);
        }
        let author = app.token("carl.comanager", "customer").await;
        let visitor = app.token("vera.visitor", "customer").await;
        let no_services = app.token("nora.noservices", "customer").await;
        let outsider = app.token("otto.outsider", "customer").await;
        let agent = app.token("agent.martin", "agent").await;

        let saved = app
            .post(
                "/v1/changes",
                &author,
                json!({"contract_id": "OCB0000623", "submit": false,
                       "form": {"asset": "vm-db-01"}}),
            )
            .await
            .expect(201);
        let id = saved["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/changes/{id}");
        let detail = app.get(&path, &author).await.expect(200);
        assert_eq!(detail["detailed_status"], "draft", "{backend}: {detail:#}");
        assert_eq!(detail["portal_status"], "draft");
        assert_eq!(detail["created_by"], "carl.comanager");
        let listed = async |token: &str, query: &str| -> bool {
            let page = app
                .get(&format!("/v1/requests{query}"), token)
                .await
                .expect(200);
            page["requests"]
                .as_array()
                .unwrap()
                .iter()
                .any(|row| row["request_id"] == id.as_str())
        };
        assert!(listed(&author, "").await, "{backend}: the author's list");
        assert!(
            listed(&author, "?status=draft&kind=change").await,
            "{backend}"
        );
        assert!(
            listed(&referent, "?detailed_status=draft").await,
            "{backend}"
        );
        // Another Services manager goes on with it.
        app.put(
            &format!("/v1/changes/{id}/draft"),
            &referent,
            json!({"asset": "vm-db-02", "catalogue": "Gérer mes licences RDS",
                   "category": "Licences RDS", "article": "Ajouter des licences RDS"}),
        )
        .await
        .expect(200);
        let edited = app.get(&path, &author).await.expect(200);
        assert_eq!(
            edited["name"], "Ajouter des licences RDS",
            "{backend}: {edited:#}"
        );

        // Nobody else sees it: not in their list, 404 on it.
        for (who, token) in [
            ("a Services visitor", &visitor),
            ("a user without Services", &no_services),
            ("another contract's customer", &outsider),
            ("an agent", &agent),
            ("the admin", &app.admin),
        ] {
            app.get(&path, token).await.problem(404);
            app.get(&format!("/v1/requests/{id}/history"), token)
                .await
                .problem(404);
            assert!(!listed(token, "").await, "{backend}: {who} lists it");
        }
        let head = app.log_head().await;
        app.put(
            &format!("/v1/changes/{id}/draft"),
            &agent,
            json!({"asset": "x"}),
        )
        .await
        .problem(404);
        assert_eq!(
            app.log_head().await,
            head,
            "{backend}: a hidden draft is not edited"
        );

        // Its author no longer manages Services: still sees it, may not go on.
        app.put(
            "/v1/contracts/OCB0000623/users/carl.comanager/roles",
            &referent,
            json!({"roles": roles("visitor")}),
        )
        .await
        .expect(200);
        app.get(&path, &author).await.expect(200);
        app.put(
            &format!("/v1/changes/{id}/draft"),
            &author,
            json!({"asset": "vm-db-03"}),
        )
        .await
        .problem(403);

        // Submitted, it is a request like any other: a Services visitor reads it.
        app.put(
            &format!("/v1/changes/{id}/draft"),
            &referent,
            json!({"asset": "vm-db-02", "catalogue": "Gérer mes licences RDS",
                   "category": "Licences RDS", "article": "Ajouter des licences RDS",
                   "lead_time": "standard"}),
        )
        .await
        .expect(200);
        app.post(&format!("/v1/changes/{id}/submit"), &referent, json!({}))
            .await
            .expect(200);
        let submitted = app.get(&path, &visitor).await.expect(200);
        assert_eq!(
            submitted["detailed_status"], "submitted",
            "{backend}: {submitted:#}"
        );
        assert_eq!(submitted["created_by"], "rita.referent");
        assert!(listed(&visitor, "").await, "{backend}");
        app
    })
    .await;
}
