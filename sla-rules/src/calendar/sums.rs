//! Open seconds of long spans, whole weeks at once: within a constant-offset segment, the
//! full local days in the middle are counted as whole weeks times the weekly opening time,
//! plus the remaining days, minus the holidays that close an opening day. Only the first
//! and last days are cut by hand. The cost grows with the weeks and holidays spanned and
//! the DST changes crossed, not with the days. Figures that need no explanation (clock
//! totals, `open_seconds_between`) come from here; the piece-by-piece `walk` stays for
//! explanations and for finding the instant at which a count is reached.

use super::cursor::CalendarCursor;
use crate::seconds::{SECONDS_PER_DAY, weekday_index_of_day_number};

impl CalendarCursor<'_> {
    /// The open seconds in `[from, to)` (UTC seconds).
    pub(crate) fn open_seconds(&mut self, from: i64, to: i64) -> i64 {
        if from >= to {
            return 0;
        }
        if self.rules.always_open {
            return to - from;
        }
        let mut open_seconds = 0;
        let mut position = from;
        while position < to {
            let segment = self.segment_at(position);
            let until = segment.end.min(to);
            let offset = segment.offset_seconds;
            open_seconds += self.open_wall_clock_seconds(position + offset, until + offset);
            position = until;
        }
        open_seconds
    }

    /// The open seconds of the wall-clock window `[from, to)` (local seconds, one offset).
    fn open_wall_clock_seconds(&mut self, from: i64, to: i64) -> i64 {
        let first_day = from.div_euclid(SECONDS_PER_DAY);
        let last_day = (to - 1).div_euclid(SECONDS_PER_DAY);
        if first_day == last_day {
            return self.open_seconds_in_day(first_day, from, to);
        }
        let first = self.open_seconds_in_day(first_day, from, (first_day + 1) * SECONDS_PER_DAY);
        let whole_days = self.open_seconds_in_whole_days(first_day + 1, last_day);
        let last = self.open_seconds_in_day(last_day, last_day * SECONDS_PER_DAY, to);
        first + whole_days + last
    }

    /// The open seconds of `[from, to)` within local day `day_number`.
    fn open_seconds_in_day(&mut self, day_number: i64, from: i64, to: i64) -> i64 {
        let opening_hours = &self.rules.week[weekday_index_of_day_number(day_number)];
        if opening_hours.is_empty() || self.holidays.name_on(day_number).is_some() {
            return 0;
        }
        let day_start = day_number * SECONDS_PER_DAY;
        opening_hours
            .iter()
            .map(|range| {
                let opens = (day_start + range.opens).max(from);
                let closes = (day_start + range.closes).min(to);
                (closes - opens).max(0)
            })
            .sum()
    }

    /// The open seconds of the whole local days `[from_day, to_day)`.
    fn open_seconds_in_whole_days(&mut self, from_day: i64, to_day: i64) -> i64 {
        if from_day >= to_day {
            return 0;
        }
        let daily = &self.rules.daily_open_seconds;
        let whole_weeks = (to_day - from_day) / 7;
        let mut open_seconds = whole_weeks * self.rules.weekly_open_seconds;
        for day in (from_day + whole_weeks * 7)..to_day {
            open_seconds += daily[weekday_index_of_day_number(day)];
        }
        self.holidays.for_each_in(from_day, to_day, |holiday| {
            open_seconds -= daily[weekday_index_of_day_number(holiday)];
        });
        open_seconds
    }
}
