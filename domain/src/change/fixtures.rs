//! Values the change tests share: actors, fixed ids and instants, forms and the events a
//! change's history is built from.

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;
use cqrs_es::test::TestFramework;

use crate::actor::{Actor, ActorRole, Authored};
use crate::change::{
    ArticleRef, Attachment, AttachmentName, Change, ChangeCommand, ChangeEvent, ChangeForm,
    LeadTime, MediaType, Sha256Digest, SubmissionBilling,
};
use crate::ids::{ChangeId, ContractId};
use crate::month::YearMonth;
use crate::testing::{TestServices, contract_id, utc};
use crate::text::{AssetRef, Comment, CustomerReference, FreeText, Login, Title};

/// Friday 2026-03-27 16:30 UTC, 17:30 in Paris (UTC+1): half an hour before closing, two
/// days before the switch to summer time.
pub fn friday_evening() -> DateTime<Utc> {
    utc(2026, 3, 27, 16, 30, 0)
}

pub fn framework(services: &TestServices) -> TestFramework<Change> {
    TestFramework::with(services.services.clone())
}

pub fn actor(login: &str, role: ActorRole) -> Actor {
    Actor::new(Login::parse(login).unwrap(), role)
}

pub fn customer() -> Actor {
    actor("paul.dupont", ActorRole::Customer)
}

pub fn agent() -> Actor {
    actor("agent.martin", ActorRole::Agent)
}

pub fn admin() -> Actor {
    actor("admin.leroy", ActorRole::Admin)
}

pub fn analyst() -> Actor {
    actor("analyst.durand", ActorRole::Analyst)
}

pub fn by(actor: Actor, command: ChangeCommand) -> Authored<ChangeCommand> {
    Authored::new(actor, command)
}

pub fn change_id() -> ChangeId {
    ChangeId::parse("CHG0195d3a4b7c87e2a9f1d5b6c7d8e9f00").unwrap()
}

pub fn other_change_id() -> ChangeId {
    ChangeId::parse("CHG0195d3a4b7c87e2a9f1d5b6c7d8e9f01").unwrap()
}

pub fn unknown_contract() -> ContractId {
    ContractId::parse("OCB0009999").unwrap()
}

pub fn title(value: &str) -> Title {
    Title::parse(value).unwrap()
}

pub fn text(value: &str) -> FreeText {
    FreeText::parse(value).unwrap()
}

pub fn asset() -> AssetRef {
    AssetRef::parse("Service Flexible Engine").unwrap()
}

pub fn article(catalogue: &str, category: &str, article: &str) -> ArticleRef {
    ArticleRef {
        catalogue: title(catalogue),
        category: title(category),
        article: title(article),
    }
}

/// `Modifier mes quotas`: standard or urgent, 90 € when billable, no study.
pub fn quotas() -> ArticleRef {
    article(
        "Catalogue de Changement Standard",
        "Quotas",
        "Modifier mes quotas",
    )
}

/// The article that needs a study (a quote) before work; standard lead time only.
pub fn study() -> ArticleRef {
    article(
        "OCB - FE: Autres Demandes",
        "Autres Demandes",
        "Faire une demande sur étude",
    )
}

pub fn attachment(name: &str, size_bytes: u64) -> Attachment {
    Attachment {
        name: AttachmentName::parse(name).unwrap(),
        media_type: MediaType::parse("application/pdf").unwrap(),
        size_bytes,
        sha256: Sha256Digest::parse(
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        )
        .unwrap(),
    }
}

/// Every field filled: `Modifier mes quotas`, standard lead time, one attachment.
pub fn complete_form() -> ChangeForm {
    ChangeForm {
        asset: Some(asset()),
        article: Some(quotas()),
        lead_time: Some(LeadTime::Standard),
        customer_reference: Some(CustomerReference::parse("PRJ-2026-042").unwrap()),
        additional_information: Some(text("Passer le quota vCPU de 32 à 48.")),
        attachments: vec![attachment("besoin-quotas.pdf", 123_456)],
        comment: Some(Comment::parse("Merci de confirmer par email.").unwrap()),
    }
}

