//! The clock view fed with events the aggregates really produce, compared with values
//! worked out by hand from DOMAIN.md's default policy.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use sablier_domain::incident::{Incident, IncidentCommand, PauseReason};
use sablier_domain::testing::{TestServices, contract_id, utc};
use sablier_domain::text::{FreeText, Login, Title};
use sablier_domain::{Actor, ActorRole, Authored, IncidentId};
use sablier_sla::{Priority, Verdict};

use super::{ClocksAfterEach, SlaClocks};
use crate::event::DomainEvent;
use crate::testing::{feed, feed_events};

/// Runs `steps` (instant, actor role, command) against one incident and returns its events.
async fn incident_events(
    id: &IncidentId,
    steps: Vec<(DateTime<Utc>, ActorRole, IncidentCommand)>,
) -> Vec<(String, DomainEvent)> {
    let services = TestServices::at(steps[0].0);
    let mut incident = Incident::default();
    let mut events = Vec::new();
    for (at, role, command) in steps {
        services.clock.set(at);
        let login = if role == ActorRole::Customer {
            "jean.dupont"
        } else {
            "agent.martin"
        };
        let sink = EventSink::default();
        incident
            .handle(
                Authored::new(Actor::new(Login::parse(login).unwrap(), role), command),
                &services.services,
                &sink,
            )
            .await
            .expect("the command is accepted");
        events.extend(
            sink.collect()
                .await
                .into_iter()
                .map(|e| (id.to_string(), DomainEvent::Incident(e))),
        );
    }
    events
}

fn open(id: &IncidentId, priority: Priority) -> IncidentCommand {
    IncidentCommand::Open {
        incident_id: id.clone(),
        contract_id: contract_id(),
        priority,
        title: Title::parse("VMs down").unwrap(),
        description: FreeText::parse("All of them").unwrap(),
    }
}

fn text(value: &str) -> FreeText {
    FreeText::parse(value).unwrap()
}

#[tokio::test]
async fn a_gold_p1_walked_to_restoration_meets_every_clock() {
    let id = IncidentId::generate();
    // Friday 2026-03-27, Gold P1: GTI 15 min, GTD 2 h, GTR 4 h, all 24x7.
    let events = incident_events(
        &id,
        vec![
            (
                utc(2026, 3, 27, 8, 0, 0),
                ActorRole::Customer,
                open(&id, Priority::P1),
            ),
            (
                utc(2026, 3, 27, 8, 10, 0),
                ActorRole::Agent,
                IncidentCommand::StartIntervention,
            ),
            (
                utc(2026, 3, 27, 8, 30, 0),
                ActorRole::Agent,
                IncidentCommand::AwaitCustomer {
                    reason: PauseReason::awaiting_customer(),
                },
            ),
            (
                utc(2026, 3, 27, 9, 0, 0),
                ActorRole::Customer,
                IncidentCommand::RecordCustomerResponse,
            ),
            (
                utc(2026, 3, 27, 9, 30, 0),
                ActorRole::Agent,
                IncidentCommand::ShareDiagnosis {
                    diagnosis: text("disk"),
                },
            ),
            (
                utc(2026, 3, 27, 11, 0, 0),
                ActorRole::Agent,
                IncidentCommand::Restore {
                    resolution: text("fixed"),
                },
            ),
        ],
    )
    .await;
    let (_db, reader) = feed(&SlaClocks, events).await.unwrap();
    let clocks = SlaClocks::for_request(&reader, id.as_str()).await.unwrap();
    assert_eq!(
        clocks.iter().map(|c| c.metric.as_str()).collect::<Vec<_>>(),
        ["GTD", "GTI", "GTR"]
    );
    for clock in &clocks {
        assert_eq!(clock.state, "stopped");
        assert_eq!(clock.tier.as_deref(), Some("Gold"));
        assert_eq!(clock.policy_version.as_deref(), Some("default-2026"));
        assert_eq!(
            clock.deadline, None,
            "a stopped clock is off the breach watch"
        );
    }
    let as_of = utc(2026, 3, 27, 12, 0, 0);
    let expected = [
        // GTD: 08:00–08:30 counted, paused 30 min, 09:00–09:30 counted = 3600 s of 7200.
        ("GTD", 3600, 7200),
        // GTI: 08:00–08:10 = 600 s of 900.
        ("GTI", 600, 900),
        // GTR: 08:00–08:30 + 09:00–11:00 = 9000 s of 14400.
        ("GTR", 9000, 14400),
    ];
    for (clock, (metric, counted, target)) in clocks.iter().zip(expected) {
        let evaluation = clock.evaluate(as_of).unwrap();
        assert_eq!(
            (
                clock.metric.as_str(),
                evaluation.counted_seconds,
                evaluation.target_seconds
            ),
            (metric, counted, Some(target))
        );
        assert_eq!(evaluation.verdict, Verdict::Met, "{metric}");
    }
}

