//! Where a change request stands in its lifecycle:
//!
//! ```text
//! draft ─► submitted ─────────────────────────────► in_progress ─► completed
//!              │  └─► quoted ─► quote_accepted ──────────▲
//!              │         └───► quote_declined (final)
//! cancelled: customer, from draft, submitted, quoted or quote_accepted
//! rejected:  staff, from submitted, quoted or quote_accepted
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    Draft,
    Submitted,
    Quoted,
    QuoteAccepted,
    /// Final: the customer declined the quote, no work is done.
    QuoteDeclined,
    InProgress,
    Completed,
    Cancelled,
    Rejected,
}

impl ChangeStatus {
    pub const ALL: [ChangeStatus; 9] = [
        ChangeStatus::Draft,
        ChangeStatus::Submitted,
        ChangeStatus::Quoted,
        ChangeStatus::QuoteAccepted,
        ChangeStatus::QuoteDeclined,
        ChangeStatus::InProgress,
        ChangeStatus::Completed,
        ChangeStatus::Cancelled,
        ChangeStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::Draft => "draft",
            ChangeStatus::Submitted => "submitted",
            ChangeStatus::Quoted => "quoted",
            ChangeStatus::QuoteAccepted => "quote_accepted",
            ChangeStatus::QuoteDeclined => "quote_declined",
            ChangeStatus::InProgress => "in_progress",
            ChangeStatus::Completed => "completed",
            ChangeStatus::Cancelled => "cancelled",
            ChangeStatus::Rejected => "rejected",
        }
    }

    /// No command moves a change out of a final status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ChangeStatus::QuoteDeclined
                | ChangeStatus::Completed
                | ChangeStatus::Cancelled
                | ChangeStatus::Rejected
        )
    }

    /// Submitted and not yet final: what the "changes already in progress on this asset"
    /// warning counts.
    pub fn is_unfinished(self) -> bool {
        !self.is_final() && self != ChangeStatus::Draft
    }

    /// The customer may still cancel and staff may still reject: work has not started.
    pub fn is_before_work(self) -> bool {
        matches!(
            self,
            ChangeStatus::Submitted | ChangeStatus::Quoted | ChangeStatus::QuoteAccepted
        )
    }

    /// Whether the lifecycle allows going from `self` to `next` in one event.
    pub fn may_become(self, next: ChangeStatus) -> bool {
        use ChangeStatus::*;
        match (self, next) {
            (Draft, Submitted | Cancelled) => true,
            (Submitted, Quoted | InProgress) => true,
            (Quoted, QuoteAccepted | QuoteDeclined) => true,
            (QuoteAccepted, InProgress) => true,
            (InProgress, Completed) => true,
            (from, Cancelled | Rejected) => from.is_before_work(),
            _ => false,
        }
    }
}

impl fmt::Display for ChangeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
