//! Clocks: one SLA metric of one request, replayed from its transitions (start, pause,
//! resume, stop, reopen, target) and evaluated as of an instant, with an explanation of
//! every second between the start and that instant.
//!
//! A clock counts on `ClockInput::calendar` until a `target` transition names another
//! calendar (`TransitionKind::Target::calendar`, e.g. a priority change from a `24x7` cell
//! to a `business-hours-fr` one, built with [`Transition::target_on`]); from then on it
//! counts on that one, keeping the time already counted.

mod calendars;
mod counting;
mod error;
mod evaluate;
mod evaluation;
mod explanation;
mod input;
mod transition;

pub use error::ClockError;
pub use evaluate::{evaluate, evaluate_without_explanation};
pub use evaluation::{ClockEvaluation, ClockState, ExplainedInterval, IntervalKind, Verdict};
pub use input::{ClockInput, LARGEST_TARGET_SECONDS};
pub use transition::{DEFAULT_PAUSE_REASON, Transition, TransitionFormatError, TransitionKind};
