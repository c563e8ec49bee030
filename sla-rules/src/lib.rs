//! Sablier's SLA rules engine: calendars, clocks, policies and their explanations.
//!
//! Pure arithmetic on UTC instants: no storage, no HTTP, no wall clock, no environment.
//! Every SLA verdict a customer may dispute is computed here, from inputs the caller
//! passes in (including `now`, as a clock's `as_of`). Instants have second precision.
//!
//! - [`calendar`]: when time counts (`24x7`, French business hours, custom calendars),
//!   exact across DST changes, at a cost that grows with the days spanned only.
//! - [`maintenance`]: the platform maintenance windows.
//! - [`clock`]: one metric of one request, evaluated as of an instant, with its
//!   explanation.
//! - [`policy`]: versioned (tier, priority, metric) → target tables; `default-2026`.
//! - [`terms`]: the vocabulary every layer shares.
//! - [`range`]: the span of time in which every answer is exact (1970 to 2099).

pub mod calendar;
pub mod clock;
pub mod maintenance;
pub mod policy;
pub mod range;
pub mod risk;
pub mod terms;

mod seconds;

pub use calendar::{Calendar, CalendarError, CustomCalendar, Holiday};
pub use clock::{
    ClockError, ClockEvaluation, ClockInput, ClockState, ExplainedInterval, IntervalKind,
    Transition, TransitionKind, Verdict, evaluate,
};
pub use maintenance::MaintenanceWindow;
pub use policy::{Policy, PolicyError, Target};
pub use risk::RiskRatio;
pub use terms::{Metric, Priority, Tier, UnknownTerm};
