//! The incident aggregate: opening (pinned tier and policy), every lifecycle step with the
//! exact clock transitions it records, every refusal, random command sequences (proptest)
//! and the stored form of every event (insta).
//!
//! Expected targets come from [`default_2026`], the table of docs/domain.md "Targets of
//! `default-2026`" copied by hand, never from `sablier_sla::policy`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Paris;
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::{AggregateResultValidator, TestFramework};
use cqrs_es::{Aggregate, DomainEvent};
use proptest::prelude::*;
use sablier_sla::{Metric, Priority, Tier};

use super::*;
use crate::actor::{Actor, ActorRole, Authored};
use crate::ids::{ContractId, IncidentId};
use crate::services::Services;
use crate::testing::{TestServices, contract_id, utc};
use crate::text::{FreeText, IncidentComment, Login, Title};

// ---------------------------------------------------------------------------------------
// The default policy, by hand
// ---------------------------------------------------------------------------------------

const BUSINESS_HOURS: &str = "business-hours-fr";
const ALWAYS: &str = "24x7";

const GTI: Metric = Metric::Gti;
const GTD: Metric = Metric::Gtd;
const GTR: Metric = Metric::Gtr;

/// docs/domain.md "Targets of `default-2026`": target seconds and calendar, `None` for
/// "–" (and for GTD P3/P4, "none").
fn default_2026(tier: Tier, priority: Priority, metric: Metric) -> Option<(i64, &'static str)> {
    use Metric::{Delivery, Gtd, Gti, Gtr};
    use Priority::{P1, P2, P3, P4};
    use Tier::{Bronze, Gold, Silver, Standard};
    const MINUTE: i64 = 60;
    const HOUR: i64 = 3600;
    match (metric, tier, priority) {
        (_, Standard, _) | (Delivery, _, _) => None,
        (Gti, Bronze, P1) => Some((HOUR, ALWAYS)),
        (Gti, Bronze, P2) => Some((2 * HOUR, ALWAYS)),
        (Gti, Bronze, P3) => Some((4 * HOUR, BUSINESS_HOURS)),
        (Gti, Bronze, P4) => Some((8 * HOUR, BUSINESS_HOURS)),
        (Gti, Silver, P1) => Some((30 * MINUTE, ALWAYS)),
        (Gti, Silver, P2) => Some((HOUR, ALWAYS)),
        (Gti, Silver, P3) => Some((2 * HOUR, BUSINESS_HOURS)),
        (Gti, Silver, P4) => Some((4 * HOUR, BUSINESS_HOURS)),
        (Gti, Gold, P1) => Some((15 * MINUTE, ALWAYS)),
        (Gti, Gold, P2) => Some((30 * MINUTE, ALWAYS)),
        (Gti, Gold, P3) => Some((HOUR, BUSINESS_HOURS)),
        (Gti, Gold, P4) => Some((2 * HOUR, BUSINESS_HOURS)),
        (Gtd, Bronze | Silver, P1) => Some((4 * HOUR, ALWAYS)),
        (Gtd, Bronze | Silver, P2) => Some((8 * HOUR, ALWAYS)),
        (Gtd, Gold, P1) => Some((2 * HOUR, ALWAYS)),
        (Gtd, Gold, P2) => Some((4 * HOUR, ALWAYS)),
        (Gtd, _, P3 | P4) => None,
        (Gtr, Bronze, P1) => Some((8 * HOUR, ALWAYS)),
        (Gtr, Bronze, P2) => Some((24 * HOUR, ALWAYS)),
        (Gtr, Bronze, P3) => Some((40 * HOUR, BUSINESS_HOURS)),
        (Gtr, Silver, P1) => Some((8 * HOUR, ALWAYS)),
        (Gtr, Silver, P2) => Some((16 * HOUR, ALWAYS)),
        (Gtr, Silver, P3) => Some((24 * HOUR, BUSINESS_HOURS)),
        (Gtr, Gold, P1) => Some((4 * HOUR, ALWAYS)),
        (Gtr, Gold, P2) => Some((8 * HOUR, ALWAYS)),
        (Gtr, Gold, P3) => Some((16 * HOUR, BUSINESS_HOURS)),
        (Gtr, _, P4) => None,
    }
}

fn target_of(tier: Tier, priority: Priority, metric: Metric) -> Option<i64> {
    default_2026(tier, priority, metric).map(|(seconds, _)| seconds)
}

/// The Start a metric gets on opening: GTI is never paused, GTD and GTR pause while
/// awaiting the customer (docs/domain.md "SLA clocks"); no commitment counts on `24x7`.
fn expected_start(tier: Tier, priority: Priority, metric: Metric) -> ClockChange {
    let pausable = metric != GTI;
    match default_2026(tier, priority, metric) {
        Some((seconds, calendar)) => start(metric, Some(seconds), calendar, pausable),
        None => start(metric, None, ALWAYS, pausable),
    }
}

