//! Public holidays: France's eleven, the two more of Alsace-Moselle, and the Easter
//! computation that moves four of them, for any year (validated from 1900 to 2200).

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::seconds::{date_of_day_number, days_from_civil, year_of_day_number};

/// The years for which the public holiday rules are checked and promised.
pub const SUPPORTED_HOLIDAY_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// A closed day of a calendar, with the name shown in explanations.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

/// Which set of public holidays a calendar observes, on top of its own holiday list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublicHolidays {
    #[default]
    None,
    /// The 11 French public holidays.
    France,
    /// The French ones plus Good Friday and 26 December.
    FranceAlsaceMoselle,
}

/// Most holidays of one year: 13 for Alsace-Moselle.
const MOST_PUBLIC_HOLIDAYS_IN_A_YEAR: usize = 13;

impl PublicHolidays {
    /// The holidays of `year`, in date order (two may share a date: Ascension fell on
    /// 1 May in 2008).
    pub fn of_year(self, year: i32) -> Vec<Holiday> {
        let mut holidays = Vec::with_capacity(MOST_PUBLIC_HOLIDAYS_IN_A_YEAR);
        self.for_each_in_year(i64::from(year), |day_number, name| {
            holidays.push(Holiday {
                date: date_of_day_number(day_number),
                name: name.to_owned(),
            });
        });
        holidays.sort_by_key(|holiday| holiday.date);
        holidays
    }

    /// Visits the holidays of `year` as day numbers (days since 1970-01-01), in integer
    /// arithmetic only: this runs whenever a calendar walk enters a new year.
    fn for_each_in_year(self, year: i64, mut visit: impl FnMut(i64, &'static str)) {
        let alsace = match self {
            PublicHolidays::None => return,
            PublicHolidays::France => false,
            PublicHolidays::FranceAlsaceMoselle => true,
        };
        let fixed = |month, day| days_from_civil(year, month, day);
        let (easter_month, easter_day) = easter_month_and_day(year);
        let easter = days_from_civil(year, easter_month, easter_day);
        visit(fixed(1, 1), "New Year's Day");
        if alsace {
            visit(easter - 2, "Good Friday");
        }
        visit(easter + 1, "Easter Monday");
        visit(fixed(5, 1), "Labour Day");
        visit(fixed(5, 8), "Victory in Europe Day");
        visit(easter + 39, "Ascension Day");
        visit(easter + 50, "Whit Monday");
        visit(fixed(7, 14), "Bastille Day");
        visit(fixed(8, 15), "Assumption Day");
        visit(fixed(11, 1), "All Saints' Day");
        visit(fixed(11, 11), "Armistice Day");
        visit(fixed(12, 25), "Christmas Day");
        if alsace {
            visit(fixed(12, 26), "St Stephen's Day");
        }
    }
}

/// Easter Sunday of the Gregorian `year`: the "anonymous Gregorian algorithm"
/// (Meeus/Jones/Butcher), valid for every Gregorian year.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let (month, day) = easter_month_and_day(i64::from(year));
    NaiveDate::from_ymd_opt(year, month, day)
        .expect("the algorithm yields a date in March or April")
}

fn easter_month_and_day(year: i64) -> (u32, u32) {
    let golden = year.rem_euclid(19);
    let century = year.div_euclid(100);
    let year_of_century = year.rem_euclid(100);
    let leap_centuries = century.div_euclid(4);
    let century_remainder = century.rem_euclid(4);
    let moon_correction = (century + 8).div_euclid(25);
    let moon_shift = (century - moon_correction + 1).div_euclid(3);
    let epact = (19 * golden + century - leap_centuries - moon_shift + 15).rem_euclid(30);
    let leap_years = year_of_century / 4;
    let year_remainder = year_of_century % 4;
    let weekday_shift =
        (32 + 2 * century_remainder + 2 * leap_years - epact - year_remainder).rem_euclid(7);
    let full_moon_correction = (golden + 11 * epact + 22 * weekday_shift) / 451;
    let month_and_day = epact + weekday_shift - 7 * full_moon_correction + 114;
    ((month_and_day / 31) as u32, (month_and_day % 31 + 1) as u32)
}