#[tokio::test]
async fn the_breach_watch_orders_running_clocks_by_deadline_and_flags_those_at_risk() {
    let first = IncidentId::generate();
    let second = IncidentId::generate();
    let mut events = incident_events(
        &first,
        vec![(
            utc(2026, 3, 27, 8, 0, 0),
            ActorRole::Customer,
            open(&first, Priority::P1),
        )],
    )
    .await;
    // Gold P2 at 08:05: GTI 30 min (deadline 08:35), GTD 4 h (12:05), GTR 8 h (16:05).
    events.extend(
        incident_events(
            &second,
            vec![(
                utc(2026, 3, 27, 8, 5, 0),
                ActorRole::Customer,
                open(&second, Priority::P2),
            )],
        )
        .await,
    );
    let (_db, reader) = feed(&SlaClocks, events).await.unwrap();

    // At 08:12 the first GTI (deadline 08:15) has used 720 s of 900 (80% ≥ 75%): at risk.
    let watch = SlaClocks::breach_watch(&reader, utc(2026, 3, 27, 8, 12, 0), None, 10)
        .await
        .unwrap();
    let order: Vec<(String, String, Option<String>)> = watch
        .next_breaches
        .iter()
        .map(|c| (c.request_id.clone(), c.metric.clone(), c.deadline.clone()))
        .collect();
    let row = |id: &IncidentId, metric: &str, deadline: &str| {
        (id.to_string(), metric.to_owned(), Some(deadline.to_owned()))
    };
    assert_eq!(
        order,
        vec![
            row(&first, "GTI", "2026-03-27T08:15:00Z"),
            row(&second, "GTI", "2026-03-27T08:35:00Z"),
            row(&first, "GTD", "2026-03-27T10:00:00Z"),
            row(&first, "GTR", "2026-03-27T12:00:00Z"),
            row(&second, "GTD", "2026-03-27T12:05:00Z"),
            row(&second, "GTR", "2026-03-27T16:05:00Z"),
        ]
    );
    // 75% of 900 s is 675 s: 08:11:15.
    assert_eq!(watch.at_risk.len(), 1);
    assert_eq!(
        watch.at_risk[0].at_risk_from.as_deref(),
        Some("2026-03-27T08:11:15Z")
    );

    let other_contract = SlaClocks::breach_watch(
        &reader,
        utc(2026, 3, 27, 8, 12, 0),
        Some(&["OCB9999999".to_owned()]),
        10,
    )
    .await
    .unwrap();
    assert!(other_contract.next_breaches.is_empty() && other_contract.at_risk.is_empty());
    let limited = SlaClocks::breach_watch(
        &reader,
        utc(2026, 3, 27, 8, 12, 0),
        Some(&[contract_id().to_string()]),
        2,
    )
    .await
    .unwrap();
    assert_eq!(limited.next_breaches.len(), 2);
}

