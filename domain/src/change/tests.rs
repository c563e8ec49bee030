//! Given / when / then: every change command, accepted and refused.

use crate::money::Cents;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::actor::ActorRole;
use crate::change::fixtures::*;
use crate::change::{
    ChangeCatalogue, ChangeCommand, ChangeError, ChangeEvent, ChangeForm, ChangeStatus, LeadTime,
    SubmissionBilling,
};
use crate::ids::ContractId;
use crate::month::YearMonth;
use crate::services::{ContractAt, ContractFacts, Port, PortError};
use crate::testing::{TestServices, contract_id, utc};
use crate::text::InvalidField;

fn services() -> TestServices {
    TestServices::at(friday_evening())
}

fn submit(form: ChangeForm) -> ChangeCommand {
    ChangeCommand::Submit {
        change_id: change_id(),
        contract: contract_id(),
        form,
    }
}

fn save_draft(form: ChangeForm) -> ChangeCommand {
    ChangeCommand::SaveDraft {
        change_id: change_id(),
        contract: contract_id(),
        form,
    }
}

fn wrong_status(status: ChangeStatus, action: &'static str) -> ChangeError {
    ChangeError::WrongStatus { status, action }
}

fn not_permitted(role: ActorRole, action: &'static str) -> ChangeError {
    ChangeError::NotPermitted { role, action }
}

// --- SaveDraft ---------------------------------------------------------------------------

#[test]
fn an_empty_draft_is_saved() {
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), save_draft(ChangeForm::default())))
        .then_expect_events(vec![ChangeEvent::ChangeDraftSaved {
            at: friday_evening(),
            change_id: change_id(),
            contract: contract_id(),
            form: ChangeForm::default(),
        }]);
}

#[test]
fn a_partial_draft_keeps_what_is_filled() {
    let form = ChangeForm {
        asset: Some(asset()),
        article: Some(study()),
        ..ChangeForm::default()
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(agent(), save_draft(form.clone())))
        .then_expect_events(vec![ChangeEvent::ChangeDraftSaved {
            at: friday_evening(),
            change_id: change_id(),
            contract: contract_id(),
            form,
        }]);
}

#[test]
fn a_draft_is_saved_once() {
    framework(&services())
        .given(vec![draft_saved(ChangeForm::default())])
        .when(by(customer(), save_draft(complete_form())))
        .then_expect_error(ChangeError::AlreadyExists);
}

#[test]
fn a_draft_needs_a_known_contract() {
    framework(&services())
        .given_no_previous_events()
        .when(by(
            customer(),
            ChangeCommand::SaveDraft {
                change_id: change_id(),
                contract: unknown_contract(),
                form: ChangeForm::default(),
            },
        ))
        .then_expect_error(ChangeError::UnknownContract(unknown_contract()));
}

#[test]
fn a_draft_holds_at_most_five_attachments() {
    let form = ChangeForm {
        attachments: (1..=6)
            .map(|n| attachment(&format!("piece-{n}.pdf"), 1_000))
            .collect(),
        ..ChangeForm::default()
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), save_draft(form)))
        .then_expect_error(ChangeError::TooManyAttachments { count: 6, max: 5 });
}

#[test]
fn five_attachments_of_exactly_the_maximum_size_are_accepted() {
    let max = 10 * 1024 * 1024;
    let form = ChangeForm {
        attachments: (1..=5)
            .map(|n| attachment(&format!("piece-{n}.pdf"), max))
            .collect(),
        ..ChangeForm::default()
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), save_draft(form.clone())))
        .then_expect_events(vec![ChangeEvent::ChangeDraftSaved {
            at: friday_evening(),
            change_id: change_id(),
            contract: contract_id(),
            form,
        }]);
}

#[test]
fn an_attachment_over_the_configured_size_is_refused() {
    let mut services = services();
    services.services.settings.max_attachment_bytes = 1_000;
    let form = ChangeForm {
        attachments: vec![attachment("small.pdf", 1_000), attachment("big.pdf", 1_001)],
        ..ChangeForm::default()
    };
    framework(&services)
        .given_no_previous_events()
        .when(by(customer(), save_draft(form)))
        .then_expect_error(ChangeError::AttachmentTooLarge {
            name: "big.pdf".to_owned(),
            size_bytes: 1_001,
            max_bytes: 1_000,
        });
}

