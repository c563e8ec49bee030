//! The change request aggregate: decides drafting, submission (with its delivery clock and
//! the "changes already in progress on this asset" warning), quotes (and an administrator's
//! correction of them) and the work itself.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use sablier_sla::calendar::Calendar;
use serde::{Deserialize, Serialize};

use crate::actor::Authored;
use crate::change::{
    Article, ChangeCommand, ChangeError, ChangeEvent, ChangeForm, ChangeStatus, LeadTimeOffer,
    MAX_ATTACHMENTS, SubmissionBilling,
};
use crate::ids::{ChangeId, ContractId};
use crate::month::YearMonth;
use crate::services::{ContractAt, Services};

/// The calendar a change's delivery clock counts in, in the contract's time zone.
pub const DELIVERY_CALENDAR: &str = "business-hours-fr";

/// The open time of one business day of [`DELIVERY_CALENDAR`] (09:00–18:00).
pub const BUSINESS_DAY_SECONDS: i64 = 9 * 3600;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Change {
    id: Option<ChangeId>,
    contract: Option<ContractId>,
    /// `None` until the change exists.
    status: Option<ChangeStatus>,
    form: ChangeForm,
    requires_study: bool,
    quote_cents: Option<u64>,
    quote_accepted: bool,
    submitted_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
}

impl Change {
    pub fn id(&self) -> Option<&ChangeId> {
        self.id.as_ref()
    }

    pub fn contract(&self) -> Option<&ContractId> {
        self.contract.as_ref()
    }

    pub fn status(&self) -> Option<ChangeStatus> {
        self.status
    }

    /// The draft as last saved, or the form as submitted.
    pub fn form(&self) -> &ChangeForm {
        &self.form
    }

    pub fn requires_study(&self) -> bool {
        self.requires_study
    }

    /// The quote issued (or as an administrator corrected it), in euro cents excluding
    /// tax.
    pub fn quote_cents(&self) -> Option<u64> {
        self.quote_cents
    }

    pub fn quote_accepted(&self) -> bool {
        self.quote_accepted
    }

    pub fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.submitted_at
    }

    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.due_at
    }

    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.started_at
    }

    pub fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.completed_at
    }

    fn existing_status(&self) -> Result<ChangeStatus, ChangeError> {
        self.status.ok_or(ChangeError::NotFound)
    }

    /// The current status if it is one of `allowed`, else why `action` is refused.
    fn require_status(
        &self,
        allowed: &[ChangeStatus],
        action: &'static str,
    ) -> Result<ChangeStatus, ChangeError> {
        let status = self.existing_status()?;
        if allowed.contains(&status) {
            Ok(status)
        } else {
            Err(ChangeError::WrongStatus { status, action })
        }
    }

    fn require_new(&self) -> Result<(), ChangeError> {
        match self.status {
            Some(_) => Err(ChangeError::AlreadyExists),
            None => Ok(()),
        }
    }

    async fn decide(
        &self,
        Authored { by, command }: Authored<ChangeCommand>,
        services: &Services,
    ) -> Result<Vec<ChangeEvent>, ChangeError> {
        let at = services.now();
        let role = by.role;
        role.refuse_analyst("change a change request (analysts are read-only)")?;
        let event = match command {
            ChangeCommand::SaveDraft {
                change_id,
                contract,
                form,
            } => {
                self.require_new()?;
                contract_at(&contract, services, at).await?;
                check_filled_fields(&form, services)?;
                ChangeEvent::ChangeDraftSaved {
                    at,
                    change_id,
                    contract,
                    form,
                }
            }
            ChangeCommand::EditDraft { form } => {
                self.require_status(&[ChangeStatus::Draft], "edit as a draft")?;
                check_filled_fields(&form, services)?;
                ChangeEvent::ChangeDraftEdited { at, form }
            }
            ChangeCommand::SubmitDraft => {
                self.require_status(&[ChangeStatus::Draft], "submit as a draft")?;
                let (Some(change_id), Some(contract)) = (&self.id, &self.contract) else {
                    return Err(ChangeError::NotFound);
                };
                submission(change_id, contract, &self.form, services, at).await?
            }
            ChangeCommand::Submit {
                change_id,
                contract,
                form,
            } => {
                self.require_new()?;
                submission(&change_id, &contract, &form, services, at).await?
            }
            ChangeCommand::Quote { amount_cents, note } => {
                role.staff_only("quote a change")?;
                self.require_status(&[ChangeStatus::Submitted], "quote")?;
                ChangeEvent::ChangeQuoted {
                    at,
                    amount_cents: amount_cents.get(),
                    note,
                }
            }
            ChangeCommand::AcceptQuote => {
                role.customer_only("accept a quote (the customer does)")?;
                self.require_status(&[ChangeStatus::Quoted], "accept the quote of")?;
                ChangeEvent::ChangeQuoteAccepted {
                    at,
                    amount_cents: self.quote_cents.unwrap_or_default(),
                }
            }
            ChangeCommand::DeclineQuote { reason } => {
                role.customer_only("decline a quote (the customer does)")?;
                self.require_status(&[ChangeStatus::Quoted], "decline the quote of")?;
                ChangeEvent::ChangeQuoteDeclined {
                    at,
                    amount_cents: self.quote_cents.unwrap_or_default(),
                    reason,
                }
            }
            ChangeCommand::Start => {
                role.staff_only("start a change")?;
                let status = self.require_status(
                    &[ChangeStatus::Submitted, ChangeStatus::QuoteAccepted],
                    "start",
                )?;
                if status == ChangeStatus::Submitted && self.requires_study {
                    return Err(ChangeError::QuoteRequired);
                }
                ChangeEvent::ChangeStarted { at }
            }
            ChangeCommand::Complete { note } => {
                role.staff_only("complete a change")?;
                self.require_status(&[ChangeStatus::InProgress], "complete")?;
                ChangeEvent::ChangeCompleted {
                    at,
                    note,
                    accepted_quote_cents: self.quote_cents.filter(|_| self.quote_accepted),
                }
            }
            ChangeCommand::Cancel { reason } => {
                role.customer_only("cancel a change (the customer does; staff reject)")?;
                let previous_status = self.existing_status()?;
                if previous_status != ChangeStatus::Draft && !previous_status.is_before_work() {
                    return Err(ChangeError::WrongStatus {
                        status: previous_status,
                        action: "cancel",
                    });
                }
                ChangeEvent::ChangeCancelled {
                    at,
                    previous_status,
                    reason,
                }
            }
            ChangeCommand::Reject { reason } => {
                role.staff_only("reject a change")?;
                let previous_status = self.existing_status()?;
                if !previous_status.is_before_work() {
                    return Err(ChangeError::WrongStatus {
                        status: previous_status,
                        action: "reject",
                    });
                }
                ChangeEvent::ChangeRejected {
                    at,
                    previous_status,
                    reason,
                }
            }
            ChangeCommand::CorrectQuote {
                amount_cents,
                reason,
            } => {
                role.admin_only("correct a quote (an administrator does)")?;
                let status = self.existing_status()?;
                let previous_amount_cents =
                    self.quote_cents.ok_or(ChangeError::NoQuoteToCorrect)?;
                if previous_amount_cents == amount_cents.get() {
                    return Err(ChangeError::QuoteUnchanged(previous_amount_cents));
                }
                ChangeEvent::ChangeQuoteCorrected {
                    at,
                    amount_cents: amount_cents.get(),
                    previous_amount_cents,
                    reason,
                    status,
                }
            }
        };
        Ok(vec![event])
    }
}