#[tokio::test]
async fn a_priority_raised_while_paused_retargets_the_clocks_and_moves_them_to_the_new_calendar() {
    let id = IncidentId::generate();
    // Gold P3 at 08:00 Friday: GTR 16 h on business hours, GTD none.
    let events = incident_events(
        &id,
        vec![
            (
                utc(2026, 3, 27, 8, 0, 0),
                ActorRole::Customer,
                open(&id, Priority::P3),
            ),
            (
                utc(2026, 3, 27, 8, 30, 0),
                ActorRole::Agent,
                IncidentCommand::StartIntervention,
            ),
            (
                utc(2026, 3, 27, 9, 0, 0),
                ActorRole::Agent,
                IncidentCommand::AwaitCustomer {
                    reason: PauseReason::awaiting_customer(),
                },
            ),
            // Raised to P1 while paused: GTR target becomes 4 h, and the clock moves to the
            // P1 cell's calendar (24x7 in the default policy).
            (
                utc(2026, 3, 27, 9, 30, 0),
                ActorRole::Agent,
                IncidentCommand::ChangePriority {
                    to: Priority::P1,
                    reason: text("escalated"),
                },
            ),
            (
                utc(2026, 3, 27, 16, 0, 0),
                ActorRole::Customer,
                IncidentCommand::RecordCustomerResponse,
            ),
        ],
    )
    .await;
    let until_paused = events[..4].to_vec();
    let (_db, reader) = feed(&SlaClocks, until_paused).await.unwrap();
    let clocks = SlaClocks::for_request(&reader, id.as_str()).await.unwrap();
    let gtr = clocks.iter().find(|c| c.metric == "GTR").unwrap();
    assert_eq!(gtr.priority.as_deref(), Some("P1"));
    assert_eq!(gtr.target_seconds, Some(4 * 3600));
    assert_eq!(gtr.initial_target_seconds, Some(16 * 3600));
    assert_eq!(gtr.state, "paused");
    assert_eq!(
        gtr.deadline, None,
        "a paused clock has no deadline on the watch"
    );
    let gtd = clocks.iter().find(|c| c.metric == "GTD").unwrap();
    // GTD had no commitment at P3 but counts all the same, and pauses with GTR; at P1 its
    // target becomes 2 h. Counted: 08:00–09:00 on 24x7 = 3600 s.
    assert_eq!(gtd.state, "paused");
    assert_eq!(gtd.target_seconds, Some(2 * 3600));
    let evaluation = gtd.evaluate(utc(2026, 3, 27, 9, 30, 0)).unwrap();
    assert_eq!(evaluation.counted_seconds, 3600);
    assert_eq!(evaluation.remaining_seconds, Some(3600));

    // The customer answers Friday 16:00 UTC (17:00 Paris). GTR counted 09:00–10:00 Paris on
    // business hours (3,600 s) and now counts on 24x7: 3 h left, due 19:00 UTC. Had it kept
    // business hours, it would be due Monday 30 March 11:00 Paris (09:00 UTC).
    let (_db, reader) = feed(&SlaClocks, events).await.unwrap();
    let clocks = SlaClocks::for_request(&reader, id.as_str()).await.unwrap();
    let gtr = clocks.iter().find(|c| c.metric == "GTR").unwrap();
    assert_eq!(gtr.state, "running");
    assert_eq!(gtr.deadline.as_deref(), Some("2026-03-27T19:00:00Z"));
    let evaluation = gtr.evaluate(utc(2026, 3, 27, 18, 0, 0)).unwrap();
    assert_eq!(evaluation.counted_seconds, 3600 + 2 * 3600);
}

#[tokio::test]
async fn clocks_after_each_event_tell_apart_events_of_the_same_second() {
    let id = IncidentId::generate();
    let second = utc(2026, 3, 27, 8, 0, 0);
    let events = incident_events(
        &id,
        vec![
            (second, ActorRole::Customer, open(&id, Priority::P1)),
            (second, ActorRole::Agent, IncidentCommand::StartIntervention),
            (
                second,
                ActorRole::Agent,
                IncidentCommand::AwaitCustomer {
                    reason: PauseReason::awaiting_customer(),
                },
            ),
        ],
    )
    .await;
    let mut after_each = ClocksAfterEach::default();
    let mut states = Vec::new();
    for event in feed_events(events.clone()) {
        after_each.apply(&event).unwrap();
        let rows = after_each.rows().unwrap();
        states.push(
            rows.iter()
                .map(|row| {
                    let figures = row.figures(event.at).unwrap().unwrap();
                    (row.metric.clone(), figures.state.as_str(), figures.verdict)
                })
                .collect::<Vec<_>>(),
        );
    }
    let clock = |metric: &str, state, verdict| (metric.to_owned(), state, verdict);
    assert_eq!(
        states,
        [
            vec![
                clock("GTD", "running", Verdict::Running),
                clock("GTI", "running", Verdict::Running),
                clock("GTR", "running", Verdict::Running),
            ],
            vec![
                clock("GTD", "running", Verdict::Running),
                clock("GTI", "stopped", Verdict::Met),
                clock("GTR", "running", Verdict::Running),
            ],
            vec![
                clock("GTD", "paused", Verdict::Paused),
                clock("GTI", "stopped", Verdict::Met),
                clock("GTR", "paused", Verdict::Paused),
            ],
        ]
    );
    // After the last event, the same clocks as the view, column for column.
    let (_db, reader) = feed(&SlaClocks, events).await.unwrap();
    assert_eq!(
        after_each.rows().unwrap(),
        SlaClocks::for_request(&reader, id.as_str()).await.unwrap()
    );
}

#[tokio::test]
async fn reset_empties_the_view() {
    let id = IncidentId::generate();
    let events = incident_events(
        &id,
        vec![(
            utc(2026, 3, 27, 8, 0, 0),
            ActorRole::Customer,
            open(&id, Priority::P2),
        )],
    )
    .await;
    let (db, reader) = feed(&SlaClocks, events).await.unwrap();
    assert_eq!(
        SlaClocks::for_request(&reader, id.as_str())
            .await
            .unwrap()
            .len(),
        3
    );
    let mut tx = crate::sql::begin(&db.database).await.unwrap();
    crate::projection::Projection::reset(&SlaClocks, &mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        SlaClocks::for_request(&reader, id.as_str())
            .await
            .unwrap()
            .is_empty()
    );
}
