//! Where a time zone's UTC offset stays constant, found without probing every day.
//!
//! chrono-tz does not expose its transition table, so the offset is probed every
//! [`PROBE_STEP_SECONDS`]: in the tz database shipped with chrono-tz 0.10 (checked over
//! every zone), two changes of the total UTC offset are never less than 6 days 23 hours
//! apart (the closest: America/Recife in October 2000, Asia/Gaza from 2040). A window
//! of 6 days therefore holds at most one change: equal offsets at both ends mean none, and
//! different ones mean exactly one, found to the second by bisection.
//!
//! Each look-up costs about 50 ns, so the changes from 1900 to 2200 are found once per
//! zone and process ([`ZoneTimeline`], about a millisecond) and shared by every calendar
//! in that zone; walks then read a short sorted table. Outside those years, walks probe:
//! one look-up per 6 days, plus about 10 per change crossed.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::seconds::{SECONDS_PER_DAY, days_from_civil};

pub(crate) const PROBE_STEP_SECONDS: i64 = 6 * SECONDS_PER_DAY;

/// `[start, end)` in UTC seconds, during which local wall-clock time is `utc + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OffsetSegment {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) offset_seconds: i64,
}

pub(crate) fn utc_offset_seconds(time_zone: Tz, timestamp: i64) -> i64 {
    let instant = DateTime::from_timestamp(timestamp, 0)
        .expect("callers stay inside the supported range of instants");
    let offset = time_zone.offset_from_utc_datetime(&instant.naive_utc());
    i64::from(offset.fix().local_minus_utc())
}

/// A zone's offset changes over the years its table covers, as (instant, offset from then).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ZoneTimeline {
    covered_from: i64,
    covered_to: i64,
    offset_at_covered_from: i64,
    changes: Box<[(i64, i64)]>,
}

static ZONE_TIMELINES: LazyLock<Mutex<HashMap<Tz, Arc<ZoneTimeline>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl ZoneTimeline {
    /// The shared timeline of `time_zone`, found on first use.
    pub(crate) fn of(time_zone: Tz) -> Arc<ZoneTimeline> {
        let mut timelines = ZONE_TIMELINES
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            timelines
                .entry(time_zone)
                .or_insert_with(|| Arc::new(ZoneTimeline::find(time_zone))),
        )
    }

    fn find(time_zone: Tz) -> ZoneTimeline {
        let covered_from = days_from_civil(1900, 1, 1) * SECONDS_PER_DAY;
        let covered_to = days_from_civil(2201, 1, 1) * SECONDS_PER_DAY;
        let mut segments = OffsetSegments::new(time_zone, None, covered_from, covered_to);
        let first = segments.next().expect("the covered years are not empty");
        let mut changes = Vec::new();
        let mut offset = first.offset_seconds;
        for segment in segments {
            if segment.offset_seconds != offset {
                changes.push((segment.start, segment.offset_seconds));
                offset = segment.offset_seconds;
            }
        }
        ZoneTimeline {
            covered_from,
            covered_to,
            offset_at_covered_from: first.offset_seconds,
            changes: changes.into_boxed_slice(),
        }
    }

    /// The constant-offset segment starting at `position` (cut at `end`), if covered.
    fn segment_at(&self, position: i64, end: i64) -> Option<OffsetSegment> {
        if position < self.covered_from || position >= self.covered_to {
            return None;
        }
        let next_change = self.changes.partition_point(|(at, _)| *at <= position);
        let offset_seconds = match next_change {
            0 => self.offset_at_covered_from,
            index => self.changes[index - 1].1,
        };
        let segment_end = self
            .changes
            .get(next_change)
            .map_or(self.covered_to, |(at, _)| *at);
        Some(OffsetSegment {
            start: position,
            end: segment_end.min(end),
            offset_seconds,
        })
    }
}

/// The constant-offset segments covering `[from, to)`, in order.
pub(crate) struct OffsetSegments<'timeline> {
    time_zone: Tz,
    timeline: Option<&'timeline ZoneTimeline>,
    position: i64,
    /// The offset at `position` when it is known from probing.
    probed_offset_seconds: Option<i64>,
    end: i64,
}

impl<'timeline> OffsetSegments<'timeline> {
    pub(crate) fn new(
        time_zone: Tz,
        timeline: Option<&'timeline ZoneTimeline>,
        from: i64,
        to: i64,
    ) -> Self {
        OffsetSegments {
            time_zone,
            timeline,
            position: from,
            probed_offset_seconds: None,
            end: to,
        }
    }

