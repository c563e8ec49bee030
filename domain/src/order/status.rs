//! Where an order stands in its lifecycle:
//!
//! ```text
//! transmitted ──(fixed price)──────────────────► in_progress ─► completed
//!      └─(on quote)─► quoted ─► quote_accepted ───────▲
//!                        └───► quote_declined (final)
//! cancelled: staff, with a reason, from any status that is not final
//! ```
//!
//! The portal shows `transmitted` for transmitted, quoted and quote_accepted.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Transmitted,
    Quoted,
    QuoteAccepted,
    /// Final: the customer declined the quote, no work is done.
    QuoteDeclined,
    InProgress,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Transmitted,
        OrderStatus::Quoted,
        OrderStatus::QuoteAccepted,
        OrderStatus::QuoteDeclined,
        OrderStatus::InProgress,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Transmitted => "transmitted",
            OrderStatus::Quoted => "quoted",
            OrderStatus::QuoteAccepted => "quote_accepted",
            OrderStatus::QuoteDeclined => "quote_declined",
            OrderStatus::InProgress => "in_progress",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// No command moves an order out of a final status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::QuoteDeclined | OrderStatus::Completed | OrderStatus::Cancelled
        )
    }

    /// Whether the lifecycle allows going from `self` to `next` in one event.
    pub fn may_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        match (self, next) {
            (Transmitted, Quoted | InProgress) => true,
            (Quoted, QuoteAccepted | QuoteDeclined) => true,
            (QuoteAccepted, InProgress) => true,
            (InProgress, Completed) => true,
            (from, Cancelled) => !from.is_final(),
            _ => false,
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
