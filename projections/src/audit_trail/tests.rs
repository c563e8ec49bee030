//! Audit-trail tests: feed events with their audit metadata, read histories back, compare
//! with entries written by hand. Every event type of the four aggregates appears once at
//! least. Each test runs on SQLite and, when enabled, PostgreSQL.

use chrono::{DateTime, TimeZone, Utc};
use sablier_domain::YearMonth;
use sablier_domain::change::{ChangeEvent, ChangeForm, ChangeStatus};
use sablier_domain::contract::{ContractEvent, SectionRole, SectionRoles};
use sablier_domain::incident::{ClockChange, ClockChangeKind, IncidentEvent, PauseReason};
use sablier_domain::order::{OrderEvent, OrderStatus, Price};
use sablier_domain::text::{AssetRef, IncidentComment};
use sablier_sla::{Metric, Priority, Tier};
use sablier_store::testing::TestDatabase;

use super::*;
use crate::event::{Audit, DomainEvent};
use crate::request_list::fixtures::*;
use crate::sql::begin;
use crate::testing::assert_batches_match_one_by_one;

const PROD: &str = "OCB0000124";

fn customer(request: &str) -> Audit {
    Audit {
        actor: "jean.dupont".to_owned(),
        actor_role: "customer".to_owned(),
        on_behalf_of: None,
        channel: "portal".to_owned(),
        request_id: request.to_owned(),
    }
}

fn agent(request: &str) -> Audit {
    Audit {
        actor: "agent.smith".to_owned(),
        actor_role: "agent".to_owned(),
        on_behalf_of: None,
        channel: "api".to_owned(),
        request_id: request.to_owned(),
    }
}

/// Applies `events` (positions 1, 2… and each aggregate's sequence 1, 2…) to the audit
/// trail of a fresh database of each enabled backend, one by one, then runs `check`; and
/// checks that applying them in batches leaves the same rows
/// ([`assert_batches_match_one_by_one`]).
async fn on_each_backend(
    events: Vec<(Fed, Audit)>,
    check: impl AsyncFn(&ViewReader, &'static str),
) {
    let mut sequences = std::collections::HashMap::<String, i64>::new();
    let fed: Vec<FeedEvent> = events
        .into_iter()
        .enumerate()
        .map(|(index, ((aggregate_id, event), audit))| {
            let sequence = sequences.entry(aggregate_id.clone()).or_default();
            *sequence += 1;
            FeedEvent {
                position: index as i64 + 1,
                aggregate_type: event.aggregate_type().to_owned(),
                aggregate_id,
                sequence: *sequence,
                event_type: event.event_type(),
                at: event.at(),
                event,
                audit,
            }
        })
        .collect();
    for db in TestDatabase::all().await {
        let mut tx = begin(&db.database).await.unwrap();
        for event in &fed {
            AuditTrail.apply(&mut tx, event).await.unwrap();
        }
        tx.commit().await.unwrap();
        check(&ViewReader::new(db.database.clone()), db.backend_name()).await;
        db.cleanup().await;
    }
    assert_batches_match_one_by_one(&AuditTrail, fed)
        .await
        .unwrap();
}

async fn summaries(reader: &ViewReader, aggregate_id: &str) -> Vec<(String, String)> {
    AuditTrail::history(reader, aggregate_id)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.event_type, entry.summary))
        .collect()
}

fn expected(lines: &[(&str, &str)]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|(event_type, summary)| (event_type.to_string(), summary.to_string()))
        .collect()
}

fn clock(metric: Metric, kind: ClockChangeKind) -> ClockChange {
    ClockChange::new(metric, kind)
}