pub fn study_form() -> ChangeForm {
    ChangeForm {
        article: Some(study()),
        ..complete_form()
    }
}

pub fn draft_saved(form: ChangeForm) -> ChangeEvent {
    ChangeEvent::ChangeDraftSaved {
        at: utc(2026, 3, 26, 10, 0, 0),
        change_id: change_id(),
        contract: contract_id(),
        form,
    }
}

/// The submission of [`complete_form`] on [`friday_evening`]: due Friday 2026-04-03
/// 15:30 UTC (worked out in `tests::a_standard_change_is_due_five_business_days_later`).
pub fn submitted() -> ChangeEvent {
    submitted_with(quotas(), false, Some(9_000))
}

/// [`submitted`] for the study article: no catalogue price, a quote comes first.
pub fn study_submitted() -> ChangeEvent {
    submitted_with(study(), true, None)
}

fn submitted_with(
    article: ArticleRef,
    requires_study: bool,
    catalogue_price_cents: Option<u64>,
) -> ChangeEvent {
    let form = complete_form();
    ChangeEvent::ChangeSubmitted {
        at: friday_evening(),
        change_id: change_id(),
        contract: contract_id(),
        asset: asset(),
        article,
        requires_study,
        lead_time: LeadTime::Standard,
        lead_time_business_days: 5,
        delivery_calendar: "business-hours-fr".to_owned(),
        delivery_time_zone: Paris,
        delivery_target_seconds: 5 * 9 * 3600,
        due_at: utc(2026, 4, 3, 15, 30, 0),
        catalogue_price_cents,
        customer_reference: form.customer_reference,
        additional_information: form.additional_information,
        attachments: form.attachments,
        comment: form.comment,
        unfinished_changes_on_asset: Vec::new(),
        // The contract's first change of March 2026: free.
        billing: Some(SubmissionBilling::decide(
            YearMonth::new(2026, 3).unwrap(),
            1,
            5,
        )),
    }
}

pub fn quoted() -> ChangeEvent {
    ChangeEvent::ChangeQuoted {
        at: utc(2026, 3, 30, 9, 0, 0),
        amount_cents: 120_000,
        note: Some(text("Étude : deux jours d'ingénieur.")),
    }
}

pub fn quote_accepted() -> ChangeEvent {
    ChangeEvent::ChangeQuoteAccepted {
        at: utc(2026, 3, 30, 14, 0, 0),
        amount_cents: 120_000,
    }
}

pub fn started() -> ChangeEvent {
    ChangeEvent::ChangeStarted {
        at: utc(2026, 3, 31, 8, 0, 0),
    }
}

pub fn completed() -> ChangeEvent {
    ChangeEvent::ChangeCompleted {
        at: utc(2026, 4, 1, 12, 0, 0),
        note: None,
        accepted_quote_cents: None,
    }
}

/// [`submitted`], submitted at `at` with `lead_time`, hence due at `due_at`.
pub fn submitted_at(
    at: DateTime<Utc>,
    lead_time: LeadTime,
    business_days: u32,
    due_at: DateTime<Utc>,
) -> ChangeEvent {
    let mut event = submitted();
    if let ChangeEvent::ChangeSubmitted {
        at: submitted_at,
        lead_time: chosen,
        lead_time_business_days,
        delivery_target_seconds,
        due_at: due,
        billing,
        ..
    } = &mut event
    {
        *billing = Some(SubmissionBilling::decide(
            YearMonth::containing(at, Paris),
            1,
            5,
        ));
        *submitted_at = at;
        *chosen = lead_time;
        *lead_time_business_days = business_days;
        *delivery_target_seconds = i64::from(business_days) * 9 * 3600;
        *due = due_at;
    }
    event
}
