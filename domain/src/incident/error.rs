//! Why an incident command was refused.

use chrono::{DateTime, Utc};
use sablier_sla::Priority;

use crate::actor::ActorRole;
use crate::incident::IncidentStatus;
use crate::services::PortError;
use crate::text::InvalidField;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error(transparent)]
    InvalidField(#[from] InvalidField),
    #[error("a {role} may not {action}")]
    NotPermitted {
        role: ActorRole,
        action: &'static str,
    },
    #[error("the incident does not exist")]
    NotFound,
    #[error("the incident already exists")]
    AlreadyExists,
    #[error("no such contract")]
    UnknownContract,
    #[error("cannot {action} an incident that is {status}")]
    InvalidTransition {
        action: &'static str,
        status: IncidentStatus,
    },
    #[error("the reopen window closed at {closed_at} ({window_days} days after restoration)")]
    ReopenWindowClosed {
        closed_at: DateTime<Utc>,
        window_days: i64,
    },
    #[error("the priority is already {0}")]
    SamePriority(Priority),
    #[error("the pinned policy version '{0}' is not known to this installation")]
    UnknownPolicyVersion(String),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl IncidentError {
    /// The input field the refusal is about, when it is about one; the message states
    /// the rule it breaks.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidField(error) => Some(error.field),
            Self::UnknownContract => Some("contract_id"),
            Self::SamePriority(_) => Some("to"),
            _ => None,
        }
    }
}

impl From<crate::actor::Forbidden> for IncidentError {
    fn from(forbidden: crate::actor::Forbidden) -> Self {
        IncidentError::NotPermitted {
            role: forbidden.role,
            action: forbidden.action,
        }
    }
}