/// The public holidays of every supported year, as (day number, name) sorted by day: built
/// once per process for each set, so that walks never recompute Easter.
struct HolidayTable {
    first_day: i64,
    end_day: i64,
    days: Box<[(i64, &'static str)]>,
}

impl HolidayTable {
    fn build(public: PublicHolidays) -> HolidayTable {
        let mut days = Vec::with_capacity(301 * MOST_PUBLIC_HOLIDAYS_IN_A_YEAR);
        for year in SUPPORTED_HOLIDAY_YEARS {
            let first_of_year = days.len();
            public.for_each_in_year(i64::from(year), |day_number, name| {
                days.push((day_number, name))
            });
            // Stable: when two holidays share a date, the first listed names it.
            days[first_of_year..].sort_by_key(|(day, _)| *day);
        }
        HolidayTable {
            first_day: days_from_civil(i64::from(*SUPPORTED_HOLIDAY_YEARS.start()), 1, 1),
            end_day: days_from_civil(i64::from(*SUPPORTED_HOLIDAY_YEARS.end()) + 1, 1, 1),
            days: days.into_boxed_slice(),
        }
    }

    fn of(public: PublicHolidays) -> Option<&'static HolidayTable> {
        static FRANCE: LazyLock<HolidayTable> =
            LazyLock::new(|| HolidayTable::build(PublicHolidays::France));
        static FRANCE_ALSACE_MOSELLE: LazyLock<HolidayTable> =
            LazyLock::new(|| HolidayTable::build(PublicHolidays::FranceAlsaceMoselle));
        match public {
            PublicHolidays::None => None,
            PublicHolidays::France => Some(&FRANCE),
            PublicHolidays::FranceAlsaceMoselle => Some(&FRANCE_ALSACE_MOSELLE),
        }
    }
}

/// Visits once each day number in `[from_day, to_day)` that is a public holiday of `public`
/// or listed in `listed` (sorted by day), in order: whole-week sums subtract them.
pub(crate) fn for_each_holiday_day(
    public: PublicHolidays,
    listed: &[(i64, String)],
    from_day: i64,
    to_day: i64,
    visit: impl FnMut(i64),
) {
    let computed: Vec<i64>;
    let public_days: &[(i64, &'static str)];
    let mut outside_table: &[i64] = &[];
    match HolidayTable::of(public) {
        None => public_days = &[],
        Some(table) if table.first_day <= from_day && to_day <= table.end_day => {
            let first = table.days.partition_point(|(day, _)| *day < from_day);
            let end = table.days.partition_point(|(day, _)| *day < to_day);
            public_days = &table.days[first..end];
        }
        Some(_) => {
            public_days = &[];
            let mut days = Vec::new();
            for year in year_of_day_number(from_day)..=year_of_day_number(to_day - 1) {
                public.for_each_in_year(year, |day, _| days.push(day));
            }
            days.sort_unstable();
            days.retain(|day| (from_day..to_day).contains(day));
            computed = days;
            outside_table = &computed;
        }
    }
    let first_listed = listed.partition_point(|(day, _)| *day < from_day);
    let end_listed = listed.partition_point(|(day, _)| *day < to_day);
    visit_each_day_once(
        public_days
            .iter()
            .map(|(day, _)| *day)
            .chain(outside_table.iter().copied()),
        listed[first_listed..end_listed].iter().map(|(day, _)| *day),
        visit,
    );
}

/// Merges two increasing sequences of days, visiting each day once.
fn visit_each_day_once(
    public: impl Iterator<Item = i64>,
    listed: impl Iterator<Item = i64>,
    mut visit: impl FnMut(i64),
) {
    let (mut public, mut listed) = (public.peekable(), listed.peekable());
    let mut last_visited = None;
    loop {
        let day = match (public.peek(), listed.peek()) {
            (Some(&public_day), Some(&listed_day)) if public_day <= listed_day => {
                public.next();
                public_day
            }
            (_, Some(&listed_day)) => {
                listed.next();
                listed_day
            }
            (Some(&public_day), None) => {
                public.next();
                public_day
            }
            (None, None) => return,
        };
        if last_visited != Some(day) {
            last_visited = Some(day);
            visit(day);
        }
    }
}

/// Answers "is this local day a holiday, and which" while a calendar is walked day by
/// day: from the process-wide table in the supported years, computed per year outside.
pub(crate) struct HolidayLookup<'calendar> {
    public: PublicHolidays,
    listed: &'calendar [(i64, String)],
    /// The days `public_days` covers: the whole table, or one year outside it.
    covered_first_day: i64,
    covered_end_day: i64,
    public_days: PublicDays,
    /// Index of the first public holiday not before the last day asked about.
    cursor: usize,
    /// Days known to hold no holiday, `[quiet_from, quiet_until)`.
    quiet_from: i64,
    quiet_until: i64,
}

/// What a walk entering local day `day_number` needs to know about holidays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HolidayAhead<'calendar> {
    /// That day is this holiday.
    On(&'calendar str),
    /// That day and the following ones up to this day (excluded) hold no holiday.
    NoneBefore(i64),
}

enum PublicDays {
    Table(&'static [(i64, &'static str)]),
    OneYear(Vec<(i64, &'static str)>),
}

impl PublicDays {
    fn as_slice(&self) -> &[(i64, &'static str)] {
        match self {
            PublicDays::Table(days) => days,
            PublicDays::OneYear(days) => days,
        }
    }
}

impl<'calendar> HolidayLookup<'calendar> {
    /// `listed` holds a calendar's own holidays as (day number, name), sorted by day.
    pub(crate) fn new(public: PublicHolidays, listed: &'calendar [(i64, String)]) -> Self {
        HolidayLookup {
            public,
            listed,
            covered_first_day: 0,
            covered_end_day: 0,
            public_days: PublicDays::Table(&[]),
            cursor: 0,
            quiet_from: 0,
            quiet_until: 0,
        }
    }

    /// The name of the holiday on local day `day_number`, if any (public ones first).
    /// Walks ask about days in increasing order, so this keeps a cursor, and remembers the
    /// days up to the next holiday as a quiet stretch: most days cost one comparison.
    #[inline]
    pub(crate) fn name_on(&mut self, day_number: i64) -> Option<&'calendar str> {
        if self.quiet_from <= day_number && day_number < self.quiet_until {
            return None;
        }
        self.look_up(day_number)
    }

    /// The holiday on local day `day_number`, or the first later day that may be one
    /// (see `name_on`): walks take the days in between as regular ones.
    #[inline]
    pub(crate) fn ahead_of(&mut self, day_number: i64) -> HolidayAhead<'calendar> {
        match self.name_on(day_number) {
            Some(name) => HolidayAhead::On(name),
            // `name_on` found the day in a quiet stretch, or made one starting there.
            None => HolidayAhead::NoneBefore(self.quiet_until),
        }
    }

    #[inline(never)]
    fn look_up(&mut self, day_number: i64) -> Option<&'calendar str> {
        // The first day after `day_number` that may be a holiday.
        let mut next_holiday = i64::MAX;
        if self.public != PublicHolidays::None {
            if day_number < self.covered_first_day || day_number >= self.covered_end_day {
                self.cover(day_number);
            }
            self.move_cursor_to(day_number);
            match self.public_days.as_slice().get(self.cursor) {
                Some((day, name)) if *day == day_number => return Some(name),
                Some((day, _)) => next_holiday = *day,
                None => next_holiday = self.covered_end_day,
            }
        }
        match self
            .listed
            .binary_search_by_key(&day_number, |(day, _)| *day)
        {
            Ok(index) => return Some(self.listed[index].1.as_str()),
            Err(index) => {
                if let Some((day, _)) = self.listed.get(index) {
                    next_holiday = next_holiday.min(*day);
                }
            }
        }
        self.quiet_from = day_number;
        self.quiet_until = next_holiday;
        None
    }

