//! `sablier-replay as-of T` (issue 6): a contract's request list, a request's clocks and a
//! month's billing rebuilt from the events up to T equal what the live views showed at T,
//! projected step by step while the log grew.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Europe::Paris;
use sablier_domain::YearMonth;
use sablier_projections::billing::Billing;
use sablier_projections::request_list::{PageLimit, RequestList, RequestQuery, SortOrder};
use sablier_projections::{Projector, ViewReader, catalogue};
use sablier_store::EventLog;
use sablier_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::export::{run_on_url, text};
use crate::workload::Workload;

/// What the live views showed at one instant.
struct Shown {
    at: String,
    month: String,
    requests: Vec<Value>,
    /// Request id → `explain --json --as-of T` output (and its exit code).
    clocks: Vec<(String, i32, String)>,
    billing: String,
}

/// The contract's requests, oldest first, in `as-of … requests --json`'s shape.
async fn live_requests(reader: &ViewReader, workload: &Workload) -> Vec<Value> {
    let mut query = RequestQuery::for_staff();
    query.contract = Some(workload.contract(0));
    query.sort = SortOrder::OldestFirst;
    query.limit = PageLimit::new(7).unwrap();
    let mut rows = Vec::new();
    loop {
        let page = RequestList::page(reader, &query).await.unwrap();
        for row in &page.rows {
            let instant = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            rows.push(json!({
                "request_id": row.request_id,
                "kind": row.kind.as_str(),
                "contract_id": row.contract_id.as_str(),
                "contract_name": row.contract_name,
                "name": row.name,
                "reference": row.reference,
                "created_at": instant(row.created_at),
                "created_by": row.created_by,
                "created_on_behalf_of": row.created_on_behalf_of,
                "detailed_status": row.detailed_status,
                "portal_status": row.portal_status.as_str(),
                "last_update_at": instant(row.last_update_at),
                "last_position": row.last_position,
            }));
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return rows,
        }
    }
}

async fn incidents(reader: &ViewReader) -> Vec<String> {
    let rows: Vec<(String,)> = reader
        .fetch_all(
            "SELECT DISTINCT request_id FROM sla_clocks ORDER BY request_id",
            &[],
        )
        .await
        .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_equals_what_the_live_views_showed_then() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let mut workload = Workload::start(&db.database).await;
        let projector = Projector::new(EventLog::new(db.database.clone()), catalogue::all());
        let reader = ViewReader::new(db.database.clone());
        let mut shown = Vec::new();
        for _step in 0..4 {
            for _ in 0..3 {
                workload.burst().await;
            }
            projector.catch_up().await.unwrap();
            // T: this step's last second; the next step starts in the second after it.
            let at = Utc::now().trunc_subsecs(0);
            let month = YearMonth::containing(at, Paris).to_string();
            let mut clocks = Vec::new();
            for incident in incidents(&reader).await {
                let at_text = at.to_rfc3339();
                let output = run_on_url(
                    &db.url,
                    "sablier-replay",
                    &["explain", &incident, "--json", "--as-of", &at_text],
                )
                .await;
                clocks.push((
                    incident,
                    output.status.code().unwrap(),
                    String::from_utf8(output.stdout).unwrap(),
                ));
            }
            let billing = Billing::month(&reader, &workload.contract(0), month.parse().unwrap())
                .await
                .unwrap()
                .expect("the contract is billed");
            shown.push(Shown {
                at: at.to_rfc3339(),
                month,
                requests: live_requests(&reader, &workload).await,
                clocks,
                billing: serde_json::to_string(&billing).unwrap(),
            });
            let next_second = (at + chrono::Duration::milliseconds(1_050)) - Utc::now();
            tokio::time::sleep(next_second.to_std().unwrap_or(Duration::ZERO)).await;
        }
        assert!(shown.first().unwrap().requests.len() < shown.last().unwrap().requests.len());

        let contract = workload.contract(0);
        for then in &shown {
            let output = run_on_url(
                &db.url,
                "sablier-replay",
                &[
                    "as-of",
                    &then.at,
                    "requests",
                    "--contract",
                    contract.as_str(),
                    "--json",
                ],
            )
            .await;
            assert_eq!(output.status.code(), Some(0), "{}", text(&output));
            let requests: Vec<Value> = String::from_utf8(output.stdout)
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            assert_eq!(
                requests, then.requests,
                "{backend}: requests as of {}",
                then.at
            );

            for (incident, code, explained) in &then.clocks {
                let output = run_on_url(
                    &db.url,
                    "sablier-replay",
                    &["as-of", &then.at, "clocks", incident, "--json"],
                )
                .await;
                assert_eq!(output.status.code(), Some(*code), "{}", text(&output));
                assert_eq!(
                    &String::from_utf8(output.stdout).unwrap(),
                    explained,
                    "{backend}: {incident}'s clocks as of {}",
                    then.at
                );
            }

            let output = run_on_url(
                &db.url,
                "sablier-replay",
                &[
                    "as-of",
                    &then.at,
                    "billing",
                    "--contract",
                    contract.as_str(),
                    "--month",
                    &then.month,
                ],
            )
            .await;
            assert_eq!(output.status.code(), Some(0), "{}", text(&output));
            assert_eq!(
                String::from_utf8(output.stdout).unwrap().trim_end(),
                then.billing,
                "{backend}: billing as of {}",
                then.at
            );
        }
        // Before the log began: nothing, said so.
        let output = run_on_url(
            &db.url,
            "sablier-replay",
            &[
                "as-of",
                "2000-01-01T00:00:00Z",
                "requests",
                "--contract",
                contract.as_str(),
            ],
        )
        .await;
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        db.cleanup().await;
    }
}
