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
    #[error("contract: {0} does not exist")]
    UnknownContract(ContractId),
    #[error("item: '{0}' is not in the service catalogue")]
    UnknownItem(ServiceItemId),
    #[error("contact.phone: a landline or a mobile number is required")]
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
    #[error("amount_cents: the quote is already {0} cents")]
    QuoteUnchanged(u64),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl From<crate::actor::Forbidden> for OrderError {
    fn from(forbidden: crate::actor::Forbidden) -> Self {
        OrderError::NotPermitted {
            role: forbidden.role,
            action: forbidden.action,
        }
    }
}
