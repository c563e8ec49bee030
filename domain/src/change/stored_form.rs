//! The stored form of every change event is a contract: these snapshots must only ever
//! gain optional fields. A failing snapshot means stored events would no longer read back.

use cqrs_es::DomainEvent;

use crate::change::fixtures::*;
use crate::change::{ChangeEvent, ChangeForm, ChangeStatus};
use crate::testing::{contract_id, utc};

/// One event of each variant, with fixed instants and ids.
fn one_of_each() -> Vec<ChangeEvent> {
    let mut submitted_with_warning = submitted();
    if let ChangeEvent::ChangeSubmitted {
        unfinished_changes_on_asset,
        ..
    } = &mut submitted_with_warning
    {
        *unfinished_changes_on_asset = vec![other_change_id()];
    }
    vec![
        ChangeEvent::ChangeDraftSaved {
            at: utc(2026, 3, 26, 10, 0, 0),
            change_id: change_id(),
            contract: contract_id(),
            form: ChangeForm {
                asset: Some(asset()),
                ..ChangeForm::default()
            },
        },
        ChangeEvent::ChangeDraftEdited {
            at: utc(2026, 3, 27, 9, 0, 0),
            form: complete_form(),
        },
        submitted_with_warning,
        quoted(),
        quote_accepted(),
        ChangeEvent::ChangeQuoteDeclined {
            at: utc(2026, 3, 30, 14, 0, 0),
            amount_cents: 120_000,
            reason: Some(text("Trop cher.")),
        },
        started(),
        ChangeEvent::ChangeCompleted {
            at: utc(2026, 4, 1, 12, 0, 0),
            note: Some(text("Quota vCPU porté à 48.")),
            accepted_quote_cents: Some(120_000),
        },
        ChangeEvent::ChangeCancelled {
            at: utc(2026, 3, 30, 8, 0, 0),
            previous_status: ChangeStatus::Submitted,
            reason: Some(text("Plus nécessaire.")),
        },
        ChangeEvent::ChangeRejected {
            at: utc(2026, 3, 30, 8, 0, 0),
            previous_status: ChangeStatus::QuoteAccepted,
            reason: text("Hors périmètre du contrat."),
        },
        ChangeEvent::ChangeQuoteCorrected {
            at: utc(2026, 4, 2, 9, 0, 0),
            amount_cents: 120_000,
            previous_amount_cents: 9_223_372_036_854_775_808,
            reason: text("Devis saisi avant le plafonnement des montants."),
            status: ChangeStatus::Completed,
        },
    ]
}

#[test]
fn every_event_variant_keeps_its_stored_form() {
    let events = one_of_each();
    assert_eq!(events.len(), 11, "one event of each variant");
    for event in events {
        insta::assert_json_snapshot!(event.event_type(), event);
    }
}

#[test]
fn stored_events_read_back_and_name_their_type() {
    for event in one_of_each() {
        let stored = serde_json::to_value(&event).unwrap();
        let type_name = stored.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(type_name, event.event_type());
        assert_eq!(event.event_version(), "1");
        let read_back: ChangeEvent = serde_json::from_value(stored).unwrap();
        assert_eq!(read_back, event);
    }
}

/// A submission beyond the month's free changes says so in its stored form.
#[test]
fn issue_20_a_billable_submission_keeps_its_stored_form() {
    let mut event = submitted();
    if let ChangeEvent::ChangeSubmitted { billing, .. } = &mut event {
        *billing = Some(crate::change::SubmissionBilling::decide(
            crate::month::YearMonth::new(2026, 3).unwrap(),
            6,
            5,
        ));
    }
    insta::assert_json_snapshot!("ChangeSubmitted_billable", event);
    let read_back: ChangeEvent =
        serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
    assert_eq!(read_back, event);
}

/// A submission stored before it said whether it is billable still reads, without it
/// (readers rank it from the log, as billing always did).
#[test]
fn issue_20_a_submission_stored_before_billing_reads_back_without_it() {
    let mut stored = serde_json::to_value(submitted()).unwrap();
    stored["ChangeSubmitted"]
        .as_object_mut()
        .unwrap()
        .remove("billing")
        .expect("the current form has billing");
    let read_back: ChangeEvent = serde_json::from_value(stored).unwrap();
    let ChangeEvent::ChangeSubmitted { billing, .. } = read_back else {
        panic!("{read_back:?}");
    };
    assert_eq!(billing, None);
}
