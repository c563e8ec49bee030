//! Calendars on the named hard cases: weekends, holiday eves, Easter-based holidays,
//! both 2026 DST changes, and wall-clock times that do not exist or exist twice.

use chrono::NaiveDate;
use chrono_tz::America;
use sablier_sla::Calendar;
use sablier_sla::calendar::{CalendarSpan, CalendarStatus};

use crate::support::*;

#[test]
fn opened_friday_1730_with_four_business_hours_is_due_monday_1230() {
    // Friday 2026-03-27 17:30 CET (16:30Z): 30 min until 18:00. The weekend is closed (and
    // Paris moves to CEST on Sunday). Monday 2026-03-30 09:00 CEST + 3 h 30 = 12:30 CEST,
    // i.e. 10:30Z.
    let calendar = business_hours();
    let due = calendar.add_open_seconds(utc("2026-03-27T16:30:00Z"), 4 * HOUR);
    assert_eq!(due, utc("2026-03-30T10:30:00Z"));
}

#[test]
fn opened_on_a_saturday_counts_from_monday_0900() {
    // Saturday 2026-04-11 10:00 CEST (08:00Z). Nothing is open until Monday 2026-04-13
    // 09:00 CEST (07:00Z). 16 business hours: Monday 9 h, then Tuesday 09:00 + 7 h = 16:00
    // CEST, i.e. 14:00Z.
    let calendar = business_hours();
    let saturday = utc("2026-04-11T08:00:00Z");
    assert_eq!(
        calendar.next_open_instant(saturday),
        utc("2026-04-13T07:00:00Z")
    );
    assert_eq!(
        calendar.open_seconds_between(saturday, utc("2026-04-13T07:00:00Z")),
        0
    );
    assert_eq!(
        calendar.add_open_seconds(saturday, 16 * HOUR),
        utc("2026-04-14T14:00:00Z")
    );
    assert!(!calendar.is_open_at(saturday));
}

#[test]
fn opened_on_christmas_eve_skips_christmas_and_the_weekend() {
    // Thursday 2026-12-24 17:00 CET (16:00Z): 1 h until 18:00. Friday 25 is Christmas Day,
    // then the weekend. Monday 28 09:00 CET + 3 h = 12:00 CET, i.e. 11:00Z.
    let calendar = business_hours();
    assert_eq!(
        calendar.add_open_seconds(utc("2026-12-24T16:00:00Z"), 4 * HOUR),
        utc("2026-12-28T11:00:00Z")
    );
}

#[test]
fn alsace_also_closes_on_good_friday() {
    // Easter 2026 is 5 April: Good Friday is 3 April, Easter Monday 6 April. From Thursday
    // 2 April 17:00 CEST (15:00Z), 4 business hours: 1 h on Thursday, then
    // - business-hours-fr: Friday 3 April 09:00 + 3 h = 12:00 CEST = 10:00Z;
    // - business-hours-fr-alsace: Friday and Monday are closed: Tuesday 7 April 12:00 CEST.
    let thursday = utc("2026-04-02T15:00:00Z");
    assert_eq!(
        business_hours().add_open_seconds(thursday, 4 * HOUR),
        utc("2026-04-03T10:00:00Z")
    );
    assert_eq!(
        paris("business-hours-fr-alsace").add_open_seconds(thursday, 4 * HOUR),
        utc("2026-04-07T10:00:00Z")
    );
}

#[test]
fn first_of_may_2026_is_a_friday_and_closed() {
    // Thursday 2026-04-30 15:00 CEST (13:00Z) + 8 business hours: 3 h on Thursday; Friday
    // 1 May is Labour Day; the weekend; Monday 4 May 09:00 + 5 h = 14:00 CEST = 12:00Z.
    // 8 May 2026 is a Friday as well: from Thursday 7 May 15:00 CEST the same 8 hours end
    // on Monday 11 May 14:00 CEST = 12:00Z.
    let calendar = business_hours();
    assert_eq!(
        calendar.add_open_seconds(utc("2026-04-30T13:00:00Z"), 8 * HOUR),
        utc("2026-05-04T12:00:00Z")
    );
    assert_eq!(
        calendar.add_open_seconds(utc("2026-05-07T13:00:00Z"), 8 * HOUR),
        utc("2026-05-11T12:00:00Z")
    );
}

