//! The platform's maintenance windows (seed 004): 00:00-06:00 Europe/Paris on the first
//! Wednesday of each month and on its last three Wednesdays; in a month with five
//! Wednesdays the second one is not a window. The portal asks "is there maintenance now,
//! and when is the next?"; a policy may exclude the windows from a metric's counted time.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use chrono_tz::{Europe, Tz};
use serde::{Deserialize, Serialize};

use crate::seconds::{LATEST_TIMESTAMP, instant_at, timestamp_of};

/// The windows are defined in Paris time whatever the contract's time zone.
pub const MAINTENANCE_TIME_ZONE: Tz = Europe::Paris;

/// `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

const WINDOW_OPENS_HOUR: u32 = 0;
const WINDOW_CLOSES_HOUR: u32 = 6;

/// The windows of one month (a Paris calendar month), in order.
pub fn maintenance_windows_in_month(year: i32, month: u32) -> Vec<MaintenanceWindow> {
    let mut windows = Vec::with_capacity(5);
    for_each_window_in_month(year, month, |start, end| {
        windows.push(MaintenanceWindow {
            start: instant_at(start),
            end: instant_at(end),
        });
    });
    windows
}

/// The windows overlapping `[from, to)`, in order.
pub fn maintenance_windows_between(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<MaintenanceWindow> {
    let to = timestamp_of(to);
    MaintenanceWindows::ending_after(timestamp_of(from))
        .take_while(|(start, _)| *start < to)
        .map(|(start, end)| MaintenanceWindow {
            start: instant_at(start),
            end: instant_at(end),
        })
        .collect()
}

/// The window in progress at `at`, if any.
pub fn maintenance_window_at(at: DateTime<Utc>) -> Option<MaintenanceWindow> {
    let at = timestamp_of(at);
    MaintenanceWindows::ending_after(at)
        .next()
        .filter(|(start, _)| *start <= at)
        .map(|(start, end)| MaintenanceWindow {
            start: instant_at(start),
            end: instant_at(end),
        })
}

/// The first window that starts at or after `at`.
pub fn next_maintenance_window(at: DateTime<Utc>) -> MaintenanceWindow {
    let at = timestamp_of(at);
    let (start, end) = MaintenanceWindows::ending_after(at)
        .find(|(start, _)| *start >= at)
        .expect("every month has maintenance windows");
    MaintenanceWindow {
        start: instant_at(start),
        end: instant_at(end),
    }
}

/// The windows, as UTC seconds, in order from the first one ending after an instant.
pub(crate) struct MaintenanceWindows {
    year: i32,
    month: u32,
    month_windows: Vec<(i64, i64)>,
    next_index: usize,
    ending_after: i64,
}

impl MaintenanceWindows {
    pub(crate) fn ending_after(timestamp: i64) -> MaintenanceWindows {
        let local = instant_at(timestamp).with_timezone(&MAINTENANCE_TIME_ZONE);
        // Start one month early: cheap, and safe whatever the offset.
        let (year, month) = previous_month(local.year(), local.month());
        MaintenanceWindows {
            year,
            month,
            month_windows: Vec::with_capacity(5),
            next_index: 0,
            ending_after: timestamp,
        }
    }
}

impl Iterator for MaintenanceWindows {
    type Item = (i64, i64);

    fn next(&mut self) -> Option<(i64, i64)> {
        loop {
            if let Some(&(start, end)) = self.month_windows.get(self.next_index) {
                self.next_index += 1;
                if end > self.ending_after {
                    return Some((start, end));
                }
                continue;
            }
            if self.year > 9999 {
                return None;
            }
            self.month_windows.clear();
            self.next_index = 0;
            let windows = &mut self.month_windows;
            for_each_window_in_month(self.year, self.month, |start, end| {
                if start < LATEST_TIMESTAMP {
                    windows.push((start, end));
                }
            });
            (self.year, self.month) = following_month(self.year, self.month);
        }
    }
}

fn for_each_window_in_month(year: i32, month: u32, mut visit: impl FnMut(i64, i64)) {
    let Some(first_of_month) = NaiveDate::from_ymd_opt(year, month, 1) else {
        return;
    };
    let days_to_wednesday = (7 + Weekday::Wed.num_days_from_monday()
        - first_of_month.weekday().num_days_from_monday())
        % 7;
    let wednesdays: Vec<NaiveDate> = (0..5)
        .filter_map(|week| {
            first_of_month.checked_add_days(Days::new(u64::from(days_to_wednesday) + 7 * week))
        })
        .filter(|date| date.month() == month)
        .collect();
    for (index, wednesday) in wednesdays.iter().enumerate() {
        let second_of_five = wednesdays.len() == 5 && index == 1;
        if second_of_five {
            continue;
        }
        let at_hour =
            |hour| paris_to_timestamp(wednesday.and_hms_opt(hour, 0, 0).expect("a valid hour"));
        visit(at_hour(WINDOW_OPENS_HOUR), at_hour(WINDOW_CLOSES_HOUR));
    }
}

/// Paris wall-clock time to UTC seconds: the earlier instant when the time occurs twice,
/// the end of the gap when it does not occur at all.
fn paris_to_timestamp(local: NaiveDateTime) -> i64 {
    if let Some(instant) = MAINTENANCE_TIME_ZONE.from_local_datetime(&local).earliest() {
        return instant.timestamp();
    }
    chrono_tz::GapInfo::new(&local, &MAINTENANCE_TIME_ZONE)
        .and_then(|gap| gap.end)
        .map_or_else(|| local.and_utc().timestamp(), |end| end.timestamp())
}

fn previous_month(year: i32, month: u32) -> (i32, u32) {
    if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    }
}

