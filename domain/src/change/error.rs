//! Why a change request command was refused.

use sablier_sla::calendar::CalendarError;

use crate::actor::ActorRole;
use crate::change::{ChangeStatus, LeadTime};
use crate::ids::ContractId;
use crate::services::PortError;
use crate::text::{InvalidField, Title};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    InvalidField(#[from] InvalidField),
    #[error("a {role} may not {action}")]
    NotPermitted {
        role: ActorRole,
        action: &'static str,
    },
    #[error("the change request does not exist")]
    NotFound,
    #[error("the change request already exists")]
    AlreadyExists,
    #[error("{0} does not exist")]
    UnknownContract(ContractId),
    #[error("cannot {action} a change that is {status}")]
    WrongStatus {
        status: ChangeStatus,
        action: &'static str,
    },
    #[error("is required to submit a change")]
    MissingField { field: &'static str },
    #[error("'{name}' is not in the change catalogue")]
    NotInCatalogue { field: &'static str, name: Title },
    #[error("'{requested}' is not offered for '{article}' (offered: {offered:?})")]
    LeadTimeNotOffered {
        requested: LeadTime,
        article: Title,
        offered: Vec<LeadTime>,
    },
    #[error("at most {max} files (got {count})")]
    TooManyAttachments { count: usize, max: usize },
    #[error("'{name}' is {size_bytes} bytes, more than the {max_bytes} allowed")]
    AttachmentTooLarge {
        name: String,
        size_bytes: u64,
        max_bytes: u64,
    },
    #[error("the article needs a study: work starts once the customer accepts a quote")]
    QuoteRequired,
    #[error("the delivery clock could not be computed")]
    DeliveryClock(#[source] CalendarError),
    #[error("the change has no quote to correct (only a change that needs a study is quoted)")]
    NoQuoteToCorrect,
    #[error("the quote is already {0} cents")]
    QuoteUnchanged(u64),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl ChangeError {
    /// The input field the refusal is about, when it is about one; the message states
    /// the rule it breaks.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidField(error) => Some(error.field),
            Self::UnknownContract(_) => Some("contract"),
            Self::MissingField { field } | Self::NotInCatalogue { field, .. } => Some(field),
            Self::LeadTimeNotOffered { .. } => Some("lead_time"),
            Self::TooManyAttachments { .. } | Self::AttachmentTooLarge { .. } => {
                Some("attachments")
            }
            Self::QuoteUnchanged(_) => Some("amount_cents"),
            _ => None,
        }
    }
}

impl From<crate::actor::Forbidden> for ChangeError {
    fn from(forbidden: crate::actor::Forbidden) -> Self {
        ChangeError::NotPermitted {
            role: forbidden.role,
            action: forbidden.action,
        }
    }
}
