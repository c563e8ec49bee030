//! Why a change request command was refused.

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
    #[error("contract: {0} does not exist")]
    UnknownContract(ContractId),
    #[error("cannot {action} a change that is {status}")]
    WrongStatus {
        status: ChangeStatus,
        action: &'static str,
    },
    #[error("{field}: is required to submit a change")]
    MissingField { field: &'static str },
    #[error("{field}: '{name}' is not in the change catalogue")]
    NotInCatalogue { field: &'static str, name: Title },
    #[error("lead_time: '{requested}' is not offered for '{article}' (offered: {offered:?})")]
    LeadTimeNotOffered {
        requested: LeadTime,
        article: Title,
        offered: Vec<LeadTime>,
    },
    #[error("attachments: at most {max} files (got {count})")]
    TooManyAttachments { count: usize, max: usize },
    #[error("attachments: '{name}' is {size_bytes} bytes, more than the {max_bytes} allowed")]
    AttachmentTooLarge {
        name: String,
        size_bytes: u64,
        max_bytes: u64,
    },
    #[error("the article needs a study: work starts once the customer accepts a quote")]
    QuoteRequired,
    #[error("the delivery clock could not be computed: {0}")]
    DeliveryClock(String),
    #[error("the change has no quote to correct (only a change that needs a study is quoted)")]
    NoQuoteToCorrect,
    #[error("amount_cents: the quote is already {0} cents")]
    QuoteUnchanged(u64),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl From<crate::actor::Forbidden> for ChangeError {
    fn from(forbidden: crate::actor::Forbidden) -> Self {
        ChangeError::NotPermitted {
            role: forbidden.role,
            action: forbidden.action,
        }
    }
}
