//! Sablier's domain: the contract, incident, change request and order aggregates
//! (cqrs-es 0.5), their commands, events and rules.
//!
//! Pure decisions: no storage, HTTP or wall clock. Time comes from [`Clock`], facts owned
//! elsewhere come through the ports in [`services`]. Every event carries the instant it
//! happened (`at`); who did it, through what and for which request travel in the event
//! metadata built from [`CommandContext`].

pub mod actor;
pub mod change;
pub mod clock;
pub mod contract;
pub mod creating;
pub mod ids;
pub mod incident;
pub mod money;
pub mod month;
pub mod order;
pub mod services;
/// Fakes and fixtures for tests (the `testing` feature): never in a release build.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;

pub use actor::{Actor, ActorRole, Authored, Channel, CommandContext};
pub use clock::{Clock, FixedClock, SystemClock};
pub use creating::Creating;
pub use ids::{ChangeId, ContractId, IncidentId, OrderId};
pub use money::Cents;
pub use month::YearMonth;
pub use services::{Port, PortError, Services};
pub use text::InvalidField;
