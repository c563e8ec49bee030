//! A calendar read forward: a clock asks about its stretches one after the other (count
//! this one, walk that one), so the cursor keeps its place in the holiday table and the
//! constant-offset segment it last used, and each question costs no new search.
//! Questions may go backwards too; they are answered as correctly, only less cheaply.

use super::CalendarRules;
use super::holidays::HolidayLookup;
use super::zone_offsets::{OffsetSegment, OffsetSegments};
use crate::seconds::LATEST_TIMESTAMP;

pub(crate) struct CalendarCursor<'calendar> {
    pub(super) rules: &'calendar CalendarRules,
    pub(super) holidays: HolidayLookup<'calendar>,
    /// The constant-offset segment last used, as far as it is known to reach.
    segment: Option<OffsetSegment>,
}

impl<'calendar> CalendarCursor<'calendar> {
    pub(crate) fn new(rules: &'calendar CalendarRules) -> Self {
        CalendarCursor {
            rules,
            holidays: HolidayLookup::new(rules.public_holidays, &rules.listed_holidays),
            segment: None,
        }
    }

    /// The constant-offset segment holding `position`, from `position` on.
    pub(super) fn segment_at(&mut self, position: i64) -> OffsetSegment {
        match self.segment {
            Some(segment) if segment.start <= position && position < segment.end => OffsetSegment {
                start: position,
                ..segment
            },
            _ => {
                let rules = self.rules;
                let segment = OffsetSegments::new(
                    rules.time_zone,
                    rules.zone_timeline.as_deref(),
                    position,
                    LATEST_TIMESTAMP,
                )
                .next()
                .expect("a position before the latest instant has a segment");
                self.segment = Some(segment);
                segment
            }
        }
    }
}