#[test]
fn a_draft_names_catalogue_entries_that_exist() {
    let cases = [
        (
            article("Catalogue inconnu", "Quotas", "Modifier mes quotas"),
            "catalogue",
            "Catalogue inconnu",
        ),
        (
            article(
                "Catalogue de Changement Standard",
                "Licences RDS",
                "Modifier mes quotas",
            ),
            "category",
            "Licences RDS",
        ),
        (
            article(
                "Catalogue de Changement Standard",
                "Quotas",
                "Ajouter des licences RDS",
            ),
            "article",
            "Ajouter des licences RDS",
        ),
    ];
    for (chosen, field, name) in cases {
        let form = ChangeForm {
            article: Some(chosen),
            ..ChangeForm::default()
        };
        framework(&services())
            .given_no_previous_events()
            .when(by(customer(), save_draft(form)))
            .then_expect_error(ChangeError::NotInCatalogue {
                field,
                name: title(name),
            });
    }
}

#[test]
fn a_draft_asks_only_for_a_lead_time_the_article_offers() {
    let form = ChangeForm {
        article: Some(study()),
        lead_time: Some(LeadTime::Urgent),
        ..ChangeForm::default()
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), save_draft(form)))
        .then_expect_error(ChangeError::LeadTimeNotOffered {
            requested: LeadTime::Urgent,
            article: title("Faire une demande sur étude"),
            offered: vec![LeadTime::Standard],
        });
}

// --- EditDraft ---------------------------------------------------------------------------

#[test]
fn editing_a_draft_replaces_its_form() {
    framework(&services())
        .given(vec![draft_saved(ChangeForm::default())])
        .when(by(
            customer(),
            ChangeCommand::EditDraft {
                form: complete_form(),
            },
        ))
        .then_expect_events(vec![ChangeEvent::ChangeDraftEdited {
            at: friday_evening(),
            form: complete_form(),
        }]);
}

#[test]
fn only_an_existing_draft_is_edited() {
    let edit = || ChangeCommand::EditDraft {
        form: complete_form(),
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), edit()))
        .then_expect_error(ChangeError::NotFound);
    framework(&services())
        .given(vec![submitted()])
        .when(by(customer(), edit()))
        .then_expect_error(wrong_status(ChangeStatus::Submitted, "edit as a draft"));
}

#[test]
fn an_edited_draft_obeys_the_field_rules() {
    let form = ChangeForm {
        lead_time: Some(LeadTime::Urgent),
        ..study_form()
    };
    framework(&services())
        .given(vec![draft_saved(ChangeForm::default())])
        .when(by(customer(), ChangeCommand::EditDraft { form }))
        .then_expect_error(ChangeError::LeadTimeNotOffered {
            requested: LeadTime::Urgent,
            article: title("Faire une demande sur étude"),
            offered: vec![LeadTime::Standard],
        });
}

// --- SubmitDraft -------------------------------------------------------------------------

#[test]
fn a_complete_draft_is_submitted_as_last_saved() {
    framework(&services())
        .given(vec![
            draft_saved(ChangeForm::default()),
            ChangeEvent::ChangeDraftEdited {
                at: utc(2026, 3, 27, 9, 0, 0),
                form: complete_form(),
            },
        ])
        .when(by(customer(), ChangeCommand::SubmitDraft))
        .then_expect_events(vec![submitted()]);
}

#[test]
fn an_incomplete_draft_is_not_submitted() {
    let cases = [
        (
            ChangeForm {
                asset: None,
                ..complete_form()
            },
            "asset",
        ),
        (
            ChangeForm {
                article: None,
                ..complete_form()
            },
            "article",
        ),
        (
            ChangeForm {
                lead_time: None,
                ..complete_form()
            },
            "lead_time",
        ),
    ];
    for (form, field) in cases {
        framework(&services())
            .given(vec![draft_saved(form)])
            .when(by(customer(), ChangeCommand::SubmitDraft))
            .then_expect_error(ChangeError::MissingField { field });
    }
}

#[test]
fn only_a_draft_is_submitted_as_a_draft() {
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), ChangeCommand::SubmitDraft))
        .then_expect_error(ChangeError::NotFound);
    framework(&services())
        .given(vec![submitted()])
        .when(by(customer(), ChangeCommand::SubmitDraft))
        .then_expect_error(wrong_status(ChangeStatus::Submitted, "submit as a draft"));
}

#[test]
fn a_draft_is_checked_again_against_the_catalogue_at_submission() {
    // The draft was saved under a catalogue that offered this article; today's does not.
    let retired = article(
        "Gérer mon accès GIN",
        "Accès GIN",
        "Supprimer mon accès GIN",
    );
    framework(&services())
        .given(vec![draft_saved(ChangeForm {
            article: Some(retired),
            ..complete_form()
        })])
        .when(by(customer(), ChangeCommand::SubmitDraft))
        .then_expect_error(ChangeError::NotInCatalogue {
            field: "article",
            name: title("Supprimer mon accès GIN"),
        });
}

