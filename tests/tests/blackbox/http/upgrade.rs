//! Issue 20: databases written by the server as it stood before values were bounded at the
//! edge recover after the upgrade, with nothing edited. The fixtures were written by that
//! server itself (commit 7f1757b, through `scripts/old-database-fixture.sh`), on SQLite and
//! on PostgreSQL: the demonstration story, then an order quoted, accepted and completed at
//! 2^63 cents and an expert-time entry dated -0001-12-31, which stopped every view there.

use std::future::Future;
use std::path::Path;

use sablier_store::testing::TestDatabase;
use sablier_store::{EventLog, FeedFilter};
use serde_json::{Value, json};

use super::app::TestApp;

const SQLITE_FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/before-ranges.sqlite");
const POSTGRES_FIXTURE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/before-ranges.pg.sql");

/// Runs `scenario` on a server started on a copy of each fixture whose backend is enabled.
async fn on_every_old_database<F, Fut>(scenario: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = TestApp>,
{
    let mut databases = vec![TestDatabase::sqlite_copy_of(Path::new(SQLITE_FIXTURE)).await];
    databases.extend(TestDatabase::postgres_restored_from(Path::new(POSTGRES_FIXTURE)).await);
    for database in databases {
        let app = TestApp::spawn(database).await;
        let app = scenario(app).await;
        app.stop().await;
    }
}

/// The contract that got the expert time and the order quoted at 2^63 cents.
async fn old_story(app: &TestApp) -> (String, String) {
    let events = EventLog::new(app.db.database.clone())
        .read_after(0, &FeedFilter::all(), 1_000)
        .await
        .expect("the log reads");
    let aggregate_of = |event_type: &str| {
        events
            .iter()
            .find(|event| event.event_type == event_type)
            .unwrap_or_else(|| panic!("the fixture holds a {event_type}"))
            .aggregate_id
            .clone()
    };
    (
        aggregate_of("ExpertTimeLogged"),
        aggregate_of("OrderQuoted"),
    )
}

#[tokio::test]
async fn issue_20_databases_written_before_the_ranges_recover_after_the_upgrade() {
    on_every_old_database(|app| async move {
        let (contract, order) = old_story(&app).await;
        let customer = app.token("jean.dupont", "customer").await;
        let agent = app.token("ops.agent", "agent").await;
        let backend = app.backend();

        // The contract whose expert time was dated -0001-12-31 takes commands again.
        app.post(
            &format!("/v1/contracts/{contract}/expert-time"),
            &agent,
            json!({"performed_on": "2026-12-01", "minutes": 30}),
        )
        .await
        .expect(200);
        // An incident opened after the upgrade is found at once: the views follow the log.
        let opened = app
            .post(
                "/v1/incidents",
                &customer,
                json!({"contract_id": contract, "title": "VM down", "description": "The VM does not answer.", "priority": "P2"}),
            )
            .await
            .expect(201);
        app.get(&format!("/v1/incidents/{}", opened["id"].as_str().unwrap()), &customer)
            .await
            .expect(200);
        let done = app.get(&format!("/v1/orders/{order}"), &customer).await.expect(200);
        assert_eq!(done["detailed_status"], "completed", "{backend}: {done:#}");

        // Billing follows the log: the order's line keeps no amount, only the amount as
        // written and why, until an administrator corrects the quote.
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let billing = format!("/v1/contracts/{contract}/billing/{month}");
        let bill = app.get(&billing, &app.admin).await.expect(200);
        let line = order_line(&bill, &order);
        assert_eq!(line["amount_cents"], Value::Null, "{backend}: {line:#}");
        assert_eq!(line["written_amount_cents"], "9223372036854775808", "{backend}: {line:#}");
        assert!(line["amount_refused"].as_str().is_some_and(|why| why.contains("correction")), "{line:#}");
        let correction = json!({"amount_cents": 1_250_000, "reason": "Quote re-issued: 12,500.00 EUR for 40 VMs"});
        let correct = format!("/v1/orders/{order}/quote-correction");
        app.post(&correct, &agent, correction.clone()).await.problem(403);
        app.post(&correct, &customer, correction.clone()).await.problem(403);
        app.post(&correct, &app.admin, correction).await.expect(200);
        let bill = app.get(&billing, &app.admin).await.expect(200);
        let line = order_line(&bill, &order);
        assert_eq!(line["amount_cents"], 1_250_000, "{backend}: {line:#}");
        assert!(line.get("written_amount_cents").is_none(), "{backend}: {line:#}");
        assert!(line.get("amount_refused").is_none(), "{backend}: {line:#}");
        let history = app.get(&format!("/v1/requests/{order}/history"), &app.admin).await.expect(200);
        let text = history.to_string();
        assert!(text.contains("OrderQuoteCorrected") && text.contains("40 VMs") && text.contains("test.admin"), "{backend}: {history:#}");

        // Every view reached the head of the log.
        let ready = app.send(reqwest::Method::GET, "/readyz", None, None).await.expect(200);
        assert_eq!(ready["views_reached"], ready["log_head"], "{backend}: {ready:#}");

        // The tools agree: the log is intact and the views are what a rebuild gives.
        for (tool, args) in [
            ("sablier", vec!["project", "--once"]),
            ("sablier-replay", vec!["verify"]),
            ("sablier-replay", vec!["rebuild"]),
        ] {
            let output = std::process::Command::new(crate::cli::binary(tool))
                .args(&args)
                .env("DATABASE_URL", &app.db.url)
                .env("RUST_LOG", "error")
                .output()
                .expect("the tool runs");
            assert_eq!(
                output.status.code(),
                Some(0),
                "{backend}: {tool} {args:?}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        app
    })
    .await;
}

/// The bill's line for `order`.
fn order_line(bill: &Value, order: &str) -> Value {
    bill["lines"]
        .as_array()
        .and_then(|lines| lines.iter().find(|line| line["id"] == order))
        .unwrap_or_else(|| panic!("a line for {order}: {bill:#}"))
        .clone()
}