fn expected_starts(tier: Tier, priority: Priority) -> Vec<ClockChange> {
    [GTI, GTD, GTR]
        .into_iter()
        .map(|metric| expected_start(tier, priority, metric))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

fn start(
    metric: Metric,
    target_seconds: Option<i64>,
    calendar: &str,
    pausable: bool,
) -> ClockChange {
    ClockChange::new(
        metric,
        ClockChangeKind::Start {
            target_seconds,
            calendar: calendar.to_owned(),
            pausable,
        },
    )
}

fn pause(metric: Metric) -> ClockChange {
    pause_for(metric, "awaiting_customer")
}

fn pause_for(metric: Metric, reason: &str) -> ClockChange {
    ClockChange::new(
        metric,
        ClockChangeKind::Pause {
            reason: PauseReason::parse(reason).unwrap(),
        },
    )
}

fn resume(metric: Metric) -> ClockChange {
    ClockChange::new(metric, ClockChangeKind::Resume)
}

fn stop(metric: Metric) -> ClockChange {
    ClockChange::new(metric, ClockChangeKind::Stop)
}

fn reopen(metric: Metric) -> ClockChange {
    ClockChange::new(metric, ClockChangeKind::Reopen)
}

fn retarget(metric: Metric, target_seconds: Option<i64>) -> ClockChange {
    ClockChange::new(
        metric,
        ClockChangeKind::Target {
            target_seconds,
            calendar: None,
        },
    )
}

/// A target change onto another calendar.
fn retarget_on(metric: Metric, target_seconds: Option<i64>, calendar: &str) -> ClockChange {
    ClockChange::new(
        metric,
        ClockChangeKind::Target {
            target_seconds,
            calendar: Some(calendar.to_owned()),
        },
    )
}

fn text(value: &str) -> FreeText {
    FreeText::parse(value).unwrap()
}

fn incident_id() -> IncidentId {
    IncidentId::parse("INC0192a5c4e0f07b3e9d1c2b3a4f5e6d7c").unwrap()
}

fn actor(role: ActorRole) -> Actor {
    let login = match role {
        ActorRole::Customer => "jean.dupont",
        ActorRole::Agent => "agent.martin",
        ActorRole::Analyst => "analyst.leroy",
        ActorRole::Admin => "admin.durand",
        ActorRole::System => "sablier.system",
    };
    Actor::new(Login::parse(login).unwrap(), role)
}

const CUSTOMER: ActorRole = ActorRole::Customer;
const AGENT: ActorRole = ActorRole::Agent;
const ANALYST: ActorRole = ActorRole::Analyst;
const ADMIN: ActorRole = ActorRole::Admin;
const SYSTEM: ActorRole = ActorRole::System;

fn open_command(priority: Priority) -> IncidentCommand {
    open_command_on(contract_id(), priority)
}

fn open_command_on(contract_id: ContractId, priority: Priority) -> IncidentCommand {
    IncidentCommand::Open {
        incident_id: incident_id(),
        contract_id,
        priority,
        title: Title::parse("VM web-01 injoignable").unwrap(),
        description: text("Plus de réponse HTTP depuis 08:55."),
    }
}

/// The event opening `open_command(priority)` at `at` for a contract in force at `tier`.
fn opened(at: DateTime<Utc>, tier: Tier, priority: Priority) -> IncidentEvent {
    opened_under(at, tier, priority, "default-2026")
}

fn opened_under(
    at: DateTime<Utc>,
    tier: Tier,
    priority: Priority,
    policy_version: &str,
) -> IncidentEvent {
    IncidentEvent::IncidentOpened {
        at,
        incident_id: incident_id(),
        contract_id: contract_id(),
        contract_name: Title::parse("SI_Prod").unwrap(),
        time_zone: Paris,
        priority,
        title: Title::parse("VM web-01 injoignable").unwrap(),
        description: text("Plus de réponse HTTP depuis 08:55."),
        tier,
        policy_version: policy_version.to_owned(),
        clocks: expected_starts(tier, priority),
    }
}

fn not_permitted(role: ActorRole, action: &'static str) -> IncidentError {
    IncidentError::NotPermitted { role, action }
}

fn invalid(action: &'static str, status: IncidentStatus) -> IncidentError {
    IncidentError::InvalidTransition { action, status }
}

/// Fakes whose contract is at `tier` from 2026-01-01 on.
fn services_with_tier(now: DateTime<Utc>, tier: Tier) -> TestServices {
    let ts = TestServices::at(now);
    ts.contracts
        .set_tier_from(&contract_id(), utc(2026, 1, 1, 0, 0, 0), tier);
    ts
}

fn replay(events: &[IncidentEvent]) -> Incident {
    let mut incident = Incident::default();
    for event in events {
        incident.apply(event.clone());
    }
    incident
}

/// An incident under test: its history grows with each accepted command.
struct Ticket {
    ts: TestServices,
    history: Vec<IncidentEvent>,
}

impl Ticket {
    fn new(ts: TestServices, history: Vec<IncidentEvent>) -> Self {
        Self { ts, history }
    }

    fn when(
        &self,
        at: DateTime<Utc>,
        role: ActorRole,
        command: IncidentCommand,
    ) -> AggregateResultValidator<Incident> {
        self.ts.clock.set(at);
        TestFramework::<Incident>::with(self.ts.services.clone())
            .given(self.history.clone())
            .when(Authored::new(actor(role), command))
    }

    /// Expects exactly `expected`, then records it.
    fn accepts(
        &mut self,
        at: DateTime<Utc>,
        role: ActorRole,
        command: IncidentCommand,
        expected: Vec<IncidentEvent>,
    ) {
        self.when(at, role, command)
            .then_expect_events(expected.clone());
        self.history.extend(expected);
    }

    fn refuses(
        &self,
        at: DateTime<Utc>,
        role: ActorRole,
        command: IncidentCommand,
        error: IncidentError,
    ) {
        self.when(at, role, command).then_expect_error(error);
    }

    fn status(&self) -> Option<IncidentStatus> {
        replay(&self.history).status()
    }

    fn running(&self) -> Vec<Metric> {
        let incident = replay(&self.history);
        [GTI, GTD, GTR]
            .into_iter()
            .filter(|metric| incident.is_running(*metric))
            .collect()
    }
}

/// Monday 2026-03-02 09:00 in Paris.
fn t0() -> DateTime<Utc> {
    utc(2026, 3, 2, 8, 0, 0)
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

/// A Gold P1 ticket opened at [`t0`], worked from `t0 + 10 min`.
fn gold_p1_in_progress() -> Ticket {
    Ticket::new(
        TestServices::at(t0()),
        vec![
            opened(t0(), Tier::Gold, Priority::P1),
            IncidentEvent::InterventionStarted {
                at: t0() + minutes(10),
                clocks: vec![stop(GTI)],
            },
        ],
    )
}

// ---------------------------------------------------------------------------------------
// Open: the SLA is pinned at creation
// ---------------------------------------------------------------------------------------

#[test]
fn a_gold_p1_ticket_pins_its_tier_policy_and_targets() {
    // Gold P1: GTI 15 min, GTD 2 h, GTR 4 h, all 24x7.
    let ticket = Ticket::new(TestServices::at(t0()), vec![]);
    ticket
        .when(t0(), CUSTOMER, open_command(Priority::P1))
        .then_expect_events(vec![IncidentEvent::IncidentOpened {
            at: t0(),
            incident_id: incident_id(),
            contract_id: contract_id(),
            contract_name: Title::parse("SI_Prod").unwrap(),
            time_zone: Paris,
            priority: Priority::P1,
            title: Title::parse("VM web-01 injoignable").unwrap(),
            description: text("Plus de réponse HTTP depuis 08:55."),
            tier: Tier::Gold,
            policy_version: "default-2026".to_owned(),
            clocks: vec![
                start(GTI, Some(900), "24x7", false),
                start(GTD, Some(7200), "24x7", true),
                start(GTR, Some(14_400), "24x7", true),
            ],
        }]);
}

#[test]
fn a_silver_p3_ticket_counts_gti_and_gtr_in_business_hours() {
    // Silver P3: GTI 2 h bh, GTD none, GTR 24 h bh.
    let ticket = Ticket::new(services_with_tier(t0(), Tier::Silver), vec![]);
    let events = ticket
        .when(t0(), CUSTOMER, open_command(Priority::P3))
        .inspect_result()
        .unwrap();
    let [IncidentEvent::IncidentOpened { tier, clocks, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(*tier, Tier::Silver);
    assert_eq!(
        clocks,
        &vec![
            start(GTI, Some(7200), "business-hours-fr", false),
            start(GTD, None, "24x7", true),
            start(GTR, Some(86_400), "business-hours-fr", true),
        ]
    );
}

#[test]
fn a_standard_ticket_has_no_commitment_but_its_clocks_still_count() {
    let ticket = Ticket::new(services_with_tier(t0(), Tier::Standard), vec![]);
    ticket
        .when(t0(), AGENT, open_command(Priority::P1))
        .then_expect_events(vec![IncidentEvent::IncidentOpened {
            at: t0(),
            incident_id: incident_id(),
            contract_id: contract_id(),
            contract_name: Title::parse("SI_Prod").unwrap(),
            time_zone: Paris,
            priority: Priority::P1,
            title: Title::parse("VM web-01 injoignable").unwrap(),
            description: text("Plus de réponse HTTP depuis 08:55."),
            tier: Tier::Standard,
            policy_version: "default-2026".to_owned(),
            clocks: vec![
                start(GTI, None, "24x7", false),
                start(GTD, None, "24x7", true),
                start(GTR, None, "24x7", true),
            ],
        }]);
}

#[test]
fn every_cell_of_the_default_policy_is_pinned_on_opening() {
    for tier in Tier::ALL {
        for priority in Priority::ALL {
            let ticket = Ticket::new(services_with_tier(t0(), tier), vec![]);
            let events = ticket
                .when(t0(), CUSTOMER, open_command(priority))
                .inspect_result()
                .unwrap();
            let [
                IncidentEvent::IncidentOpened {
                    clocks,
                    tier: pinned,
                    policy_version,
                    ..
                },
            ] = &events[..]
            else {
                panic!("{events:?}")
            };
            assert_eq!((*pinned, policy_version.as_str()), (tier, "default-2026"));
            assert_eq!(
                clocks,
                &expected_starts(tier, priority),
                "{tier} {priority}"
            );
        }
    }
}

#[test]
fn a_later_upgrade_applies_to_tickets_opened_after_it_not_to_open_ones() {
    let ts = services_with_tier(t0(), Tier::Silver);
    let upgrade_at = t0() + Duration::hours(1);
    ts.contracts
        .set_tier_from(&contract_id(), upgrade_at, Tier::Gold);
    // Opened before the upgrade: Silver.
    let mut ticket = Ticket::new(ts, vec![]);
    ticket.accepts(
        t0(),
        CUSTOMER,
        open_command(Priority::P1),
        vec![opened(t0(), Tier::Silver, Priority::P1)],
    );
    // After the upgrade, a priority change retargets under Silver P2 (GTI 1 h, GTD 8 h,
    // GTR 16 h), not Gold P2 (30 min, 4 h, 8 h).
    let at = t0() + Duration::hours(2);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::ChangePriority {
            to: Priority::P2,
            reason: text("Service dégradé seulement"),
        },
        vec![IncidentEvent::PriorityChanged {
            at,
            from: Priority::P1,
            to: Priority::P2,
            reason: text("Service dégradé seulement"),
            clocks: vec![
                retarget(GTI, Some(3600)),
                retarget(GTD, Some(28_800)),
                retarget(GTR, Some(57_600)),
            ],
        }],
    );
    // A ticket opened after the upgrade is Gold.
    let fresh = Ticket::new(ticket.ts, vec![]);
    fresh
        .when(at, CUSTOMER, open_command(Priority::P1))
        .then_expect_events(vec![opened(at, Tier::Gold, Priority::P1)]);
    // ... and so is one opened at the very instant the upgrade takes effect.
    fresh
        .when(upgrade_at, CUSTOMER, open_command(Priority::P1))
        .then_expect_events(vec![opened(upgrade_at, Tier::Gold, Priority::P1)]);
    fresh
        .when(
            upgrade_at - Duration::seconds(1),
            CUSTOMER,
            open_command(Priority::P1),
        )
        .then_expect_events(vec![opened(
            upgrade_at - Duration::seconds(1),
            Tier::Silver,
            Priority::P1,
        )]);
}

#[test]
fn an_unknown_contract_is_refused() {
    let ticket = Ticket::new(TestServices::at(t0()), vec![]);
    let command = open_command_on(ContractId::parse("OCB9999999").unwrap(), Priority::P1);
    ticket.refuses(t0(), CUSTOMER, command, IncidentError::UnknownContract);
}

#[test]
fn an_incident_is_opened_once() {
    let ticket = Ticket::new(
        TestServices::at(t0()),
        vec![opened(t0(), Tier::Gold, Priority::P1)],
    );
    ticket.refuses(
        t0() + minutes(1),
        CUSTOMER,
        open_command(Priority::P2),
        IncidentError::AlreadyExists,
    );
}

// ---------------------------------------------------------------------------------------
// The whole lifecycle, clock by clock
// ---------------------------------------------------------------------------------------

#[test]
fn the_whole_lifecycle_with_its_clock_transitions() {
    use IncidentStatus::*;
    let mut ticket = Ticket::new(TestServices::at(t0()), vec![]);
    ticket.accepts(
        t0(),
        CUSTOMER,
        open_command(Priority::P1),
        vec![opened(t0(), Tier::Gold, Priority::P1)],
    );
    assert_eq!(ticket.status(), Some(Opened));
    assert_eq!(ticket.running(), [GTI, GTD, GTR]);

    // First intervention: GTI stops.
    let at = t0() + minutes(10);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::StartIntervention,
        vec![IncidentEvent::InterventionStarted {
            at,
            clocks: vec![stop(GTI)],
        }],
    );
    assert_eq!(ticket.status(), Some(InProgress));
    assert_eq!(ticket.running(), [GTD, GTR]);

    // Awaiting the customer: GTD and GTR pause (GTI is stopped already).
    let at = t0() + minutes(30);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::AwaitCustomer {
            reason: PauseReason::default(),
        },
        vec![IncidentEvent::CustomerInputRequested {
            at,
            reason: PauseReason::awaiting_customer(),
            clocks: vec![pause(GTD), pause(GTR)],
        }],
    );
    assert_eq!(ticket.status(), Some(AwaitingCustomer));
    assert!(ticket.running().is_empty());

    // Diagnosis shared while awaiting: GTD resumes and stops at once; GTR stays paused.
    let at = t0() + minutes(60);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::ShareDiagnosis {
            diagnosis: text("Disque plein sur web-01"),
        },
        vec![IncidentEvent::DiagnosisShared {
            at,
            diagnosis: text("Disque plein sur web-01"),
            first: true,
            clocks: vec![resume(GTD), stop(GTD)],
        }],
    );
    assert_eq!(ticket.status(), Some(AwaitingCustomer));

    // The customer answers: GTR resumes.
    let at = t0() + minutes(90);
    ticket.accepts(
        at,
        CUSTOMER,
        IncidentCommand::RecordCustomerResponse,
        vec![IncidentEvent::CustomerResponded {
            at,
            clocks: vec![resume(GTR)],
        }],
    );
    assert_eq!(ticket.status(), Some(InProgress));
    assert_eq!(ticket.running(), [GTR]);

    // On hold again, for another reason: only GTR pauses.
    let at = t0() + minutes(120);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::AwaitCustomer {
            reason: PauseReason::parse("awaiting_access").unwrap(),
        },
        vec![IncidentEvent::CustomerInputRequested {
            at,
            reason: PauseReason::parse("awaiting_access").unwrap(),
            clocks: vec![pause_for(GTR, "awaiting_access")],
        }],
    );
    let at = t0() + minutes(150);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::RecordCustomerResponse,
        vec![IncidentEvent::CustomerResponded {
            at,
            clocks: vec![resume(GTR)],
        }],
    );

    // A second diagnosis is recorded but touches no clock.
    let at = t0() + minutes(180);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::ShareDiagnosis {
            diagnosis: text("Rotation des logs absente"),
        },
        vec![IncidentEvent::DiagnosisShared {
            at,
            diagnosis: text("Rotation des logs absente"),
            first: false,
            clocks: vec![],
        }],
    );

    // Restored: GTR stops.
    let restored_at = t0() + minutes(210);
    ticket.accepts(
        restored_at,
        AGENT,
        IncidentCommand::Restore {
            resolution: text("Logs purgés, rotation activée"),
        },
        vec![IncidentEvent::ServiceRestored {
            at: restored_at,
            resolution: text("Logs purgés, rotation activée"),
            clocks: vec![stop(GTR)],
        }],
    );
    assert_eq!(ticket.status(), Some(Restored));
    assert!(ticket.running().is_empty());

    // Reopened three days later: GTR runs again from the time already counted.
    let at = utc(2026, 3, 5, 9, 0, 0);
    ticket.accepts(
        at,
        CUSTOMER,
        IncidentCommand::Reopen {
            reason: text("Le disque se remplit de nouveau"),
        },
        vec![IncidentEvent::IncidentReopened {
            at,
            reason: text("Le disque se remplit de nouveau"),
            restored_at,
            clocks: vec![reopen(GTR)],
        }],
    );
    assert_eq!(ticket.status(), Some(InProgress));
    assert_eq!(ticket.running(), [GTR]);

    let at = utc(2026, 3, 5, 10, 0, 0);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::Restore {
            resolution: text("Volume agrandi"),
        },
        vec![IncidentEvent::ServiceRestored {
            at,
            resolution: text("Volume agrandi"),
            clocks: vec![stop(GTR)],
        }],
    );

    let at = utc(2026, 3, 6, 8, 0, 0);
    ticket.accepts(
        at,
        CUSTOMER,
        IncidentCommand::Close,
        vec![IncidentEvent::IncidentClosed { at }],
    );
    assert_eq!(ticket.status(), Some(Closed));

    // Closed is final.
    let later = utc(2026, 3, 6, 9, 0, 0);
    ticket.refuses(
        later,
        CUSTOMER,
        IncidentCommand::AddComment {
            text: IncidentComment::parse("Merci").unwrap(),
        },
        invalid("comment on", Closed),
    );
    ticket.refuses(
        later,
        CUSTOMER,
        IncidentCommand::Reopen {
            reason: text("Encore"),
        },
        invalid("reopen", Closed),
    );
    ticket.refuses(
        later,
        CUSTOMER,
        IncidentCommand::Close,
        invalid("close", Closed),
    );
    ticket.refuses(
        later,
        AGENT,
        IncidentCommand::ChangePriority {
            to: Priority::P2,
            reason: text("Après coup"),
        },
        invalid("change the priority of", Closed),
    );
}

