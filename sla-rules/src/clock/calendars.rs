//! The calendars a clock counts on: its own, then the one each `target` transition names
//! (a priority change may move a clock from a round-the-clock cell to a business-hours one).
//! They are found before the replay, which borrows them; a name that is no calendar is
//! refused when its transition is applied, like any other impossible transition.

use super::transition::{Transition, TransitionKind};
use crate::calendar::Calendar;

pub(crate) struct ClockCalendars {
    /// (index of a target transition naming a calendar, that calendar if the name is
    /// known), in transition order.
    named: Vec<(usize, Option<Calendar>)>,
}

impl ClockCalendars {
    /// The calendars `transitions` name. A name is the clock's own calendar (`own`, which
    /// may be a custom one) or one of the named calendars in `own`'s time zone; a custom
    /// calendar cannot take a built-in name, so a name means one calendar.
    pub(crate) fn resolve(own: &Calendar, transitions: &[Transition]) -> ClockCalendars {
        let mut named: Vec<(usize, Option<Calendar>)> = Vec::new();
        for (index, transition) in transitions.iter().enumerate() {
            let TransitionKind::Target {
                calendar: Some(name),
                ..
            } = &transition.kind
            else {
                continue;
            };
            let found_before = named
                .iter()
                .filter_map(|(_, calendar)| calendar.as_ref())
                .find(|calendar| calendar.name() == name);
            let calendar = if own.name() == name {
                Some(own.clone())
            } else if let Some(found) = found_before {
                Some(found.clone())
            } else {
                Calendar::named(name, own.time_zone()).ok()
            };
            named.push((index, calendar));
        }
        ClockCalendars { named }
    }

    /// The calendar transition `index` names, or `None` when the name is unknown (or the
    /// transition names none).
    pub(crate) fn named_by(&self, index: usize) -> Option<&Calendar> {
        let found = self
            .named
            .binary_search_by_key(&index, |(named_by, _)| *named_by)
            .ok()?;
        self.named[found].1.as_ref()
    }
}
