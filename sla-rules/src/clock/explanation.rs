//! Builds a clock's explanation as it is evaluated: contiguous intervals, merged when two
//! neighbours say the same thing (a night cut at midnight is one `outside_hours` interval).
//! Strings are copied once per final interval, not per piece walked.

use chrono::{DateTime, Utc};

use super::evaluation::{ExplainedInterval, IntervalKind};
use crate::seconds::InstantConverter;

struct PendingInterval<'input> {
    from: i64,
    to: i64,
    kind: IntervalKind,
    detail: Option<&'input str>,
}

pub(crate) struct ExplanationBuilder<'input> {
    intervals: Vec<PendingInterval<'input>>,
}

impl<'input> ExplanationBuilder<'input> {
    /// `expected_intervals` only sizes the first allocation.
    pub(crate) fn with_capacity(expected_intervals: usize) -> Self {
        ExplanationBuilder {
            intervals: Vec::with_capacity(expected_intervals),
        }
    }

    pub(crate) fn push(
        &mut self,
        from: i64,
        to: i64,
        kind: IntervalKind,
        detail: Option<&'input str>,
    ) {
        if from >= to {
            return;
        }
        match self.intervals.last_mut() {
            Some(last) if last.to == from && last.kind == kind && last.detail == detail => {
                last.to = to;
            }
            _ => self.intervals.push(PendingInterval {
                from,
                to,
                kind,
                detail,
            }),
        }
    }

    /// The intervals, each boundary converted to an instant once.
    pub(crate) fn finish(self) -> Vec<ExplainedInterval> {
        let mut converter = InstantConverter::new();
        let mut previous_end: Option<(i64, DateTime<Utc>)> = None;
        self.intervals
            .into_iter()
            .map(|interval| {
                let from = match previous_end {
                    Some((timestamp, instant)) if timestamp == interval.from => instant,
                    _ => converter.instant_at(interval.from),
                };
                let to = converter.instant_at(interval.to);
                previous_end = Some((interval.to, to));
                ExplainedInterval {
                    from,
                    to,
                    kind: interval.kind,
                    detail: interval.detail.map(str::to_owned),
                }
            })
            .collect()
    }
}
