//! An incident ticket: its lifecycle, and the SLA clocks (GTI, GTD, GTR) its events start,
//! pause, resume, stop, reopen and retarget.

mod aggregate;
mod clock_change;
mod command;
mod error;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::{Incident, IncidentStatus};
pub use clock_change::{ClockChange, ClockChangeKind, PauseReason};
pub use command::IncidentCommand;
pub use error::IncidentError;
pub use event::IncidentEvent;
