//! The clock view fed with events the aggregates really produce, compared with values
//! worked out by hand from docs/domain.md ("Targets of `default-2026`", "Calendars",
//! "Change requests").

use sablier_domain::Cents;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use sablier_domain::change::{ArticleRef, Change, ChangeCommand, ChangeForm, LeadTime};
use sablier_domain::incident::{Incident, IncidentCommand, PauseReason};
use sablier_domain::services::{PolicyBook, StaticPolicyBook};
use sablier_domain::testing::{TestServices, contract_id, utc};
use sablier_domain::text::{AssetRef, FreeText, Login, Title};
use sablier_domain::{Actor, ActorRole, Authored, ChangeId, ContractId, IncidentId, Services};
use sablier_sla::policy::{DEFAULT_2026_TEXT, Policy};
use sablier_sla::{IntervalKind, Priority, Transition, Verdict};
use sablier_store::testing::TestDatabase;

use super::{AWAITING_QUOTE_ACCEPTANCE, ClockRow, Clocks, ClocksAfterEach, SlaClocks};
use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::projection::Projection;
use crate::request_list::{RequestKind, VisibleContract};
use crate::sql::{ViewReader, ViewTx, begin};
use crate::testing::{feed, feed_events};

/// Runs `steps` (instant, actor role, command) against one incident and returns its events.
async fn incident_events(
    id: &IncidentId,
    steps: Vec<(DateTime<Utc>, ActorRole, IncidentCommand)>,
) -> Vec<(String, DomainEvent)> {
    incident_events_under(Arc::new(StaticPolicyBook::default()), id, steps).await
}

/// [`incident_events`] with `policies` for the command side's policy book.
async fn incident_events_under(
    policies: Arc<dyn PolicyBook>,
    id: &IncidentId,
    steps: Vec<(DateTime<Utc>, ActorRole, IncidentCommand)>,
) -> Vec<(String, DomainEvent)> {
    let mut services = TestServices::at(steps[0].0);
    services.services.policies = policies;
    aggregate_events::<Incident, _>(services, id.as_str(), steps, DomainEvent::Incident).await
}

/// A command to a change, by an actor of that role, at that instant.
type ChangeStep = (DateTime<Utc>, ActorRole, ChangeCommand);

/// Runs `steps` against one change and returns its events.
async fn change_events(id: &ChangeId, steps: Vec<ChangeStep>) -> Vec<(String, DomainEvent)> {
    let services = TestServices::at(steps[0].0);
    aggregate_events::<Change, _>(services, id.as_str(), steps, DomainEvent::Change).await
}

/// Runs `steps` against a new aggregate `A` with id `id`, the clock set to each step's
/// instant, and returns its events as `wrap` makes them domain events.
async fn aggregate_events<A, C>(
    services: TestServices,
    id: &str,
    steps: Vec<(DateTime<Utc>, ActorRole, C)>,
    wrap: fn(A::Event) -> DomainEvent,
) -> Vec<(String, DomainEvent)>
where
    A: Aggregate<Command = Authored<C>, Services = Services>,
{
    let mut aggregate = A::default();
    let mut events = Vec::new();
    for (at, role, command) in steps {
        services.clock.set(at);
        let login = if role == ActorRole::Customer {
            "jean.dupont"
        } else {
            "agent.martin"
        };
        let sink = EventSink::default();
        aggregate
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
                .map(|event| (id.to_owned(), wrap(event))),
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
        Some(&[VisibleContract::every_kind(
            ContractId::parse("OCB9999999").unwrap(),
        )]),
        10,
    )
    .await
    .unwrap();
    assert!(other_contract.next_breaches.is_empty() && other_contract.at_risk.is_empty());
    let limited = SlaClocks::breach_watch(
        &reader,
        utc(2026, 3, 27, 8, 12, 0),
        Some(&[VisibleContract::every_kind(contract_id())]),
        2,
    )
    .await
    .unwrap();
    assert_eq!(limited.next_breaches.len(), 2);
}