#[test]
fn a_draft_whose_contract_no_longer_exists_is_not_submitted() {
    framework(&services())
        .given(vec![ChangeEvent::ChangeDraftSaved {
            at: utc(2026, 3, 26, 10, 0, 0),
            change_id: change_id(),
            contract: unknown_contract(),
            form: complete_form(),
        }])
        .when(by(customer(), ChangeCommand::SubmitDraft))
        .then_expect_error(ChangeError::UnknownContract(unknown_contract()));
}

// --- Submit (one step) -------------------------------------------------------------------

/// Submitted Friday 2026-03-27 16:30 UTC = 17:30 Paris (CET, UTC+1). Standard: 5 business
/// days = 45 open hours of Mon–Fri 09:00–18:00 Paris.
///   Fri 27 Mar 17:30–18:00             0.5 h   (0.5)
///   Sat 28, Sun 29 (CEST from 02:00)   closed
///   Mon 30, Tue 31, Wed 1, Thu 2 Apr   4 × 9 h (36.5)
///   Fri 3 Apr (Good Friday: open in business-hours-fr) 8.5 h → 09:00 + 8:30 = 17:30 CEST
/// Due Friday 2026-04-03 17:30 Paris = 15:30 UTC.
#[test]
fn a_standard_change_is_due_five_business_days_later() {
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), submit(complete_form())))
        .then_expect_events(vec![submitted()]);
}

/// Urgent: 1 business day = 9 open hours. Fri 17:30–18:00 CET gives 0.5 h; Monday
/// 2026-03-30 (CEST, UTC+2) gives the other 8.5 h: 09:00 + 8:30 = 17:30 Paris = 15:30 UTC.
#[test]
fn an_urgent_change_is_due_one_business_day_later() {
    let form = ChangeForm {
        lead_time: Some(LeadTime::Urgent),
        ..complete_form()
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), submit(form)))
        .then_expect_events(vec![submitted_at(
            friday_evening(),
            LeadTime::Urgent,
            1,
            utc(2026, 3, 30, 15, 30, 0),
        )]);
}

/// Submitted Wednesday 2026-04-01 08:00 UTC = 10:00 Paris (CEST). 45 open hours:
///   Wed 1 Apr 10:00–18:00  8 h  (8)
///   Thu 2, Fri 3           18 h (26)
///   Mon 6: Easter Monday, a holiday
///   Tue 7, Wed 8           18 h (44)
///   Thu 9: 1 h → 10:00 Paris = 08:00 UTC.
#[test]
fn the_delivery_clock_skips_easter_monday() {
    let at = utc(2026, 4, 1, 8, 0, 0);
    framework(&TestServices::at(at))
        .given_no_previous_events()
        .when(by(customer(), submit(complete_form())))
        .then_expect_events(vec![submitted_at(
            at,
            LeadTime::Standard,
            5,
            utc(2026, 4, 9, 8, 0, 0),
        )]);
}

/// Submitted on a Saturday: the clock waits for Monday 2026-03-30 09:00 Paris (07:00 UTC);
/// urgent ends the same day at 18:00 Paris = 16:00 UTC.
#[test]
fn a_change_submitted_on_a_weekend_counts_from_monday_morning() {
    let at = utc(2026, 3, 28, 10, 0, 0);
    let form = ChangeForm {
        lead_time: Some(LeadTime::Urgent),
        ..complete_form()
    };
    framework(&TestServices::at(at))
        .given_no_previous_events()
        .when(by(customer(), submit(form)))
        .then_expect_events(vec![submitted_at(
            at,
            LeadTime::Urgent,
            1,
            utc(2026, 3, 30, 16, 0, 0),
        )]);
}

