//! What a running clock counts: the calendar's open time, minus the platform maintenance
//! windows when the policy excludes them (maintenance only ever replaces open time: a
//! window at night stays "outside hours" on a business-hours calendar).

use std::ops::ControlFlow;

use crate::calendar::{Calendar, OpenSecondsCounter, PieceStatus};
use crate::maintenance::MaintenanceWindows;
use crate::seconds::LATEST_TIMESTAMP;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CountingStatus<'calendar> {
    Counted,
    OutsideHours,
    Holiday(&'calendar str),
    Maintenance,
}

/// `[from, to)` in UTC seconds, never empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CountingPiece<'calendar> {
    pub(crate) from: i64,
    pub(crate) to: i64,
    pub(crate) status: CountingStatus<'calendar>,
}

pub(crate) struct CountingSchedule<'calendar> {
    pub(crate) calendar: &'calendar Calendar,
    pub(crate) exclude_maintenance_windows: bool,
}

impl<'calendar> CountingSchedule<'calendar> {
    /// Visits the pieces of `[from, to)` in order until `visit` breaks.
    pub(crate) fn walk<B>(
        &self,
        from: i64,
        to: i64,
        visit: &mut impl FnMut(CountingPiece<'calendar>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let same_piece = |from, to, status| {
            let status = match status {
                PieceStatus::Open => CountingStatus::Counted,
                PieceStatus::OutsideHours => CountingStatus::OutsideHours,
                PieceStatus::Holiday(name) => CountingStatus::Holiday(name),
            };
            CountingPiece { from, to, status }
        };
        if !self.exclude_maintenance_windows {
            return self.calendar.walk(from, to, &mut |piece| {
                visit(same_piece(piece.from, piece.to, piece.status))
            });
        }
        let mut windows = MaintenanceWindows::ending_after(from).peekable();
        self.calendar.walk(from, to, &mut |piece| {
            if piece.status != PieceStatus::Open {
                return visit(same_piece(piece.from, piece.to, piece.status));
            }
            let mut cursor = piece.from;
            while cursor < piece.to {
                while windows.next_if(|&(_, end)| end <= cursor).is_some() {}
                let (counted_until, maintenance_until) = match windows.peek() {
                    Some(&(start, end)) if start < piece.to => {
                        (start.max(cursor), end.min(piece.to))
                    }
                    _ => (piece.to, piece.to),
                };
                if cursor < counted_until {
                    visit(CountingPiece {
                        from: cursor,
                        to: counted_until,
                        status: CountingStatus::Counted,
                    })?;
                    cursor = counted_until;
                }
                if cursor < maintenance_until {
                    visit(CountingPiece {
                        from: cursor,
                        to: maintenance_until,
                        status: CountingStatus::Maintenance,
                    })?;
                    cursor = maintenance_until;
                }
            }
            ControlFlow::Continue(())
        })
    }

    /// The counted seconds in `[from, to)`. `counter` (from this schedule's calendar) counts
    /// whole weeks at once; cutting maintenance windows out needs the day-by-day walk.
    pub(crate) fn counted_seconds(
        &self,
        counter: &mut OpenSecondsCounter<'calendar>,
        from: i64,
        to: i64,
    ) -> i64 {
        if !self.exclude_maintenance_windows {
            return counter.open_seconds(from, to);
        }
        let mut counted = 0;
        let _: ControlFlow<()> = self.walk(from, to, &mut |piece| {
            if piece.status == CountingStatus::Counted {
                counted += piece.to - piece.from;
            }
            ControlFlow::Continue(())
        });
        counted
    }

    /// The earliest instant at which `seconds` counted seconds have passed since `from`.
    pub(crate) fn add(&self, from: i64, seconds: i64) -> i64 {
        if !self.exclude_maintenance_windows {
            return self.calendar.add_open_seconds_to_timestamp(from, seconds);
        }
        if seconds <= 0 {
            return from;
        }
        let mut remaining = seconds;
        let reached = self.walk(from, LATEST_TIMESTAMP, &mut |piece| {
            if piece.status == CountingStatus::Counted {
                let length = piece.to - piece.from;
                if length >= remaining {
                    return ControlFlow::Break(piece.from + remaining);
                }
                remaining -= length;
            }
            ControlFlow::Continue(())
        });
        match reached {
            ControlFlow::Break(instant) => instant,
            ControlFlow::Continue(()) => LATEST_TIMESTAMP,
        }
    }
}
