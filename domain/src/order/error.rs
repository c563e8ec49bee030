//! Why an order command was refused.

use crate::actor::ActorRole;
use crate::ids::ContractId;
use crate::order::{OrderStatus, ServiceItemId};
use crate::services::PortError;
use crate::text::InvalidField;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    InvalidField(#[from] InvalidField),
    #[error("a {role} may not {action}")]
    NotPermitted {
        role: ActorRole,
        action: &'static str,
    },
    #[error("the order does not exist")]
    NotFound,
    #[error("the order already exists")]
    AlreadyExists,
    #[error("{0} does not exist")]
    UnknownContract(ContractId),
    #[error("'{0}' is not in the service catalogue")]
    UnknownItem(ServiceItemId),
    #[error("a landline or a mobile number is required")]
    MissingPhone,
    #[error("cannot {action} an order that is {status}")]
    WrongStatus {
        status: OrderStatus,
        action: &'static str,
    },
    #[error("the item has a catalogue price: only items sold on quote are quoted")]
    NotOnQuote,
    #[error("the item is sold on quote: work starts once the customer accepts a quote")]
    QuoteRequired,
    #[error("the order has no quote to correct (only an item sold on quote is quoted)")]
    NoQuoteToCorrect,
    #[error("the quote is already {0} cents")]
    QuoteUnchanged(u64),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl OrderError {
    /// The input field the refusal is about, when it is about one; the message states
    /// the rule it breaks.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidField(error) => Some(error.field),
            Self::UnknownContract(_) => Some("contract"),
            Self::UnknownItem(_) => Some("item"),
            Self::MissingPhone => Some("contact.phone"),
            Self::QuoteUnchanged(_) => Some("amount_cents"),
            _ => None,
        }
    }
}

impl From<crate::actor::Forbidden> for OrderError {
    fn from(forbidden: crate::actor::Forbidden) -> Self {
        OrderError::NotPermitted {
            role: forbidden.role,
            action: forbidden.action,
        }
    }
}
