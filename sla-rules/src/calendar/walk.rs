//! The one algorithm behind every calendar operation: walk `[from, to)` and cut it into
//! pieces that are open, outside opening hours, or on a holiday.
//!
//! An instant is open when the calendar's local wall clock shows an opening time of an open
//! day. Within a constant-offset segment (see `zone_offsets`), wall-clock time is UTC plus
//! a constant, so the segment is walked in wall-clock seconds, with integer arithmetic only.
//! This makes DST exact by construction: in the spring gap no wall clock time exists, so
//! nothing counts; in the autumn overlap the repeated hour counts twice if it is open; a
//! business day of 09:00-18:00 is nine real hours either side of a change. The walk steps
//! from one opening or closing of the regular week (`week`) to the next, and looks at a day
//! on its own only where a holiday may fall: one step per piece, never per minute or second.
//!
//! A holiday only shows on a day that would otherwise have opening hours: a Sunday
//! 1 November is just outside hours, since the holiday closes nothing that was open.

use std::ops::ControlFlow;

use super::cursor::CalendarCursor;
use super::holidays::HolidayAhead;
use super::week::SECONDS_PER_WEEK;
use super::zone_offsets::OffsetSegment;
use crate::seconds::{LATEST_TIMESTAMP, SECONDS_PER_DAY, weekday_index_of_day_number};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PieceStatus<'calendar> {
    Open,
    OutsideHours,
    Holiday(&'calendar str),
}

/// `[from, to)` in UTC seconds, never empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece<'calendar> {
    pub(crate) from: i64,
    pub(crate) to: i64,
    pub(crate) status: PieceStatus<'calendar>,
}

impl<'calendar> CalendarCursor<'calendar> {
    /// Visits the pieces of `[from, to)` in order until `visit` breaks. A piece runs from
    /// one opening or closing to the next, unless cut where a holiday may begin or at a DST
    /// change: neighbours may then have the same status (callers that show pieces merge
    /// them; counting does not care).
    pub(crate) fn walk<B>(
        &mut self,
        from: i64,
        to: i64,
        visit: &mut impl FnMut(Piece<'calendar>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        if from >= to {
            return ControlFlow::Continue(());
        }
        if self.rules.always_open {
            return visit(Piece {
                from,
                to,
                status: PieceStatus::Open,
            });
        }
        let mut position = from;
        while position < to {
            let segment = self.segment_at(position);
            let segment = OffsetSegment {
                end: segment.end.min(to),
                ..segment
            };
            self.walk_segment(segment, visit)?;
            position = segment.end;
        }
        ControlFlow::Continue(())
    }

    /// The earliest instant at which `seconds` open seconds have passed since `from`
    /// (see [`super::Calendar::add_open_seconds`]).
    pub(crate) fn add_open_seconds(&mut self, from: i64, seconds: i64) -> i64 {
        if seconds <= 0 {
            return from;
        }
        if self.rules.always_open {
            return from.saturating_add(seconds).min(LATEST_TIMESTAMP);
        }
        let mut remaining = seconds;
        let reached = self.walk(from, LATEST_TIMESTAMP, &mut |piece| {
            if piece.status == PieceStatus::Open {
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

    /// Walks one constant-offset segment in wall-clock seconds: the regular week from one
    /// opening or closing to the next, cut where a day may be a holiday.
    fn walk_segment<B>(
        &mut self,
        segment: OffsetSegment,
        visit: &mut impl FnMut(Piece<'calendar>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let offset = segment.offset_seconds;
        let mut emit = |wall_from: i64, wall_to: i64, status| {
            visit(Piece {
                from: wall_from - offset,
                to: wall_to - offset,
                status,
            })
        };
        let wall_end = segment.end + offset;
        let mut cursor = segment.start + offset;
        while cursor < wall_end {
            let day_number = cursor.div_euclid(SECONDS_PER_DAY);
            let weekday = weekday_index_of_day_number(day_number);
            let next_day_start = (day_number + 1) * SECONDS_PER_DAY;
            let regular_until = match self.holidays.ahead_of(day_number) {
                // Saturating: a calendar without holidays has none before `i64::MAX`.
                HolidayAhead::NoneBefore(day) => day.saturating_mul(SECONDS_PER_DAY),
                HolidayAhead::On(name) if !self.rules.week[weekday].is_empty() => {
                    let day_stop = wall_end.min(next_day_start);
                    emit(cursor, day_stop, PieceStatus::Holiday(name))?;
                    cursor = day_stop;
                    continue;
                }
                // A holiday closes nothing on a day without opening hours.
                HolidayAhead::On(_) => next_day_start,
            };
            let stop = wall_end.min(regular_until);
            self.walk_regular_week(cursor, stop, day_number, weekday, &mut emit)?;
            cursor = stop;
        }
        ControlFlow::Continue(())
    }

    /// Walks `[from, to)` (wall-clock seconds, where no holiday closes anything) through
    /// the regular week, one piece per opening or closing; `from` falls on local day
    /// `day_number`, whose weekday is `weekday` (Monday = 0).
    fn walk_regular_week<B>(
        &self,
        from: i64,
        to: i64,
        day_number: i64,
        weekday: usize,
        emit: &mut impl FnMut(i64, i64, PieceStatus<'calendar>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let week = &self.rules.regular_week;
        let changes = week.changes();
        if changes.is_empty() {
            return emit(from, to, PieceStatus::Open);
        }
        let mut week_start = (day_number - weekday as i64) * SECONDS_PER_DAY;
        let mut next = week.next_change_after(weekday, from - week_start);
        let mut cursor = from;
        while cursor < to {
            if next == changes.len() {
                next = 0;
                week_start += SECONDS_PER_WEEK;
            }
            let change = changes[next];
            let piece_end = to.min(week_start + change.at);
            // Changes alternate: before an opening, the calendar is closed.
            let status = if change.opens {
                PieceStatus::OutsideHours
            } else {
                PieceStatus::Open
            };
            emit(cursor, piece_end, status)?;
            cursor = piece_end;
            next += 1;
        }
        ControlFlow::Continue(())
    }
}