    /// The first instant in `(after, at_most]` whose offset differs from `offset_seconds`
    /// (the one at `after`), knowing that `at_most` has a different offset and that there
    /// is only one change in between. Changes almost always happen on a whole hour: bisect
    /// hours first, check the hour's last second, and only bisect seconds when that fails.
    fn find_change(&self, after: i64, at_most: i64, offset_seconds: i64) -> i64 {
        let differs = |instant| utc_offset_seconds(self.time_zone, instant) != offset_seconds;
        let (mut same, mut different) = (after, at_most);
        loop {
            let first_hour = same.div_euclid(3600) + 1;
            let last_hour = (different - 1).div_euclid(3600);
            if first_hour > last_hour {
                break;
            }
            let middle = (first_hour + (last_hour - first_hour) / 2) * 3600;
            if differs(middle) {
                different = middle;
            } else {
                same = middle;
            }
        }
        if different - same > 1 && different % 3600 == 0 && !differs(different - 1) {
            return different;
        }
        while different - same > 1 {
            let middle = same + (different - same) / 2;
            if differs(middle) {
                different = middle;
            } else {
                same = middle;
            }
        }
        different
    }

    fn probe_next(&mut self) -> OffsetSegment {
        let offset_seconds = self
            .probed_offset_seconds
            .unwrap_or_else(|| utc_offset_seconds(self.time_zone, self.position));
        let probe = self.end.min(self.position + PROBE_STEP_SECONDS);
        let offset_at_probe = utc_offset_seconds(self.time_zone, probe);
        let (segment_end, next_offset) = if offset_at_probe == offset_seconds {
            (probe, offset_at_probe)
        } else {
            let change = self.find_change(self.position, probe, offset_seconds);
            (change, utc_offset_seconds(self.time_zone, change))
        };
        self.probed_offset_seconds = Some(next_offset);
        OffsetSegment {
            start: self.position,
            end: segment_end,
            offset_seconds,
        }
    }
}

impl Iterator for OffsetSegments<'_> {
    type Item = OffsetSegment;

    fn next(&mut self) -> Option<OffsetSegment> {
        if self.position >= self.end {
            return None;
        }
        let from_timeline = self
            .timeline
            .and_then(|timeline| timeline.segment_at(self.position, self.end));
        let segment = match from_timeline {
            Some(segment) => {
                self.probed_offset_seconds = None;
                segment
            }
            None => self.probe_next(),
        };
        self.position = segment.end;
        Some(segment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Australia, Europe};

    fn timestamp(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp()
    }

    #[test]
    fn paris_changes_offset_at_one_utc_on_the_last_sundays_of_march_and_october_2026() {
        let from = timestamp("2026-01-01T00:00:00Z");
        let to = timestamp("2027-01-01T00:00:00Z");
        let timeline = ZoneTimeline::of(Europe::Paris);
        let changes: Vec<(i64, i64)> =
            OffsetSegments::new(Europe::Paris, Some(&timeline), from, to)
                .collect::<Vec<_>>()
                .windows(2)
                .filter(|pair| pair[0].offset_seconds != pair[1].offset_seconds)
                .map(|pair| (pair[1].start, pair[1].offset_seconds))
                .collect();
        assert_eq!(
            changes,
            vec![
                (timestamp("2026-03-29T01:00:00Z"), 7200),
                (timestamp("2026-10-25T01:00:00Z"), 3600),
            ]
        );
    }

    /// Compares the segments with an hour-by-hour scan on the zones whose changes are the
    /// closest together, and on a zone with 30-minute DST.
    #[test]
    fn segments_agree_with_an_hourly_scan_where_changes_are_closest() {
        let cases = [
            (
                America::Recife,
                "2000-09-01T00:00:00Z",
                "2000-11-30T00:00:00Z",
            ),
            (Asia::Gaza, "2040-09-01T00:00:00Z", "2040-11-30T00:00:00Z"),
            (
                Australia::Lord_Howe,
                "2026-03-01T00:00:00Z",
                "2026-05-01T00:00:00Z",
            ),
            (
                Europe::Paris,
                "2026-03-01T00:00:00Z",
                "2026-11-30T00:00:00Z",
            ),
        ];
        for ((zone, from, to), use_timeline) in cases
            .into_iter()
            .flat_map(|case| [(case, true), (case, false)])
        {
            let (from, to) = (timestamp(from), timestamp(to));
            let timeline = use_timeline.then(|| ZoneTimeline::of(zone));
            let segments: Vec<OffsetSegment> =
                OffsetSegments::new(zone, timeline.as_deref(), from, to).collect();
            assert_eq!(segments.first().unwrap().start, from);
            assert_eq!(segments.last().unwrap().end, to);
            for pair in segments.windows(2) {
                assert_eq!(
                    pair[0].end, pair[1].start,
                    "{zone}: segments are contiguous"
                );
            }
            for hour in (from..to).step_by(3600) {
                let segment = segments
                    .iter()
                    .find(|segment| segment.start <= hour && hour < segment.end)
                    .unwrap();
                assert_eq!(
                    segment.offset_seconds,
                    utc_offset_seconds(zone, hour),
                    "{zone} at {hour}"
                );
            }
        }
    }
}
