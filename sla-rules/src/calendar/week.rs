//! A calendar's regular week as the instants at which its open time starts and stops, so
//! that walks step from one change to the next (two per business day) instead of visiting
//! every local day and each of its opening ranges. Holidays and DST changes are not part of
//! the regular week: the walk cuts it where they apply.

use super::definition::OpenRange;
use crate::seconds::SECONDS_PER_DAY;

pub(crate) const SECONDS_PER_WEEK: i64 = 7 * SECONDS_PER_DAY;

/// At `at` seconds after Monday 00:00 (local wall-clock time, `0..SECONDS_PER_WEEK`), the
/// calendar opens (`opens`) or closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WeekChange {
    pub(crate) at: i64,
    pub(crate) opens: bool,
}

impl WeekChange {
    fn opening(at: i64) -> WeekChange {
        WeekChange { at, opens: true }
    }

    fn closing(at: i64) -> WeekChange {
        WeekChange { at, opens: false }
    }
}

/// The regular week of a calendar, as the changes between its opening and closing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RegularWeek {
    /// Sorted, alternating between opening and closing; empty when open throughout.
    changes: Box<[WeekChange]>,
    /// For each weekday (Monday first), the index of the first change from its midnight:
    /// a walk entering a day scans the day's few changes from there, without a search.
    first_change_on: [usize; 7],
}

impl RegularWeek {
    pub(crate) fn new(week: &[Box<[OpenRange]>; 7]) -> RegularWeek {
        let changes = week_changes(week);
        let first_change_on = std::array::from_fn(|weekday| {
            changes.partition_point(|change| change.at < weekday as i64 * SECONDS_PER_DAY)
        });
        RegularWeek {
            changes,
            first_change_on,
        }
    }

    pub(crate) fn changes(&self) -> &[WeekChange] {
        &self.changes
    }

    /// The index of the first change after `second_of_week`, which falls on `weekday`;
    /// `changes().len()` when the next one is in the following week.
    #[inline]
    pub(crate) fn next_change_after(&self, weekday: usize, second_of_week: i64) -> usize {
        let mut next = self.first_change_on[weekday];
        while next < self.changes.len() && self.changes[next].at <= second_of_week {
            next += 1;
        }
        next
    }
}

/// The changes of the regular week, sorted and alternating between opening and closing.
/// Ranges that touch across midnight (open until 24:00, again from 00:00, Sunday to Monday
/// included) change nothing, so a week open throughout has no change at all.
fn week_changes(week: &[Box<[OpenRange]>; 7]) -> Box<[WeekChange]> {
    let mut changes: Vec<WeekChange> = Vec::new();
    for (weekday, day) in week.iter().enumerate() {
        let day_start = weekday as i64 * SECONDS_PER_DAY;
        for range in day.iter() {
            let (opens, closes) = (day_start + range.opens, day_start + range.closes);
            // The ranges of a day are sorted and do not touch: only the last range of the
            // day before may end where this one starts.
            if changes.last() == Some(&WeekChange::closing(opens)) {
                changes.pop();
            } else {
                changes.push(WeekChange::opening(opens));
            }
            changes.push(WeekChange::closing(closes % SECONDS_PER_WEEK));
        }
    }
    // Closing at Sunday 24:00 is closing at Monday 00:00: first in the week, unless Monday
    // opens then, in which case neither happens.
    if changes.last().is_some_and(|last| last.at == 0) {
        let closes_at_week_end = changes.pop().expect("the last change exists");
        if changes.first() == Some(&WeekChange::opening(0)) {
            changes.remove(0);
        } else {
            changes.insert(0, closes_at_week_end);
        }
    }
    changes.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(ranges: &[(i64, i64)]) -> Box<[OpenRange]> {
        ranges
            .iter()
            .map(|&(opens, closes)| OpenRange { opens, closes })
            .collect()
    }

    fn changes(week: [&[(i64, i64)]; 7]) -> Vec<(i64, bool)> {
        week_changes(&week.map(day))
            .iter()
            .map(|change| (change.at, change.opens))
            .collect()
    }

    const HOUR: i64 = 3600;
    const DAY: i64 = SECONDS_PER_DAY;

    #[test]
    fn business_days_open_and_close_once_a_day() {
        let nine_to_six: &[(i64, i64)] = &[(9 * HOUR, 18 * HOUR)];
        let week = changes([nine_to_six, nine_to_six, &[], &[], &[], &[], nine_to_six]);
        assert_eq!(
            week,
            vec![
                (9 * HOUR, true),
                (18 * HOUR, false),
                (DAY + 9 * HOUR, true),
                (DAY + 18 * HOUR, false),
                (6 * DAY + 9 * HOUR, true),
                (6 * DAY + 18 * HOUR, false),
            ]
        );
    }

    #[test]
    fn openings_that_touch_across_midnight_are_one() {
        let all_day: &[(i64, i64)] = &[(0, DAY)];
        assert_eq!(changes([all_day; 7]), vec![]);
        // Friday 20:00 to Monday 06:00, across the week's end of Sunday 24:00.
        let week = changes([
            &[(0, 6 * HOUR)],
            &[],
            &[],
            &[],
            &[(20 * HOUR, DAY)],
            all_day,
            all_day,
        ]);
        assert_eq!(week, vec![(6 * HOUR, false), (4 * DAY + 20 * HOUR, true)]);
        // Open until Sunday 24:00 but not from Monday 00:00: it closes at Monday 00:00.
        let week = changes([&[(9 * HOUR, 10 * HOUR)], &[], &[], &[], &[], &[], all_day]);
        assert_eq!(
            week,
            vec![
                (0, false),
                (9 * HOUR, true),
                (10 * HOUR, false),
                (6 * DAY, true)
            ]
        );
    }

    #[test]
    fn the_next_change_is_found_from_the_day_it_falls_on() {
        let nine_to_six: &[(i64, i64)] = &[(9 * HOUR, 18 * HOUR)];
        let week = RegularWeek::new(&[nine_to_six, &[], &[], &[], &[], &[], nine_to_six].map(day));
        // Monday 08:00, 09:00 (the opening itself is behind), 20:00; Wednesday; Sunday 23:00.
        assert_eq!(week.next_change_after(0, 8 * HOUR), 0);
        assert_eq!(week.next_change_after(0, 9 * HOUR), 1);
        assert_eq!(week.next_change_after(0, 20 * HOUR), 2);
        assert_eq!(week.next_change_after(2, 2 * DAY + 12 * HOUR), 2);
        assert_eq!(week.next_change_after(6, 6 * DAY + 23 * HOUR), 4);
    }
}
