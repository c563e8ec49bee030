//! `sablier-replay timeline` when an incident's events share one second (issue 6): each
//! event shows the clocks as that event left them, not as the whole second did.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use sablier_domain::incident::{IncidentCommand, PauseReason};
use sablier_domain::text::{FreeText, Title};
use sablier_domain::{ActorRole, Authored, FixedClock, IncidentId};
use sablier_sla::Priority;
use sablier_store::testing::TestDatabase;
use serde_json::Value;

use crate::explain::{args, run_on};
use crate::workload::{Workload, actor};

#[tokio::test]
async fn the_timeline_tells_apart_events_of_the_same_second() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let second = Utc.with_ymd_and_hms(2026, 3, 27, 8, 0, 0).unwrap();
        let workload =
            Workload::start_with_clock(&db.database, Arc::new(FixedClock::at(second))).await;
        let (customer, customer_context) = actor("jean.dupont", ActorRole::Customer);
        let (agent, agent_context) = actor("agent.martin", ActorRole::Agent);
        let id = IncidentId::generate();
        let await_customer = || IncidentCommand::AwaitCustomer {
            reason: PauseReason::awaiting_customer(),
        };
        let steps = [
            (
                &customer,
                IncidentCommand::Open {
                    incident_id: id.clone(),
                    contract_id: workload.contract(0),
                    priority: Priority::P1,
                    title: Title::parse("VMs down").unwrap(),
                    description: FreeText::parse("All of them").unwrap(),
                },
            ),
            (&agent, IncidentCommand::StartIntervention),
            (&agent, await_customer()),
            (&customer, IncidentCommand::RecordCustomerResponse),
            (&agent, await_customer()),
        ];
        for (by, command) in steps {
            let context = if by.role == ActorRole::Customer {
                &customer_context
            } else {
                &agent_context
            };
            workload
                .engine()
                .incidents
                .execute(id.as_str(), Authored::new(by.clone(), command), context)
                .await
                .unwrap();
        }
        let project = run_on(&db, "sablier", args(&["project", "--once"])).await;
        assert!(project.status.success(), "{backend}: {project:?}");

        let output = run_on(
            &db,
            "sablier-replay",
            args(&["timeline", id.as_str(), "--json"]),
        )
        .await;
        assert_eq!(output.status.code(), Some(0), "{backend}: {output:?}");
        let states: Vec<Vec<String>> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| {
                let step: Value = serde_json::from_str(line).unwrap();
                assert_eq!(step["at"], "2026-03-27T08:00:00Z", "{step}");
                step["clocks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|clock| {
                        let field = |name: &str| clock[name].as_str().unwrap().to_owned();
                        format!("{} {}", field("metric"), field("verdict"))
                    })
                    .collect()
            })
            .collect();
        let running = ["GTD running", "GTI running", "GTR running"];
        let met_and_running = ["GTD running", "GTI met", "GTR running"];
        let met_and_paused = ["GTD paused", "GTI met", "GTR paused"];
        assert_eq!(
            states,
            [
                running,
                met_and_running,
                met_and_paused,
                met_and_running,
                met_and_paused
            ],
            "{backend}: the clocks after each of the five events"
        );
        db.cleanup().await;
    }
}