#[test]
fn restoring_while_awaiting_the_customer_resumes_and_stops_gtd_and_gtr() {
    let mut ticket = gold_p1_in_progress();
    let at = t0() + minutes(20);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::AwaitCustomer {
            reason: PauseReason::default(),
        },
        vec![IncidentEvent::CustomerInputRequested {
            at,
            reason: PauseReason::awaiting_customer(),
            clocks: vec![pause(GTD), pause(GTR)],
        }],
    );
    let at = t0() + minutes(40);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::Restore {
            resolution: text("Redémarrage de la VM"),
        },
        vec![IncidentEvent::ServiceRestored {
            at,
            resolution: text("Redémarrage de la VM"),
            clocks: vec![resume(GTD), stop(GTD), resume(GTR), stop(GTR)],
        }],
    );
    assert_eq!(ticket.status(), Some(IncidentStatus::Restored));
}

#[test]
fn restoring_after_a_diagnosis_while_awaiting_only_touches_gtr() {
    let mut ticket = gold_p1_in_progress();
    ticket.history.push(IncidentEvent::DiagnosisShared {
        at: t0() + minutes(15),
        diagnosis: text("Disque plein"),
        first: true,
        clocks: vec![stop(GTD)],
    });
    ticket.history.push(IncidentEvent::CustomerInputRequested {
        at: t0() + minutes(20),
        reason: PauseReason::awaiting_customer(),
        clocks: vec![pause(GTR)],
    });
    let at = t0() + minutes(40);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::Restore {
            resolution: text("Logs purgés"),
        },
        vec![IncidentEvent::ServiceRestored {
            at,
            resolution: text("Logs purgés"),
            clocks: vec![resume(GTR), stop(GTR)],
        }],
    );
}

