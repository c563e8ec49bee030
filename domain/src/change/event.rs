//! Facts about a change request. Stored forever: only add optional fields, and bump
//! [`ChangeEvent::VERSION`] with an upcaster when a shape must change.
//!
//! [`ChangeEvent::ChangeSubmitted`] carries whether the change is billable, decided at
//! submission (`billing`: its rank among the contract's submissions of the month, beyond
//! the free ones), and the catalogue price a billable change costs. Submissions stored
//! before `billing` existed have none: readers rank them from the log, as billing did.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::change::{
    ArticleRef, Attachment, ChangeForm, ChangeStatus, LeadTime, SubmissionBilling,
};
use crate::ids::{ChangeId, ContractId};
use crate::text::{AssetRef, Comment, CustomerReference, FreeText};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ChangeEvent {
    ChangeDraftSaved {
        at: DateTime<Utc>,
        change_id: ChangeId,
        contract: ContractId,
        form: ChangeForm,
    },
    /// The draft's whole form, as edited.
    ChangeDraftEdited {
        at: DateTime<Utc>,
        form: ChangeForm,
    },
    /// Self-contained: a reader needs no earlier event to list, bill or time the change.
    ChangeSubmitted {
        at: DateTime<Utc>,
        change_id: ChangeId,
        contract: ContractId,
        asset: AssetRef,
        article: ArticleRef,
        /// Staff must quote and the customer accept before work starts.
        requires_study: bool,
        lead_time: LeadTime,
        lead_time_business_days: u32,
        /// The delivery clock: `delivery_target_seconds` of `delivery_calendar` open time
        /// (in `delivery_time_zone`) counted from `at`, reached at `due_at`.
        delivery_calendar: String,
        delivery_time_zone: Tz,
        delivery_target_seconds: i64,
        due_at: DateTime<Utc>,
        /// What the change costs, in euro cents excluding tax, if it turns out billable.
        catalogue_price_cents: Option<u64>,
        customer_reference: Option<CustomerReference>,
        additional_information: Option<FreeText>,
        attachments: Vec<Attachment>,
        comment: Option<Comment>,
        /// Other unfinished changes on the same asset when this one was submitted: the
        /// warning "changes already in progress on this asset". Empty when none.
        unfinished_changes_on_asset: Vec<ChangeId>,
        /// Whether it is billable, decided now; `None` on submissions stored before it was
        /// decided at submission.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        billing: Option<SubmissionBilling>,
    },
    ChangeQuoted {
        at: DateTime<Utc>,
        /// Euro cents excluding tax.
        amount_cents: u64,
        note: Option<FreeText>,
    },
    ChangeQuoteAccepted {
        at: DateTime<Utc>,
        amount_cents: u64,
    },
    /// Final: the change is closed without work.
    ChangeQuoteDeclined {
        at: DateTime<Utc>,
        amount_cents: u64,
        reason: Option<FreeText>,
    },
    ChangeStarted {
        at: DateTime<Utc>,
    },
    ChangeCompleted {
        at: DateTime<Utc>,
        note: Option<FreeText>,
        /// The quote the customer accepted, when the change was quoted.
        accepted_quote_cents: Option<u64>,
    },
    ChangeCancelled {
        at: DateTime<Utc>,
        previous_status: ChangeStatus,
        reason: Option<FreeText>,
    },
    ChangeRejected {
        at: DateTime<Utc>,
        previous_status: ChangeStatus,
        reason: FreeText,
    },
    /// An administrator replaced the quote, in any status: what the study costs from now
    /// on, a completed change's bill included. The actor and the instant are the event's.
    ChangeQuoteCorrected {
        at: DateTime<Utc>,
        /// The corrected quote, euro cents excluding tax.
        amount_cents: u64,
        /// The quote as the log held it until now (which may be an amount written before
        /// amounts were bounded).
        previous_amount_cents: u64,
        reason: FreeText,
        /// The change's status, which the correction leaves as it is.
        status: ChangeStatus,
    },
}

impl ChangeEvent {
    pub const VERSION: &'static str = "1";

    pub fn at(&self) -> DateTime<Utc> {
        match self {
            ChangeEvent::ChangeDraftSaved { at, .. }
            | ChangeEvent::ChangeDraftEdited { at, .. }
            | ChangeEvent::ChangeSubmitted { at, .. }
            | ChangeEvent::ChangeQuoted { at, .. }
            | ChangeEvent::ChangeQuoteAccepted { at, .. }
            | ChangeEvent::ChangeQuoteDeclined { at, .. }
            | ChangeEvent::ChangeStarted { at }
            | ChangeEvent::ChangeCompleted { at, .. }
            | ChangeEvent::ChangeCancelled { at, .. }
            | ChangeEvent::ChangeRejected { at, .. }
            | ChangeEvent::ChangeQuoteCorrected { at, .. } => *at,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            ChangeEvent::ChangeDraftSaved { .. } => "ChangeDraftSaved",
            ChangeEvent::ChangeDraftEdited { .. } => "ChangeDraftEdited",
            ChangeEvent::ChangeSubmitted { .. } => "ChangeSubmitted",
            ChangeEvent::ChangeQuoted { .. } => "ChangeQuoted",
            ChangeEvent::ChangeQuoteAccepted { .. } => "ChangeQuoteAccepted",
            ChangeEvent::ChangeQuoteDeclined { .. } => "ChangeQuoteDeclined",
            ChangeEvent::ChangeStarted { .. } => "ChangeStarted",
            ChangeEvent::ChangeCompleted { .. } => "ChangeCompleted",
            ChangeEvent::ChangeCancelled { .. } => "ChangeCancelled",
            ChangeEvent::ChangeRejected { .. } => "ChangeRejected",
            ChangeEvent::ChangeQuoteCorrected { .. } => "ChangeQuoteCorrected",
        }
    }

    /// The status the change is in once this event applies.
    pub fn status_after(&self) -> ChangeStatus {
        match self {
            ChangeEvent::ChangeDraftSaved { .. } | ChangeEvent::ChangeDraftEdited { .. } => {
                ChangeStatus::Draft
            }
            ChangeEvent::ChangeSubmitted { .. } => ChangeStatus::Submitted,
            ChangeEvent::ChangeQuoted { .. } => ChangeStatus::Quoted,
            ChangeEvent::ChangeQuoteAccepted { .. } => ChangeStatus::QuoteAccepted,
            ChangeEvent::ChangeQuoteDeclined { .. } => ChangeStatus::QuoteDeclined,
            ChangeEvent::ChangeStarted { .. } => ChangeStatus::InProgress,
            ChangeEvent::ChangeCompleted { .. } => ChangeStatus::Completed,
            ChangeEvent::ChangeCancelled { .. } => ChangeStatus::Cancelled,
            ChangeEvent::ChangeRejected { .. } => ChangeStatus::Rejected,
            ChangeEvent::ChangeQuoteCorrected { status, .. } => *status,
        }
    }
}

impl DomainEvent for ChangeEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        Self::VERSION.to_owned()
    }
}