async fn contract_at(
    contract: &ContractId,
    services: &Services,
    at: DateTime<Utc>,
) -> Result<ContractAt, ChangeError> {
    services
        .contracts
        .contract_at(contract, at)
        .await?
        .ok_or_else(|| ChangeError::UnknownContract(contract.clone()))
}

/// The article a form names and the lead time it offers for the one chosen.
struct Choice<'a> {
    article: &'a Article,
    lead_time: Option<LeadTimeOffer>,
}

/// The rules every filled field obeys, draft or not: attachment count and size, and the
/// article and lead time, when chosen, offered by the catalogue.
fn check_filled_fields<'a>(
    form: &ChangeForm,
    services: &'a Services,
) -> Result<Option<Choice<'a>>, ChangeError> {
    if form.attachments.len() > MAX_ATTACHMENTS {
        return Err(ChangeError::TooManyAttachments {
            count: form.attachments.len(),
            max: MAX_ATTACHMENTS,
        });
    }
    let max_bytes = services.settings.max_attachment_bytes;
    if let Some(too_large) = form
        .attachments
        .iter()
        .find(|attachment| attachment.size_bytes > max_bytes)
    {
        return Err(ChangeError::AttachmentTooLarge {
            name: too_large.name.to_string(),
            size_bytes: too_large.size_bytes,
            max_bytes,
        });
    }
    let Some(chosen) = &form.article else {
        return Ok(None);
    };
    let article =
        services
            .change_catalogue
            .find(chosen)
            .map_err(|missing| ChangeError::NotInCatalogue {
                field: missing.field,
                name: missing.name,
            })?;
    let lead_time =
        match form.lead_time {
            None => None,
            Some(requested) => Some(article.lead_time(requested).ok_or_else(|| {
                ChangeError::LeadTimeNotOffered {
                    requested,
                    article: article.name.clone(),
                    offered: article.offered_lead_times(),
                }
            })?),
        };
    Ok(Some(Choice { article, lead_time }))
}