fn following_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_month_with_five_wednesdays_skips_the_second() {
        // April 2026: Wednesdays 1, 8, 15, 22, 29; the 8th is not a window. Paris is on
        // CEST (UTC+2), so 00:00-06:00 local is 22:00-04:00 UTC, starting the day before.
        let starts: Vec<DateTime<Utc>> = maintenance_windows_in_month(2026, 4)
            .iter()
            .map(|window| window.start)
            .collect();
        assert_eq!(
            starts,
            vec![
                instant("2026-03-31T22:00:00Z"),
                instant("2026-04-14T22:00:00Z"),
                instant("2026-04-21T22:00:00Z"),
                instant("2026-04-28T22:00:00Z"),
            ]
        );
    }

    #[test]
    fn a_month_with_four_wednesdays_has_four_windows() {
        // June 2026: Wednesdays 3, 10, 17, 24; the first and the last three are all of them.
        let windows = maintenance_windows_in_month(2026, 6);
        assert_eq!(windows.len(), 4);
        assert_eq!(
            windows[1],
            MaintenanceWindow {
                start: instant("2026-06-09T22:00:00Z"),
                end: instant("2026-06-10T04:00:00Z"),
            }
        );
        // January 2026 is on CET (UTC+1): Wednesday 7 January 00:00-06:00 is 23:00-05:00 UTC.
        assert_eq!(
            maintenance_windows_in_month(2026, 1)[0],
            MaintenanceWindow {
                start: instant("2026-01-06T23:00:00Z"),
                end: instant("2026-01-07T05:00:00Z"),
            }
        );
    }

    #[test]
    fn now_and_next() {
        // Wednesday 10 June 2026 03:00 Paris (01:00 UTC) is inside that day's window.
        let during = instant("2026-06-10T01:00:00Z");
        assert_eq!(
            maintenance_window_at(during).map(|window| window.start),
            Some(instant("2026-06-09T22:00:00Z"))
        );
        assert_eq!(
            next_maintenance_window(during).start,
            instant("2026-06-16T22:00:00Z")
        );
        // The end of a window is not in it.
        assert_eq!(maintenance_window_at(instant("2026-06-10T04:00:00Z")), None);
        // June's four windows, and Wednesday 1 July's, which starts on 30 June 22:00 UTC.
        let between = maintenance_windows_between(
            instant("2026-06-01T00:00:00Z"),
            instant("2026-07-01T00:00:00Z"),
        );
        assert_eq!(between.len(), 5);
        assert_eq!(between[4].start, instant("2026-06-30T22:00:00Z"));
    }
}
