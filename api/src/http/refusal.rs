//! How each aggregate's refusals become problems: bad input is 422 naming the field, a
//! step the object's state does not allow is 409, a role that may not act is 403, an
//! unknown object is 404, a busy aggregate or an unavailable port is 503 with Retry-After.

use axum::http::StatusCode;
use sablier_domain::change::ChangeError;
use sablier_domain::contract::ContractError;
use sablier_domain::incident::IncidentError;
use sablier_domain::order::OrderError;
use sablier_domain::services::PortError;
use sablier_store::CommandError;

use crate::http::problem::Problem;

/// A domain error the API can explain.
pub trait Refusal: std::error::Error {
    fn problem(&self) -> Problem;
}

/// 422: the field the refusal names (as data) breaks the rule its message states.
fn broken_rule(field: Option<&str>, rule: String) -> Problem {
    match field {
        Some(field) => Problem::invalid_field(field, rule),
        None => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "rule-broken", rule),
    }
}

/// The refusal's message led by the field it names, for answers other than 422.
fn naming_field(field: Option<&str>, message: String) -> String {
    match field {
        Some(field) => format!("{field}: {message}"),
        None => message,
    }
}

/// 404 naming the field whose value names nothing there; unlike [`Problem::not_found`],
/// the message already says what was not found.
fn unknown(field: Option<&str>, message: String) -> Problem {
    let problem = Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        naming_field(field, message),
    );
    match field {
        Some(field) => problem.with_field(field),
        None => problem,
    }
}

fn not_permitted(message: String) -> Problem {
    Problem::forbidden(message)
}

fn wrong_status(message: String) -> Problem {
    Problem::conflict("invalid-transition", message)
}

fn unavailable(error: &PortError) -> Problem {
    tracing::warn!(port = %error.port, cause = %error.cause, "a port the command needs is unavailable");
    Problem::unavailable("a service the command needs is unavailable; retry later", 1)
}

impl Refusal for IncidentError {
    fn problem(&self) -> Problem {
        let message = self.to_string();
        match self {
            IncidentError::InvalidField(error) => error.clone().into(),
            IncidentError::NotPermitted { .. } => not_permitted(message),
            IncidentError::NotFound => Problem::not_found("incident"),
            IncidentError::AlreadyExists => Problem::conflict("already-exists", message),
            IncidentError::UnknownContract => broken_rule(self.field(), message),
            IncidentError::InvalidTransition { .. } => wrong_status(message),
            IncidentError::ReopenWindowClosed { .. } => {
                Problem::conflict("reopen-window-closed", message)
            }
            IncidentError::SamePriority(_) => broken_rule(self.field(), message),
            IncidentError::UnknownPolicyVersion(_) => Problem::internal(self),
            IncidentError::Unavailable(error) => unavailable(error),
        }
    }
}

impl Refusal for ChangeError {
    fn problem(&self) -> Problem {
        let message = self.to_string();
        match self {
            ChangeError::InvalidField(error) => error.clone().into(),
            ChangeError::NotPermitted { .. } => not_permitted(message),
            ChangeError::NotFound => Problem::not_found("change request"),
            ChangeError::AlreadyExists => Problem::conflict("already-exists", message),
            ChangeError::UnknownContract(_)
            | ChangeError::MissingField { .. }
            | ChangeError::NotInCatalogue { .. }
            | ChangeError::LeadTimeNotOffered { .. }
            | ChangeError::TooManyAttachments { .. }
            | ChangeError::AttachmentTooLarge { .. } => broken_rule(self.field(), message),
            ChangeError::WrongStatus { .. } | ChangeError::QuoteRequired => wrong_status(message),
            ChangeError::NoQuoteToCorrect => Problem::conflict("no-quote-to-correct", message),
            ChangeError::QuoteUnchanged(_) => broken_rule(self.field(), message),
            ChangeError::DeliveryClock(_) => Problem::internal(self),
            ChangeError::Unavailable(error) => unavailable(error),
        }
    }
}

impl Refusal for OrderError {
    fn problem(&self) -> Problem {
        let message = self.to_string();
        match self {
            OrderError::InvalidField(error) => error.clone().into(),
            OrderError::NotPermitted { .. } => not_permitted(message),
            OrderError::NotFound => Problem::not_found("order"),
            OrderError::AlreadyExists => Problem::conflict("already-exists", message),
            OrderError::UnknownContract(_)
            | OrderError::UnknownItem(_)
            | OrderError::MissingPhone => broken_rule(self.field(), message),
            OrderError::WrongStatus { .. } | OrderError::NotOnQuote | OrderError::QuoteRequired => {
                wrong_status(message)
            }
            OrderError::NoQuoteToCorrect => Problem::conflict("no-quote-to-correct", message),
            OrderError::QuoteUnchanged(_) => broken_rule(self.field(), message),
            OrderError::Unavailable(error) => unavailable(error),
        }
    }
}

impl Refusal for ContractError {
    fn problem(&self) -> Problem {
        let message = self.to_string();
        match self {
            ContractError::InvalidField(error) => error.clone().into(),
            ContractError::NotPermitted { .. } => not_permitted(message),
            ContractError::NotFound => Problem::not_found("contract"),
            ContractError::AlreadyExists => Problem::conflict("already-exists", message),
            ContractError::NotAnUpgrade { .. }
            | ContractError::NotADowngrade { .. }
            | ContractError::UserAlreadyDeclared(_)
            | ContractError::LoginTaken { .. }
            | ContractError::InvalidMinutes(_) => broken_rule(self.field(), message),
            ContractError::UnknownUser(_) => unknown(self.field(), message),
            ContractError::ReferentIsPermanent(_) => {
                Problem::conflict("referent-is-permanent", naming_field(self.field(), message))
            }
            ContractError::Unavailable(error) => unavailable(error),
        }
    }
}

impl<E: Refusal + 'static> From<CommandError<E>> for Problem {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(refusal) => refusal.problem(),
            CommandError::Conflict { .. } => Problem::unavailable(error.to_string(), 1),
            CommandError::Unstorable { ref field, .. } => {
                tracing::error!(error = %error, "a decided event does not read back from its stored form");
                Problem::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "unstorable-value",
                    format!("{error}; nothing was written"),
                )
                .with_field(field.clone())
            }
            CommandError::Store(store) => store.into(),
        }
    }
}