#[tokio::test]
async fn a_history_lists_every_event_in_order_with_who_when_how_and_what() {
    let incident_id = request_id("INC", 1);
    let on_the_phone = Audit {
        actor: "agent.smith".to_owned(),
        actor_role: "agent".to_owned(),
        on_behalf_of: Some("paul.dupont".to_owned()),
        channel: "phone".to_owned(),
        request_id: "req-open".to_owned(),
    };
    let events = vec![
        (
            contract_created(PROD, "SI_Prod", at(1, 8, 0)),
            agent("req-contract"),
        ),
        (
            incident_opened(
                &incident_id,
                PROD,
                "SI_Prod",
                "Site web inaccessible",
                at(2, 9, 0),
            ),
            on_the_phone,
        ),
        (
            incident(
                &incident_id,
                IncidentEvent::PriorityChanged {
                    at: at(2, 9, 30),
                    from: Priority::P2,
                    to: Priority::P1,
                    reason: text("customer escalated"),
                    clocks: Vec::new(),
                },
            ),
            agent("req-priority"),
        ),
        (
            incident(
                &incident_id,
                IncidentEvent::CommentAdded {
                    at: at(2, 10, 0),
                    text: IncidentComment::parse("Any news?").unwrap(),
                },
            ),
            customer("req-comment"),
        ),
    ];
    let entry =
        |sequence, position, when: DateTime<Utc>, event_type: &str, summary: &str| AuditEntry {
            aggregate_type: "Incident".to_owned(),
            aggregate_id: incident_id.clone(),
            sequence,
            position,
            at: when,
            actor: "agent.smith".to_owned(),
            actor_role: "agent".to_owned(),
            on_behalf_of: None,
            channel: "api".to_owned(),
            request_id: String::new(),
            event_type: event_type.to_owned(),
            summary: summary.to_owned(),
        };
    let expected_history = vec![
        AuditEntry {
            on_behalf_of: Some("paul.dupont".to_owned()),
            channel: "phone".to_owned(),
            request_id: "req-open".to_owned(),
            ..entry(
                1,
                2,
                at(2, 9, 0),
                "IncidentOpened",
                "Incident opened at P2 (Silver, policy default-2026): Site web inaccessible; \
                 clocks started: GTI 1 h (24x7), GTD 8 h (24x7), GTR 16 h (24x7)",
            )
        },
        AuditEntry {
            request_id: "req-priority".to_owned(),
            ..entry(
                2,
                3,
                at(2, 9, 30),
                "PriorityChanged",
                "Priority changed from P2 to P1: customer escalated",
            )
        },
        AuditEntry {
            actor: "jean.dupont".to_owned(),
            actor_role: "customer".to_owned(),
            channel: "portal".to_owned(),
            request_id: "req-comment".to_owned(),
            ..entry(
                3,
                4,
                at(2, 10, 0),
                "CommentAdded",
                "Comment added: Any news?",
            )
        },
    ];
    on_each_backend(events, async |reader, backend| {
        assert_eq!(
            AuditTrail::history(reader, &incident_id).await.unwrap(),
            expected_history,
            "{backend}"
        );
        let contract_history = AuditTrail::history(reader, PROD).await.unwrap();
        assert_eq!(contract_history.len(), 1, "{backend}");
        assert_eq!(contract_history[0].aggregate_type, "Contract", "{backend}");
        assert_eq!(contract_history[0].request_id, "req-contract", "{backend}");
        assert_eq!(
            AuditTrail::history(reader, "INC-unknown").await.unwrap(),
            Vec::new(),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn every_contract_event_reads_as_one_line() {
    let julie = user("julie.martin");
    let declared_roles = SectionRoles {
        contract: SectionRole::Visitor,
        dashboard: SectionRole::Visitor,
        support: SectionRole::Manager,
        ..SectionRoles::default()
    };
    let changed_roles = SectionRoles {
        support: SectionRole::Visitor,
        users: SectionRole::Manager,
        ..declared_roles
    };
    let contract_event = |event| (contract(PROD, event), agent("req"));
    let events = vec![
        (contract_created(PROD, "SI_Prod", at(1, 8, 0)), agent("req")),
        contract_event(ContractEvent::SupportTierUpgraded {
            at: at(3, 10, 0),
            from: Tier::Silver,
            to: Tier::Gold,
            sla_effective_at: at(3, 10, 0),
            billing_effective_on: date(12, 1),
            billing_effective_at: Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap(),
            cancelled_downgrade: Some(Tier::Bronze),
        }),
        contract_event(ContractEvent::SupportTierDowngradeScheduled {
            at: at(4, 10, 0),
            from: Tier::Gold,
            to: Tier::Bronze,
            effective_on: date(12, 1),
            effective_at: Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap(),
            replaced_downgrade: None,
        }),
        contract_event(ContractEvent::ExpertTimeLogged {
            at: at(4, 18, 0),
            expert: login("marc.expert"),
            performed_on: date(11, 4),
            billing_month: YearMonth::new(2026, 11).unwrap(),
            minutes: 90,
            note: Some(text("Tuning  the\ndatabase")),
        }),
        contract_event(ContractEvent::UserDeclared {
            at: at(5, 9, 0),
            user: julie.clone(),
            roles: declared_roles,
            requested_login: Some(login("julie.m123")),
        }),
        contract_event(ContractEvent::UserRolesChanged {
            at: at(5, 10, 0),
            login: julie.login.clone(),
            previous: declared_roles,
            roles: changed_roles,
        }),
        contract_event(ContractEvent::UserRemoved {
            at: at(6, 10, 0),
            login: julie.login.clone(),
        }),
    ];
    on_each_backend(events, async |reader, backend| {
        assert_eq!(
            summaries(reader, PROD).await,
            expected(&[
                (
                    "ContractCreated",
                    "Contract OCB0000124 created: SI_Prod, Flexible Computing Advanced, tier Silver, referent jean.dupont"
                ),
                (
                    "SupportTierUpgraded",
                    "Support tier upgraded from Silver to Gold, billed from 2026-12-01; \
                     the scheduled downgrade to Bronze is cancelled"
                ),
                (
                    "SupportTierDowngradeScheduled",
                    "Support tier downgrade from Gold to Bronze scheduled for 2026-12-01"
                ),
                (
                    "ExpertTimeLogged",
                    "1 h 30 min of expert time logged for marc.expert on 2026-11-04, billed in 2026-11: \
                     Tuning the database"
                ),
                (
                    "UserDeclared",
                    "User julie.martin declared (julie.martin@example.com): manager of support; \
                     visitor of contract, dashboard; email already known, keeps login julie.martin \
                     instead of julie.m123"
                ),
                (
                    "UserRolesChanged",
                    "Roles of julie.martin changed: support manager → visitor, users none → manager"
                ),
                ("UserRemoved", "User julie.martin removed"),
            ]),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn every_incident_event_reads_as_one_line_with_what_it_did_to_the_clocks() {
    let id = request_id("INC", 1);
    let step = |event| (incident(&id, event), agent("req"));
    let pause = |reason: &str| ClockChangeKind::Pause {
        reason: PauseReason::parse(reason).unwrap(),
    };
    let events = vec![
        (
            incident_opened(&id, PROD, "SI_Prod", "Site web inaccessible", at(2, 9, 0)),
            customer("req"),
        ),
        step(IncidentEvent::InterventionStarted {
            at: at(2, 9, 20),
            clocks: vec![clock(Metric::Gti, ClockChangeKind::Stop)],
        }),
        step(IncidentEvent::CustomerInputRequested {
            at: at(2, 10, 0),
            reason: PauseReason::awaiting_customer(),
            clocks: vec![
                clock(Metric::Gtd, pause("awaiting_customer")),
                clock(Metric::Gtr, pause("awaiting_customer")),
            ],
        }),
        step(IncidentEvent::CustomerResponded {
            at: at(2, 11, 0),
            clocks: vec![
                clock(Metric::Gtd, ClockChangeKind::Resume),
                clock(Metric::Gtr, ClockChangeKind::Resume),
            ],
        }),
        step(IncidentEvent::PriorityChanged {
            at: at(2, 11, 30),
            from: Priority::P2,
            to: Priority::P1,
            reason: text("customer escalated"),
            clocks: vec![
                clock(
                    Metric::Gtd,
                    ClockChangeKind::Target {
                        target_seconds: Some(4 * 3600),
                        calendar: None,
                    },
                ),
                clock(
                    Metric::Gtr,
                    ClockChangeKind::Target {
                        target_seconds: Some(8 * 3600),
                        calendar: Some("24x7".to_owned()),
                    },
                ),
            ],
        }),
        step(IncidentEvent::DiagnosisShared {
            at: at(2, 12, 0),
            diagnosis: text("Disk full on the database server"),
            first: true,
            clocks: vec![clock(Metric::Gtd, ClockChangeKind::Stop)],
        }),
        step(IncidentEvent::CustomerInputRequested {
            at: at(2, 12, 30),
            reason: PauseReason::parse("vendor_ticket").unwrap(),
            clocks: vec![clock(Metric::Gtr, pause("vendor_ticket"))],
        }),
        step(IncidentEvent::DiagnosisShared {
            at: at(2, 12, 45),
            diagnosis: text("The vendor confirms a firmware bug"),
            first: false,
            clocks: Vec::new(),
        }),
        step(IncidentEvent::ServiceRestored {
            at: at(2, 13, 0),
            resolution: text("Logs rotated"),
            clocks: vec![
                clock(Metric::Gtr, ClockChangeKind::Resume),
                clock(Metric::Gtr, ClockChangeKind::Stop),
            ],
        }),
        step(IncidentEvent::IncidentReopened {
            at: at(3, 9, 0),
            reason: text("Disk full again"),
            restored_at: at(2, 13, 0),
            clocks: vec![
                clock(Metric::Gtr, ClockChangeKind::Reopen),
                clock(
                    Metric::Gtr,
                    ClockChangeKind::Target {
                        target_seconds: None,
                        calendar: None,
                    },
                ),
            ],
        }),
        step(IncidentEvent::CommentAdded {
            at: at(3, 9, 5),
            // Stored before an incident comment had to say something: it still reads.
            text: serde_json::from_str("\"\"").unwrap(),
        }),
        step(IncidentEvent::ServiceRestored {
            at: at(3, 10, 0),
            resolution: text("Disk extended"),
            clocks: vec![clock(Metric::Gtr, ClockChangeKind::Stop)],
        }),
        step(IncidentEvent::IncidentClosed { at: at(4, 10, 0) }),
    ];
    on_each_backend(events, async |reader, backend| {
        assert_eq!(
            summaries(reader, &id).await,
            expected(&[
                (
                    "IncidentOpened",
                    "Incident opened at P2 (Silver, policy default-2026): Site web inaccessible; \
                     clocks started: GTI 1 h (24x7), GTD 8 h (24x7), GTR 16 h (24x7)"
                ),
                ("InterventionStarted", "Intervention started; clock GTI stopped"),
                (
                    "CustomerInputRequested",
                    "Customer input requested; clocks GTD, GTR paused (awaiting_customer)"
                ),
                ("CustomerResponded", "Customer responded; clocks GTD, GTR resumed"),
                (
                    "PriorityChanged",
                    "Priority changed from P2 to P1: customer escalated; targets now GTD 4 h, GTR 8 h (24x7)"
                ),
                (
                    "DiagnosisShared",
                    "Diagnosis shared: Disk full on the database server; clock GTD stopped"
                ),
                (
                    "CustomerInputRequested",
                    "Customer input requested; clock GTR paused (vendor_ticket)"
                ),
                ("DiagnosisShared", "Diagnosis updated: The vendor confirms a firmware bug"),
                ("ServiceRestored", "Service restored: Logs rotated; clock GTR stopped"),
                (
                    "IncidentReopened",
                    "Incident reopened (restored at 2026-11-02T13:00:00Z): Disk full again; \
                     clock GTR reopened; target now GTR without commitment"
                ),
                ("CommentAdded", "Comment added"),
                ("ServiceRestored", "Service restored: Disk extended; clock GTR stopped"),
                ("IncidentClosed", "Incident closed"),
            ]),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn every_change_event_reads_as_one_line() {
    let (done, declined, cancelled, rejected) = (
        request_id("CHG", 1),
        request_id("CHG", 2),
        request_id("CHG", 3),
        request_id("CHG", 4),
    );
    let step = |id: &str, event| (change(id, event), agent("req"));
    let form = ChangeForm {
        asset: Some(AssetRef::parse("vm-prod-01").unwrap()),
        article: Some(article("Modifier mes quotas")),
        ..ChangeForm::default()
    };
    let mut studied = change_submitted(
        &declined,
        PROD,
        "Faire une autre demande",
        None,
        at(2, 12, 0),
    );
    if let DomainEvent::Change(ChangeEvent::ChangeSubmitted {
        requires_study,
        unfinished_changes_on_asset,
        ..
    }) = &mut studied.1
    {
        *requires_study = true;
        *unfinished_changes_on_asset = vec![
            sablier_domain::ChangeId::parse(&done).unwrap(),
            sablier_domain::ChangeId::parse(&cancelled).unwrap(),
        ];
    }
    let events = vec![
        step(
            &done,
            ChangeEvent::ChangeDraftSaved {
                at: at(2, 10, 0),
                change_id: sablier_domain::ChangeId::parse(&done).unwrap(),
                contract: contract_id(PROD),
                form: ChangeForm::default(),
            },
        ),
        step(
            &done,
            ChangeEvent::ChangeDraftEdited {
                at: at(2, 10, 30),
                form,
            },
        ),
        (
            change_submitted(
                &done,
                PROD,
                "Modifier mes quotas",
                Some("PRJ-42"),
                at(2, 11, 0),
            ),
            customer("req"),
        ),
        step(
            &done,
            ChangeEvent::ChangeQuoted {
                at: at(3, 9, 0),
                amount_cents: 125_000,
                note: Some(text("Two days of work")),
            },
        ),
        step(
            &done,
            ChangeEvent::ChangeQuoteAccepted {
                at: at(3, 10, 0),
                amount_cents: 125_000,
            },
        ),
        step(&done, ChangeEvent::ChangeStarted { at: at(4, 9, 0) }),
        step(
            &done,
            ChangeEvent::ChangeCompleted {
                at: at(5, 9, 0),
                note: None,
                accepted_quote_cents: Some(125_000),
            },
        ),
        (studied, customer("req")),
        step(
            &declined,
            ChangeEvent::ChangeQuoted {
                at: at(3, 9, 0),
                amount_cents: 9_050,
                note: None,
            },
        ),
        step(
            &declined,
            ChangeEvent::ChangeQuoteDeclined {
                at: at(3, 10, 0),
                amount_cents: 9_050,
                reason: Some(text("Too expensive")),
            },
        ),
        (
            change_submitted(&cancelled, PROD, "Gérer mon accès GIN", None, at(2, 13, 0)),
            customer("req"),
        ),
        step(
            &cancelled,
            ChangeEvent::ChangeCancelled {
                at: at(2, 14, 0),
                previous_status: ChangeStatus::Submitted,
                reason: None,
            },
        ),
        (
            change_submitted(
                &rejected,
                PROD,
                "Faire une autre demande",
                None,
                at(2, 15, 0),
            ),
            customer("req"),
        ),
        step(
            &rejected,
            ChangeEvent::ChangeRejected {
                at: at(2, 16, 0),
                previous_status: ChangeStatus::Submitted,
                reason: text("Not supported on this offer"),
            },
        ),
    ];
    on_each_backend(events, async |reader, backend| {
        assert_eq!(
            summaries(reader, &done).await,
            expected(&[
                ("ChangeDraftSaved", "Change draft saved"),
                (
                    "ChangeDraftEdited",
                    "Change draft edited: Modifier mes quotas on vm-prod-01"
                ),
                (
                    "ChangeSubmitted",
                    "Change submitted: Modifier mes quotas on vm-prod-01, standard lead time \
                     (5 business days), due 2026-11-09T11:00:00Z, reference PRJ-42"
                ),
                (
                    "ChangeQuoted",
                    "Change quoted at 1250.00 € excl. tax: Two days of work"
                ),
                (
                    "ChangeQuoteAccepted",
                    "Quote of 1250.00 € excl. tax accepted"
                ),
                ("ChangeStarted", "Work on the change started"),
                (
                    "ChangeCompleted",
                    "Change completed (quote of 1250.00 € excl. tax)"
                ),
            ]),
            "{backend}"
        );
        assert_eq!(
            summaries(reader, &declined).await,
            expected(&[
                (
                    "ChangeSubmitted",
                    "Change submitted: Faire une autre demande on vm-prod-01, standard lead time \
                     (5 business days), due 2026-11-09T12:00:00Z, study required; \
                     warning: 2 other changes in progress on this asset"
                ),
                ("ChangeQuoted", "Change quoted at 90.50 € excl. tax"),
                (
                    "ChangeQuoteDeclined",
                    "Quote of 90.50 € excl. tax declined: Too expensive"
                ),
            ]),
            "{backend}"
        );
        assert_eq!(
            summaries(reader, &cancelled).await[1],
            (
                "ChangeCancelled".to_owned(),
                "Change cancelled (was submitted)".to_owned()
            ),
            "{backend}"
        );
        assert_eq!(
            summaries(reader, &rejected).await[1],
            (
                "ChangeRejected".to_owned(),
                "Change rejected (was submitted): Not supported on this offer".to_owned()
            ),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn every_order_event_reads_as_one_line() {
    let (done, quoted, declined, cancelled) = (
        request_id("ORD", 1),
        request_id("ORD", 2),
        request_id("ORD", 3),
        request_id("ORD", 4),
    );
    let reference = |sequence| order_reference(PROD, sequence);
    let step = |id: &str, event| (order(id, event), agent("req"));
    let mut on_quote = order_placed(&quoted, PROD, 2, "Prestation de migration", at(2, 10, 0));
    if let DomainEvent::Order(OrderEvent::OrderPlaced { item, .. }) = &mut on_quote.1 {
        item.price = Price::OnQuote;
    }
    let events = vec![
        (
            order_placed(&done, PROD, 1, "Pack Expert 4H", at(2, 9, 0)),
            customer("req"),
        ),
        step(
            &done,
            OrderEvent::OrderConfirmationRecorded {
                at: at(2, 9, 0),
                reference: reference(1),
                recipients: vec![
                    email("paul.dupont@example.com"),
                    email("jean.dupont@example.com"),
                ],
                item_name: title("Pack Expert 4H"),
            },
        ),
        step(
            &done,
            OrderEvent::OrderStarted {
                at: at(3, 9, 0),
                reference: reference(1),
            },
        ),
        step(
            &done,
            OrderEvent::OrderCompleted {
                at: at(4, 9, 0),
                reference: reference(1),
                amount_cents: 45_000,
                note: Some(text("Delivered by Marc")),
            },
        ),
        (on_quote, customer("req")),
        step(
            &quoted,
            OrderEvent::OrderQuoted {
                at: at(3, 9, 0),
                reference: reference(2),
                amount_cents: 300_000,
                note: None,
            },
        ),
        step(
            &quoted,
            OrderEvent::OrderQuoteAccepted {
                at: at(3, 10, 0),
                reference: reference(2),
                amount_cents: 300_000,
            },
        ),
        (
            order_placed(&declined, PROD, 3, "Pack Expert 8H", at(2, 11, 0)),
            customer("req"),
        ),
        step(
            &declined,
            OrderEvent::OrderQuoted {
                at: at(3, 9, 0),
                reference: reference(3),
                amount_cents: 80_000,
                note: Some(text("Includes travel")),
            },
        ),
        step(
            &declined,
            OrderEvent::OrderQuoteDeclined {
                at: at(3, 10, 0),
                reference: reference(3),
                amount_cents: 80_000,
                reason: None,
            },
        ),
        (
            order_placed(&cancelled, PROD, 4, "Pack logiciel WAMP", at(2, 12, 0)),
            customer("req"),
        ),
        step(
            &cancelled,
            OrderEvent::OrderCancelled {
                at: at(2, 13, 0),
                reference: reference(4),
                previous_status: OrderStatus::Transmitted,
                reason: text("Ordered twice"),
            },
        ),
    ];
    on_each_backend(events, async |reader, backend| {
        assert_eq!(
            summaries(reader, &done).await,
            expected(&[
                ("OrderPlaced", "Order FCA0124-2611-0001 placed: Pack Expert 4H (450.00 € excl. tax)"),
                (
                    "OrderConfirmationRecorded",
                    "Confirmation of order FCA0124-2611-0001 sent to paul.dupont@example.com, jean.dupont@example.com"
                ),
                ("OrderStarted", "Work on order FCA0124-2611-0001 started"),
                (
                    "OrderCompleted",
                    "Order FCA0124-2611-0001 completed, 450.00 € excl. tax billed: Delivered by Marc"
                ),
            ]),
            "{backend}"
        );
        assert_eq!(
            summaries(reader, &quoted).await,
            expected(&[
                ("OrderPlaced", "Order FCA0124-2611-0002 placed: Prestation de migration (on quote)"),
                ("OrderQuoted", "Order FCA0124-2611-0002 quoted at 3000.00 € excl. tax"),
                ("OrderQuoteAccepted", "Quote of 3000.00 € excl. tax for order FCA0124-2611-0002 accepted"),
            ]),
            "{backend}"
        );
        assert_eq!(
            summaries(reader, &declined).await[1..],
            expected(&[
                ("OrderQuoted", "Order FCA0124-2611-0003 quoted at 800.00 € excl. tax: Includes travel"),
                ("OrderQuoteDeclined", "Quote of 800.00 € excl. tax for order FCA0124-2611-0003 declined"),
            ]),
            "{backend}"
        );
        assert_eq!(
            summaries(reader, &cancelled).await[1],
            (
                "OrderCancelled".to_owned(),
                "Order FCA0124-2611-0004 cancelled (was transmitted): Ordered twice".to_owned()
            ),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn reset_empties_the_trail() {
    let events = vec![(contract_created(PROD, "SI_Prod", at(1, 8, 0)), agent("req"))];
    on_each_backend(events, async |reader, backend| {
        assert_eq!(
            AuditTrail::history(reader, PROD).await.unwrap().len(),
            1,
            "{backend}"
        );
    })
    .await;
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let mut tx = begin(&db.database).await.unwrap();
        let (id, event) = contract_created(PROD, "SI_Prod", at(1, 8, 0));
        let fed = FeedEvent {
            position: 1,
            aggregate_type: "Contract".to_owned(),
            aggregate_id: id,
            sequence: 1,
            event_type: "ContractCreated".to_owned(),
            at: event.at(),
            event,
            audit: agent("req"),
        };
        AuditTrail.apply(&mut tx, &fed).await.unwrap();
        AuditTrail.reset(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let reader = ViewReader::new(db.database.clone());
        let count: Option<(i64,)> = reader
            .fetch_optional("SELECT COUNT(*) FROM audit_trail", &[])
            .await
            .unwrap();
        assert_eq!(count, Some((0,)), "{backend}");
        db.cleanup().await;
    }
}

#[test]
fn free_text_is_kept_on_one_line_and_cut() {
    let long = format!("{} end", "word ".repeat(70));
    let line = summary(&DomainEvent::Incident(IncidentEvent::CommentAdded {
        at: at(2, 9, 0),
        text: IncidentComment::parse(&long).unwrap(),
    }));
    let expected_text = format!("{}…", "word ".repeat(24).trim_end());
    assert_eq!(line, format!("Comment added: {expected_text}"));
    assert_eq!(expected_text.chars().count(), 120);
}

#[test]
fn a_clock_without_commitment_says_so() {
    let (_, event) = incident_opened(
        &request_id("INC", 1),
        PROD,
        "SI_Prod",
        "Question",
        at(2, 9, 0),
    );
    let DomainEvent::Incident(IncidentEvent::IncidentOpened {
        at,
        incident_id,
        contract_id,
        contract_name,
        time_zone,
        title,
        description,
        policy_version,
        ..
    }) = event
    else {
        unreachable!()
    };
    let standard = IncidentEvent::IncidentOpened {
        at,
        incident_id,
        contract_id,
        contract_name,
        time_zone,
        priority: Priority::P4,
        title,
        description,
        tier: Tier::Standard,
        policy_version,
        clocks: vec![start(Metric::Gti, None)],
    };
    assert_eq!(
        summary(&DomainEvent::Incident(standard)),
        "Incident opened at P4 (Standard, policy default-2026): Question; \
         clock started: GTI without commitment (24x7)"
    );
}
