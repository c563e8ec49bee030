//! The clock rules: replay the transitions up to `as_of`, counting the open time of the
//! calendar while running, and decide breach, deadline, risk and verdict.
//!
//! - A running clock is breached at the instant its counted time reached the target, as
//!   soon as it keeps running past that instant (open or closed time alike): stopping or
//!   pausing exactly then meets it, and so does an evaluation exactly then.
//! - A `target` transition that leaves the counted time above the new target breaches the
//!   clock at that instant, whatever its state.
//! - A `target` transition that names a calendar moves the clock onto it from that
//!   instant: the time already counted carries over, what follows is counted and explained
//!   (outside hours, holidays) on the new calendar, and the deadline is added on it.
//! - A breach is final: no later transition clears it.
//! - The deadline adds the seconds remaining to the later of the last start/resume/reopen
//!   and the last target transition. While running, the counted time grows exactly with
//!   the calendar's open time since that anchor, so this is computed, equivalently, by
//!   adding the seconds remaining at `as_of` to `as_of`.

use std::convert::Infallible;
use std::ops::ControlFlow;

use super::calendars::ClockCalendars;
use super::counting::{CountingPiece, CountingSchedule, CountingStatus};
use super::error::ClockError;
use super::evaluation::{ClockEvaluation, ClockState, IntervalKind, Verdict};
use super::explanation::ExplanationBuilder;
use super::input::{ClockInput, LARGEST_TARGET_SECONDS};
use super::transition::{Transition, TransitionKind};
use crate::calendar::Calendar;
use crate::risk::RiskRatio;
use crate::seconds::{SECONDS_PER_DAY, instant_at, timestamp_of};

/// Evaluates a clock as of `input.as_of`; an impossible list of transitions is an error
/// naming the first transition that makes it impossible.
///
/// The clock is replayed stretch by stretch (from one transition to the next): a running
/// stretch is walked through the calendar piece by piece (open, outside hours, holiday),
/// which gives the counting, the breach and the explanation at once; a paused or stopped
/// stretch is one interval.
pub fn evaluate(input: &ClockInput) -> Result<ClockEvaluation, ClockError> {
    replay(input, Explanation::Included)
}

/// [`evaluate`] without the explanation (`intervals` is empty): the same figures, for
/// callers that refresh many timers and show no explanation. Running stretches are
/// counted whole weeks at once; only a stretch in which the target is reached is walked,
/// to find the instant.
pub fn evaluate_without_explanation(input: &ClockInput) -> Result<ClockEvaluation, ClockError> {
    replay(input, Explanation::Omitted)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Explanation {
    Included,
    Omitted,
}

fn replay(input: &ClockInput, explanation: Explanation) -> Result<ClockEvaluation, ClockError> {
    if let Some(seconds) = input
        .target_seconds
        .filter(|seconds| !is_valid_target(*seconds))
    {
        return Err(ClockError::TargetOutOfRange { seconds });
    }
    let as_of = timestamp_of(input.as_of);
    let timestamps: Vec<i64> = input
        .transitions
        .iter()
        .map(|transition| timestamp_of(transition.at))
        .collect();
    let applied = transitions_applied_by(&input.transitions, &timestamps, as_of)?;
    let start = timestamps[0];
    let calendars = ClockCalendars::resolve(&input.calendar, &input.transitions[..applied]);
    let mut replay = Replay {
        transitions: &input.transitions[..applied],
        timestamps: &timestamps[..applied],
        calendars: &calendars,
        calendar: &input.calendar,
        exclude_maintenance_windows: input.exclude_maintenance_windows,
        schedule: CountingSchedule::new(&input.calendar, input.exclude_maintenance_windows),
        phase: Phase::Running,
        tally: Tally {
            counted_seconds: 0,
            target_seconds: input.target_seconds,
            breached_at: None,
            explanation: (explanation == Explanation::Included).then(|| {
                // About two intervals a day (open, closed) and two per transition.
                let days = usize::try_from((as_of - start) / SECONDS_PER_DAY).unwrap_or(0);
                ExplanationBuilder::with_capacity(2 * days.min(1024) + 2 * applied + 2)
            }),
        },
    };
    replay.replay_until(start, as_of)?;
    Ok(replay.conclude(as_of, input.at_risk_ratio))
}

fn is_valid_target(seconds: i64) -> bool {
    (0..=LARGEST_TARGET_SECONDS).contains(&seconds)
}

/// Checks the order of the whole list and that it begins with a start, then returns how
/// many transitions are at or before `as_of`.
fn transitions_applied_by(
    transitions: &[Transition],
    timestamps: &[i64],
    as_of: i64,
) -> Result<usize, ClockError> {
    let Some(first) = transitions.first() else {
        return Err(ClockError::NoTransitions);
    };
    if let Some(index) =
        (1..timestamps.len()).find(|&index| timestamps[index] < timestamps[index - 1])
    {
        return Err(ClockError::OutOfOrder {
            index,
            kind: transitions[index].kind.name(),
            at: transitions[index].at,
            previous_at: transitions[index - 1].at,
        });
    }
    if first.kind != TransitionKind::Start {
        return Err(ClockError::BeforeStart {
            index: 0,
            kind: first.kind.name(),
            at: first.at,
        });
    }
    if timestamps[0] > as_of {
        return Err(ClockError::AsOfBeforeStart {
            as_of: instant_at(as_of),
            start: first.at,
        });
    }
    Ok(timestamps.partition_point(|timestamp| *timestamp <= as_of))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase<'input> {
    Running,
    Paused {
        reason: &'input str,
        actor: Option<&'input str>,
    },
    Stopped,
}

impl Phase<'_> {
    fn state(self) -> ClockState {
        match self {
            Phase::Running => ClockState::Running,
            Phase::Paused { .. } => ClockState::Paused,
            Phase::Stopped => ClockState::Stopped,
        }
    }
}