#[test]
fn ascension_and_whit_monday_2026() {
    // Easter 2026-04-05 + 39 days = Thursday 14 May (Ascension); + 50 = Monday 25 May.
    // From Wednesday 13 May 16:00 CEST (14:00Z), 4 business hours: 2 h on Wednesday, none
    // on Thursday, Friday 15 May 09:00 + 2 h = 11:00 CEST = 09:00Z.
    let calendar = business_hours();
    assert_eq!(
        calendar.add_open_seconds(utc("2026-05-13T14:00:00Z"), 4 * HOUR),
        utc("2026-05-15T09:00:00Z")
    );
    // From Friday 22 May 17:00 CEST (15:00Z): 1 h on Friday, the weekend, Whit Monday,
    // then Tuesday 26 May 09:00 + 3 h = 12:00 CEST = 10:00Z.
    assert_eq!(
        calendar.add_open_seconds(utc("2026-05-22T15:00:00Z"), 4 * HOUR),
        utc("2026-05-26T10:00:00Z")
    );
    // Explained: the holiday is the whole local Monday, 00:00-24:00 CEST.
    let spans = calendar.spans_between(utc("2026-05-22T15:00:00Z"), utc("2026-05-26T10:00:00Z"));
    let span = |from: &str, to: &str, status| CalendarSpan {
        from: utc(from),
        to: utc(to),
        status,
    };
    assert_eq!(
        spans,
        vec![
            span(
                "2026-05-22T15:00:00Z",
                "2026-05-22T16:00:00Z",
                CalendarStatus::Open
            ),
            span(
                "2026-05-22T16:00:00Z",
                "2026-05-24T22:00:00Z",
                CalendarStatus::OutsideHours
            ),
            span(
                "2026-05-24T22:00:00Z",
                "2026-05-25T22:00:00Z",
                CalendarStatus::Holiday {
                    name: "Whit Monday".into()
                }
            ),
            span(
                "2026-05-25T22:00:00Z",
                "2026-05-26T07:00:00Z",
                CalendarStatus::OutsideHours
            ),
            span(
                "2026-05-26T07:00:00Z",
                "2026-05-26T10:00:00Z",
                CalendarStatus::Open
            ),
        ]
    );
}

#[test]
fn the_eleven_french_holidays_of_2026() {
    // Easter Sunday 2026 is 5 April (published), hence Easter Monday 6 April, Ascension
    // 14 May (+39) and Whit Monday 25 May (+50).
    let date = |month, day| NaiveDate::from_ymd_opt(2026, month, day).unwrap();
    let holidays: Vec<(NaiveDate, String)> = business_hours()
        .holidays(2026)
        .into_iter()
        .map(|holiday| (holiday.date, holiday.name))
        .collect();
    let expected = [
        (date(1, 1), "New Year's Day"),
        (date(4, 6), "Easter Monday"),
        (date(5, 1), "Labour Day"),
        (date(5, 8), "Victory in Europe Day"),
        (date(5, 14), "Ascension Day"),
        (date(5, 25), "Whit Monday"),
        (date(7, 14), "Bastille Day"),
        (date(8, 15), "Assumption Day"),
        (date(11, 1), "All Saints' Day"),
        (date(11, 11), "Armistice Day"),
        (date(12, 25), "Christmas Day"),
    ];
    let expected: Vec<(NaiveDate, String)> = expected
        .iter()
        .map(|(date, name)| (*date, (*name).to_owned()))
        .collect();
    assert_eq!(holidays, expected);
    assert!(always().holidays(2026).is_empty());
}