#[test]
fn restoring_without_a_diagnosis_stops_gtd_with_gtr() {
    let mut ticket = gold_p1_in_progress();
    let at = t0() + minutes(40);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::Restore {
            resolution: text("Redémarrage"),
        },
        vec![IncidentEvent::ServiceRestored {
            at,
            resolution: text("Redémarrage"),
            clocks: vec![stop(GTD), stop(GTR)],
        }],
    );
}

#[test]
fn a_diagnosis_while_in_progress_stops_gtd() {
    let mut ticket = gold_p1_in_progress();
    let at = t0() + minutes(40);
    ticket.accepts(
        at,
        ADMIN,
        IncidentCommand::ShareDiagnosis {
            diagnosis: text("Carte réseau HS"),
        },
        vec![IncidentEvent::DiagnosisShared {
            at,
            diagnosis: text("Carte réseau HS"),
            first: true,
            clocks: vec![stop(GTD)],
        }],
    );
    assert_eq!(ticket.status(), Some(IncidentStatus::InProgress));
    assert_eq!(ticket.running(), [GTR]);
}

#[test]
fn a_diagnosis_after_a_restore_without_one_is_first_but_stops_nothing() {
    // Restored without a diagnosis (GTD stopped there), then reopened: the first diagnosis
    // finds GTD stopped already.
    let mut ticket = gold_p1_in_progress();
    let restored_at = t0() + minutes(40);
    ticket.history.push(IncidentEvent::ServiceRestored {
        at: restored_at,
        resolution: text("Redémarrage"),
        clocks: vec![stop(GTD), stop(GTR)],
    });
    ticket.history.push(IncidentEvent::IncidentReopened {
        at: t0() + minutes(90),
        reason: text("De nouveau en panne"),
        restored_at,
        clocks: vec![reopen(GTR)],
    });
    let at = t0() + minutes(100);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::ShareDiagnosis {
            diagnosis: text("Alimentation"),
        },
        vec![IncidentEvent::DiagnosisShared {
            at,
            diagnosis: text("Alimentation"),
            first: true,
            clocks: vec![],
        }],
    );
}

// ---------------------------------------------------------------------------------------
// Reopen
// ---------------------------------------------------------------------------------------

/// Gold P1, restored on Friday 2026-03-06 at 17:00Z without a diagnosis.
fn restored_gold_p1() -> (Ticket, DateTime<Utc>) {
    let mut ticket = gold_p1_in_progress();
    let restored_at = utc(2026, 3, 6, 17, 0, 0);
    ticket.history.push(IncidentEvent::ServiceRestored {
        at: restored_at,
        resolution: text("Redémarrage"),
        clocks: vec![stop(GTD), stop(GTR)],
    });
    (ticket, restored_at)
}

#[test]
fn a_customer_reopens_within_seven_days_including_the_last_second() {
    let (ticket, restored_at) = restored_gold_p1();
    // 7 days after 2026-03-06T17:00Z is 2026-03-13T17:00Z.
    for at in [
        restored_at,
        utc(2026, 3, 10, 9, 0, 0),
        utc(2026, 3, 13, 17, 0, 0),
    ] {
        ticket
            .when(
                at,
                CUSTOMER,
                IncidentCommand::Reopen {
                    reason: text("Toujours en panne"),
                },
            )
            .then_expect_events(vec![IncidentEvent::IncidentReopened {
                at,
                reason: text("Toujours en panne"),
                restored_at,
                clocks: vec![reopen(GTR)],
            }]);
    }
}

#[test]
fn the_reopen_window_closes_seven_days_after_restoration() {
    let (ticket, _) = restored_gold_p1();
    for at in [utc(2026, 3, 13, 17, 0, 1), utc(2026, 4, 1, 0, 0, 0)] {
        ticket.refuses(
            at,
            CUSTOMER,
            IncidentCommand::Reopen {
                reason: text("Toujours en panne"),
            },
            IncidentError::ReopenWindowClosed {
                closed_at: utc(2026, 3, 13, 17, 0, 0),
                window_days: 7,
            },
        );
    }
}

#[test]
fn the_reopen_window_counts_from_the_last_restoration() {
    // Restored 6 March, reopened 8 March, restored again 12 March 10:00Z: a reopen on
    // 16 March (10 days after the first restoration, 4 after the second) is accepted.
    let (mut ticket, first_restored_at) = restored_gold_p1();
    ticket.history.push(IncidentEvent::IncidentReopened {
        at: utc(2026, 3, 8, 9, 0, 0),
        reason: text("Toujours en panne"),
        restored_at: first_restored_at,
        clocks: vec![reopen(GTR)],
    });
    let restored_at = utc(2026, 3, 12, 10, 0, 0);
    ticket.history.push(IncidentEvent::ServiceRestored {
        at: restored_at,
        resolution: text("Remplacement du disque"),
        clocks: vec![stop(GTR)],
    });
    let at = utc(2026, 3, 16, 9, 0, 0);
    ticket.accepts(
        at,
        CUSTOMER,
        IncidentCommand::Reopen {
            reason: text("Encore"),
        },
        vec![IncidentEvent::IncidentReopened {
            at,
            reason: text("Encore"),
            restored_at,
            clocks: vec![reopen(GTR)],
        }],
    );
    // The second window closes 2026-03-19T10:00Z.
    let restored_twice = ticket.history[..ticket.history.len() - 1].to_vec();
    Ticket::new(TestServices::at(t0()), restored_twice).refuses(
        utc(2026, 3, 19, 10, 0, 1),
        CUSTOMER,
        IncidentCommand::Reopen {
            reason: text("Encore"),
        },
        IncidentError::ReopenWindowClosed {
            closed_at: utc(2026, 3, 19, 10, 0, 0),
            window_days: 7,
        },
    );
}

#[test]
fn reopening_after_a_priority_change_made_while_restored_retargets_gtr() {
    let (mut ticket, restored_at) = restored_gold_p1();
    // While restored every clock is stopped: the priority change touches none.
    let changed_at = utc(2026, 3, 7, 9, 0, 0);
    ticket.accepts(
        changed_at,
        AGENT,
        IncidentCommand::ChangePriority {
            to: Priority::P2,
            reason: text("Impact réduit"),
        },
        vec![IncidentEvent::PriorityChanged {
            at: changed_at,
            from: Priority::P1,
            to: Priority::P2,
            reason: text("Impact réduit"),
            clocks: vec![],
        }],
    );
    assert_eq!(ticket.status(), Some(IncidentStatus::Restored));
    // Reopened: GTR runs again, now against Gold P2's 8 h.
    let at = utc(2026, 3, 8, 9, 0, 0);
    ticket.accepts(
        at,
        CUSTOMER,
        IncidentCommand::Reopen {
            reason: text("Lenteurs"),
        },
        vec![IncidentEvent::IncidentReopened {
            at,
            reason: text("Lenteurs"),
            restored_at,
            clocks: vec![reopen(GTR), retarget(GTR, Some(28_800))],
        }],
    );
}

#[test]
fn reopening_after_lowering_to_p4_leaves_gtr_without_commitment() {
    let (mut ticket, restored_at) = restored_gold_p1();
    ticket.history.push(IncidentEvent::PriorityChanged {
        at: utc(2026, 3, 7, 9, 0, 0),
        from: Priority::P1,
        to: Priority::P4,
        reason: text("Simple question"),
        clocks: vec![],
    });
    let at = utc(2026, 3, 8, 9, 0, 0);
    ticket.accepts(
        at,
        CUSTOMER,
        IncidentCommand::Reopen {
            reason: text("Question de suivi"),
        },
        vec![IncidentEvent::IncidentReopened {
            at,
            reason: text("Question de suivi"),
            restored_at,
            clocks: vec![reopen(GTR), retarget(GTR, None)],
        }],
    );
}

