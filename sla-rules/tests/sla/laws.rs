//! The laws of issue 3, checked on generated calendars, zones, instants and transition
//! lists (kept to a few dozen cases each so the suite stays fast in debug builds).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::{America, Asia, Australia, Europe, Tz, UTC};
use proptest::prelude::*;
use sablier_sla::calendar::{
    CalendarStatus, CustomCalendar, NAMED_CALENDARS, OpeningHours, PublicHolidays, WeeklyHours,
};
use sablier_sla::clock::evaluate_without_explanation;
use sablier_sla::{
    Calendar, ClockEvaluation, ClockInput, IntervalKind, Transition, TransitionKind, evaluate,
};

use crate::support::{time, utc};

const CASES: u32 = 64;

fn zone() -> impl Strategy<Value = Tz> {
    prop_oneof![
        3 => Just(Europe::Paris),
        1 => Just(America::New_York),
        1 => Just(Australia::Lord_Howe),
        1 => Just(Asia::Kolkata),
        1 => Just(UTC),
    ]
}

/// An odd custom week: split days, an all-day Saturday, a Sunday night opening that
/// straddles the DST changes, and a listed holiday.
fn odd_custom_calendar(time_zone: Tz) -> Calendar {
    let weekday = vec![
        OpeningHours::new(time("08:00"), time("12:00")),
        OpeningHours::new(time("13:30"), time("19:00")),
    ];
    Calendar::custom(CustomCalendar {
        name: "odd".into(),
        time_zone,
        weekly_hours: WeeklyHours {
            monday: weekday.clone(),
            wednesday: weekday.clone(),
            friday: weekday,
            saturday: vec![OpeningHours::new(time("00:00"), time("24:00"))],
            sunday: vec![OpeningHours::new(time("01:30"), time("03:30"))],
            ..WeeklyHours::default()
        },
        public_holidays: PublicHolidays::FranceAlsaceMoselle,
        holidays: vec![sablier_sla::Holiday {
            date: "2026-06-12".parse().unwrap(),
            name: "Company day".into(),
        }],
    })
    .unwrap()
}

fn calendar() -> impl Strategy<Value = Calendar> {
    (0..4_usize, zone()).prop_map(|(which, time_zone)| match which {
        0 => Calendar::named("24x7", time_zone).unwrap(),
        1 => Calendar::named("business-hours-fr", time_zone).unwrap(),
        2 => Calendar::named("business-hours-fr-alsace", time_zone).unwrap(),
        _ => odd_custom_calendar(time_zone),
    })
}

/// An instant from 2025-12-01 to 2027-01-31, often on a quarter hour so that opening
/// and closing times are hit exactly.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let base = utc("2025-12-01T00:00:00Z");
    (0..(427 * 86_400_i64), any::<bool>()).prop_map(move |(offset, round)| {
        let offset = if round { offset - offset % 900 } else { offset };
        base + Duration::seconds(offset)
    })
}

/// A gap between transitions: often none (equal instants), often a few hours, at most
/// four days.
fn gap() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0_i64), 0..(6 * 3600_i64), 0..(4 * 86_400_i64)]
}

/// A possible list of transitions: a start, then steps that are valid in the state the
/// clock is in at that point. Some target changes move the clock to a named calendar.
fn transitions() -> impl Strategy<Value = Vec<Transition>> {
    let moved_to = prop::option::weighted(0.3, prop::sample::select(&NAMED_CALENDARS[..]));
    (
        instant(),
        prop::collection::vec((gap(), 0..3_usize, 0..(40 * 3600_i64), moved_to), 0..10),
    )
        .prop_map(|(start, steps)| {
            #[derive(Clone, Copy, PartialEq)]
            enum State {
                Running,
                Paused,
                Stopped,
            }
            let mut at = start;
            let mut state = State::Running;
            let mut list = vec![Transition::start(start)];
            for (gap, choice, target, moved_to) in steps {
                at += Duration::seconds(gap);
                let (kind, next) = match (state, choice) {
                    (_, 0) => (
                        TransitionKind::Target {
                            target_seconds: Some(target),
                            calendar: moved_to.map(str::to_owned),
                        },
                        state,
                    ),
                    (State::Running, 1) => (
                        TransitionKind::Pause {
                            reason: "awaiting_customer".into(),
                            actor: Some("agent.martin".into()),
                        },
                        State::Paused,
                    ),
                    (State::Running, _) => (TransitionKind::Stop, State::Stopped),
                    (State::Paused, 1) => (TransitionKind::Resume, State::Running),
                    (State::Paused, _) => (TransitionKind::Stop, State::Stopped),
                    (State::Stopped, _) => (TransitionKind::Reopen, State::Running),
                };
                state = next;
                list.push(Transition { at, kind });
            }
            list
        })
}

fn clock_input(
    calendar: Calendar,
    target_seconds: Option<i64>,
    transitions: Vec<Transition>,
    as_of: DateTime<Utc>,
    exclude_maintenance_windows: bool,
) -> ClockInput {
    ClockInput {
        exclude_maintenance_windows,
        ..ClockInput::new(calendar, transitions, as_of).with_target_seconds(target_seconds)
    }
}

