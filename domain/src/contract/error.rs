//! Why a contract command was refused.

use sablier_sla::Tier;

use crate::actor::ActorRole;
use crate::services::PortError;
use crate::text::{InvalidField, Login};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error(transparent)]
    InvalidField(#[from] InvalidField),
    #[error("a {role} may not {action}")]
    NotPermitted {
        role: ActorRole,
        action: &'static str,
    },
    #[error("the contract does not exist")]
    NotFound,
    #[error("the contract already exists")]
    AlreadyExists,
    #[error("{to} is not higher than the current tier {current}; only upgrades are possible here")]
    NotAnUpgrade { current: Tier, to: Tier },
    #[error("{to} is not lower than the current tier {current}")]
    NotADowngrade { current: Tier, to: Tier },
    #[error("{0} is already declared on this contract")]
    UserAlreadyDeclared(Login),
    #[error("{0} is not declared on this contract")]
    UnknownUser(Login),
    #[error("{0} is the referent user, who keeps every right and cannot be removed")]
    ReferentIsPermanent(Login),
    #[error("{login} already belongs to another identity ({email_hint})")]
    LoginTaken { login: Login, email_hint: String },
    #[error("must be between 1 and 1440 (got {0})")]
    InvalidMinutes(u32),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl ContractError {
    /// The input field the refusal is about, when it is about one; the message states
    /// the rule it breaks.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidField(error) => Some(error.field),
            Self::NotAnUpgrade { .. } | Self::NotADowngrade { .. } => Some("to"),
            Self::UserAlreadyDeclared(_)
            | Self::UnknownUser(_)
            | Self::ReferentIsPermanent(_)
            | Self::LoginTaken { .. } => Some("login"),
            Self::InvalidMinutes(_) => Some("minutes"),
            _ => None,
        }
    }
}

impl From<crate::actor::Forbidden> for ContractError {
    fn from(forbidden: crate::actor::Forbidden) -> Self {
        ContractError::NotPermitted {
            role: forbidden.role,
            action: forbidden.action,
        }
    }
}