/// Decides a submission: the form complete and valid, the contract known, the delivery
/// clock set, the other unfinished changes on the asset listed.
async fn submission(
    change_id: &ChangeId,
    contract: &ContractId,
    form: &ChangeForm,
    services: &Services,
    at: DateTime<Utc>,
) -> Result<ChangeEvent, ChangeError> {
    let contract_facts = contract_at(contract, services, at).await?;
    let missing = |field: &'static str| ChangeError::MissingField { field };
    let asset = form.asset.clone().ok_or_else(|| missing("asset"))?;
    let article_ref = form.article.clone().ok_or_else(|| missing("article"))?;
    if form.lead_time.is_none() {
        return Err(missing("lead_time"));
    }
    let choice = check_filled_fields(form, services)?.ok_or_else(|| missing("article"))?;
    let article = choice.article;
    let offer = choice.lead_time.ok_or_else(|| missing("lead_time"))?;
    let lead_time = offer.lead_time;
    let delivery_target_seconds = i64::from(offer.business_days) * BUSINESS_DAY_SECONDS;
    let calendar = Calendar::named(DELIVERY_CALENDAR, contract_facts.time_zone)
        .map_err(ChangeError::DeliveryClock)?;
    let due_at = calendar.add_open_seconds(at, delivery_target_seconds);
    let unfinished_changes_on_asset = services
        .changes_on_asset
        .unfinished_changes(contract, &asset)
        .await?
        .into_iter()
        .filter(|other| other != change_id)
        .collect();
    let billing = submission_billing(contract, &contract_facts, services, at).await?;
    Ok(ChangeEvent::ChangeSubmitted {
        at,
        change_id: change_id.clone(),
        contract: contract.clone(),
        asset,
        article: article_ref,
        requires_study: article.requires_study,
        lead_time,
        lead_time_business_days: offer.business_days,
        delivery_calendar: DELIVERY_CALENDAR.to_owned(),
        delivery_time_zone: contract_facts.time_zone,
        delivery_target_seconds,
        due_at,
        catalogue_price_cents: article.price_cents,
        customer_reference: form.customer_reference.clone(),
        additional_information: form.additional_information.clone(),
        attachments: form.attachments.clone(),
        comment: form.comment.clone(),
        unfinished_changes_on_asset,
        billing: Some(billing),
    })
}

/// Whether a change submitted at `at` is billable: its rank among the contract's changes
/// submitted in that month of the contract's time zone, beyond the free ones.
async fn submission_billing(
    contract: &ContractId,
    contract_facts: &ContractAt,
    services: &Services,
    at: DateTime<Utc>,
) -> Result<SubmissionBilling, ChangeError> {
    let month = YearMonth::containing(at, contract_facts.time_zone);
    let earlier = services
        .submitted_changes
        .submitted_between(
            contract,
            month.starts_at(contract_facts.time_zone),
            month.next().starts_at(contract_facts.time_zone),
        )
        .await?;
    Ok(SubmissionBilling::decide(
        month,
        earlier + 1,
        services.settings.free_changes_per_month,
    ))
}

impl Aggregate for Change {
    const TYPE: &'static str = "Change";
    type Command = Authored<ChangeCommand>;
    type Event = ChangeEvent;
    type Error = ChangeError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        let status = event.status_after();
        match event {
            ChangeEvent::ChangeDraftSaved {
                change_id,
                contract,
                form,
                ..
            } => {
                self.id = Some(change_id);
                self.contract = Some(contract);
                self.form = form;
            }
            ChangeEvent::ChangeDraftEdited { form, .. } => {
                self.form = form;
            }
            ChangeEvent::ChangeSubmitted {
                at,
                change_id,
                contract,
                asset,
                article,
                requires_study,
                lead_time,
                due_at,
                customer_reference,
                additional_information,
                attachments,
                comment,
                ..
            } => {
                self.id = Some(change_id);
                self.contract = Some(contract);
                self.form = ChangeForm {
                    asset: Some(asset),
                    article: Some(article),
                    lead_time: Some(lead_time),
                    customer_reference,
                    additional_information,
                    attachments,
                    comment,
                };
                self.requires_study = requires_study;
                self.submitted_at = Some(at);
                self.due_at = Some(due_at);
            }
            ChangeEvent::ChangeQuoted { amount_cents, .. }
            | ChangeEvent::ChangeQuoteCorrected { amount_cents, .. } => {
                self.quote_cents = Some(amount_cents);
            }
            ChangeEvent::ChangeQuoteAccepted { .. } => {
                self.quote_accepted = true;
            }
            ChangeEvent::ChangeStarted { at } => {
                self.started_at = Some(at);
            }
            ChangeEvent::ChangeCompleted { at, .. } => {
                self.completed_at = Some(at);
            }
            ChangeEvent::ChangeQuoteDeclined { .. }
            | ChangeEvent::ChangeCancelled { .. }
            | ChangeEvent::ChangeRejected { .. } => {}
        }
        self.status = Some(status);
    }
}