#[test]
fn reopening_uses_the_pinned_tier_not_the_contracts_current_one() {
    // Silver P1 restored; the contract goes Gold; lowered to P2 while restored. GTR's new
    // target is Silver P2's 16 h (Gold P2 would be 8 h).
    let ts = services_with_tier(t0(), Tier::Silver);
    ts.contracts
        .set_tier_from(&contract_id(), utc(2026, 3, 3, 0, 0, 0), Tier::Gold);
    let restored_at = t0() + minutes(50);
    let ticket = Ticket::new(
        ts,
        vec![
            opened(t0(), Tier::Silver, Priority::P1),
            IncidentEvent::InterventionStarted {
                at: t0() + minutes(10),
                clocks: vec![stop(GTI)],
            },
            IncidentEvent::ServiceRestored {
                at: restored_at,
                resolution: text("Redémarrage"),
                clocks: vec![stop(GTD), stop(GTR)],
            },
            IncidentEvent::PriorityChanged {
                at: utc(2026, 3, 4, 9, 0, 0),
                from: Priority::P1,
                to: Priority::P2,
                reason: text("Impact réduit"),
                clocks: vec![],
            },
        ],
    );
    let at = utc(2026, 3, 5, 9, 0, 0);
    ticket
        .when(
            at,
            CUSTOMER,
            IncidentCommand::Reopen {
                reason: text("Lenteurs"),
            },
        )
        .then_expect_events(vec![IncidentEvent::IncidentReopened {
            at,
            reason: text("Lenteurs"),
            restored_at,
            clocks: vec![reopen(GTR), retarget(GTR, Some(57_600))],
        }]);
}

// ---------------------------------------------------------------------------------------
// ChangePriority
// ---------------------------------------------------------------------------------------

#[test]
fn a_priority_change_on_an_opened_ticket_retargets_every_clock() {
    // Gold P1 -> P3: GTI 15 min 24x7 -> 1 h business hours, GTD 2 h -> none (keeps its
    // calendar), GTR 4 h 24x7 -> 16 h business hours.
    let mut ticket = Ticket::new(
        TestServices::at(t0()),
        vec![opened(t0(), Tier::Gold, Priority::P1)],
    );
    let at = t0() + minutes(5);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::ChangePriority {
            to: Priority::P3,
            reason: text("Un seul utilisateur touché"),
        },
        vec![IncidentEvent::PriorityChanged {
            at,
            from: Priority::P1,
            to: Priority::P3,
            reason: text("Un seul utilisateur touché"),
            clocks: vec![
                retarget_on(GTI, Some(3600), BUSINESS_HOURS),
                retarget(GTD, None),
                retarget_on(GTR, Some(57_600), BUSINESS_HOURS),
            ],
        }],
    );
    assert_eq!(replay(&ticket.history).priority(), Some(Priority::P3));
    assert_eq!(ticket.status(), Some(IncidentStatus::Opened));
}

#[test]
fn a_priority_change_while_paused_retargets_the_paused_clocks_only() {
    // Gold P1 awaiting the customer: GTI stopped, GTD and GTR paused. P1 -> P2:
    // GTD 2 h -> 4 h, GTR 4 h -> 8 h; GTI (stopped) is left alone.
    let mut ticket = gold_p1_in_progress();
    ticket.history.push(IncidentEvent::CustomerInputRequested {
        at: t0() + minutes(20),
        reason: PauseReason::awaiting_customer(),
        clocks: vec![pause(GTD), pause(GTR)],
    });
    let at = t0() + minutes(30);
    ticket.accepts(
        at,
        AGENT,
        IncidentCommand::ChangePriority {
            to: Priority::P2,
            reason: text("Contournement trouvé"),
        },
        vec![IncidentEvent::PriorityChanged {
            at,
            from: Priority::P1,
            to: Priority::P2,
            reason: text("Contournement trouvé"),
            clocks: vec![retarget(GTD, Some(14_400)), retarget(GTR, Some(28_800))],
        }],
    );
    // Still paused: the customer's answer resumes both.
    assert_eq!(ticket.status(), Some(IncidentStatus::AwaitingCustomer));
    assert!(ticket.running().is_empty());
    let at = t0() + minutes(45);
    ticket.accepts(
        at,
        CUSTOMER,
        IncidentCommand::RecordCustomerResponse,
        vec![IncidentEvent::CustomerResponded {
            at,
            clocks: vec![resume(GTD), resume(GTR)],
        }],
    );
}

#[test]
fn a_priority_change_retargets_only_where_the_target_differs() {
    // Gold P3 -> P4, nothing stopped yet: GTI 1 h -> 2 h; GTD none -> none (unchanged);
    // GTR 16 h -> none.
    let ticket = Ticket::new(
        TestServices::at(t0()),
        vec![opened(t0(), Tier::Gold, Priority::P3)],
    );
    let at = t0() + minutes(5);
    ticket
        .when(
            at,
            AGENT,
            IncidentCommand::ChangePriority {
                to: Priority::P4,
                reason: text("Question"),
            },
        )
        .then_expect_events(vec![IncidentEvent::PriorityChanged {
            at,
            from: Priority::P3,
            to: Priority::P4,
            reason: text("Question"),
            clocks: vec![retarget(GTI, Some(7200)), retarget(GTR, None)],
        }]);
    // Standard has no commitment anywhere: nothing to retarget.
    let ticket = Ticket::new(
        services_with_tier(t0(), Tier::Standard),
        vec![opened(t0(), Tier::Standard, Priority::P2)],
    );
    ticket
        .when(
            at,
            AGENT,
            IncidentCommand::ChangePriority {
                to: Priority::P1,
                reason: text("Panne totale"),
            },
        )
        .then_expect_events(vec![IncidentEvent::PriorityChanged {
            at,
            from: Priority::P2,
            to: Priority::P1,
            reason: text("Panne totale"),
            clocks: vec![],
        }]);
}

#[test]
fn the_same_priority_is_refused() {
    let ticket = gold_p1_in_progress();
    ticket.refuses(
        t0() + minutes(30),
        AGENT,
        IncidentCommand::ChangePriority {
            to: Priority::P1,
            reason: text("Rien"),
        },
        IncidentError::SamePriority(Priority::P1),
    );
}

/// docs/domain.md "SLA clocks": on a priority change a clock "takes the new priority's
/// target". Gold GTI P1 is 15 min on `24x7`, GTI P3 is 1 h on `business-hours-fr`: the
/// stored `Target` change names the new calendar, and only when it changes (older events
/// stay readable).
#[test]
fn a_priority_change_onto_a_business_hours_target_moves_the_clock_to_business_hours() {
    let ticket = Ticket::new(
        TestServices::at(t0()),
        vec![opened(t0(), Tier::Gold, Priority::P1)],
    );
    let events = ticket
        .when(
            t0() + minutes(5),
            AGENT,
            IncidentCommand::ChangePriority {
                to: Priority::P3,
                reason: text("Mineur"),
            },
        )
        .inspect_result()
        .unwrap();
    let stored = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        stored["PriorityChanged"]["clocks"][0]["calendar"],
        "business-hours-fr"
    );
    assert!(
        stored["PriorityChanged"]["clocks"][1]
            .get("calendar")
            .is_none(),
        "no calendar field when the calendar does not change"
    );
}

#[test]
fn an_unknown_pinned_policy_version_is_named() {
    // A ticket opened under a version this installation no longer has.
    let ticket = Ticket::new(
        TestServices::at(t0()),
        vec![opened_under(t0(), Tier::Gold, Priority::P1, "default-2019")],
    );
    ticket.refuses(
        t0() + minutes(5),
        AGENT,
        IncidentCommand::ChangePriority {
            to: Priority::P2,
            reason: text("Impact réduit"),
        },
        IncidentError::UnknownPolicyVersion("default-2019".to_owned()),
    );
    let mut restored = ticket.history.clone();
    restored.push(IncidentEvent::InterventionStarted {
        at: t0() + minutes(10),
        clocks: vec![stop(GTI)],
    });
    restored.push(IncidentEvent::ServiceRestored {
        at: t0() + minutes(20),
        resolution: text("Redémarrage"),
        clocks: vec![stop(GTD), stop(GTR)],
    });
    Ticket::new(TestServices::at(t0()), restored).refuses(
        t0() + minutes(30),
        CUSTOMER,
        IncidentCommand::Reopen {
            reason: text("Encore"),
        },
        IncidentError::UnknownPolicyVersion("default-2019".to_owned()),
    );
}

// ---------------------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------------------

#[test]
fn anyone_but_an_analyst_comments_until_the_ticket_is_closed() {
    let ticket = gold_p1_in_progress();
    let at = t0() + minutes(12);
    for role in [CUSTOMER, AGENT, ADMIN, SYSTEM] {
        ticket
            .when(
                at,
                role,
                IncidentCommand::AddComment {
                    text: IncidentComment::parse("Capture jointe").unwrap(),
                },
            )
            .then_expect_events(vec![IncidentEvent::CommentAdded {
                at,
                text: IncidentComment::parse("Capture jointe").unwrap(),
            }]);
    }
}

