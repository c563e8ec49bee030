//! Facts about an order. Stored forever: only add optional fields, and bump
//! [`OrderEvent::VERSION`] with an upcaster when a shape must change.
//!
//! Every event after [`OrderEvent::OrderPlaced`] repeats the order's reference, the key
//! customers and staff quote.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{ContractId, OrderId};
use crate::month::YearMonth;
use crate::order::{OrderContact, OrderReference, OrderStatus, ServiceItem};
use crate::text::{Email, FreeText, Title};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(
    clippy::large_enum_variant,
    reason = "events are built once and stored; boxing the placed item would only burden readers"
)]
pub enum OrderEvent {
    OrderPlaced {
        at: DateTime<Utc>,
        order_id: OrderId,
        contract: ContractId,
        reference: OrderReference,
        /// The month of the reference (contract time zone) and its sequence in it.
        reference_month: YearMonth,
        reference_sequence: u32,
        /// The catalogue item as it was when ordered, price included.
        item: ServiceItem,
        contact: OrderContact,
        comments: Option<FreeText>,
    },
    /// The confirmation notification that recapitulates the order (seed 003, figure 15).
    OrderConfirmationRecorded {
        at: DateTime<Utc>,
        reference: OrderReference,
        /// The contact, then the customer who placed the order when that is someone else.
        recipients: Vec<Email>,
        item_name: Title,
    },
    OrderQuoted {
        at: DateTime<Utc>,
        reference: OrderReference,
        /// Euro cents excluding tax.
        amount_cents: u64,
        note: Option<FreeText>,
    },
    OrderQuoteAccepted {
        at: DateTime<Utc>,
        reference: OrderReference,
        amount_cents: u64,
    },
    /// Final: the order is closed without work.
    OrderQuoteDeclined {
        at: DateTime<Utc>,
        reference: OrderReference,
        amount_cents: u64,
        reason: Option<FreeText>,
    },
    OrderStarted {
        at: DateTime<Utc>,
        reference: OrderReference,
    },
    OrderCompleted {
        at: DateTime<Utc>,
        reference: OrderReference,
        /// What the order costs, in euro cents excluding tax: the catalogue price, or the
        /// accepted quote for an item sold on quote. Billed from `at`.
        amount_cents: u64,
        note: Option<FreeText>,
    },
    OrderCancelled {
        at: DateTime<Utc>,
        reference: OrderReference,
        previous_status: OrderStatus,
        reason: FreeText,
    },
    /// An administrator replaced the quote, in any status: what the order costs from now
    /// on, a completed order's bill included. The actor and the instant are the event's.
    OrderQuoteCorrected {
        at: DateTime<Utc>,
        reference: OrderReference,
        /// The corrected quote, euro cents excluding tax.
        amount_cents: u64,
        /// The quote as the log held it until now (which may be an amount written before
        /// amounts were bounded).
        previous_amount_cents: u64,
        reason: FreeText,
        /// The order's status, which the correction leaves as it is.
        status: OrderStatus,
    },
}

impl OrderEvent {
    pub const VERSION: &'static str = "1";

    pub fn at(&self) -> DateTime<Utc> {
        match self {
            OrderEvent::OrderPlaced { at, .. }
            | OrderEvent::OrderConfirmationRecorded { at, .. }
            | OrderEvent::OrderQuoted { at, .. }
            | OrderEvent::OrderQuoteAccepted { at, .. }
            | OrderEvent::OrderQuoteDeclined { at, .. }
            | OrderEvent::OrderStarted { at, .. }
            | OrderEvent::OrderCompleted { at, .. }
            | OrderEvent::OrderCancelled { at, .. }
            | OrderEvent::OrderQuoteCorrected { at, .. } => *at,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OrderEvent::OrderPlaced { .. } => "OrderPlaced",
            OrderEvent::OrderConfirmationRecorded { .. } => "OrderConfirmationRecorded",
            OrderEvent::OrderQuoted { .. } => "OrderQuoted",
            OrderEvent::OrderQuoteAccepted { .. } => "OrderQuoteAccepted",
            OrderEvent::OrderQuoteDeclined { .. } => "OrderQuoteDeclined",
            OrderEvent::OrderStarted { .. } => "OrderStarted",
            OrderEvent::OrderCompleted { .. } => "OrderCompleted",
            OrderEvent::OrderCancelled { .. } => "OrderCancelled",
            OrderEvent::OrderQuoteCorrected { .. } => "OrderQuoteCorrected",
        }
    }

    /// The status the order is in once this event applies (`None`: unchanged).
    pub fn status_after(&self) -> Option<OrderStatus> {
        match self {
            OrderEvent::OrderPlaced { .. } => Some(OrderStatus::Transmitted),
            OrderEvent::OrderConfirmationRecorded { .. }
            | OrderEvent::OrderQuoteCorrected { .. } => None,
            OrderEvent::OrderQuoted { .. } => Some(OrderStatus::Quoted),
            OrderEvent::OrderQuoteAccepted { .. } => Some(OrderStatus::QuoteAccepted),
            OrderEvent::OrderQuoteDeclined { .. } => Some(OrderStatus::QuoteDeclined),
            OrderEvent::OrderStarted { .. } => Some(OrderStatus::InProgress),
            OrderEvent::OrderCompleted { .. } => Some(OrderStatus::Completed),
            OrderEvent::OrderCancelled { .. } => Some(OrderStatus::Cancelled),
        }
    }
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        Self::VERSION.to_owned()
    }
}