/// 2008: Ascension (Easter 23 March + 39) fell on 1 May, Labour Day. One closed day,
/// listed once, with both names; the year has 10 closed days, not 11 entries.
#[test]
fn issue_20_two_holidays_on_one_date_are_one_closed_day_with_both_names() {
    let holidays = business_hours().holidays(2008);
    let first_of_may: Vec<&str> = holidays
        .iter()
        .filter(|holiday| holiday.date == NaiveDate::from_ymd_opt(2008, 5, 1).unwrap())
        .map(|holiday| holiday.name.as_str())
        .collect();
    assert_eq!(first_of_may, ["Labour Day / Ascension Day"]);
    assert_eq!(holidays.len(), 10);
    let mut dates: Vec<NaiveDate> = holidays.iter().map(|holiday| holiday.date).collect();
    dates.dedup();
    assert_eq!(dates.len(), holidays.len(), "{holidays:?}");
}

#[test]
fn holidays_move_with_easter_from_1900_to_2200() {
    // Published Easter Sundays: 15 April 1900, 6 April 2200. Whit Monday = Easter + 50:
    // 4 June 1900; 26 May 2200.
    let whit_monday = |year| {
        business_hours()
            .holidays(year)
            .into_iter()
            .find(|holiday| holiday.name == "Whit Monday")
            .map(|holiday| holiday.date)
    };
    assert_eq!(whit_monday(1900), NaiveDate::from_ymd_opt(1900, 6, 4));
    assert_eq!(whit_monday(2200), NaiveDate::from_ymd_opt(2200, 5, 26));
}

#[test]
fn a_year_of_french_business_hours() {
    // 2026 starts on a Thursday and has 365 days: 52 weeks and one Thursday, so 261
    // weekdays. Holidays on weekdays: 1 Jan (Thu), 6 Apr (Mon), 1 May (Fri), 8 May (Fri),
    // 14 May (Thu), 25 May (Mon), 14 Jul (Tue), 11 Nov (Wed), 25 Dec (Fri) = 9; 15 Aug is a
    // Saturday and 1 Nov a Sunday. 252 days x 9 h = 2268 h = 8,164,800 s, from local
    // midnight to local midnight (CET both ends).
    let calendar = business_hours();
    let open =
        calendar.open_seconds_between(utc("2025-12-31T23:00:00Z"), utc("2026-12-31T23:00:00Z"));
    assert_eq!(open, 2268 * HOUR);
    // June 2026: 22 weekdays (1-5, 8-12, 15-19, 22-26, 29-30), no holiday: 198 h.
    let june =
        calendar.open_seconds_between(utc("2026-05-31T22:00:00Z"), utc("2026-06-30T22:00:00Z"));
    assert_eq!(june, 198 * HOUR);
}

#[test]
fn business_hours_are_nine_real_hours_either_side_of_both_dst_changes() {
    // Friday 2026-03-27 17:00 CET (16:00Z) + 2 business hours: 1 h on Friday, Monday
    // 09:00 CEST (07:00Z) + 1 h = 08:00Z. Friday 2026-10-23 17:00 CEST (15:00Z) + 2 h:
    // Monday 26 October 09:00 CET (08:00Z) + 1 h = 09:00Z. The UTC hour moves, the local
    // hour does not.
    let calendar = business_hours();
    assert_eq!(
        calendar.add_open_seconds(utc("2026-03-27T16:00:00Z"), 2 * HOUR),
        utc("2026-03-30T08:00:00Z")
    );
    assert_eq!(
        calendar.add_open_seconds(utc("2026-10-23T15:00:00Z"), 2 * HOUR),
        utc("2026-10-26T09:00:00Z")
    );
    // Monday to Friday around each change: 5 days x 9 h.
    assert_eq!(
        calendar.open_seconds_between(utc("2026-03-29T22:00:00Z"), utc("2026-04-03T22:00:00Z")),
        45 * HOUR
    );
    assert_eq!(
        calendar.open_seconds_between(utc("2026-10-25T23:00:00Z"), utc("2026-10-30T23:00:00Z")),
        45 * HOUR
    );
}