// ---------------------------------------------------------------------------------------
// Refusals: roles, missing incident, transitions
// ---------------------------------------------------------------------------------------

fn every_command() -> Vec<IncidentCommand> {
    vec![
        open_command(Priority::P1),
        IncidentCommand::StartIntervention,
        IncidentCommand::AwaitCustomer {
            reason: PauseReason::default(),
        },
        IncidentCommand::RecordCustomerResponse,
        IncidentCommand::ShareDiagnosis {
            diagnosis: text("Diagnostic"),
        },
        IncidentCommand::Restore {
            resolution: text("Résolution"),
        },
        IncidentCommand::Close,
        IncidentCommand::Reopen {
            reason: text("Raison"),
        },
        IncidentCommand::ChangePriority {
            to: Priority::P2,
            reason: text("Raison"),
        },
        IncidentCommand::AddComment {
            text: IncidentComment::parse("Commentaire").unwrap(),
        },
    ]
}

/// A history that leaves the Gold P1 ticket in each status.
fn history_in(status: IncidentStatus) -> Vec<IncidentEvent> {
    let mut history = vec![opened(t0(), Tier::Gold, Priority::P1)];
    let started = IncidentEvent::InterventionStarted {
        at: t0() + minutes(10),
        clocks: vec![stop(GTI)],
    };
    let restored = IncidentEvent::ServiceRestored {
        at: t0() + minutes(30),
        resolution: text("Résolution"),
        clocks: vec![stop(GTD), stop(GTR)],
    };
    match status {
        IncidentStatus::Opened => {}
        IncidentStatus::InProgress => history.push(started),
        IncidentStatus::AwaitingCustomer => {
            history.push(started);
            history.push(IncidentEvent::CustomerInputRequested {
                at: t0() + minutes(20),
                reason: PauseReason::awaiting_customer(),
                clocks: vec![pause(GTD), pause(GTR)],
            });
        }
        IncidentStatus::Restored => history.extend([started, restored]),
        IncidentStatus::Closed => {
            history.extend([
                started,
                restored,
                IncidentEvent::IncidentClosed {
                    at: t0() + minutes(40),
                },
            ]);
        }
    }
    history
}

#[test]
fn analysts_are_read_only() {
    for status in [
        None,
        Some(IncidentStatus::Opened),
        Some(IncidentStatus::Restored),
    ] {
        let history = status.map(history_in).unwrap_or_default();
        for command in every_command() {
            Ticket::new(TestServices::at(t0()), history.clone()).refuses(
                t0() + minutes(50),
                ANALYST,
                command,
                not_permitted(ANALYST, "act on an incident (analysts are read-only)"),
            );
        }
    }
}