/// A customer's breach watch holds an incident's clocks only where they read Support, and
/// a change's delivery clock only where they read Services.
#[tokio::test]
async fn the_breach_watch_shows_the_kinds_of_request_each_contract_lets_the_reader_see() {
    let incident = IncidentId::generate();
    let change = ChangeId::generate();
    let mut events = incident_events(
        &incident,
        vec![(
            monday(8, 0),
            ActorRole::Customer,
            open(&incident, Priority::P2),
        )],
    )
    .await;
    events.extend(
        change_events(
            &change,
            vec![(monday(8, 0), ActorRole::Customer, submit_study(&change))],
        )
        .await,
    );
    let (_db, reader) = feed(&SlaClocks, events).await.unwrap();
    let watched = async |kinds: Vec<RequestKind>| {
        let visible = [VisibleContract {
            contract: contract_id(),
            kinds,
        }];
        let watch = SlaClocks::breach_watch(&reader, monday(9, 0), Some(&visible), 10)
            .await
            .unwrap();
        let mut seen: Vec<(String, String)> = watch
            .next_breaches
            .iter()
            .map(|clock| (clock.request_id.clone(), clock.metric.clone()))
            .collect();
        seen.sort();
        seen
    };
    let incident_clocks = |metrics: &[&str]| -> Vec<(String, String)> {
        metrics
            .iter()
            .map(|metric| (incident.as_str().to_owned(), (*metric).to_owned()))
            .collect()
    };
    let delivery = (change.as_str().to_owned(), "delivery".to_owned());
    assert_eq!(
        watched(vec![RequestKind::Incident]).await,
        incident_clocks(&["GTD", "GTI", "GTR"])
    );
    assert_eq!(
        watched(vec![RequestKind::Change, RequestKind::Order]).await,
        vec![delivery.clone()]
    );
    let mut everything = incident_clocks(&["GTD", "GTI", "GTR"]);
    everything.push(delivery);
    everything.sort();
    assert_eq!(watched(RequestKind::ALL.to_vec()).await, everything);
    assert!(watched(Vec::new()).await.is_empty());
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

/// Policies with default-2026's targets, at risk at half the target (`half-2026`).
fn half_policies() -> Arc<dyn PolicyBook> {
    let text = DEFAULT_2026_TEXT
        .replace("version = \"default-2026\"", "version = \"half-2026\"")
        .replace("at_risk_ratio = 0.75", "at_risk_ratio = 0.5");
    Arc::new(StaticPolicyBook::new(vec![Policy::parse(&text).unwrap()]))
}

/// The clocks view with another policy book than the shipped one.
struct SlaClocksUnder(Arc<dyn PolicyBook>);

#[async_trait]
impl Projection for SlaClocksUnder {
    fn name(&self) -> &'static str {
        SlaClocks::NAME
    }

    async fn apply_batch(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        Clocks::apply_under(tx, events, self.0.clone()).await
    }

    fn tables(&self) -> &'static [&'static str] {
        SlaClocks.tables()
    }
}

