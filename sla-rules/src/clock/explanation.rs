//! Builds a clock's explanation as it is evaluated: contiguous intervals, merged when two
//! neighbours say the same thing (a night cut at midnight is one `outside_hours` interval).
//! The last interval keeps growing until the next one differs; each boundary is converted
//! to an instant once and each detail copied once.

use super::evaluation::{ExplainedInterval, IntervalKind};
use crate::seconds::InstantConverter;

pub(crate) struct ExplanationBuilder<'input> {
    /// The last one's `to` is only written once it stops growing.
    intervals: Vec<ExplainedInterval>,
    /// The last interval's end, kind, detail (a pause's reason or a holiday's name) and
    /// actor (who paused).
    last_to: i64,
    last_kind: IntervalKind,
    last_detail: Option<&'input str>,
    last_actor: Option<&'input str>,
    converter: InstantConverter,
}

impl<'input> ExplanationBuilder<'input> {
    /// `expected_intervals` only sizes the first allocation.
    pub(crate) fn with_capacity(expected_intervals: usize) -> Self {
        ExplanationBuilder {
            intervals: Vec::with_capacity(expected_intervals),
            last_to: i64::MIN,
            last_kind: IntervalKind::Counted,
            last_detail: None,
            last_actor: None,
            converter: InstantConverter::new(),
        }
    }

    /// Explains `[from, to)`. Clocks push their intervals in order, each starting where
    /// the last one ended.
    #[inline]
    pub(crate) fn push(
        &mut self,
        from: i64,
        to: i64,
        kind: IntervalKind,
        detail: Option<&'input str>,
        actor: Option<&'input str>,
    ) {
        if from >= to {
            return;
        }
        let contiguous = from == self.last_to;
        if contiguous
            && kind == self.last_kind
            && detail == self.last_detail
            && actor == self.last_actor
        {
            self.last_to = to;
            return;
        }
        let from_instant = match self.intervals.last_mut() {
            Some(last) => {
                last.to = self.converter.instant_at(self.last_to);
                if contiguous {
                    last.to
                } else {
                    self.converter.instant_at(from)
                }
            }
            None => self.converter.instant_at(from),
        };
        self.intervals.push(ExplainedInterval {
            from: from_instant,
            to: from_instant,
            kind,
            detail: detail.map(str::to_owned),
            actor: actor.map(str::to_owned),
        });
        self.last_to = to;
        self.last_kind = kind;
        self.last_detail = detail;
        self.last_actor = actor;
    }

    pub(crate) fn finish(mut self) -> Vec<ExplainedInterval> {
        if let Some(last) = self.intervals.last_mut() {
            last.to = self.converter.instant_at(self.last_to);
        }
        self.intervals
    }
}