#[test]
fn round_the_clock_counts_real_elapsed_seconds_across_dst() {
    // Saturday 2026-03-28 12:00 CET (11:00Z) to Sunday 12:00 CEST (10:00Z): 23 h elapsed.
    // Saturday 2026-10-24 12:00 CEST (10:00Z) to Sunday 12:00 CET (11:00Z): 25 h elapsed.
    let calendar = always();
    assert_eq!(
        calendar.open_seconds_between(utc("2026-03-28T11:00:00Z"), utc("2026-03-29T10:00:00Z")),
        23 * HOUR
    );
    assert_eq!(
        calendar.open_seconds_between(utc("2026-10-24T10:00:00Z"), utc("2026-10-25T11:00:00Z")),
        25 * HOUR
    );
    assert_eq!(
        calendar.add_open_seconds(utc("2026-03-28T11:00:00Z"), 24 * HOUR),
        utc("2026-03-29T11:00:00Z")
    );
}

#[test]
fn a_whole_local_day_lasts_23_or_25_hours_on_dst_sundays() {
    // Open all Sunday: Sunday 29 March 2026 is 23 h long in Paris, Sunday 25 October 25 h.
    let calendar = sundays_only("00:00", "24:00");
    assert_eq!(
        calendar.open_seconds_between(utc("2026-03-28T12:00:00Z"), utc("2026-03-30T12:00:00Z")),
        23 * HOUR
    );
    assert_eq!(
        calendar.open_seconds_between(utc("2026-10-24T12:00:00Z"), utc("2026-10-26T12:00:00Z")),
        25 * HOUR
    );
}

#[test]
fn wall_clock_hours_that_do_not_exist_never_count_and_repeated_ones_count_twice() {
    // Open on Sundays 02:00-03:00. On 29 March 2026 Paris jumps from 02:00 CET to 03:00
    // CEST: the hour does not exist, 0 s. On 25 October it goes from 03:00 CEST back to
    // 02:00 CET: 02:00-03:00 happens twice, 00:00Z-01:00Z and 01:00Z-02:00Z, 2 h.
    let calendar = sundays_only("02:00", "03:00");
    assert_eq!(
        calendar.open_seconds_between(utc("2026-03-28T12:00:00Z"), utc("2026-03-30T12:00:00Z")),
        0
    );
    assert_eq!(
        calendar.open_seconds_between(utc("2026-10-24T12:00:00Z"), utc("2026-10-26T12:00:00Z")),
        2 * HOUR
    );
    let spans = calendar.spans_between(utc("2026-10-25T00:00:00Z"), utc("2026-10-25T02:00:00Z"));
    assert_eq!(spans.len(), 1, "one open span of two hours: {spans:?}");
}

#[test]
fn opening_inside_the_spring_gap_starts_at_the_change() {
    // Open on Sundays 02:30-04:00. On 29 March 2026, 02:30 does not exist: at 01:00Z the
    // clock jumps from 02:00 CET to 03:00 CEST, already inside the opening. Open from 01:00Z
    // to 04:00 CEST = 02:00Z: 1 h; the first open second ends at 01:00:01Z.
    let calendar = sundays_only("02:30", "04:00");
    let saturday_noon = utc("2026-03-28T12:00:00Z");
    assert_eq!(
        calendar.open_seconds_between(saturday_noon, utc("2026-03-30T12:00:00Z")),
        HOUR
    );
    assert_eq!(
        calendar.next_open_instant(saturday_noon),
        utc("2026-03-29T01:00:00Z")
    );
    assert_eq!(
        calendar.add_open_seconds(saturday_noon, 1),
        utc("2026-03-29T01:00:01Z")
    );
    // On 25 October: 02:30-03:00 CEST (00:30Z-01:00Z), then the clock falls back to 02:00
    // CET, closed until 02:30 CET (01:30Z), open until 04:00 CET (03:00Z): 30 + 90 min.
    assert_eq!(
        calendar.open_seconds_between(utc("2026-10-24T12:00:00Z"), utc("2026-10-26T12:00:00Z")),
        2 * HOUR
    );
    let spans = calendar.spans_between(utc("2026-10-25T00:00:00Z"), utc("2026-10-25T03:00:00Z"));
    let statuses: Vec<(String, CalendarStatus)> = spans
        .into_iter()
        .map(|span| (span.from.format("%H:%M").to_string(), span.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("00:00".to_owned(), CalendarStatus::OutsideHours),
            ("00:30".to_owned(), CalendarStatus::Open),
            ("01:00".to_owned(), CalendarStatus::OutsideHours),
            ("01:30".to_owned(), CalendarStatus::Open),
        ]
    );
}

