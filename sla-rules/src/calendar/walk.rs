//! The one algorithm behind every calendar operation: walk `[from, to)` and cut it into
//! pieces that are open, outside opening hours, or on a holiday.
//!
//! An instant is open when the calendar's local wall clock shows an opening time of an open
//! day. Within a constant-offset segment (see `zone_offsets`), wall-clock time is UTC plus
//! a constant, so the segment is walked in wall-clock seconds, one local day at a time, with
//! integer arithmetic only. This makes DST exact by construction: in the spring gap no wall
//! clock time exists, so nothing counts; in the autumn overlap the repeated hour counts twice
//! if it is open; a business day of 09:00-18:00 is nine real hours either side of a change.
//! The cost is one step per local day crossed, never per minute or per second.
//!
//! A holiday only shows on a day that would otherwise have opening hours: a Sunday
//! 1 November is just outside hours, since the holiday closes nothing that was open.

use std::ops::ControlFlow;

use super::cursor::CalendarCursor;
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
    /// Visits the pieces of `[from, to)` in order until `visit` breaks. Neighbouring pieces
    /// with the same status are merged (a night is one piece, not two cut at midnight), so a
    /// piece is visited once the next one begins.
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
        let mut pending: Option<Piece<'calendar>> = None;
        let mut merge_or_visit = |piece: Piece<'calendar>| match &mut pending {
            Some(last) if last.status == piece.status && last.to == piece.from => {
                last.to = piece.to;
                ControlFlow::Continue(())
            }
            _ => match pending.replace(piece) {
                Some(finished) => visit(finished),
                None => ControlFlow::Continue(()),
            },
        };
        let mut position = from;
        while position < to {
            let segment = self.segment_at(position);
            let segment = OffsetSegment {
                end: segment.end.min(to),
                ..segment
            };
            self.walk_segment(segment, &mut merge_or_visit)?;
            position = segment.end;
        }
        match pending {
            Some(last) => visit(last),
            None => ControlFlow::Continue(()),
        }
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
        let mut day_number = cursor.div_euclid(SECONDS_PER_DAY);
        let mut weekday = weekday_index_of_day_number(day_number);
        while cursor < wall_end {
            let day_start = day_number * SECONDS_PER_DAY;
            let day_stop = wall_end.min(day_start + SECONDS_PER_DAY);
            let opening_hours = &self.rules.week[weekday];
            if opening_hours.is_empty() {
                emit(cursor, day_stop, PieceStatus::OutsideHours)?;
            } else if let Some(name) = self.holidays.name_on(day_number) {
                emit(cursor, day_stop, PieceStatus::Holiday(name))?;
            } else {
                for range in opening_hours.iter() {
                    let (opens, closes) = (day_start + range.opens, day_start + range.closes);
                    if closes <= cursor {
                        continue;
                    }
                    if opens >= day_stop {
                        break;
                    }
                    if cursor < opens {
                        emit(cursor, opens, PieceStatus::OutsideHours)?;
                        cursor = opens;
                    }
                    let open_until = closes.min(day_stop);
                    emit(cursor, open_until, PieceStatus::Open)?;
                    cursor = open_until;
                }
                if cursor < day_stop {
                    emit(cursor, day_stop, PieceStatus::OutsideHours)?;
                }
            }
            cursor = day_stop;
            day_number += 1;
            weekday = if weekday == 6 { 0 } else { weekday + 1 };
        }
        ControlFlow::Continue(())
    }
}