/// docs/domain.md "Submission": each contract has free changes per calendar month (default
/// 5); the sixth submitted in a month is marked billable at submission. Months are the
/// contract's (Europe/Paris): a submission on 31 March 22:30 UTC is April's first.
#[test]
fn issue_20_a_change_beyond_the_month_s_free_ones_is_billable_at_submission() {
    let with_billing = |billing: SubmissionBilling| {
        let mut event = submitted();
        if let ChangeEvent::ChangeSubmitted {
            billing: carried, ..
        } = &mut event
        {
            *carried = Some(billing);
        }
        event
    };
    let march = YearMonth::new(2026, 3).unwrap();
    let services = services();
    for day in 2..=6 {
        services
            .submitted_changes
            .record(&contract_id(), utc(2026, 3, day, 10, 0, 0));
    }
    // Another contract's, and February's, do not count.
    let other = ContractId::parse("OCB0000999").unwrap();
    services
        .submitted_changes
        .record(&other, utc(2026, 3, 9, 10, 0, 0));
    services
        .submitted_changes
        .record(&contract_id(), utc(2026, 2, 28, 22, 59, 59));
    framework(&services)
        .given_no_previous_events()
        .when(by(customer(), submit(complete_form())))
        .then_expect_events(vec![with_billing(SubmissionBilling {
            month: march,
            rank_in_month: 6,
            free_changes_per_month: 5,
            billable: true,
        })]);

    // 2026-03-31 22:30 UTC is 1 April 00:30 in Paris: April's first, free.
    let april_services = TestServices::at(utc(2026, 3, 31, 22, 30, 0));
    for day in 2..=7 {
        april_services
            .submitted_changes
            .record(&contract_id(), utc(2026, 3, day, 10, 0, 0));
    }
    let submitted = framework(&april_services)
        .given_no_previous_events()
        .when(by(customer(), submit(complete_form())))
        .inspect_result()
        .unwrap();
    let [ChangeEvent::ChangeSubmitted { billing, .. }] = submitted.as_slice() else {
        panic!("{submitted:?}");
    };
    assert_eq!(
        *billing,
        Some(SubmissionBilling::decide(
            YearMonth::new(2026, 4).unwrap(),
            1,
            5
        ))
    );
}

#[test]
fn submitting_lists_the_unfinished_changes_on_the_same_asset() {
    let services = services();
    services
        .changes_on_asset
        .insert(contract_id(), asset(), other_change_id());
    // The change itself, whatever the projection says, is not a warning about itself.
    services
        .changes_on_asset
        .insert(contract_id(), asset(), change_id());
    let mut expected = submitted();
    if let ChangeEvent::ChangeSubmitted {
        unfinished_changes_on_asset,
        ..
    } = &mut expected
    {
        *unfinished_changes_on_asset = vec![other_change_id()];
    }
    framework(&services)
        .given_no_previous_events()
        .when(by(customer(), submit(complete_form())))
        .then_expect_events(vec![expected]);
}

#[test]
fn a_study_article_is_submitted_without_a_catalogue_price() {
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), submit(study_form())))
        .then_expect_events(vec![study_submitted()]);
}

#[test]
fn staff_may_submit_for_a_customer() {
    framework(&services())
        .given_no_previous_events()
        .when(by(agent(), submit(complete_form())))
        .then_expect_events(vec![submitted()]);
}

#[test]
fn a_one_step_submission_does_not_replace_a_draft() {
    framework(&services())
        .given(vec![draft_saved(complete_form())])
        .when(by(customer(), submit(complete_form())))
        .then_expect_error(ChangeError::AlreadyExists);
}

#[test]
fn a_submission_needs_a_known_contract() {
    framework(&services())
        .given_no_previous_events()
        .when(by(
            customer(),
            ChangeCommand::Submit {
                change_id: change_id(),
                contract: unknown_contract(),
                form: complete_form(),
            },
        ))
        .then_expect_error(ChangeError::UnknownContract(unknown_contract()));
}

#[test]
fn a_submission_needs_the_asset() {
    let form = ChangeForm {
        asset: None,
        ..complete_form()
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), submit(form)))
        .then_expect_error(ChangeError::MissingField { field: "asset" });
}

#[test]
fn a_submission_obeys_the_attachment_rules() {
    let form = ChangeForm {
        attachments: vec![attachment("huge.iso", 10 * 1024 * 1024 + 1)],
        ..complete_form()
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), submit(form)))
        .then_expect_error(ChangeError::AttachmentTooLarge {
            name: "huge.iso".to_owned(),
            size_bytes: 10 * 1024 * 1024 + 1,
            max_bytes: 10 * 1024 * 1024,
        });
}

struct ContractsDown;

#[async_trait]
impl ContractFacts for ContractsDown {
    async fn contract_at(
        &self,
        _id: &ContractId,
        _at: DateTime<Utc>,
    ) -> Result<Option<ContractAt>, PortError> {
        Err(port_down(Port::ContractFacts))
    }
}

#[test]
fn a_port_failure_refuses_the_command_and_may_be_retried() {
    let mut services = services();
    services.services.contracts = Arc::new(ContractsDown);
    framework(&services)
        .given_no_previous_events()
        .when(by(customer(), submit(complete_form())))
        .then_expect_error(ChangeError::Unavailable(port_down(Port::ContractFacts)));
}

// --- Quote, AcceptQuote, DeclineQuote ----------------------------------------------------

