//! Issue 20: a database that already holds a quote of 2^63 cents (accepted and billed by a
//! server written before amounts were bounded) recovers. Billing follows the log and shows
//! the line without an amount, saying why; an administrator's audited quote correction
//! gives it the corrected amount; nobody else may correct a quote.

use serde_json::{Value, json};

use super::app::{TestApp, append_as_written_before, on_every_backend, place_order_on_quote};

const HUGE: u64 = 1 << 63;

/// The lines of the contract's bill for `month`, as `token` reads them.
async fn lines(app: &TestApp, contract: &str, month: &str, token: &str) -> Vec<Value> {
    let bill = app
        .get(&format!("/v1/contracts/{contract}/billing/{month}"), token)
        .await
        .expect(200);
    bill["lines"].as_array().unwrap().clone()
}

#[tokio::test]
async fn issue_20_a_quote_written_before_amounts_were_bounded_is_billed_once_an_administrator_corrects_it()
 {
    on_every_backend(|app| async move {
        let backend = app.backend();
        let contract = "OCB0000921";
        app.contract(contract, "Gold", "paul.durand").await;
        let customer = app.token("paul.durand", "customer").await;
        let agent = app.token("agent.martin", "agent").await;
        let (order, reference) = place_order_on_quote(&app, contract, &customer).await;
        let now = chrono::Utc::now();
        let at = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let month = now
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%Y-%m")
            .to_string();
        append_as_written_before(
            &app,
            "Order",
            &order,
            &[
                ("OrderQuoted", json!({"at": at, "reference": reference, "amount_cents": HUGE, "note": null})),
                ("OrderQuoteAccepted", json!({"at": at, "reference": reference, "amount_cents": HUGE})),
                ("OrderStarted", json!({"at": at, "reference": reference})),
                ("OrderCompleted", json!({"at": at, "reference": reference, "amount_cents": HUGE, "note": null})),
            ],
        )
        .await;

        // Billing follows the log: every view reaches its head, readiness says so, and
        // the bill answers.
        let head = app.log_head().await;
        let mut ready = Value::Null;
        for _ in 0..100 {
            ready = app
                .send(reqwest::Method::GET, "/readyz", None, None)
                .await
                .expect(200);
            if ready["views_reached"] == head {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(ready["views_reached"], head, "{backend}: {ready:#}");
        let billed = lines(&app, contract, &month, &customer).await;
        assert_eq!(billed.len(), 1, "{backend}: {billed:#?}");
        let line = &billed[0];
        assert_eq!(line["id"], order.as_str(), "{backend}: {line:#}");
        assert_eq!(line["amount_cents"], Value::Null, "{backend}: {line:#}");
        assert_eq!(
            line["written_amount_cents"], "9223372036854775808",
            "{backend}: {line:#}"
        );
        assert_eq!(
            line["amount_refused"],
            "the quoted 9223372036854775808 cents exceed the maximum of 100000000000 cents; \
             an administrator's quote correction is awaited",
            "{backend}: {line:#}"
        );

        // Only an administrator corrects a quote; the amount is bounded like a quote and
        // the reason is required. Nothing refused is written.
        let path = format!("/v1/orders/{order}/quote-correction");
        let correction = json!({"amount_cents": 480_000, "reason": "Devis saisi avant le plafonnement des montants."});
        let head = app.log_head().await;
        for token in [&agent, &customer] {
            let refused = app.post(&path, token, correction.clone()).await.problem(403);
            assert!(
                refused["detail"].as_str().unwrap().contains("correct a quote"),
                "{backend}: {refused:#}"
            );
        }
        for (body, field) in [
            (json!({"amount_cents": 100_000_000_001_u64, "reason": "Trop élevé."}), "amount_cents"),
            (json!({"amount_cents": 480_000, "reason": "   "}), "reason"),
        ] {
            let refused = app.post(&path, &app.admin, body).await.problem(422);
            assert_eq!(refused["field"], field, "{backend}: {refused:#}");
        }
        assert_eq!(app.log_head().await, head, "{backend}: a refused correction was written");

        // The administrator's correction gives the line its amount, after completion.
        let corrected = app.post(&path, &app.admin, correction).await.expect(200);
        assert_eq!(
            corrected["events"][0]["event_type"], "OrderQuoteCorrected",
            "{backend}: {corrected:#}"
        );
        let billed = lines(&app, contract, &month, &customer).await;
        let line = &billed[0];
        assert_eq!(line["amount_cents"], 480_000, "{backend}: {line:#}");
        assert!(line.get("written_amount_cents").is_none(), "{backend}: {line:#}");
        assert!(line.get("amount_refused").is_none(), "{backend}: {line:#}");
        // The same amount again is no correction.
        app.post(
            &path,
            &app.admin,
            json!({"amount_cents": 480_000, "reason": "Encore."}),
        )
        .await
        .problem(422);

        // The audit trail shows who corrected what, when, and why.
        let history = app
            .get(&format!("/v1/requests/{order}/history"), &customer)
            .await
            .expect(200);
        let entry = history
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["event_type"] == "OrderQuoteCorrected")
            .unwrap_or_else(|| panic!("{backend}: {history:#}"));
        assert_eq!(entry["actor_role"], "admin", "{backend}: {entry:#}");
        assert!(!entry["actor"].as_str().unwrap().is_empty(), "{backend}: {entry:#}");
        assert_eq!(
            entry["summary"],
            format!(
                "Quote of order {reference} corrected from 92233720368547758.08 € excl. tax \
                 to 4800.00 € excl. tax (order completed): Devis saisi avant le plafonnement \
                 des montants."
            ),
            "{backend}: {entry:#}"
        );

        // A rebuild of billing from the log gives the same rows.
        let output = std::process::Command::new(crate::cli::binary("sablier-replay"))
            .args(["rebuild"])
            .env("DATABASE_URL", &app.db.url)
            .env("RUST_LOG", "error")
            .output()
            .expect("the tool runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{backend}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        app
    })
    .await;
}

/// A change quote is corrected by an administrator only, and only once the change has a
/// quote: a change never quoted is refused with 409, and nothing is written.
#[tokio::test]
async fn issue_20_a_change_without_a_quote_has_none_to_correct() {
    on_every_backend(|app| async move {
        let backend = app.backend();
        app.contract("OCB0000922", "Gold", "paul.durand").await;
        let customer = app.token("paul.durand", "customer").await;
        let change = app
            .post(
                "/v1/changes",
                &customer,
                json!({"contract_id": "OCB0000922", "form": {
                    "asset": "vm-1", "catalogue": "Catalogue de Changement Standard",
                    "category": "Quotas", "article": "Modifier mes quotas", "lead_time": "standard"}}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/v1/changes/{change}/quote-correction");
        let body = json!({"amount_cents": 1_000, "reason": "Erreur de saisie."});
        let head = app.log_head().await;
        app.post(&path, &customer, body.clone()).await.problem(403);
        let refused = app.post(&path, &app.admin, body).await.problem(409);
        assert!(
            refused["detail"].as_str().unwrap().contains("no quote to correct"),
            "{backend}: {refused:#}"
        );
        assert_eq!(app.log_head().await, head, "{backend}");
        app
    })
    .await;
}
