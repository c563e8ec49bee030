//! Sablier's SLA rules engine: calendars, clocks, policies and their explanations.
//!
//! Pure arithmetic on UTC instants: no storage, no HTTP, no wall clock, no environment.
//! Every SLA verdict a customer may dispute is computed here, from inputs the caller
//! passes in (including `now`).

pub mod terms;

pub use terms::{Metric, Priority, Tier, UnknownTerm};