#[test]
fn staff_quote_a_submitted_change() {
    framework(&services())
        .given(vec![study_submitted()])
        .when(by(
            agent(),
            ChangeCommand::Quote {
                amount_cents: Cents::parse("amount_cents", 120_000).unwrap(),
                note: Some(text("Étude : deux jours d'ingénieur.")),
            },
        ))
        .then_expect_events(vec![ChangeEvent::ChangeQuoted {
            at: friday_evening(),
            amount_cents: 120_000,
            note: Some(text("Étude : deux jours d'ingénieur.")),
        }]);
}

#[test]
fn only_staff_quote() {
    framework(&services())
        .given(vec![study_submitted()])
        .when(by(
            customer(),
            ChangeCommand::Quote {
                amount_cents: Cents::parse("amount_cents", 1).unwrap(),
                note: None,
            },
        ))
        .then_expect_error(not_permitted(ActorRole::Customer, "quote a change"));
}

#[test]
fn only_a_submitted_change_is_quoted() {
    let quote = || ChangeCommand::Quote {
        amount_cents: Cents::parse("amount_cents", 1).unwrap(),
        note: None,
    };
    framework(&services())
        .given_no_previous_events()
        .when(by(agent(), quote()))
        .then_expect_error(ChangeError::NotFound);
    framework(&services())
        .given(vec![draft_saved(complete_form())])
        .when(by(agent(), quote()))
        .then_expect_error(wrong_status(ChangeStatus::Draft, "quote"));
    framework(&services())
        .given(vec![study_submitted(), quoted()])
        .when(by(agent(), quote()))
        .then_expect_error(wrong_status(ChangeStatus::Quoted, "quote"));
}

#[test]
fn the_customer_accepts_a_quote() {
    framework(&services())
        .given(vec![study_submitted(), quoted()])
        .when(by(customer(), ChangeCommand::AcceptQuote))
        .then_expect_events(vec![ChangeEvent::ChangeQuoteAccepted {
            at: friday_evening(),
            amount_cents: 120_000,
        }]);
}

#[test]
fn staff_do_not_accept_a_quote() {
    framework(&services())
        .given(vec![study_submitted(), quoted()])
        .when(by(agent(), ChangeCommand::AcceptQuote))
        .then_expect_error(not_permitted(
            ActorRole::Agent,
            "accept a quote (the customer does)",
        ));
}

#[test]
fn only_a_pending_quote_is_accepted() {
    framework(&services())
        .given(vec![study_submitted()])
        .when(by(customer(), ChangeCommand::AcceptQuote))
        .then_expect_error(wrong_status(ChangeStatus::Submitted, "accept the quote of"));
    framework(&services())
        .given(vec![study_submitted(), quoted(), quote_accepted()])
        .when(by(customer(), ChangeCommand::AcceptQuote))
        .then_expect_error(wrong_status(
            ChangeStatus::QuoteAccepted,
            "accept the quote of",
        ));
}

#[test]
fn the_customer_declines_a_quote_which_closes_the_change() {
    framework(&services())
        .given(vec![study_submitted(), quoted()])
        .when(by(
            customer(),
            ChangeCommand::DeclineQuote {
                reason: Some(text("Trop cher.")),
            },
        ))
        .then_expect_events(vec![ChangeEvent::ChangeQuoteDeclined {
            at: friday_evening(),
            amount_cents: 120_000,
            reason: Some(text("Trop cher.")),
        }]);
    framework(&services())
        .given(vec![
            study_submitted(),
            quoted(),
            ChangeEvent::ChangeQuoteDeclined {
                at: friday_evening(),
                amount_cents: 120_000,
                reason: None,
            },
        ])
        .when(by(agent(), ChangeCommand::Start))
        .then_expect_error(wrong_status(ChangeStatus::QuoteDeclined, "start"));
}

#[test]
fn staff_do_not_decline_a_quote() {
    framework(&services())
        .given(vec![study_submitted(), quoted()])
        .when(by(agent(), ChangeCommand::DeclineQuote { reason: None }))
        .then_expect_error(not_permitted(
            ActorRole::Agent,
            "decline a quote (the customer does)",
        ));
}

#[test]
fn only_a_pending_quote_is_declined() {
    framework(&services())
        .given(vec![submitted()])
        .when(by(customer(), ChangeCommand::DeclineQuote { reason: None }))
        .then_expect_error(wrong_status(
            ChangeStatus::Submitted,
            "decline the quote of",
        ));
}

// --- Start, Complete ---------------------------------------------------------------------

#[test]
fn staff_start_a_submitted_change() {
    framework(&services())
        .given(vec![submitted()])
        .when(by(agent(), ChangeCommand::Start))
        .then_expect_events(vec![ChangeEvent::ChangeStarted {
            at: friday_evening(),
        }]);
}