#[test]
fn customers_cannot_do_the_staff_only_steps() {
    let steps: [(IncidentStatus, IncidentCommand, &'static str); 5] = [
        (
            IncidentStatus::Opened,
            IncidentCommand::StartIntervention,
            "start work on an incident",
        ),
        (
            IncidentStatus::InProgress,
            IncidentCommand::AwaitCustomer {
                reason: PauseReason::default(),
            },
            "put an incident on hold",
        ),
        (
            IncidentStatus::InProgress,
            IncidentCommand::ShareDiagnosis {
                diagnosis: text("Diagnostic"),
            },
            "share a diagnosis",
        ),
        (
            IncidentStatus::InProgress,
            IncidentCommand::Restore {
                resolution: text("Fait"),
            },
            "restore service",
        ),
        (
            IncidentStatus::InProgress,
            IncidentCommand::ChangePriority {
                to: Priority::P3,
                reason: text("Mineur"),
            },
            "change an incident's priority",
        ),
    ];
    for (status, command, action) in steps {
        Ticket::new(TestServices::at(t0()), history_in(status)).refuses(
            t0() + minutes(50),
            CUSTOMER,
            command,
            not_permitted(CUSTOMER, action),
        );
    }
}

#[test]
fn commands_other_than_open_need_an_existing_incident() {
    let ticket = Ticket::new(TestServices::at(t0()), vec![]);
    for command in every_command().into_iter().skip(1) {
        // Agents pass every role check, so only the missing incident refuses.
        ticket.refuses(t0(), AGENT, command, IncidentError::NotFound);
    }
}

#[test]
fn each_step_is_allowed_only_from_its_statuses() {
    use IncidentStatus::*;
    // (command index in `every_command`, action, statuses it is allowed from)
    let rules: [(usize, &'static str, &[IncidentStatus]); 9] = [
        (1, "start work on", &[Opened]),
        (2, "await the customer on", &[InProgress]),
        (3, "record a customer response on", &[AwaitingCustomer]),
        (4, "share a diagnosis on", &[InProgress, AwaitingCustomer]),
        (5, "restore", &[InProgress, AwaitingCustomer]),
        (6, "close", &[Restored]),
        (7, "reopen", &[Restored]),
        (
            8,
            "change the priority of",
            &[Opened, InProgress, AwaitingCustomer, Restored],
        ),
        (
            9,
            "comment on",
            &[Opened, InProgress, AwaitingCustomer, Restored],
        ),
    ];
    let commands = every_command();
    for status in [Opened, InProgress, AwaitingCustomer, Restored, Closed] {
        let ticket = Ticket::new(TestServices::at(t0()), history_in(status));
        for (index, action, allowed) in rules {
            // An agent passes every role check.
            let result = ticket
                .when(t0() + minutes(50), AGENT, commands[index].clone())
                .inspect_result();
            if allowed.contains(&status) {
                assert!(result.is_ok(), "{action} from {status}: {result:?}");
            } else {
                assert_eq!(
                    result,
                    Err(invalid(action, status)),
                    "{action} from {status}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Random command sequences
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Step {
    Open {
        priority: Priority,
        known_contract: bool,
    },
    StartIntervention,
    AwaitCustomer,
    Respond,
    ShareDiagnosis,
    Restore,
    Close,
    Reopen,
    ChangePriority(Priority),
    Comment,
    /// Not a command: the contract's tier changes from now on.
    ContractTier(Tier),
}

#[derive(Clone, Debug)]
struct Move {
    advance_seconds: i64,
    role: ActorRole,
    step: Step,
}

fn any_priority() -> impl Strategy<Value = Priority> {
    prop::sample::select(Priority::ALL.to_vec())
}

fn any_tier() -> impl Strategy<Value = Tier> {
    prop::sample::select(Tier::ALL.to_vec())
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (any_priority(), prop::bool::weighted(0.9))
            .prop_map(|(priority, known_contract)| Step::Open { priority, known_contract }),
        3 => Just(Step::StartIntervention),
        3 => Just(Step::AwaitCustomer),
        3 => Just(Step::Respond),
        2 => Just(Step::ShareDiagnosis),
        3 => Just(Step::Restore),
        1 => Just(Step::Close),
        3 => Just(Step::Reopen),
        3 => any_priority().prop_map(Step::ChangePriority),
        1 => Just(Step::Comment),
        1 => any_tier().prop_map(Step::ContractTier),
    ]
}

fn any_move() -> impl Strategy<Value = Move> {
    let advance = prop_oneof![
        Just(0i64),
        1i64..3_600,
        3_600i64..3 * 86_400,
        Just(7 * 86_400),
        6 * 86_400i64..8 * 86_400,
    ];
    let role = prop_oneof![
        4 => Just(AGENT),
        4 => Just(CUSTOMER),
        1 => Just(ADMIN),
        1 => Just(SYSTEM),
        1 => Just(ANALYST),
    ];
    (advance, role, any_step()).prop_map(|(advance_seconds, role, step)| Move {
        advance_seconds,
        role,
        step,
    })
}

fn command_for(step: &Step) -> Option<IncidentCommand> {
    Some(match step.clone() {
        Step::Open {
            priority,
            known_contract,
        } => {
            let contract = if known_contract {
                contract_id()
            } else {
                ContractId::parse("OCB9999999").unwrap()
            };
            open_command_on(contract, priority)
        }
        Step::StartIntervention => IncidentCommand::StartIntervention,
        Step::AwaitCustomer => IncidentCommand::AwaitCustomer {
            reason: PauseReason::default(),
        },
        Step::Respond => IncidentCommand::RecordCustomerResponse,
        Step::ShareDiagnosis => IncidentCommand::ShareDiagnosis {
            diagnosis: text("Diagnostic"),
        },
        Step::Restore => IncidentCommand::Restore {
            resolution: text("Résolution"),
        },
        Step::Close => IncidentCommand::Close,
        Step::Reopen => IncidentCommand::Reopen {
            reason: text("Raison"),
        },
        Step::ChangePriority(to) => IncidentCommand::ChangePriority {
            to,
            reason: text("Raison"),
        },
        Step::Comment => IncidentCommand::AddComment {
            text: IncidentComment::parse("Commentaire").unwrap(),
        },
        Step::ContractTier(_) => return None,
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Run {
    Running,
    Paused,
    Stopped,
}

#[derive(Clone, Debug)]
struct ClockModel {
    run: Run,
    target: Option<i64>,
    calendar: String,
    pausable: bool,
}

/// What the test believes about the ticket, kept from the events alone.
#[derive(Default)]
struct IncidentModel {
    status: Option<IncidentStatus>,
    priority: Option<Priority>,
    tier: Option<Tier>,
    clocks: BTreeMap<Metric, ClockModel>,
    restored_at: Option<DateTime<Utc>>,
    diagnosis_shared: bool,
}

impl IncidentModel {
    fn clock(&self, metric: Metric) -> &ClockModel {
        self.clocks
            .get(&metric)
            .unwrap_or_else(|| panic!("{metric} was never started"))
    }

    /// Applies one metric transition, checking it is a legal move for that clock.
    fn transition(&mut self, change: &ClockChange, opening: bool) {
        let metric = change.metric;
        if let ClockChangeKind::Start {
            target_seconds,
            calendar,
            pausable,
        } = &change.kind
        {
            assert!(opening, "{metric} started outside the opening");
            assert!(!self.clocks.contains_key(&metric), "{metric} started twice");
            self.clocks.insert(
                metric,
                ClockModel {
                    run: Run::Running,
                    target: *target_seconds,
                    calendar: calendar.clone(),
                    pausable: *pausable,
                },
            );
            return;
        }
        let clock = self
            .clocks
            .get_mut(&metric)
            .unwrap_or_else(|| panic!("{change:?} before its start"));
        match &change.kind {
            ClockChangeKind::Start { .. } => unreachable!(),
            ClockChangeKind::Pause { .. } => {
                assert_eq!(
                    clock.run,
                    Run::Running,
                    "{metric} paused while {:?}",
                    clock.run
                );
                assert!(clock.pausable, "{metric} is not pausable");
                clock.run = Run::Paused;
            }
            ClockChangeKind::Resume => {
                assert_eq!(
                    clock.run,
                    Run::Paused,
                    "{metric} resumed while {:?}",
                    clock.run
                );
                clock.run = Run::Running;
            }
            ClockChangeKind::Stop => {
                assert_eq!(
                    clock.run,
                    Run::Running,
                    "{metric} stopped while {:?}",
                    clock.run
                );
                clock.run = Run::Stopped;
            }
            ClockChangeKind::Reopen => {
                assert_eq!(
                    clock.run,
                    Run::Stopped,
                    "{metric} reopened while {:?}",
                    clock.run
                );
                clock.run = Run::Running;
            }
            ClockChangeKind::Target {
                target_seconds,
                calendar,
            } => {
                assert_ne!(
                    calendar.as_ref(),
                    Some(&clock.calendar),
                    "{metric} moved to the calendar it counts on"
                );
                assert!(
                    clock.target != *target_seconds || calendar.is_some(),
                    "{metric} retargeted to the same target on the same calendar"
                );
                clock.target = *target_seconds;
                if let Some(calendar) = calendar {
                    clock.calendar = calendar.clone();
                }
            }
        }
    }

    /// Checks one accepted event against the model, then updates the model.
    fn accept(
        &mut self,
        event: &IncidentEvent,
        now: DateTime<Utc>,
        by: &Actor,
        tier_in_force: Option<Tier>,
    ) {
        use IncidentStatus::*;
        assert_eq!(event.at(), now, "an event is stamped with the clock");
        let staff = matches!(by.role, AGENT | ADMIN | SYSTEM);
        let before = self.status;
        let opening = matches!(event, IncidentEvent::IncidentOpened { .. });
        for change in event.clocks() {
            self.transition(change, opening);
        }
        let after = match event {
            IncidentEvent::IncidentOpened {
                tier,
                priority,
                policy_version,
                clocks,
                ..
            } => {
                assert_eq!(
                    Some(*tier),
                    tier_in_force,
                    "the tier in force at opening is pinned"
                );
                assert_eq!(policy_version, "default-2026");
                assert_eq!(clocks, &expected_starts(*tier, *priority));
                self.tier = Some(*tier);
                self.priority = Some(*priority);
                Some(Opened)
            }
            IncidentEvent::InterventionStarted { .. } => {
                assert!(staff);
                assert_eq!(self.clock(GTI).run, Run::Stopped);
                Some(InProgress)
            }
            IncidentEvent::CustomerInputRequested { .. } => {
                assert!(staff);
                assert!(
                    self.clocks
                        .values()
                        .all(|clock| !(clock.pausable && clock.run == Run::Running))
                );
                Some(AwaitingCustomer)
            }
            IncidentEvent::CustomerResponded { .. } => {
                assert!(self.clocks.values().all(|clock| clock.run != Run::Paused));
                Some(InProgress)
            }
            IncidentEvent::DiagnosisShared { first, clocks, .. } => {
                assert!(staff);
                assert_eq!(*first, !self.diagnosis_shared);
                if !first {
                    assert!(clocks.is_empty());
                }
                self.diagnosis_shared = true;
                assert_eq!(self.clock(GTD).run, Run::Stopped);
                assert!(
                    matches!(before, Some(InProgress | AwaitingCustomer)),
                    "diagnosis while {before:?}"
                );
                None
            }
            IncidentEvent::ServiceRestored { .. } => {
                assert!(staff);
                assert_eq!(self.clock(GTD).run, Run::Stopped);
                assert_eq!(self.clock(GTR).run, Run::Stopped);
                self.restored_at = Some(now);
                Some(Restored)
            }
            IncidentEvent::IncidentClosed { .. } => Some(Closed),
            IncidentEvent::IncidentReopened { restored_at, .. } => {
                assert_eq!(Some(*restored_at), self.restored_at);
                assert!(
                    now <= *restored_at + Duration::days(7),
                    "reopened after the window"
                );
                let gtr = self.clock(GTR);
                assert_eq!(gtr.run, Run::Running);
                assert_eq!(
                    gtr.target,
                    target_of(self.tier.unwrap(), self.priority.unwrap(), GTR)
                );
                Some(InProgress)
            }
            IncidentEvent::PriorityChanged { from, to, .. } => {
                assert!(staff);
                assert_eq!(Some(*from), self.priority);
                assert_ne!(from, to);
                self.priority = Some(*to);
                for (metric, clock) in &self.clocks {
                    if clock.run != Run::Stopped {
                        assert_eq!(
                            clock.target,
                            target_of(self.tier.unwrap(), *to, *metric),
                            "{metric} after {to}"
                        );
                    }
                }
                None
            }
            IncidentEvent::CommentAdded { .. } => None,
        };
        // `None`: the event keeps the status.
        let edge_allowed = match (before, after) {
            (None, Some(Opened)) => true,
            (Some(Opened), Some(InProgress))
            | (Some(InProgress), Some(AwaitingCustomer))
            | (Some(AwaitingCustomer), Some(InProgress))
            | (Some(InProgress | AwaitingCustomer), Some(Restored))
            | (Some(Restored), Some(Closed | InProgress)) => true,
            (Some(status), None) => status != Closed,
            _ => false,
        };
        assert!(
            edge_allowed,
            "{event:?} moved the ticket from {before:?} to {after:?}"
        );
        self.status = after.or(before);
    }
}

fn execute(
    runtime: &tokio::runtime::Runtime,
    incident: &mut Incident,
    command: Authored<IncidentCommand>,
    services: &Services,
) -> (Result<(), IncidentError>, Vec<IncidentEvent>) {
    runtime.block_on(async {
        let sink = EventSink::default();
        let outcome = incident.handle(command, services, &sink).await;
        (outcome, sink.collect().await)
    })
}

fn check_incident_sequence(
    start_offset_seconds: i64,
    initial_tier: Tier,
    open_first: Option<Priority>,
    moves: Vec<Move>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut now = utc(2026, 1, 1, 0, 0, 0) + Duration::seconds(start_offset_seconds);
    let ts = TestServices::at(now);
    let mut tiers = vec![(now, initial_tier)];
    ts.contracts
        .set_tier_from(&contract_id(), now, initial_tier);

    let mut moves = moves;
    if let Some(priority) = open_first {
        let step = Step::Open {
            priority,
            known_contract: true,
        };
        moves.insert(
            0,
            Move {
                advance_seconds: 0,
                role: CUSTOMER,
                step,
            },
        );
    }
    let mut incident = Incident::default();
    let mut model = IncidentModel::default();
    for Move {
        advance_seconds,
        role,
        step,
    } in moves
    {
        now += Duration::seconds(advance_seconds);
        ts.clock.set(now);
        let Some(command) = command_for(&step) else {
            let Step::ContractTier(tier) = step else {
                unreachable!()
            };
            ts.contracts.set_tier_from(&contract_id(), now, tier);
            tiers.push((now, tier));
            continue;
        };
        let by = actor(role);
        let before = incident.clone();
        let was_closed = model.status == Some(IncidentStatus::Closed);
        let (outcome, events) = execute(
            &runtime,
            &mut incident,
            Authored::new(by.clone(), command),
            &ts.services,
        );
        match outcome {
            Err(error) => {
                assert!(
                    events.is_empty(),
                    "{step:?} by {role} was refused ({error}) yet wrote {events:?}"
                );
                assert_eq!(
                    incident, before,
                    "{step:?} by {role} was refused ({error}) yet changed the state"
                );
            }
            Ok(()) => {
                assert_ne!(role, ANALYST, "an analyst acted on an incident");
                assert!(
                    !was_closed,
                    "{step:?} by {role} was accepted on a closed ticket"
                );
                assert_eq!(events.len(), 1);
                let tier_in_force = tiers
                    .iter()
                    .rev()
                    .find(|(from, _)| *from <= now)
                    .map(|(_, tier)| *tier);
                for event in &events {
                    model.accept(event, now, &by, tier_in_force);
                }
            }
        }
        assert_eq!(incident.status(), model.status);
        assert_eq!(incident.priority(), model.priority);
        assert_eq!(incident.tier(), model.tier);
        for metric in [GTI, GTD, GTR] {
            let running = model
                .clocks
                .get(&metric)
                .is_some_and(|clock| clock.run == Run::Running);
            assert_eq!(incident.is_running(metric), running, "{metric}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_incident_commands_keep_the_clocks_and_the_lifecycle_valid(
        start_offset_seconds in 0i64..365 * 86_400,
        initial_tier in any_tier(),
        open_first in prop::option::weighted(0.9, any_priority()),
        moves in prop::collection::vec(any_move(), 1..60),
    ) {
        check_incident_sequence(start_offset_seconds, initial_tier, open_first, moves);
    }
}

// ---------------------------------------------------------------------------------------
// Stored form of every event
// ---------------------------------------------------------------------------------------

/// One example of every variant; the match fails to compile when a variant is added
/// without an example (and so without a snapshot).
fn every_incident_event() -> Vec<IncidentEvent> {
    let events = vec![
        IncidentEvent::IncidentOpened {
            at: utc(2026, 3, 2, 8, 0, 0),
            incident_id: incident_id(),
            contract_id: contract_id(),
            contract_name: Title::parse("SI_Prod").unwrap(),
            time_zone: Paris,
            priority: Priority::P3,
            title: Title::parse("VM web-01 injoignable").unwrap(),
            description: text("Plus de réponse HTTP depuis 08:55."),
            tier: Tier::Silver,
            policy_version: "default-2026".to_owned(),
            clocks: vec![
                start(GTI, Some(7200), BUSINESS_HOURS, false),
                start(GTD, None, ALWAYS, true),
                start(GTR, Some(86_400), BUSINESS_HOURS, true),
            ],
        },
        IncidentEvent::InterventionStarted {
            at: utc(2026, 3, 2, 8, 10, 0),
            clocks: vec![stop(GTI)],
        },
        IncidentEvent::CustomerInputRequested {
            at: utc(2026, 3, 2, 8, 30, 0),
            reason: PauseReason::awaiting_customer(),
            clocks: vec![pause(GTD), pause(GTR)],
        },
        IncidentEvent::CustomerResponded {
            at: utc(2026, 3, 2, 9, 30, 0),
            clocks: vec![resume(GTD), resume(GTR)],
        },
        IncidentEvent::DiagnosisShared {
            at: utc(2026, 3, 2, 10, 0, 0),
            diagnosis: text("Disque plein sur web-01"),
            first: true,
            clocks: vec![stop(GTD)],
        },
        IncidentEvent::ServiceRestored {
            at: utc(2026, 3, 2, 11, 30, 0),
            resolution: text("Logs purgés, rotation activée"),
            clocks: vec![resume(GTR), stop(GTR)],
        },
        IncidentEvent::IncidentClosed {
            at: utc(2026, 3, 6, 8, 0, 0),
        },
        IncidentEvent::IncidentReopened {
            at: utc(2026, 3, 5, 9, 0, 0),
            reason: text("Le disque se remplit de nouveau"),
            restored_at: utc(2026, 3, 2, 11, 30, 0),
            clocks: vec![reopen(GTR), retarget(GTR, Some(57_600))],
        },
        IncidentEvent::PriorityChanged {
            at: utc(2026, 3, 2, 8, 5, 0),
            from: Priority::P3,
            to: Priority::P4,
            reason: text("Simple question"),
            clocks: vec![retarget(GTI, Some(14_400)), retarget(GTR, None)],
        },
        IncidentEvent::CommentAdded {
            at: utc(2026, 3, 2, 8, 20, 0),
            text: IncidentComment::parse("Capture d'écran jointe").unwrap(),
        },
    ];
    for event in &events {
        match event {
            IncidentEvent::IncidentOpened { .. }
            | IncidentEvent::InterventionStarted { .. }
            | IncidentEvent::CustomerInputRequested { .. }
            | IncidentEvent::CustomerResponded { .. }
            | IncidentEvent::DiagnosisShared { .. }
            | IncidentEvent::ServiceRestored { .. }
            | IncidentEvent::IncidentClosed { .. }
            | IncidentEvent::IncidentReopened { .. }
            | IncidentEvent::PriorityChanged { .. }
            | IncidentEvent::CommentAdded { .. } => {}
        }
    }
    events
}

#[test]
fn every_incident_event_has_a_stable_stored_form() {
    let events = every_incident_event();
    let names: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
    assert_eq!(
        names,
        [
            "IncidentOpened",
            "InterventionStarted",
            "CustomerInputRequested",
            "CustomerResponded",
            "DiagnosisShared",
            "ServiceRestored",
            "IncidentClosed",
            "IncidentReopened",
            "PriorityChanged",
            "CommentAdded"
        ]
    );
    for event in events {
        assert_eq!(event.event_version(), "1");
        let stored = serde_json::to_value(&event).unwrap();
        let read_back: IncidentEvent = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(read_back, event, "round trip of {}", event.event_type());
        insta::assert_json_snapshot!(event.event_type(), stored);
    }
}

#[test]
fn issue_20_comments_stored_under_the_change_forms_rule_still_read() {
    // Before incident comments had a rule of their own, "" and "   " were stored (as "")
    // and nothing longer than 400 characters; an empty comment must still read back.
    for text in ["", "Capture d'écran jointe"] {
        let stored = serde_json::json!({
            "CommentAdded": {"at": "2026-03-02T08:20:00Z", "text": text}
        });
        let read: IncidentEvent = serde_json::from_value(stored).unwrap();
        let IncidentEvent::CommentAdded { text: read, .. } = read else {
            panic!("a CommentAdded reads as one");
        };
        assert_eq!(read.as_str(), text);
    }
}

#[test]
fn every_clock_change_kind_has_a_stable_stored_form() {
    let changes = vec![
        start(GTR, Some(14_400), ALWAYS, true),
        start(GTD, None, ALWAYS, true),
        pause_for(GTR, "awaiting_access"),
        resume(GTR),
        stop(GTI),
        reopen(GTR),
        retarget(GTR, Some(28_800)),
        retarget(GTD, None),
    ];
    let stored = serde_json::to_value(&changes).unwrap();
    let read_back: Vec<ClockChange> = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(read_back, changes);
    insta::assert_json_snapshot!("clock_changes", stored);
}