struct Replay<'input> {
    /// The transitions applied (at or before `as_of`), and their instants in seconds.
    transitions: &'input [Transition],
    timestamps: &'input [i64],
    calendars: &'input ClockCalendars,
    /// The calendar in force, and what counts on it.
    calendar: &'input Calendar,
    exclude_maintenance_windows: bool,
    schedule: CountingSchedule<'input>,
    phase: Phase<'input>,
    tally: Tally<'input>,
}

/// What the clock has counted and decided so far.
struct Tally<'input> {
    counted_seconds: i64,
    target_seconds: Option<i64>,
    breached_at: Option<i64>,
    explanation: Option<ExplanationBuilder<'input>>,
}

impl<'input> Replay<'input> {
    /// Replays `[start, as_of)` from one transition to the next (the first, the start, has
    /// set the clock running; those at one instant apply in turn, with nothing between).
    fn replay_until(&mut self, start: i64, as_of: i64) -> Result<(), ClockError> {
        let mut position = start;
        for (index, &at) in self.timestamps.iter().enumerate().skip(1) {
            self.account_stretch(position, at);
            self.apply(index)?;
            position = at;
        }
        self.account_stretch(position, as_of);
        Ok(())
    }

    /// Accounts for `[from, until)`, during which no transition happens.
    fn account_stretch(&mut self, from: i64, until: i64) {
        if from >= until {
            return;
        }
        let tally = &mut self.tally;
        match self.phase {
            Phase::Running if tally.explanation.is_some() => {
                tally.breach_if_reached_at(from);
                let _: ControlFlow<Infallible> = self.schedule.walk(from, until, &mut |piece| {
                    tally.count_piece(piece, until);
                    ControlFlow::Continue(())
                });
            }
            Phase::Running => tally.count_stretch(&mut self.schedule, from, until),
            Phase::Paused { reason, actor } => {
                tally.explain_by(from, until, IntervalKind::Paused, Some(reason), actor)
            }
            Phase::Stopped => tally.explain(from, until, IntervalKind::Stopped, None),
        }
    }

    fn apply(&mut self, index: usize) -> Result<(), ClockError> {
        let transitions = self.transitions;
        let transition = &transitions[index];
        let impossible = || ClockError::Impossible {
            index,
            kind: transition.kind.name(),
            at: transition.at,
            state: self.phase.state(),
        };
        self.phase = match (&transition.kind, self.phase) {
            (TransitionKind::Start, _) => {
                return Err(ClockError::StartedTwice {
                    index,
                    at: transition.at,
                });
            }
            (TransitionKind::Pause { reason, actor }, Phase::Running) => Phase::Paused {
                reason,
                actor: actor.as_deref(),
            },
            (TransitionKind::Resume, Phase::Paused { .. }) => Phase::Running,
            (TransitionKind::Stop, Phase::Running | Phase::Paused { .. }) => Phase::Stopped,
            (TransitionKind::Reopen, Phase::Stopped) => Phase::Running,
            (
                TransitionKind::Target {
                    target_seconds,
                    calendar,
                },
                phase,
            ) => {
                if let Some(seconds) = target_seconds.filter(|seconds| !is_valid_target(*seconds)) {
                    return Err(ClockError::TransitionTargetOutOfRange {
                        index,
                        at: transition.at,
                        seconds,
                    });
                }
                if let Some(name) = calendar {
                    let Some(calendar) = self.calendars.named_by(index) else {
                        return Err(ClockError::UnknownTransitionCalendar {
                            index,
                            at: transition.at,
                            name: name.clone(),
                        });
                    };
                    self.move_to(calendar);
                }
                self.tally
                    .change_target(*target_seconds, self.timestamps[index]);
                phase
            }
            _ => return Err(impossible()),
        };
        Ok(())
    }

    /// Counts on `calendar` from now on (names identify the calendars of one clock).
    fn move_to(&mut self, calendar: &'input Calendar) {
        if calendar.name() != self.calendar.name() {
            self.calendar = calendar;
            self.schedule = CountingSchedule::new(calendar, self.exclude_maintenance_windows);
        }
    }