#[test]
fn a_study_change_starts_once_its_quote_is_accepted() {
    framework(&services())
        .given(vec![study_submitted()])
        .when(by(agent(), ChangeCommand::Start))
        .then_expect_error(ChangeError::QuoteRequired);
    framework(&services())
        .given(vec![study_submitted(), quoted()])
        .when(by(agent(), ChangeCommand::Start))
        .then_expect_error(wrong_status(ChangeStatus::Quoted, "start"));
    framework(&services())
        .given(vec![study_submitted(), quoted(), quote_accepted()])
        .when(by(agent(), ChangeCommand::Start))
        .then_expect_events(vec![ChangeEvent::ChangeStarted {
            at: friday_evening(),
        }]);
}

#[test]
fn only_staff_start_a_change() {
    framework(&services())
        .given(vec![submitted()])
        .when(by(customer(), ChangeCommand::Start))
        .then_expect_error(not_permitted(ActorRole::Customer, "start a change"));
}

#[test]
fn a_draft_or_started_change_is_not_started() {
    framework(&services())
        .given(vec![draft_saved(complete_form())])
        .when(by(agent(), ChangeCommand::Start))
        .then_expect_error(wrong_status(ChangeStatus::Draft, "start"));
    framework(&services())
        .given(vec![submitted(), started()])
        .when(by(agent(), ChangeCommand::Start))
        .then_expect_error(wrong_status(ChangeStatus::InProgress, "start"));
}

#[test]
fn staff_complete_a_started_change() {
    framework(&services())
        .given(vec![submitted(), started()])
        .when(by(
            agent(),
            ChangeCommand::Complete {
                note: Some(text("Quota vCPU porté à 48.")),
            },
        ))
        .then_expect_events(vec![ChangeEvent::ChangeCompleted {
            at: friday_evening(),
            note: Some(text("Quota vCPU porté à 48.")),
            accepted_quote_cents: None,
        }]);
}

#[test]
fn a_completed_study_change_carries_its_accepted_quote() {
    framework(&services())
        .given(vec![
            study_submitted(),
            quoted(),
            quote_accepted(),
            started(),
        ])
        .when(by(agent(), ChangeCommand::Complete { note: None }))
        .then_expect_events(vec![ChangeEvent::ChangeCompleted {
            at: friday_evening(),
            note: None,
            accepted_quote_cents: Some(120_000),
        }]);
}

#[test]
fn only_staff_complete_a_change() {
    framework(&services())
        .given(vec![submitted(), started()])
        .when(by(customer(), ChangeCommand::Complete { note: None }))
        .then_expect_error(not_permitted(ActorRole::Customer, "complete a change"));
}

#[test]
fn only_a_started_change_is_completed() {
    framework(&services())
        .given(vec![submitted()])
        .when(by(agent(), ChangeCommand::Complete { note: None }))
        .then_expect_error(wrong_status(ChangeStatus::Submitted, "complete"));
    framework(&services())
        .given(vec![submitted(), started(), completed()])
        .when(by(agent(), ChangeCommand::Complete { note: None }))
        .then_expect_error(wrong_status(ChangeStatus::Completed, "complete"));
}

// --- Cancel, Reject ----------------------------------------------------------------------

#[test]
fn the_customer_cancels_before_work_starts() {
    let histories = [
        (
            vec![draft_saved(ChangeForm::default())],
            ChangeStatus::Draft,
        ),
        (vec![submitted()], ChangeStatus::Submitted),
        (vec![study_submitted(), quoted()], ChangeStatus::Quoted),
        (
            vec![study_submitted(), quoted(), quote_accepted()],
            ChangeStatus::QuoteAccepted,
        ),
    ];
    for (history, previous_status) in histories {
        framework(&services())
            .given(history)
            .when(by(
                customer(),
                ChangeCommand::Cancel {
                    reason: Some(text("Plus nécessaire.")),
                },
            ))
            .then_expect_events(vec![ChangeEvent::ChangeCancelled {
                at: friday_evening(),
                previous_status,
                reason: Some(text("Plus nécessaire.")),
            }]);
    }
}