/// Review finding: the clocks ignored their policy's at-risk ratio and used 75% whatever
/// the policy said.
#[tokio::test]
async fn a_clock_is_at_risk_at_the_ratio_of_its_pinned_policy() {
    let id = IncidentId::generate();
    // Gold P1 at 08:00 under a policy at risk at half the target: GTI 900 s is at risk
    // after 450 s (08:07:30), not 675 s (08:11:15) as under default-2026's 75%; GTD 2 h
    // after 1 h, GTR 4 h after 2 h.
    let events = incident_events_under(
        half_policies(),
        &id,
        vec![(
            utc(2026, 3, 27, 8, 0, 0),
            ActorRole::Customer,
            open(&id, Priority::P1),
        )],
    )
    .await;
    let (_db, reader) = feed(&SlaClocksUnder(half_policies()), events)
        .await
        .unwrap();
    let clocks = SlaClocks::for_request(&reader, id.as_str()).await.unwrap();
    let pinned: Vec<(&str, &str, i64, i64, Option<&str>)> = clocks
        .iter()
        .map(|clock| {
            (
                clock.metric.as_str(),
                clock.policy_version.as_deref().unwrap(),
                clock.at_risk_numerator,
                clock.at_risk_denominator,
                clock.at_risk_from.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        pinned,
        [
            ("GTD", "half-2026", 1, 2, Some("2026-03-27T09:00:00Z")),
            ("GTI", "half-2026", 1, 2, Some("2026-03-27T08:07:30Z")),
            ("GTR", "half-2026", 1, 2, Some("2026-03-27T10:00:00Z")),
        ]
    );
    // Read at 08:08 from the row alone: 480 s of 900 is past half.
    let gti = &clocks[1];
    assert!(gti.evaluate(utc(2026, 3, 27, 8, 8, 0)).unwrap().at_risk);
    assert!(
        gti.figures(utc(2026, 3, 27, 8, 8, 0))
            .unwrap()
            .unwrap()
            .at_risk
    );
    let watch = SlaClocks::breach_watch(&reader, utc(2026, 3, 27, 8, 8, 0), None, 10)
        .await
        .unwrap();
    assert_eq!(metrics(&watch.at_risk), ["GTI"]);
}

#[tokio::test]
async fn the_shipped_policy_pins_three_quarters() {
    let id = IncidentId::generate();
    let events = incident_events(
        &id,
        vec![(
            utc(2026, 3, 27, 8, 0, 0),
            ActorRole::Customer,
            open(&id, Priority::P1),
        )],
    )
    .await;
    let (_db, reader) = feed(&SlaClocks, events).await.unwrap();
    for clock in SlaClocks::for_request(&reader, id.as_str()).await.unwrap() {
        assert_eq!(
            (clock.at_risk_numerator, clock.at_risk_denominator),
            (3, 4),
            "{}",
            clock.metric
        );
    }
}

#[tokio::test]
async fn an_incident_under_a_policy_version_the_view_does_not_know_is_refused() {
    let id = IncidentId::generate();
    let events = incident_events_under(
        half_policies(),
        &id,
        vec![(
            utc(2026, 3, 27, 8, 0, 0),
            ActorRole::Customer,
            open(&id, Priority::P1),
        )],
    )
    .await;
    let error = match feed(&SlaClocks, events).await {
        Ok(_) => panic!("the shipped policies have no half-2026"),
        Err(error) => error,
    };
    assert!(
        error
            .to_string()
            .contains("unknown policy version 'half-2026'"),
        "{error}"
    );
}

fn metrics(clocks: &[ClockRow]) -> Vec<&str> {
    clocks.iter().map(|clock| clock.metric.as_str()).collect()
}

#[tokio::test]
async fn a_closed_incident_keeps_its_stopped_clocks_and_a_reopened_one_runs_gtr_again() {
    let id = IncidentId::generate();
    // Gold P1 Friday 08:00, restored at 10:00 (GTR counted 7,200 s of 14,400).
    let restored = vec![
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
            utc(2026, 3, 27, 9, 0, 0),
            ActorRole::Agent,
            IncidentCommand::ShareDiagnosis {
                diagnosis: text("disk"),
            },
        ),
        (
            utc(2026, 3, 27, 10, 0, 0),
            ActorRole::Agent,
            IncidentCommand::Restore {
                resolution: text("fixed"),
            },
        ),
    ];

    let mut closing = restored.clone();
    closing.push((
        utc(2026, 3, 28, 10, 0, 0),
        ActorRole::Agent,
        IncidentCommand::Close,
    ));
    let (_db, reader) = feed(&SlaClocks, incident_events(&id, restored.clone()).await)
        .await
        .unwrap();
    let before_closing = SlaClocks::for_request(&reader, id.as_str()).await.unwrap();
    let (_db, reader) = feed(&SlaClocks, incident_events(&id, closing).await)
        .await
        .unwrap();
    let closed = SlaClocks::for_request(&reader, id.as_str()).await.unwrap();
    assert_eq!(
        closed, before_closing,
        "closing moves no clock: the rows are those of the restoration"
    );
    assert!(closed.iter().all(|clock| clock.state == "stopped"));

    // Reopened the next day at 09:00: GTR resumes from its 7,200 s, 2 h left, due 11:00;
    // GTI and GTD stay stopped.
    let mut reopening = restored;
    reopening.push((
        utc(2026, 3, 28, 9, 0, 0),
        ActorRole::Customer,
        IncidentCommand::Reopen {
            reason: text("down again"),
        },
    ));
    let (_db, reader) = feed(&SlaClocks, incident_events(&id, reopening).await)
        .await
        .unwrap();
    let clocks = SlaClocks::for_request(&reader, id.as_str()).await.unwrap();
    let states: Vec<(&str, &str, Option<&str>)> = clocks
        .iter()
        .map(|clock| {
            (
                clock.metric.as_str(),
                clock.state.as_str(),
                clock.deadline.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("GTD", "stopped", None),
            ("GTI", "stopped", None),
            ("GTR", "running", Some("2026-03-28T11:00:00Z")),
        ]
    );
    let gtr = &clocks[2];
    // At risk at 10,800 s: 1 h after the reopening.
    assert_eq!(gtr.at_risk_from.as_deref(), Some("2026-03-28T10:00:00Z"));
    let evaluation = gtr.evaluate(utc(2026, 3, 28, 9, 30, 0)).unwrap();
    assert_eq!(evaluation.counted_seconds, 7200 + 1800);
    assert_eq!(evaluation.verdict, Verdict::Running);
}

/// Submits the article that needs a study, standard lead time: 5 business days of
/// business-hours-fr (09:00–18:00 Paris), 162,000 s.
fn submit_study(id: &ChangeId) -> ChangeCommand {
    let title = |value: &str| Title::parse(value).unwrap();
    ChangeCommand::Submit {
        change_id: id.clone(),
        contract: contract_id(),
        form: ChangeForm {
            asset: Some(AssetRef::parse("Service Flexible Engine").unwrap()),
            article: Some(ArticleRef {
                catalogue: title("OCB - FE: Autres Demandes"),
                category: title("Autres Demandes"),
                article: title("Faire une demande sur étude"),
            }),
            lead_time: Some(LeadTime::Standard),
            ..ChangeForm::default()
        },
    }
}

/// Monday 2026-03-30 at `hour`:`minute` UTC, two hours behind Paris (summer time since
/// Sunday).
fn monday(hour: u32, minute: u32) -> DateTime<Utc> {
    utc(2026, 3, 30, hour, minute, 0)
}

fn quote() -> ChangeCommand {
    ChangeCommand::Quote {
        amount_cents: Cents::parse("amount_cents", 120_000).unwrap(),
        note: None,
    }
}

/// The change's one clock: delivery.
async fn delivery_clock(events: Vec<(String, DomainEvent)>, id: &ChangeId) -> ClockRow {
    let (_db, reader) = feed(&SlaClocks, events).await.unwrap();
    let mut clocks = SlaClocks::for_request(&reader, id.as_str()).await.unwrap();
    assert_eq!(metrics(&clocks), ["delivery"]);
    clocks.remove(0)
}

#[tokio::test]
async fn a_submitted_change_starts_its_delivery_clock() {
    let id = ChangeId::generate();
    // Submitted Monday 10:00 Paris: 162,000 s (45 h) of business hours, 8 h that day, then
    // 9 h a day until Friday 3 April (44 h); Easter Monday (6 April) is a holiday, so due
    // Tuesday 7 April 10:00 Paris (08:00 UTC).
    let events = change_events(
        &id,
        vec![(monday(8, 0), ActorRole::Customer, submit_study(&id))],
    )
    .await;
    let clock = delivery_clock(events, &id).await;
    assert_eq!(
        (
            clock.request_kind.as_str(),
            clock.tier.as_deref(),
            clock.policy_version.as_deref(),
            clock.calendar.as_str(),
            clock.time_zone.as_str(),
            clock.target_seconds,
            clock.state.as_str(),
        ),
        (
            "change",
            None,
            None,
            "business-hours-fr",
            "Europe/Paris",
            Some(162_000),
            "running",
        )
    );
    assert_eq!(clock.deadline.as_deref(), Some("2026-04-07T08:00:00Z"));
    // No policy: the engine's default ratio, 3/4 of 162,000 s = 121,500 s (33 h 45 min):
    // Monday 8 h, Tuesday and Wednesday 18 h, then 7 h 45 min on Thursday 2 April: 16:45
    // Paris (14:45 UTC).
    assert_eq!((clock.at_risk_numerator, clock.at_risk_denominator), (3, 4));
    assert_eq!(clock.at_risk_from.as_deref(), Some("2026-04-02T14:45:00Z"));
}

#[tokio::test]
async fn a_quote_pauses_the_delivery_clock_until_the_customer_accepts_it() {
    let id = ChangeId::generate();
    let steps = vec![
        (monday(8, 0), ActorRole::Customer, submit_study(&id)),
        // Quoted at 12:00 Paris: 2 h counted.
        (monday(10, 0), ActorRole::Agent, quote()),
        // Accepted at 15:00 Paris: the 3 h in between do not count.
        (
            monday(13, 0),
            ActorRole::Customer,
            ChangeCommand::AcceptQuote,
        ),
    ];
    let events = change_events(&id, steps).await;

    let quoted = delivery_clock(events[..2].to_vec(), &id).await;
    assert_eq!(quoted.state, "paused");
    assert_eq!(
        quoted.deadline, None,
        "a paused clock is off the breach watch"
    );
    let evaluation = quoted.evaluate(monday(12, 0)).unwrap();
    assert_eq!(evaluation.counted_seconds, 2 * 3600);
    let pauses: Vec<(DateTime<Utc>, Option<&str>)> = evaluation
        .intervals
        .iter()
        .filter(|interval| interval.kind == IntervalKind::Paused)
        .map(|interval| (interval.from, interval.detail.as_deref()))
        .collect();
    assert_eq!(pauses, [(monday(10, 0), Some(AWAITING_QUOTE_ACCEPTANCE))]);

    let accepted = delivery_clock(events, &id).await;
    assert_eq!(accepted.state, "running");
    // The deadline moves 3 h later: Tuesday 7 April 13:00 Paris (11:00 UTC).
    assert_eq!(accepted.deadline.as_deref(), Some("2026-04-07T11:00:00Z"));
    assert_eq!(
        accepted.evaluate(monday(15, 0)).unwrap().counted_seconds,
        2 * 3600 + 2 * 3600
    );
}

/// docs/domain.md "What each step does to the clocks": a pause carries a reason and an
/// actor. The view takes the actor from the event's metadata (the feed here names
/// jean.dupont), and the explanation shows it.
#[tokio::test]
async fn issue_20_a_pause_names_its_actor_from_the_event_metadata() {
    let id = ChangeId::generate();
    let steps = vec![
        (monday(8, 0), ActorRole::Customer, submit_study(&id)),
        (monday(10, 0), ActorRole::Agent, quote()),
    ];
    let quoted = delivery_clock(change_events(&id, steps).await, &id).await;
    assert_eq!(
        quoted.transitions().unwrap()[1],
        Transition::pause_by(monday(10, 0), AWAITING_QUOTE_ACCEPTANCE, "jean.dupont")
    );
    let evaluation = quoted.evaluate(monday(12, 0)).unwrap();
    let pauses: Vec<(Option<&str>, Option<&str>)> = evaluation
        .intervals
        .iter()
        .filter(|interval| interval.kind == IntervalKind::Paused)
        .map(|interval| (interval.detail.as_deref(), interval.actor.as_deref()))
        .collect();
    assert_eq!(
        pauses,
        [(Some(AWAITING_QUOTE_ACCEPTANCE), Some("jean.dupont"))]
    );
}

#[tokio::test]
async fn a_finished_change_stops_its_delivery_clock_resuming_it_first_when_paused() {
    let start = Transition::start(monday(8, 0));
    // The feed's metadata names jean.dupont as every event's actor.
    let pause = Transition::pause_by(monday(10, 0), AWAITING_QUOTE_ACCEPTANCE, "jean.dupont");
    // (case, the steps after the submission on Monday 10:00 Paris, the clock's transitions,
    // its counted seconds)
    let cases: Vec<(&str, Vec<ChangeStep>, Vec<Transition>, i64)> = vec![
        (
            // Declined while the quote waits: the paused clock resumes and stops at once,
            // having counted 10:00–12:00 Paris.
            "declined",
            vec![
                (monday(10, 0), ActorRole::Agent, quote()),
                (
                    monday(13, 0),
                    ActorRole::Customer,
                    ChangeCommand::DeclineQuote { reason: None },
                ),
            ],
            vec![
                start.clone(),
                pause.clone(),
                Transition::resume(monday(13, 0)),
                Transition::stop(monday(13, 0)),
            ],
            2 * 3600,
        ),
        (
            // Rejected while the quote waits: likewise, 10:00–12:00 Paris counted.
            "rejected while quoted",
            vec![
                (monday(10, 0), ActorRole::Agent, quote()),
                (
                    monday(11, 0),
                    ActorRole::Agent,
                    ChangeCommand::Reject {
                        reason: text("out of scope"),
                    },
                ),
            ],
            vec![
                start.clone(),
                pause.clone(),
                Transition::resume(monday(11, 0)),
                Transition::stop(monday(11, 0)),
            ],
            2 * 3600,
        ),
        (
            "cancelled while running",
            vec![(
                monday(9, 0),
                ActorRole::Customer,
                ChangeCommand::Cancel { reason: None },
            )],
            vec![start.clone(), Transition::stop(monday(9, 0))],
            3600,
        ),
        (
            // Quoted 12:00–15:00 Paris, worked until 17:00 Paris: 2 h + 2 h.
            "completed",
            vec![
                (monday(10, 0), ActorRole::Agent, quote()),
                (
                    monday(13, 0),
                    ActorRole::Customer,
                    ChangeCommand::AcceptQuote,
                ),
                (monday(14, 0), ActorRole::Agent, ChangeCommand::Start),
                (
                    monday(15, 0),
                    ActorRole::Agent,
                    ChangeCommand::Complete { note: None },
                ),
            ],
            vec![
                start.clone(),
                pause.clone(),
                Transition::resume(monday(13, 0)),
                Transition::stop(monday(15, 0)),
            ],
            4 * 3600,
        ),
    ];
    for (case, steps, transitions, counted) in cases {
        let id = ChangeId::generate();
        let mut all_steps = vec![(monday(8, 0), ActorRole::Customer, submit_study(&id))];
        all_steps.extend(steps);
        let clock = delivery_clock(change_events(&id, all_steps).await, &id).await;
        assert_eq!(
            (
                clock.state.as_str(),
                clock.deadline.as_deref(),
                clock.at_risk_from.as_deref()
            ),
            ("stopped", None, None),
            "{case}: a stopped clock is off the breach watch"
        );
        assert_eq!(clock.transitions().unwrap(), transitions, "{case}");
        let evaluation = clock.evaluate(utc(2026, 4, 30, 0, 0, 0)).unwrap();
        assert_eq!(
            (evaluation.counted_seconds, evaluation.verdict),
            (counted, Verdict::Met),
            "{case}"
        );
    }
}

#[tokio::test]
async fn the_pinned_ratios_are_stored_alike_on_every_backend() {
    let incident = IncidentId::generate();
    let change = ChangeId::generate();
    let mut events = incident_events_under(
        half_policies(),
        &incident,
        vec![(
            utc(2026, 3, 27, 8, 0, 0),
            ActorRole::Customer,
            open(&incident, Priority::P1),
        )],
    )
    .await;
    events.extend(
        change_events(
            &change,
            vec![
                (monday(8, 0), ActorRole::Customer, submit_study(&change)),
                (monday(10, 0), ActorRole::Agent, quote()),
            ],
        )
        .await,
    );
    let projection = SlaClocksUnder(half_policies());
    let mut stored = Vec::new();
    for database in TestDatabase::all().await {
        let backend = database.backend_name();
        let rows = async {
            // One batch: every clock written by the same multi-row statement.
            let mut tx = begin(&database.database).await?;
            projection
                .apply_batch(&mut tx, &feed_events(events.clone()))
                .await?;
            tx.commit().await?;
            let reader = ViewReader::new(database.database.clone());
            let mut rows = SlaClocks::for_request(&reader, incident.as_str()).await?;
            rows.extend(SlaClocks::for_request(&reader, change.as_str()).await?);
            Ok::<_, ProjectionError>(rows)
        }
        .await;
        database.cleanup().await;
        stored.push((
            backend,
            rows.unwrap_or_else(|error| panic!("{backend}: {error:?}")),
        ));
    }
    let (_, on_sqlite) = &stored[0];
    let ratios: Vec<(&str, i64, i64)> = on_sqlite
        .iter()
        .map(|clock| {
            (
                clock.metric.as_str(),
                clock.at_risk_numerator,
                clock.at_risk_denominator,
            )
        })
        .collect();
    assert_eq!(
        ratios,
        [
            ("GTD", 1, 2),
            ("GTI", 1, 2),
            ("GTR", 1, 2),
            ("delivery", 3, 4)
        ]
    );
    for (backend, rows) in &stored[1..] {
        assert_eq!(rows, on_sqlite, "{backend}");
    }
}