#[test]
fn any_iana_zone_works_new_york_changes_on_8_march_2026() {
    // The same weekly hours in America/New_York, which moves to EDT (UTC-4) on Sunday
    // 2026-03-08. Friday 6 March 17:00 EST (22:00Z) + 2 h: 1 h on Friday, then Monday 9
    // March 09:00 EDT (13:00Z) + 1 h = 14:00Z.
    let calendar = Calendar::named("business-hours-fr", America::New_York).unwrap();
    assert_eq!(
        calendar.add_open_seconds(utc("2026-03-06T22:00:00Z"), 2 * HOUR),
        utc("2026-03-09T14:00:00Z")
    );
}

#[test]
fn adding_nothing_returns_the_instant_itself() {
    // Even on a closed instant, and with its sub-second part.
    let saturday = utc("2026-04-11T08:00:00.250Z");
    assert_eq!(business_hours().add_open_seconds(saturday, 0), saturday);
    assert_eq!(business_hours().open_seconds_between(saturday, saturday), 0);
    assert_eq!(
        business_hours()
            .open_seconds_between(utc("2026-04-14T08:00:00Z"), utc("2026-04-13T08:00:00Z")),
        0
    );
}

#[test]
fn the_end_of_the_last_open_second_is_the_answer_not_the_next_opening() {
    // Friday 2026-06-05 14:00 CEST (12:00Z) + 4 h = Friday 18:00 CEST = 16:00Z, not Monday.
    assert_eq!(
        business_hours().add_open_seconds(utc("2026-06-05T12:00:00Z"), 4 * HOUR),
        utc("2026-06-05T16:00:00Z")
    );
}

#[test]
fn unknown_calendars_and_bad_custom_ones_are_refused() {
    use chrono_tz::Europe;
    use sablier_sla::CalendarError;
    assert_eq!(
        Calendar::named("weekdays", Europe::Paris),
        Err(CalendarError::UnknownName {
            name: "weekdays".into()
        })
    );
    let never_open = sablier_sla::CustomCalendar {
        name: "closed".into(),
        time_zone: Europe::Paris,
        weekly_hours: Default::default(),
        public_holidays: Default::default(),
        holidays: Vec::new(),
    };
    assert_eq!(
        Calendar::custom(never_open).unwrap_err().to_string(),
        "the calendar 'closed' is never open: give at least one weekday opening hours"
    );
}

#[test]
fn whole_week_sums_agree_with_the_walk_at_the_edges_of_the_holiday_table() {
    // Holidays come from a table from 1900 to 2200 and are computed year by year outside
    // it: counting across its edges, or far outside, must agree with the walked spans.
    let calendar = paris("business-hours-fr-alsace");
    let spans = [
        ("1899-11-20T00:00:00Z", "1900-02-10T00:00:00Z"),
        ("2200-11-20T00:00:00Z", "2201-02-10T00:00:00Z"),
        ("1850-03-01T00:00:00Z", "1851-06-01T00:00:00Z"),
        ("2999-12-01T00:00:00Z", "3001-01-15T00:00:00Z"),
    ];
    for (from, to) in spans {
        let walked: i64 = calendar
            .spans_between(utc(from), utc(to))
            .iter()
            .filter(|span| span.status == CalendarStatus::Open)
            .map(|span| (span.to - span.from).num_seconds())
            .sum();
        assert_eq!(
            calendar.open_seconds_between(utc(from), utc(to)),
            walked,
            "{from} - {to}"
        );
        assert!(walked > 0);
    }
}