#[test]
fn a_started_or_finished_change_is_not_cancelled() {
    let histories = [
        (vec![submitted(), started()], ChangeStatus::InProgress),
        (
            vec![submitted(), started(), completed()],
            ChangeStatus::Completed,
        ),
        (
            vec![
                submitted(),
                ChangeEvent::ChangeCancelled {
                    at: friday_evening(),
                    previous_status: ChangeStatus::Submitted,
                    reason: None,
                },
            ],
            ChangeStatus::Cancelled,
        ),
    ];
    for (history, status) in histories {
        framework(&services())
            .given(history)
            .when(by(customer(), ChangeCommand::Cancel { reason: None }))
            .then_expect_error(wrong_status(status, "cancel"));
    }
    framework(&services())
        .given_no_previous_events()
        .when(by(customer(), ChangeCommand::Cancel { reason: None }))
        .then_expect_error(ChangeError::NotFound);
}

#[test]
fn staff_reject_rather_than_cancel() {
    framework(&services())
        .given(vec![submitted()])
        .when(by(agent(), ChangeCommand::Cancel { reason: None }))
        .then_expect_error(not_permitted(
            ActorRole::Agent,
            "cancel a change (the customer does; staff reject)",
        ));
}

#[test]
fn staff_reject_a_change_with_a_reason() {
    framework(&services())
        .given(vec![study_submitted(), quoted()])
        .when(by(
            agent(),
            ChangeCommand::Reject {
                reason: text("Hors périmètre du contrat."),
            },
        ))
        .then_expect_events(vec![ChangeEvent::ChangeRejected {
            at: friday_evening(),
            previous_status: ChangeStatus::Quoted,
            reason: text("Hors périmètre du contrat."),
        }]);
}

#[test]
fn only_staff_reject() {
    framework(&services())
        .given(vec![submitted()])
        .when(by(
            customer(),
            ChangeCommand::Reject {
                reason: text("Non."),
            },
        ))
        .then_expect_error(not_permitted(ActorRole::Customer, "reject a change"));
}

#[test]
fn drafts_and_started_changes_are_not_rejected() {
    let reject = || ChangeCommand::Reject {
        reason: text("Non."),
    };
    framework(&services())
        .given(vec![draft_saved(complete_form())])
        .when(by(agent(), reject()))
        .then_expect_error(wrong_status(ChangeStatus::Draft, "reject"));
    framework(&services())
        .given(vec![submitted(), started()])
        .when(by(agent(), reject()))
        .then_expect_error(wrong_status(ChangeStatus::InProgress, "reject"));
    framework(&services())
        .given_no_previous_events()
        .when(by(agent(), reject()))
        .then_expect_error(ChangeError::NotFound);
}

// --- Analysts ----------------------------------------------------------------------------

#[test]
fn analysts_are_read_only() {
    let commands = [
        save_draft(ChangeForm::default()),
        ChangeCommand::EditDraft {
            form: ChangeForm::default(),
        },
        ChangeCommand::SubmitDraft,
        submit(complete_form()),
        ChangeCommand::Quote {
            amount_cents: Cents::parse("amount_cents", 1).unwrap(),
            note: None,
        },
        ChangeCommand::AcceptQuote,
        ChangeCommand::DeclineQuote { reason: None },
        ChangeCommand::Start,
        ChangeCommand::Complete { note: None },
        ChangeCommand::Cancel { reason: None },
        ChangeCommand::Reject {
            reason: text("Non."),
        },
    ];
    for command in commands {
        framework(&services())
            .given(vec![study_submitted(), quoted()])
            .when(by(analyst(), command))
            .then_expect_error(not_permitted(
                ActorRole::Analyst,
                "change a change request (analysts are read-only)",
            ));
    }
}

// --- Errors name the field the API reports, as data ------------------------------------

/// Issue 21: the API reads the field from the error, never from its text.
#[test]
fn issue_21_a_refusal_names_its_field_as_data_and_its_message_states_the_rule() {
    let missing = ChangeError::MissingField { field: "asset" };
    assert_eq!(missing.field(), Some("asset"));
    assert_eq!(missing.to_string(), "is required to submit a change");

    let too_long = ChangeError::from(InvalidField::new(
        "comment",
        "must be at most 400 characters",
    ));
    assert_eq!(too_long.field(), Some("comment"));

    assert_eq!(ChangeError::QuoteRequired.field(), None);
}

// --- The default catalogue ---------------------------------------------------------------

#[test]
fn the_default_catalogue_is_the_one_of_domain_md() {
    let catalogue = ChangeCatalogue::default();
    let names: Vec<&str> = catalogue
        .catalogues()
        .iter()
        .map(|catalogue| catalogue.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Catalogue de Changement Standard",
            "Gérer mes licences RDS",
            "Gérer mon accès GIN",
            "OCB - FE: Autres Demandes",
        ]
    );
    for chosen in [
        quotas(),
        article(
            "Catalogue de Changement Standard",
            "Autres Demandes",
            "Faire une autre demande",
        ),
        article(
            "Gérer mes licences RDS",
            "Licences RDS",
            "Ajouter des licences RDS",
        ),
        article(
            "Gérer mes licences RDS",
            "Licences RDS",
            "Supprimer des licences RDS",
        ),
    ] {
        let found = catalogue.find(&chosen).unwrap();
        assert!(!found.requires_study);
        assert_eq!(
            found.lead_time(LeadTime::Standard).unwrap().business_days,
            5
        );
        assert_eq!(found.lead_time(LeadTime::Urgent).unwrap().business_days, 1);
    }
    assert!(catalogue.find(&study()).unwrap().requires_study);
}

