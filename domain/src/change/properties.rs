//! Property: whatever commands arrive, in whatever order and from whomever, the change
//! never panics, a refused command changes nothing, and the lifecycle holds.

use crate::money::Cents;
use chrono::Duration;
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use proptest::prelude::*;

use crate::actor::ActorRole;
use crate::change::fixtures::*;
use crate::change::{Change, ChangeCommand, ChangeEvent, ChangeForm, ChangeStatus, LeadTime};
use crate::testing::{TestServices, contract_id};

const ROLES: [ActorRole; 5] = [
    ActorRole::Customer,
    ActorRole::Agent,
    ActorRole::Analyst,
    ActorRole::Admin,
    ActorRole::System,
];

/// Valid and invalid forms alike, valid ones more often.
fn form(index: usize) -> ChangeForm {
    match index {
        0 => ChangeForm::default(),
        3 => ChangeForm {
            lead_time: Some(LeadTime::Urgent),
            ..study_form()
        },
        4 => ChangeForm {
            attachments: (0..6).map(|n| attachment(&format!("{n}.pdf"), 1)).collect(),
            ..complete_form()
        },
        5 => ChangeForm {
            lead_time: None,
            ..complete_form()
        },
        even if even % 2 == 0 => complete_form(),
        _ => study_form(),
    }
}

/// The role a command is meant for: the customer's own, or staff's.
fn natural_role(kind: usize) -> ActorRole {
    match kind {
        4 | 7 | 8 | 10 => ActorRole::Agent,
        _ => ActorRole::Customer,
    }
}

fn command(kind: usize, form_index: usize, amount_cents: u64) -> ChangeCommand {
    match kind {
        0 => ChangeCommand::SaveDraft {
            change_id: change_id(),
            contract: contract_id(),
            form: form(form_index),
        },
        1 => ChangeCommand::EditDraft {
            form: form(form_index),
        },
        2 => ChangeCommand::SubmitDraft,
        3 => ChangeCommand::Submit {
            change_id: change_id(),
            contract: contract_id(),
            form: form(form_index),
        },
        4 => ChangeCommand::Quote {
            amount_cents: Cents::parse("amount_cents", amount_cents.min(Cents::MAX)).unwrap(),
            note: None,
        },
        5 => ChangeCommand::AcceptQuote,
        6 => ChangeCommand::DeclineQuote { reason: None },
        7 => ChangeCommand::Start,
        8 => ChangeCommand::Complete { note: None },
        9 => ChangeCommand::Cancel { reason: None },
        _ => ChangeCommand::Reject {
            reason: text("Hors périmètre."),
        },
    }
}

/// (role, command, form, amount, minutes later). A role index past [`ROLES`] picks the
/// command's natural role, so that sequences reach the later statuses often.
fn step() -> impl Strategy<Value = (usize, usize, usize, u64, i64)> {
    (
        0..ROLES.len() * 3,
        0..11usize,
        0..10usize,
        0..1_000_000u64,
        0..5_000i64,
    )
}

/// Whether `event` may follow a change in `before` (`None`: the change does not exist).
fn allowed_transition(before: Option<ChangeStatus>, event: &ChangeEvent) -> bool {
    match (before, event) {
        (None, ChangeEvent::ChangeDraftSaved { .. } | ChangeEvent::ChangeSubmitted { .. }) => true,
        (None, _) => false,
        (Some(ChangeStatus::Draft), ChangeEvent::ChangeDraftEdited { .. }) => true,
        (Some(status), event) => status.may_become(event.status_after()),
    }
}

fn check_invariants(change: &Change) {
    let form = change.form();
    assert!(form.attachments.len() <= 5, "at most five attachments");
    let Some(status) = change.status() else {
        assert_eq!(
            change,
            &Change::default(),
            "nothing recorded before creation"
        );
        return;
    };
    if status != ChangeStatus::Draft && status != ChangeStatus::Cancelled {
        let submitted_at = change
            .submitted_at()
            .expect("a submitted change has its instant");
        let due_at = change.due_at().expect("a submitted change has a due date");
        assert!(
            due_at > submitted_at,
            "a change is due after its submission"
        );
        assert!(form.asset.is_some() && form.article.is_some() && form.lead_time.is_some());
    }
    if matches!(status, ChangeStatus::InProgress | ChangeStatus::Completed) {
        assert!(change.started_at().is_some(), "in progress means started");
        if change.requires_study() {
            assert!(
                change.quote_accepted(),
                "a study change starts after its quote"
            );
        }
    }
    if status == ChangeStatus::Completed {
        assert!(
            change.started_at() <= change.completed_at(),
            "completed after started"
        );
    } else {
        assert!(change.completed_at().is_none());
    }
    if change.quote_accepted() {
        assert!(
            change.quote_cents().is_some(),
            "an accepted quote was issued"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_command_sequences_keep_the_lifecycle(steps in prop::collection::vec(step(), 1..32)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let services = TestServices::at(friday_evening());
        let mut change = Change::default();
        let mut history = Vec::new();
        for (role, kind, form_index, amount_cents, minutes) in steps {
            services.clock.advance(Duration::minutes(minutes));
            let role = ROLES.get(role).copied().unwrap_or_else(|| natural_role(kind));
            let before = change.clone();
            let sink = EventSink::default();
            let result = runtime.block_on(change.handle(
                by(actor("someone.acting", role), command(kind, form_index, amount_cents)),
                &services.services,
                &sink,
            ));
            let events = runtime.block_on(sink.collect());
            match result {
                Err(_) => {
                    prop_assert!(events.is_empty(), "a refused command emits nothing");
                    prop_assert_eq!(&change, &before, "a refused command changes nothing");
                }
                Ok(()) => {
                    prop_assert_ne!(role, ActorRole::Analyst, "analysts are read-only");
                    prop_assert_eq!(events.len(), 1);
                    prop_assert!(
                        allowed_transition(before.status(), &events[0]),
                        "{:?} does not follow {:?}", events[0], before.status()
                    );
                    if let ChangeEvent::ChangeCancelled { previous_status, .. }
                    | ChangeEvent::ChangeRejected { previous_status, .. } = &events[0]
                    {
                        prop_assert_eq!(Some(*previous_status), before.status());
                    }
                    history.extend(events);
                }
            }
            check_invariants(&change);
        }
        let mut replayed = Change::default();
        for event in history {
            replayed.apply(event);
        }
        prop_assert_eq!(replayed, change, "replaying the log rebuilds the same change");
    }
}
