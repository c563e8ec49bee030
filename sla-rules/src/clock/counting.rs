//! What a running clock counts: the calendar's open time, minus the platform maintenance
//! windows when the policy excludes them (maintenance only ever replaces open time: a
//! window at night stays "outside hours" on a business-hours calendar).
//!
//! A clock asks about its running stretches in time order, so the schedule keeps its place
//! (a [`CalendarCursor`], the maintenance windows ahead) from one stretch to the next.

use std::iter::Peekable;
use std::ops::ControlFlow;

use crate::calendar::{Calendar, CalendarCursor, Piece, PieceStatus};
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

impl<'calendar> CountingPiece<'calendar> {
    fn of(piece: Piece<'calendar>) -> Self {
        let status = match piece.status {
            PieceStatus::Open => CountingStatus::Counted,
            PieceStatus::OutsideHours => CountingStatus::OutsideHours,
            PieceStatus::Holiday(name) => CountingStatus::Holiday(name),
        };
        CountingPiece {
            from: piece.from,
            to: piece.to,
            status,
        }
    }
}

pub(crate) struct CountingSchedule<'calendar> {
    cursor: CalendarCursor<'calendar>,
    exclude_maintenance_windows: bool,
    /// When maintenance windows are excluded: the windows not yet passed by the walks,
    /// which went as far as `maintenance_walked_until`.
    maintenance_windows: Option<Peekable<MaintenanceWindows>>,
    maintenance_walked_until: i64,
}

impl<'calendar> CountingSchedule<'calendar> {
    pub(crate) fn new(calendar: &'calendar Calendar, exclude_maintenance_windows: bool) -> Self {
        CountingSchedule {
            cursor: calendar.cursor(),
            exclude_maintenance_windows,
            maintenance_windows: None,
            maintenance_walked_until: i64::MIN,
        }
    }

    /// Visits the pieces of `[from, to)` in order until `visit` breaks.
    pub(crate) fn walk<B>(
        &mut self,
        from: i64,
        to: i64,
        visit: &mut impl FnMut(CountingPiece<'calendar>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        if !self.exclude_maintenance_windows {
            return self
                .cursor
                .walk(from, to, &mut |piece| visit(CountingPiece::of(piece)));
        }
        if from < self.maintenance_walked_until {
            self.maintenance_windows = None;
        }
        self.maintenance_walked_until = to;
        let windows = self
            .maintenance_windows
            .get_or_insert_with(|| MaintenanceWindows::ending_after(from).peekable());
        self.cursor.walk(from, to, &mut |piece| {
            if piece.status != PieceStatus::Open {
                return visit(CountingPiece::of(piece));
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

    /// The counted seconds in `[from, to)`: whole weeks at once, unless maintenance
    /// windows must be cut out (that needs the piece-by-piece walk).
    pub(crate) fn counted_seconds(&mut self, from: i64, to: i64) -> i64 {
        if !self.exclude_maintenance_windows {
            return self.cursor.open_seconds(from, to);
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
    pub(crate) fn add(&mut self, from: i64, seconds: i64) -> i64 {
        if !self.exclude_maintenance_windows {
            return self.cursor.add_open_seconds(from, seconds);
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