// --- CorrectQuote (issue 20) ---------------------------------------------------------------

fn correction(amount_cents: u64) -> ChangeCommand {
    ChangeCommand::CorrectQuote {
        amount_cents: Cents::parse("amount_cents", amount_cents).unwrap(),
        reason: text("Devis saisi avant le plafonnement des montants."),
    }
}

/// A study quoted at 2^63 cents, as a server written before amounts were bounded stored
/// it, accepted and completed.
fn completed_before_bounds_history() -> Vec<ChangeEvent> {
    let huge = 1_u64 << 63;
    vec![
        study_submitted(),
        ChangeEvent::ChangeQuoted {
            at: utc(2026, 3, 30, 9, 0, 0),
            amount_cents: huge,
            note: None,
        },
        ChangeEvent::ChangeQuoteAccepted {
            at: utc(2026, 3, 30, 14, 0, 0),
            amount_cents: huge,
        },
        started(),
        ChangeEvent::ChangeCompleted {
            at: utc(2026, 4, 1, 12, 0, 0),
            note: None,
            accepted_quote_cents: Some(huge),
        },
    ]
}

#[test]
fn issue_20_an_administrator_corrects_the_quote_of_a_completed_change_written_before_bounds() {
    framework(&services())
        .given(completed_before_bounds_history())
        .when(by(admin(), correction(120_000)))
        .then_expect_events(vec![ChangeEvent::ChangeQuoteCorrected {
            at: friday_evening(),
            amount_cents: 120_000,
            previous_amount_cents: 1 << 63,
            reason: text("Devis saisi avant le plafonnement des montants."),
            status: ChangeStatus::Completed,
        }]);
}

#[test]
fn issue_20_a_change_completes_at_its_corrected_quote() {
    let history = vec![
        study_submitted(),
        quoted(),
        ChangeEvent::ChangeQuoteCorrected {
            at: utc(2026, 3, 30, 10, 0, 0),
            amount_cents: 100_000,
            previous_amount_cents: 120_000,
            reason: text("Remise accordée."),
            status: ChangeStatus::Quoted,
        },
        ChangeEvent::ChangeQuoteAccepted {
            at: utc(2026, 3, 30, 14, 0, 0),
            amount_cents: 100_000,
        },
        started(),
    ];
    framework(&services())
        .given(history)
        .when(by(agent(), ChangeCommand::Complete { note: None }))
        .then_expect_events(vec![ChangeEvent::ChangeCompleted {
            at: friday_evening(),
            note: None,
            accepted_quote_cents: Some(100_000),
        }]);
}

#[test]
fn issue_20_only_an_administrator_corrects_a_change_quote() {
    for actor in [agent(), customer()] {
        let role = actor.role;
        framework(&services())
            .given(completed_before_bounds_history())
            .when(by(actor, correction(120_000)))
            .then_expect_error(not_permitted(
                role,
                "correct a quote (an administrator does)",
            ));
    }
    framework(&services())
        .given(completed_before_bounds_history())
        .when(by(analyst(), correction(120_000)))
        .then_expect_error(not_permitted(
            ActorRole::Analyst,
            "change a change request (analysts are read-only)",
        ));
}

#[test]
fn issue_20_a_change_quote_is_corrected_only_once_there_is_one_and_to_another_amount() {
    framework(&services())
        .given_no_previous_events()
        .when(by(admin(), correction(120_000)))
        .then_expect_error(ChangeError::NotFound);
    for history in [
        vec![submitted()],
        vec![study_submitted()],
        vec![submitted(), started(), completed()],
    ] {
        framework(&services())
            .given(history)
            .when(by(admin(), correction(120_000)))
            .then_expect_error(ChangeError::NoQuoteToCorrect);
    }
    framework(&services())
        .given(vec![study_submitted(), quoted()])
        .when(by(admin(), correction(120_000)))
        .then_expect_error(ChangeError::QuoteUnchanged(120_000));
}

fn port_down(port: Port) -> PortError {
    PortError::new(port, std::io::Error::other("contract facts unavailable"))
}