/// A generated clock and an `as_of` up to five days after its last transition.
fn clock() -> impl Strategy<Value = ClockInput> {
    (
        calendar(),
        prop::option::weighted(0.8, 0..(60 * 3600_i64)),
        transitions(),
        0..(5 * 86_400_i64),
        any::<bool>(),
    )
        .prop_map(|(calendar, target, transitions, after, exclude)| {
            let last = transitions.last().unwrap().at;
            clock_input(
                calendar,
                target,
                transitions,
                last + Duration::seconds(after),
                exclude,
            )
        })
}

fn evaluate_at(input: &ClockInput, as_of: DateTime<Utc>) -> ClockEvaluation {
    evaluate(&ClockInput {
        as_of,
        ..input.clone()
    })
    .expect("generated lists are possible")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn counted_time_never_decreases_as_as_of_moves_forward(
        input in clock(), earlier in 0..(10 * 86_400_i64), later in 0..(10 * 86_400_i64)
    ) {
        let start = input.transitions[0].at;
        let (earlier, later) = (earlier.min(later), earlier.max(later));
        let first = evaluate_at(&input, start + Duration::seconds(earlier));
        let second = evaluate_at(&input, start + Duration::seconds(later));
        prop_assert!(first.counted_seconds <= second.counted_seconds);
    }

    #[test]
    fn splitting_an_interval_never_changes_the_counted_time(
        calendar in calendar(), a in instant(), b in instant(), c in instant()
    ) {
        let mut points = [a, b, c];
        points.sort();
        let [a, b, c] = points;
        prop_assert_eq!(
            calendar.open_seconds_between(a, c),
            calendar.open_seconds_between(a, b) + calendar.open_seconds_between(b, c)
        );
    }

    #[test]
    fn splitting_a_running_stretch_never_changes_the_counted_time(
        input in clock(), which in any::<prop::sample::Index>(), per_mille in 0..1000_i32
    ) {
        // A pause and a resume at the same instant, while the clock is running, split the
        // stretch it is in and change nothing. The instant is taken inside one of the
        // explanation's running intervals.
        let whole = evaluate(&input).unwrap();
        let running: Vec<_> = whole
            .intervals
            .iter()
            .filter(|interval| !matches!(interval.kind, IntervalKind::Paused | IntervalKind::Stopped))
            .collect();
        prop_assume!(!running.is_empty());
        let interval = which.get(&running);
        let at = interval.from + (interval.to - interval.from) * per_mille / 1000;
        let position = input.transitions.partition_point(|transition| transition.at <= at);
        let mut split_input = input.clone();
        split_input.transitions.splice(
            position..position,
            [Transition::pause(at, "split"), Transition::resume(at)],
        );
        let split_evaluation = evaluate(&split_input).unwrap();
        prop_assert_eq!(split_evaluation.counted_seconds, whole.counted_seconds);
        prop_assert_eq!(split_evaluation.breached_at, whole.breached_at);
        prop_assert_eq!(split_evaluation.deadline, whole.deadline);
    }

    #[test]
    fn whole_week_sums_agree_with_the_day_by_day_walk(
        calendar in calendar(), from in instant(), days in 0..400_i64, seconds in 0..86_400_i64
    ) {
        let to = from + Duration::days(days) + Duration::seconds(seconds);
        let walked: i64 = calendar
            .spans_between(from, to)
            .iter()
            .filter(|span| span.status == CalendarStatus::Open)
            .map(|span| (span.to - span.from).num_seconds())
            .sum();
        prop_assert_eq!(calendar.open_seconds_between(from, to), walked);
    }

    #[test]
    fn a_pause_never_shortens_the_time_left(
        calendar in calendar(),
        start in instant(),
        target in 0..(60 * 3600_i64),
        pause_after in 0..(5 * 86_400_i64),
        pause_for in 0..(5 * 86_400_i64),
        as_of_after in 0..(12 * 86_400_i64),
    ) {
        let pause_at = start + Duration::seconds(pause_after);
        let resume_at = pause_at + Duration::seconds(pause_for);
        let as_of = start + Duration::seconds(as_of_after);
        let plain = evaluate(&clock_input(calendar.clone(), Some(target), vec![Transition::start(start)], as_of, false)).unwrap();
        let paused = evaluate(&clock_input(
            calendar,
            Some(target),
            vec![Transition::start(start), Transition::pause(pause_at, "awaiting_customer"), Transition::resume(resume_at)],
            as_of,
            false,
        ))
        .unwrap();
        prop_assert!(paused.remaining_seconds >= plain.remaining_seconds);
        prop_assert!(paused.counted_seconds <= plain.counted_seconds);
        if let Some(breached_at) = paused.breached_at {
            prop_assert!(plain.breached_at.is_some_and(|plain_breach| plain_breach <= breached_at));
        }
        if let (Some(plain_deadline), Some(paused_deadline)) = (plain.deadline, paused.deadline) {
            prop_assert!(paused_deadline >= plain_deadline);
        }
    }

    #[test]
    fn adding_then_counting_gives_back_what_was_added(
        calendar in calendar(), from in instant(), seconds in 0..(200 * 3600_i64)
    ) {
        let reached = calendar.add_open_seconds(from, seconds);
        prop_assert_eq!(calendar.open_seconds_between(from, reached), seconds);
        if seconds > 0 {
            // The earliest such instant: one second earlier, one open second is missing.
            prop_assert_eq!(calendar.open_seconds_between(from, reached - Duration::seconds(1)), seconds - 1);
        } else {
            prop_assert_eq!(reached, from);
        }
    }

    #[test]
    fn the_next_open_instant_is_open_and_nothing_before_it_is(calendar in calendar(), at in instant()) {
        let next = calendar.next_open_instant(at);
        prop_assert!(next >= at);
        prop_assert!(calendar.is_open_at(next));
        prop_assert_eq!(calendar.open_seconds_between(at, next), 0);
    }

    #[test]
    fn a_deadline_is_never_before_its_start(input in clock()) {
        let evaluation = evaluate(&input).unwrap();
        if let Some(deadline) = evaluation.deadline {
            prop_assert!(deadline >= input.transitions[0].at);
            if !evaluation.breached {
                prop_assert!(deadline >= input.as_of);
            }
        }
    }

    #[test]
    fn the_explanation_partitions_the_span_and_its_counted_parts_sum_to_the_total(input in clock()) {
        let evaluation = evaluate(&input).unwrap();
        let start = input.transitions[0].at;
        let intervals = &evaluation.intervals;
        prop_assert_eq!(intervals.first().map_or(input.as_of, |first| first.from), start);
        prop_assert_eq!(intervals.last().map_or(start, |last| last.to), input.as_of);
        for interval in intervals {
            prop_assert!(interval.from < interval.to);
        }
        for pair in intervals.windows(2) {
            prop_assert_eq!(pair[0].to, pair[1].from);
            prop_assert!((pair[0].kind, &pair[0].detail) != (pair[1].kind, &pair[1].detail));
        }
        let counted: i64 = intervals
            .iter()
            .filter(|interval| interval.kind == IntervalKind::Counted)
            .map(|interval| interval.seconds())
            .sum();
        prop_assert_eq!(counted, evaluation.counted_seconds);
        let figures_only = evaluate_without_explanation(&input).unwrap();
        prop_assert_eq!(ClockEvaluation { intervals: Vec::new(), ..evaluation }, figures_only);
    }

    #[test]
    fn a_target_naming_the_calendar_in_force_changes_nothing(input in clock()) {
        let mut in_force = input.calendar.name().to_owned();
        let mut naming = input.clone();
        for transition in &mut naming.transitions {
            if let TransitionKind::Target { calendar, .. } = &mut transition.kind {
                match calendar {
                    Some(name) => in_force = name.clone(),
                    None => *calendar = Some(in_force.clone()),
                }
            }
        }
        prop_assert_eq!(evaluate(&naming).unwrap(), evaluate(&input).unwrap());
        prop_assert_eq!(
            evaluate_without_explanation(&naming).unwrap(),
            evaluate_without_explanation(&input).unwrap()
        );
    }

    #[test]
    fn after_a_calendar_change_the_new_calendar_counts(
        calendar in calendar(),
        moved_to in prop::sample::select(&NAMED_CALENDARS[..]),
        start in instant(),
        change_after in 0..(10 * 86_400_i64),
        as_of_after in 0..(10 * 86_400_i64),
    ) {
        // Time counted before the change carries over; from the change on, the new calendar
        // (in the clock's time zone) counts.
        let change = start + Duration::seconds(change_after);
        let as_of = change + Duration::seconds(as_of_after);
        let input = ClockInput::new(
            calendar.clone(),
            vec![Transition::start(start), Transition::target_on(change, None, moved_to)],
            as_of,
        );
        let new_calendar = Calendar::named(moved_to, calendar.time_zone()).unwrap();
        let evaluation = evaluate(&input).unwrap();
        prop_assert_eq!(
            evaluation.counted_seconds,
            calendar.open_seconds_between(start, change) + new_calendar.open_seconds_between(change, as_of)
        );
        prop_assert_eq!(evaluate_without_explanation(&input).unwrap().counted_seconds, evaluation.counted_seconds);
    }

    #[test]
    fn a_breach_stays_breached(input in clock(), later in 0..(10 * 86_400_i64)) {
        let now = evaluate(&input).unwrap();
        let afterwards = evaluate_at(&input, input.as_of + Duration::seconds(later));
        if let Some(breached_at) = now.breached_at {
            prop_assert_eq!(afterwards.breached_at, Some(breached_at));
            prop_assert_eq!(afterwards.verdict, sablier_sla::Verdict::Breached);
        }
    }
}