    /// Visits once each holiday day in `[from_day, to_day)`, in order. Like `name_on`, it
    /// keeps its place, so increasing ranges cost no new search.
    pub(crate) fn for_each_in(&mut self, from_day: i64, to_day: i64, visit: impl FnMut(i64)) {
        if from_day >= to_day {
            return;
        }
        let mut public_days: &[(i64, &'static str)] = &[];
        if self.public != PublicHolidays::None {
            if from_day < self.covered_first_day || from_day >= self.covered_end_day {
                self.cover(from_day);
            }
            if to_day > self.covered_end_day {
                return for_each_holiday_day(self.public, self.listed, from_day, to_day, visit);
            }
            self.move_cursor_to(from_day);
            let days = &self.public_days.as_slice()[self.cursor..];
            // A few holidays at most lie ahead in the spans clocks count: scan, no search.
            let count = days.iter().take_while(|(day, _)| *day < to_day).count();
            public_days = &days[..count];
        }
        if self.listed.is_empty() {
            let mut visit = visit;
            let mut last_visited = None;
            for (day, _) in public_days {
                if last_visited != Some(*day) {
                    last_visited = Some(*day);
                    visit(*day);
                }
            }
            return;
        }
        let first_listed = self.listed.partition_point(|(day, _)| *day < from_day);
        let end_listed = self.listed.partition_point(|(day, _)| *day < to_day);
        visit_each_day_once(
            public_days.iter().map(|(day, _)| *day),
            self.listed[first_listed..end_listed]
                .iter()
                .map(|(day, _)| *day),
            visit,
        );
    }

    /// Moves the cursor to the first public holiday not before `day_number` (covered).
    fn move_cursor_to(&mut self, day_number: i64) {
        let public_days = self.public_days.as_slice();
        if self.cursor > 0 && public_days[self.cursor - 1].0 >= day_number {
            self.cursor = public_days.partition_point(|(day, _)| *day < day_number);
        }
        while self.cursor < public_days.len() && public_days[self.cursor].0 < day_number {
            self.cursor += 1;
        }
    }

    fn cover(&mut self, day_number: i64) {
        let table = HolidayTable::of(self.public).expect("only called with public holidays");
        if (table.first_day..table.end_day).contains(&day_number) {
            self.covered_first_day = table.first_day;
            self.covered_end_day = table.end_day;
            self.cursor = table.days.partition_point(|(day, _)| *day < day_number);
            self.public_days = PublicDays::Table(&table.days);
            return;
        }
        let year = year_of_day_number(day_number);
        self.covered_first_day = days_from_civil(year, 1, 1);
        self.covered_end_day = days_from_civil(year + 1, 1, 1);
        let mut days = Vec::with_capacity(MOST_PUBLIC_HOLIDAYS_IN_A_YEAR);
        self.public
            .for_each_in_year(year, |day_number, name| days.push((day_number, name)));
        days.sort_by_key(|(day, _)| *day);
        self.public_days = PublicDays::OneYear(days);
        self.cursor = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seconds::day_number_of;
    use chrono::Datelike;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn easter_matches_published_dates() {
        // Published Easter Sundays (also cross-checked against python-dateutil's easter()),
        // including early and latest possible dates and both ends of the supported range.
        let published = [
            (1900, date(1900, 4, 15)),
            (1913, date(1913, 3, 23)),
            (1943, date(1943, 4, 25)),
            (2000, date(2000, 4, 23)),
            (2008, date(2008, 3, 23)),
            (2024, date(2024, 3, 31)),
            (2025, date(2025, 4, 20)),
            (2026, date(2026, 4, 5)),
            (2038, date(2038, 4, 25)),
            (2200, date(2200, 4, 6)),
        ];
        for (year, easter) in published {
            assert_eq!(easter_sunday(year), easter, "Easter {year}");
        }
    }

    #[test]
    fn easter_always_falls_on_a_sunday_between_22_march_and_25_april() {
        for year in SUPPORTED_HOLIDAY_YEARS {
            let easter = easter_sunday(year);
            assert_eq!(easter.weekday(), chrono::Weekday::Sun, "{year}");
            assert!(
                easter >= date(year, 3, 22) && easter <= date(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn alsace_adds_good_friday_and_st_stephens_day() {
        assert_eq!(PublicHolidays::France.of_year(2026).len(), 11);
        let alsace = PublicHolidays::FranceAlsaceMoselle.of_year(2026);
        assert_eq!(alsace.len(), 13);
        // Easter 2026 is 5 April, so Good Friday is 3 April.
        assert!(alsace.contains(&Holiday {
            date: date(2026, 4, 3),
            name: "Good Friday".into()
        }));
        assert_eq!(alsace.last().unwrap().date, date(2026, 12, 26));
        assert!(PublicHolidays::None.of_year(2026).is_empty());
    }

    #[test]
    fn lookup_finds_public_then_listed_holidays_across_years() {
        let listed = vec![(day_number_of(date(2027, 1, 4)), "Company day".to_owned())];
        let mut lookup = HolidayLookup::new(PublicHolidays::France, &listed);
        assert_eq!(
            lookup.name_on(day_number_of(date(2026, 12, 25))),
            Some("Christmas Day")
        );
        assert_eq!(lookup.name_on(day_number_of(date(2026, 12, 28))), None);
        assert_eq!(
            lookup.name_on(day_number_of(date(2027, 1, 1))),
            Some("New Year's Day")
        );
        assert_eq!(
            lookup.name_on(day_number_of(date(2027, 1, 4))),
            Some("Company day")
        );
        assert_eq!(
            lookup.name_on(day_number_of(date(2026, 5, 14))),
            Some("Ascension Day")
        );
        assert_eq!(lookup.name_on(day_number_of(date(2026, 5, 13))), None);
        assert_eq!(
            lookup.name_on(day_number_of(date(2026, 5, 8))),
            Some("Victory in Europe Day")
        );
        // 2008: Ascension fell on 1 May; the first listed (Labour Day) names the day.
        assert_eq!(
            lookup.name_on(day_number_of(date(2008, 5, 1))),
            Some("Labour Day")
        );
        assert_eq!(
            lookup.name_on(day_number_of(date(2008, 5, 12))),
            Some("Whit Monday")
        );
        // Outside the supported years, the rules still apply, computed year by year.
        assert_eq!(
            lookup.name_on(day_number_of(date(2300, 7, 14))),
            Some("Bastille Day")
        );
        assert_eq!(
            lookup.name_on(day_number_of(date(1850, 12, 25))),
            Some("Christmas Day")
        );
        assert_eq!(lookup.name_on(day_number_of(date(1850, 12, 26))), None);
        assert_eq!(
            lookup.name_on(day_number_of(date(2026, 12, 25))),
            Some("Christmas Day")
        );
    }

    #[test]
    fn each_holiday_day_is_visited_once_in_order() {
        // 2008: Ascension fell on 1 May, Labour Day: one day. A listed holiday on Christmas
        // Day 2008 is not visited twice either.
        let listed = vec![
            (day_number_of(date(2008, 3, 3)), "Company day".to_owned()),
            (
                day_number_of(date(2008, 12, 25)),
                "Also Christmas".to_owned(),
            ),
        ];
        let visit_between = |from: NaiveDate, to: NaiveDate| {
            let mut days = Vec::new();
            for_each_holiday_day(
                PublicHolidays::France,
                &listed,
                day_number_of(from),
                day_number_of(to),
                |day| days.push(date_of_day_number(day)),
            );
            days
        };
        let in_2008 = visit_between(date(2008, 1, 1), date(2009, 1, 1));
        assert_eq!(in_2008.len(), 11, "{in_2008:?}");
        assert_eq!(in_2008[1], date(2008, 3, 3));
        assert!(in_2008.windows(2).all(|pair| pair[0] < pair[1]));
        // Outside the table, computed year by year: Christmas 1850 and New Year 1851.
        assert_eq!(
            visit_between(date(1850, 12, 1), date(1851, 1, 2)),
            vec![date(1850, 12, 25), date(1851, 1, 1)]
        );
    }
}