    fn conclude(mut self, as_of: i64, at_risk_ratio: RiskRatio) -> ClockEvaluation {
        let state = self.phase.state();
        let tally = self.tally;
        let counted_seconds = tally.counted_seconds;
        let target_seconds = tally.target_seconds;
        let breached = tally.breached_at.is_some();
        let deadline = match (tally.breached_at, self.phase, target_seconds) {
            (Some(breached_at), _, _) => Some(breached_at),
            (None, Phase::Running, Some(target)) => {
                Some(self.schedule.add(as_of, target - counted_seconds))
            }
            _ => None,
        };
        let at_risk = !breached
            && state != ClockState::Stopped
            && target_seconds
                .is_some_and(|target| at_risk_ratio.is_reached(counted_seconds, target));
        let verdict = match (breached, target_seconds, state) {
            (true, _, _) => Verdict::Breached,
            (false, None, _) => Verdict::NoCommitment,
            (false, Some(_), ClockState::Stopped) => Verdict::Met,
            (false, Some(_), ClockState::Running) => Verdict::Running,
            (false, Some(_), ClockState::Paused) => Verdict::Paused,
        };
        ClockEvaluation {
            state,
            counted_seconds,
            target_seconds,
            remaining_seconds: target_seconds.map(|target| target - counted_seconds),
            deadline: deadline.map(instant_at),
            at_risk,
            breached,
            breached_at: tally.breached_at.map(instant_at),
            verdict,
            calendar: self.calendar.name().to_owned(),
            intervals: tally
                .explanation
                .map_or_else(Vec::new, ExplanationBuilder::finish),
        }
    }
}

impl<'input> Tally<'input> {
    /// A new target (or none) from `at` on: counted time above it breaches the clock then.
    fn change_target(&mut self, target_seconds: Option<i64>, at: i64) {
        self.target_seconds = target_seconds;
        let over_new_target = target_seconds.is_some_and(|target| self.counted_seconds > target);
        if self.breached_at.is_none() && over_new_target {
            self.breached_at = Some(at);
        }
    }

    /// At the start of a running stretch: a clock that has already counted its whole target
    /// (exactly: it was paused or stopped as it reached it, or given a target equal to
    /// what it had counted, or 0) runs past it from now, so it is breached now. Within
    /// the stretch, only counted pieces can then reach the target (`count_piece`).
    fn breach_if_reached_at(&mut self, from: i64) {
        if self.breached_at.is_none()
            && self
                .target_seconds
                .is_some_and(|target| self.counted_seconds >= target)
        {
            self.breached_at = Some(from);
        }
    }

    /// Counts a piece of a running stretch that ends at `stretch_until`, and explains it.
    /// The clock is breached where the piece reaches the target, if it goes on running
    /// past that instant: within the piece, or on the next piece of the stretch.
    #[inline]
    fn count_piece(&mut self, piece: CountingPiece<'input>, stretch_until: i64) {
        let CountingPiece { from, to, status } = piece;
        let (kind, detail) = match status {
            CountingStatus::Counted => {
                let length = to - from;
                if let Some(target) = self.target_seconds
                    && self.breached_at.is_none()
                {
                    // At least 1: a stretch starting at the target breached the clock.
                    let needed = target - self.counted_seconds;
                    if needed < length || (needed == length && to < stretch_until) {
                        self.breached_at = Some(from + needed);
                    }
                }
                self.counted_seconds += length;
                (IntervalKind::Counted, None)
            }
            CountingStatus::OutsideHours => (IntervalKind::OutsideHours, None),
            CountingStatus::Holiday(name) => (IntervalKind::Holiday, Some(name)),
            CountingStatus::Maintenance => (IntervalKind::Maintenance, None),
        };
        self.explain(from, to, kind, detail);
    }

    /// Counts a running stretch `[from, until)` without explaining it: whole weeks at
    /// once, and a walk only to find the instant the target is reached, if it is.
    fn count_stretch(&mut self, schedule: &mut CountingSchedule<'input>, from: i64, until: i64) {
        let gained = schedule.counted_seconds(from, until);
        if let Some(target) = self.target_seconds.filter(|_| self.breached_at.is_none()) {
            let needed = target - self.counted_seconds;
            if needed <= gained {
                let reached = schedule.add(from, needed);
                if reached < until {
                    self.breached_at = Some(reached);
                }
            }
        }
        self.counted_seconds += gained;
    }

    fn explain(&mut self, from: i64, until: i64, kind: IntervalKind, detail: Option<&'input str>) {
        self.explain_by(from, until, kind, detail, None);
    }

    /// [`Tally::explain`] for an interval someone caused (a pause, by its actor).
    fn explain_by(
        &mut self,
        from: i64,
        until: i64,
        kind: IntervalKind,
        detail: Option<&'input str>,
        actor: Option<&'input str>,
    ) {
        if let Some(explanation) = &mut self.explanation {
            explanation.push(from, until, kind, detail, actor);
        }
    }
}
