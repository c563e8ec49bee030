//! Clocks on the named hard cases: pauses across nights and weekends, priority changes
//! while paused and after a breach, priority changes that move the clock to another
//! calendar, reopening, DST, holidays, maintenance, and the impossible lists that must be
//! refused with the offending transition named.

use sablier_sla::clock::evaluate_without_explanation;
use sablier_sla::{
    ClockError, ClockEvaluation, ClockInput, ClockState, ExplainedInterval, IntervalKind,
    Transition, Verdict, evaluate,
};

use crate::support::*;

fn interval(from: &str, to: &str, kind: IntervalKind, detail: Option<&str>) -> ExplainedInterval {
    ExplainedInterval {
        from: utc(from),
        to: utc(to),
        kind,
        detail: detail.map(str::to_owned),
        actor: None,
    }
}

fn counted(from: &str, to: &str) -> ExplainedInterval {
    interval(from, to, IntervalKind::Counted, None)
}

fn start(at: &str) -> Transition {
    Transition::start(utc(at))
}

fn pause(at: &str) -> Transition {
    Transition::pause(utc(at), "awaiting_customer")
}

fn resume(at: &str) -> Transition {
    Transition::resume(utc(at))
}

fn stop(at: &str) -> Transition {
    Transition::stop(utc(at))
}

fn reopen(at: &str) -> Transition {
    Transition::reopen(utc(at))
}

fn target(at: &str, seconds: i64) -> Transition {
    Transition::target(utc(at), Some(seconds))
}

fn target_on(at: &str, seconds: Option<i64>, calendar: &str) -> Transition {
    Transition::target_on(utc(at), seconds, calendar)
}

/// The figures of an evaluation, in the order of the output format.
#[derive(Debug, PartialEq)]
struct Figures {
    state: ClockState,
    counted_seconds: i64,
    remaining_seconds: Option<i64>,
    deadline: Option<&'static str>,
    at_risk: bool,
    breached_at: Option<&'static str>,
    verdict: Verdict,
}

fn assert_figures(evaluation: &ClockEvaluation, expected: Figures) {
    assert_eq!(evaluation.state, expected.state, "state");
    assert_eq!(
        evaluation.counted_seconds, expected.counted_seconds,
        "counted_seconds"
    );
    assert_eq!(
        evaluation.remaining_seconds, expected.remaining_seconds,
        "remaining_seconds"
    );
    assert_eq!(evaluation.deadline, expected.deadline.map(utc), "deadline");
    assert_eq!(evaluation.at_risk, expected.at_risk, "at_risk");
    assert_eq!(
        evaluation.breached,
        expected.breached_at.is_some(),
        "breached"
    );
    assert_eq!(
        evaluation.breached_at,
        expected.breached_at.map(utc),
        "breached_at"
    );
    assert_eq!(evaluation.verdict, expected.verdict, "verdict");
}

#[test]
fn friday_1730_four_business_hours_as_of_monday_1100() {
    // Start Friday 2026-03-27 17:30 CET (16:30Z), 4 h business hours. As of Monday 30 March
    // 11:00 CEST (09:00Z): 30 min on Friday + 09:00-11:00 on Monday = 2 h 30 = 9000 s;
    // 5400 s left; due Monday 12:30 CEST = 10:30Z; 9000 / 14400 = 62.5% < 75%.
    let evaluation = clock(
        business_hours(),
        Some(4 * HOUR),
        vec![start("2026-03-27T16:30:00Z")],
        "2026-03-30T09:00:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 9000,
            remaining_seconds: Some(5400),
            deadline: Some("2026-03-30T10:30:00Z"),
            at_risk: false,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    assert_eq!(
        evaluation.intervals,
        vec![
            counted("2026-03-27T16:30:00Z", "2026-03-27T17:00:00Z"),
            interval(
                "2026-03-27T17:00:00Z",
                "2026-03-30T07:00:00Z",
                IntervalKind::OutsideHours,
                None
            ),
            counted("2026-03-30T07:00:00Z", "2026-03-30T09:00:00Z"),
        ]
    );
}

#[test]
fn business_hours_clock_across_the_spring_change() {
    // Start Friday 2026-03-27 17:00 CET (16:00Z), target 2 h. As of Monday 09:30 CEST
    // (07:30Z): 1 h + 30 min = 5400 s, exactly 75% of 7200: at risk. Due Monday 10:00 CEST
    // = 08:00Z.
    let evaluation = clock(
        business_hours(),
        Some(2 * HOUR),
        vec![start("2026-03-27T16:00:00Z")],
        "2026-03-30T07:30:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 5400,
            remaining_seconds: Some(1800),
            deadline: Some("2026-03-30T08:00:00Z"),
            at_risk: true,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
}

#[test]
fn business_hours_clock_across_the_autumn_change() {
    // Start Friday 2026-10-23 17:00 CEST (15:00Z), target 2 h. Monday 26 October is CET:
    // 09:00 CET = 08:00Z, so the target is reached at 10:00 CET = 09:00Z. As of 10:30 CET
    // (09:30Z): 1 h + 1 h 30 = 9000 s, breached at 09:00Z, 1800 s over.
    let evaluation = clock(
        business_hours(),
        Some(2 * HOUR),
        vec![start("2026-10-23T15:00:00Z")],
        "2026-10-26T09:30:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 9000,
            remaining_seconds: Some(-1800),
            deadline: Some("2026-10-26T09:00:00Z"),
            at_risk: false,
            breached_at: Some("2026-10-26T09:00:00Z"),
            verdict: Verdict::Breached,
        },
    );
}

#[test]
fn round_the_clock_clock_across_both_changes_counts_real_seconds() {
    // Spring: start Saturday 2026-03-28 12:00 CET (11:00Z), target 24 h, as of Sunday
    // 12:00 CEST (10:00Z): 23 h really elapsed = 82800 s, 1 h left, due 11:00Z; 82800 /
    // 86400 > 75%.
    let spring = clock(
        always(),
        Some(24 * HOUR),
        vec![start("2026-03-28T11:00:00Z")],
        "2026-03-29T10:00:00Z",
    );
    assert_figures(
        &spring,
        Figures {
            state: ClockState::Running,
            counted_seconds: 23 * HOUR,
            remaining_seconds: Some(HOUR),
            deadline: Some("2026-03-29T11:00:00Z"),
            at_risk: true,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    // Autumn: start Saturday 2026-10-24 12:00 CEST (10:00Z), target 24 h, as of Sunday
    // 12:00 CET (11:00Z): 25 h elapsed; the 24 h were reached at 10:00Z (11:00 CET).
    let autumn = clock(
        always(),
        Some(24 * HOUR),
        vec![start("2026-10-24T10:00:00Z")],
        "2026-10-25T11:00:00Z",
    );
    assert_figures(
        &autumn,
        Figures {
            state: ClockState::Running,
            counted_seconds: 25 * HOUR,
            remaining_seconds: Some(-HOUR),
            deadline: Some("2026-10-25T10:00:00Z"),
            at_risk: false,
            breached_at: Some("2026-10-25T10:00:00Z"),
            verdict: Verdict::Breached,
        },
    );
}

#[test]
fn pause_across_midnight_and_a_weekend() {
    // Business hours, target 16 h. Start Thursday 2026-06-04 10:00 CEST (08:00Z); paused
    // 17:00 (15:00Z) awaiting the customer; resumed Monday 8 June 11:00 (09:00Z); as of
    // 14:00 (12:00Z). Counted: Thursday 7 h + Monday 3 h = 10 h. Left: 6 h = Monday
    // 14:00-18:00 (4 h) + Tuesday 09:00-11:00 (2 h): due Tuesday 11:00 CEST = 09:00Z.
    // 10 / 16 = 62.5%: not at risk.
    let evaluation = clock(
        business_hours(),
        Some(16 * HOUR),
        vec![
            start("2026-06-04T08:00:00Z"),
            pause("2026-06-04T15:00:00Z"),
            resume("2026-06-08T09:00:00Z"),
        ],
        "2026-06-08T12:00:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 10 * HOUR,
            remaining_seconds: Some(6 * HOUR),
            deadline: Some("2026-06-09T09:00:00Z"),
            at_risk: false,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    assert_eq!(
        evaluation.intervals,
        vec![
            counted("2026-06-04T08:00:00Z", "2026-06-04T15:00:00Z"),
            interval(
                "2026-06-04T15:00:00Z",
                "2026-06-08T09:00:00Z",
                IntervalKind::Paused,
                Some("awaiting_customer")
            ),
            counted("2026-06-08T09:00:00Z", "2026-06-08T12:00:00Z"),
        ]
    );
    // Round the clock, target 4 h: start Friday 5 June 22:00 CEST (20:00Z), paused at
    // 23:00, resumed Monday 08:00 (06:00Z), as of 09:30 (07:30Z): 1 h + 1 h 30 = 9000 s;
    // 5400 s left from 07:30Z: due 09:00Z.
    let overnight = clock(
        always(),
        Some(4 * HOUR),
        vec![
            start("2026-06-05T20:00:00Z"),
            pause("2026-06-05T21:00:00Z"),
            resume("2026-06-08T06:00:00Z"),
        ],
        "2026-06-08T07:30:00Z",
    );
    assert_figures(
        &overnight,
        Figures {
            state: ClockState::Running,
            counted_seconds: 9000,
            remaining_seconds: Some(5400),
            deadline: Some("2026-06-08T09:00:00Z"),
            at_risk: false,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
}

#[test]
fn priority_raised_while_paused() {
    // Round the clock, P2 = 16 h. Start Monday 2026-06-01 08:00Z, paused 12:00Z (4 h
    // counted), priority raised to P1 = 8 h at 14:00Z, resumed 16:00Z, as of 18:00Z.
    // Counted 4 h + 2 h = 6 h; left 2 h. Deadline: the later of the resume (16:00Z) and the
    // target change (14:00Z) is 16:00Z, with 8 h - 4 h = 4 h left then: 20:00Z.
    // 6 / 8 = 75%: at risk.
    let raised = clock(
        always(),
        Some(16 * HOUR),
        vec![
            start("2026-06-01T08:00:00Z"),
            pause("2026-06-01T12:00:00Z"),
            target("2026-06-01T14:00:00Z", 8 * HOUR),
            resume("2026-06-01T16:00:00Z"),
        ],
        "2026-06-01T18:00:00Z",
    );
    assert_figures(
        &raised,
        Figures {
            state: ClockState::Running,
            counted_seconds: 6 * HOUR,
            remaining_seconds: Some(2 * HOUR),
            deadline: Some("2026-06-01T20:00:00Z"),
            at_risk: true,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    // The change does not cut the paused interval.
    assert_eq!(raised.intervals.len(), 3);
    // Raised to 3 h instead while 4 h are counted: breached at the change, while paused.
    let breached = clock(
        always(),
        Some(16 * HOUR),
        vec![
            start("2026-06-01T08:00:00Z"),
            pause("2026-06-01T12:00:00Z"),
            target("2026-06-01T14:00:00Z", 3 * HOUR),
        ],
        "2026-06-01T15:00:00Z",
    );
    assert_figures(
        &breached,
        Figures {
            state: ClockState::Paused,
            counted_seconds: 4 * HOUR,
            remaining_seconds: Some(-HOUR),
            deadline: Some("2026-06-01T14:00:00Z"),
            at_risk: false,
            breached_at: Some("2026-06-01T14:00:00Z"),
            verdict: Verdict::Breached,
        },
    );
}

#[test]
fn priority_lowered_after_a_breach_stays_breached() {
    // Round the clock, P1 = 4 h from 2026-06-01 08:00Z: breached at 12:00Z. Lowered to
    // P2 = 8 h at 13:00Z; as of 14:00Z 6 h are counted, 2 h under the new target, but a
    // breach is final.
    let evaluation = clock(
        always(),
        Some(4 * HOUR),
        vec![
            start("2026-06-01T08:00:00Z"),
            target("2026-06-01T13:00:00Z", 8 * HOUR),
        ],
        "2026-06-01T14:00:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 6 * HOUR,
            remaining_seconds: Some(2 * HOUR),
            deadline: Some("2026-06-01T12:00:00Z"),
            at_risk: false,
            breached_at: Some("2026-06-01T12:00:00Z"),
            verdict: Verdict::Breached,
        },
    );
}

#[test]
fn reopened_after_restoration() {
    // Round the clock, 8 h. Start 2026-06-01 08:00Z, restored (stop) 13:00Z after 5 h,
    // reopened 2 June 08:00Z.
    let transitions = || {
        vec![
            start("2026-06-01T08:00:00Z"),
            stop("2026-06-01T13:00:00Z"),
            reopen("2026-06-02T08:00:00Z"),
        ]
    };
    // As of 1 June 20:00Z: stopped within the target: met, no deadline, 3 h spare.
    let restored = clock(
        always(),
        Some(8 * HOUR),
        transitions(),
        "2026-06-01T20:00:00Z",
    );
    assert_figures(
        &restored,
        Figures {
            state: ClockState::Stopped,
            counted_seconds: 5 * HOUR,
            remaining_seconds: Some(3 * HOUR),
            deadline: None,
            at_risk: false,
            breached_at: None,
            verdict: Verdict::Met,
        },
    );
    // As of 2 June 10:00Z: 5 h + 2 h = 7 h; the 3 h left at the reopening run out at
    // 11:00Z; 7 / 8 = 87.5%: at risk.
    let reopened = clock(
        always(),
        Some(8 * HOUR),
        transitions(),
        "2026-06-02T10:00:00Z",
    );
    assert_figures(
        &reopened,
        Figures {
            state: ClockState::Running,
            counted_seconds: 7 * HOUR,
            remaining_seconds: Some(HOUR),
            deadline: Some("2026-06-02T11:00:00Z"),
            at_risk: true,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    assert_eq!(
        reopened.intervals,
        vec![
            counted("2026-06-01T08:00:00Z", "2026-06-01T13:00:00Z"),
            interval(
                "2026-06-01T13:00:00Z",
                "2026-06-02T08:00:00Z",
                IntervalKind::Stopped,
                None
            ),
            counted("2026-06-02T08:00:00Z", "2026-06-02T10:00:00Z"),
        ]
    );
    // As of 12:00Z: 9 h counted, breached at 11:00Z.
    let late = clock(
        always(),
        Some(8 * HOUR),
        transitions(),
        "2026-06-02T12:00:00Z",
    );
    assert_eq!(late.breached_at, Some(utc("2026-06-02T11:00:00Z")));
}

#[test]
fn stopping_exactly_at_the_deadline_meets_it() {
    // Round the clock, 4 h from 08:00Z: due 12:00Z.
    let stopped = clock(
        always(),
        Some(4 * HOUR),
        vec![start("2026-06-01T08:00:00Z"), stop("2026-06-01T12:00:00Z")],
        "2026-06-01T13:00:00Z",
    );
    assert_eq!((stopped.verdict, stopped.breached), (Verdict::Met, false));
    assert_eq!(stopped.remaining_seconds, Some(0));
    // Evaluated exactly at 12:00Z: not past the deadline yet, so not breached.
    let at_deadline = clock(
        always(),
        Some(4 * HOUR),
        vec![start("2026-06-01T08:00:00Z")],
        "2026-06-01T12:00:00Z",
    );
    assert_figures(
        &at_deadline,
        Figures {
            state: ClockState::Running,
            counted_seconds: 4 * HOUR,
            remaining_seconds: Some(0),
            deadline: Some("2026-06-01T12:00:00Z"),
            at_risk: true,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    // One second later it is.
    let past = clock(
        always(),
        Some(4 * HOUR),
        vec![start("2026-06-01T08:00:00Z")],
        "2026-06-01T12:00:01Z",
    );
    assert_eq!(past.breached_at, Some(utc("2026-06-01T12:00:00Z")));
}

#[test]
fn running_past_the_deadline_in_closed_hours_breaches_at_the_deadline() {
    // Business hours, 4 h from Friday 2026-06-05 14:00 CEST (12:00Z): reached Friday 18:00
    // CEST (16:00Z). Still running on Saturday (closed, nothing more counted): time went
    // past the deadline, so breached at 16:00Z. Restored Monday 08:00 CEST, before opening:
    // still breached.
    let saturday = clock(
        business_hours(),
        Some(4 * HOUR),
        vec![start("2026-06-05T12:00:00Z")],
        "2026-06-06T08:00:00Z",
    );
    assert_figures(
        &saturday,
        Figures {
            state: ClockState::Running,
            counted_seconds: 4 * HOUR,
            remaining_seconds: Some(0),
            deadline: Some("2026-06-05T16:00:00Z"),
            at_risk: false,
            breached_at: Some("2026-06-05T16:00:00Z"),
            verdict: Verdict::Breached,
        },
    );
    let restored_monday = clock(
        business_hours(),
        Some(4 * HOUR),
        vec![start("2026-06-05T12:00:00Z"), stop("2026-06-08T06:00:00Z")],
        "2026-06-08T10:00:00Z",
    );
    assert_eq!(restored_monday.verdict, Verdict::Breached);
    // Paused at exactly 16:00Z instead: not breached while paused; resumed Monday 09:00
    // CEST (07:00Z) with nothing left, it is breached at the resumption once time passes.
    let paused_on_time = vec![
        start("2026-06-05T12:00:00Z"),
        pause("2026-06-05T16:00:00Z"),
        resume("2026-06-08T07:00:00Z"),
    ];
    let weekend = clock(
        business_hours(),
        Some(4 * HOUR),
        paused_on_time.clone(),
        "2026-06-06T08:00:00Z",
    );
    assert_eq!(
        (weekend.verdict, weekend.breached),
        (Verdict::Paused, false)
    );
    let monday = clock(
        business_hours(),
        Some(4 * HOUR),
        paused_on_time,
        "2026-06-08T07:00:01Z",
    );
    assert_eq!(monday.breached_at, Some(utc("2026-06-08T07:00:00Z")));
}

#[test]
fn holidays_are_named_in_the_explanation() {
    // Business hours, 4 h from Wednesday 2026-05-13 16:00 CEST (14:00Z): 2 h on Wednesday,
    // Ascension on Thursday, Friday from 09:00 CEST (07:00Z): the 2 h left run out at 11:00
    // CEST (09:00Z). As of 12:00 CEST (10:00Z): 2 h + 3 h = 5 h, breached at 09:00Z.
    let evaluation = clock(
        business_hours(),
        Some(4 * HOUR),
        vec![start("2026-05-13T14:00:00Z")],
        "2026-05-15T10:00:00Z",
    );
    assert_eq!(evaluation.counted_seconds, 5 * HOUR);
    assert_eq!(evaluation.breached_at, Some(utc("2026-05-15T09:00:00Z")));
    assert_eq!(
        evaluation.intervals,
        vec![
            counted("2026-05-13T14:00:00Z", "2026-05-13T16:00:00Z"),
            interval(
                "2026-05-13T16:00:00Z",
                "2026-05-13T22:00:00Z",
                IntervalKind::OutsideHours,
                None
            ),
            interval(
                "2026-05-13T22:00:00Z",
                "2026-05-14T22:00:00Z",
                IntervalKind::Holiday,
                Some("Ascension Day")
            ),
            interval(
                "2026-05-14T22:00:00Z",
                "2026-05-15T07:00:00Z",
                IntervalKind::OutsideHours,
                None
            ),
            counted("2026-05-15T07:00:00Z", "2026-05-15T10:00:00Z"),
        ]
    );
}

#[test]
fn maintenance_windows_count_unless_excluded() {
    // Wednesday 10 June 2026 00:00-06:00 CEST is a window: 2026-06-09T22:00Z-06-10T04:00Z.
    // Round the clock, 4 h from 20:00Z on 9 June, as of 06:00Z on 10 June.
    let transitions = vec![start("2026-06-09T20:00:00Z")];
    let mut input = ClockInput::new(always(), transitions, utc("2026-06-10T06:00:00Z"))
        .with_target_seconds(Some(4 * HOUR));
    // Counted: 10 h, the 4 h reached at 00:00Z.
    let counted_through = evaluate(&input).unwrap();
    assert_eq!(counted_through.counted_seconds, 10 * HOUR);
    assert_eq!(
        counted_through.breached_at,
        Some(utc("2026-06-10T00:00:00Z"))
    );
    // Excluded: 20:00Z-22:00Z and 04:00Z-06:00Z = 4 h, reached exactly at as_of.
    input.exclude_maintenance_windows = true;
    let excluded = evaluate(&input).unwrap();
    assert_figures(
        &excluded,
        Figures {
            state: ClockState::Running,
            counted_seconds: 4 * HOUR,
            remaining_seconds: Some(0),
            deadline: Some("2026-06-10T06:00:00Z"),
            at_risk: true,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    assert_eq!(
        excluded.intervals,
        vec![
            counted("2026-06-09T20:00:00Z", "2026-06-09T22:00:00Z"),
            interval(
                "2026-06-09T22:00:00Z",
                "2026-06-10T04:00:00Z",
                IntervalKind::Maintenance,
                None
            ),
            counted("2026-06-10T04:00:00Z", "2026-06-10T06:00:00Z"),
        ]
    );
    // On business hours the window is at night: it stays "outside hours".
    let mut business = ClockInput::new(
        business_hours(),
        vec![start("2026-06-09T15:00:00Z")],
        utc("2026-06-10T08:00:00Z"),
    );
    business.exclude_maintenance_windows = true;
    let night = evaluate(&business).unwrap();
    assert!(
        night
            .intervals
            .iter()
            .all(|interval| interval.kind != IntervalKind::Maintenance)
    );
    // 17:00-18:00 CEST on Tuesday + 09:00-10:00 CEST on Wednesday.
    assert_eq!(night.counted_seconds, 2 * HOUR);
}

#[test]
fn equal_instants_apply_in_list_order() {
    // Round the clock from 08:00Z; at 10:00Z, 2 h are counted.
    // Target 2 h then 4 h at 10:00Z: never over (2 h is not above 2 h), not breached.
    let raised_last = clock(
        always(),
        None,
        vec![
            start("2026-06-01T08:00:00Z"),
            target("2026-06-01T10:00:00Z", 2 * HOUR),
            target("2026-06-01T10:00:00Z", 4 * HOUR),
        ],
        "2026-06-01T11:00:00Z",
    );
    assert_eq!(
        (raised_last.breached, raised_last.remaining_seconds),
        (false, Some(HOUR))
    );
    // Target 4 h then 1 h at 10:00Z: 2 h counted is above 1 h: breached at 10:00Z.
    let lowered_last = clock(
        always(),
        None,
        vec![
            start("2026-06-01T08:00:00Z"),
            target("2026-06-01T10:00:00Z", 4 * HOUR),
            target("2026-06-01T10:00:00Z", HOUR),
        ],
        "2026-06-01T11:00:00Z",
    );
    assert_eq!(lowered_last.breached_at, Some(utc("2026-06-01T10:00:00Z")));
    // Stop and reopen at the same instant: nothing is lost.
    let blink = clock(
        always(),
        None,
        vec![
            start("2026-06-01T08:00:00Z"),
            stop("2026-06-01T09:00:00Z"),
            reopen("2026-06-01T09:00:00Z"),
        ],
        "2026-06-01T10:00:00Z",
    );
    assert_eq!(blink.counted_seconds, 2 * HOUR);
}

#[test]
fn no_commitment_still_counts() {
    // Standard tier: no target. Business hours from Monday 2026-06-01 09:00 CEST (07:00Z)
    // to 10:30 CEST (08:30Z): 1 h 30 counted.
    let evaluation = clock(
        business_hours(),
        None,
        vec![start("2026-06-01T07:00:00Z")],
        "2026-06-01T08:30:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 90 * MINUTE,
            remaining_seconds: None,
            deadline: None,
            at_risk: false,
            breached_at: None,
            verdict: Verdict::NoCommitment,
        },
    );
}

#[test]
fn transitions_after_as_of_are_ignored() {
    // The second stop would be impossible, but it is after as_of.
    let evaluation = clock(
        always(),
        Some(HOUR),
        vec![
            start("2026-06-01T08:00:00Z"),
            stop("2026-06-01T08:30:00Z"),
            stop("2026-06-01T09:00:00Z"),
        ],
        "2026-06-01T08:45:00Z",
    );
    assert_eq!(evaluation.verdict, Verdict::Met);
    assert_eq!(evaluation.counted_seconds, 30 * MINUTE);
}

#[test]
fn impossible_lists_name_the_offending_transition() {
    let refuse = |transitions: Vec<Transition>| {
        let input = ClockInput::new(always(), transitions, utc("2026-06-02T00:00:00Z"));
        evaluate(&input).unwrap_err()
    };
    assert_eq!(refuse(vec![]), ClockError::NoTransitions);
    assert_eq!(
        refuse(vec![
            resume("2026-06-01T08:00:00Z"),
            start("2026-06-01T09:00:00Z")
        ]),
        ClockError::BeforeStart {
            index: 0,
            kind: "resume",
            at: utc("2026-06-01T08:00:00Z")
        }
    );
    let double_pause = refuse(vec![
        start("2026-06-01T08:00:00Z"),
        pause("2026-06-01T10:00:00Z"),
        pause("2026-06-01T12:00:00Z"),
    ]);
    assert_eq!(
        double_pause,
        ClockError::Impossible {
            index: 2,
            kind: "pause",
            at: utc("2026-06-01T12:00:00Z"),
            state: ClockState::Paused
        }
    );
    assert_eq!(
        double_pause.to_string(),
        "transition 2 (pause at 2026-06-01T12:00:00Z) is impossible while the clock is paused"
    );
    assert_eq!(
        refuse(vec![
            start("2026-06-01T10:00:00Z"),
            stop("2026-06-01T09:00:00Z")
        ])
        .to_string(),
        "transition 1 (stop at 2026-06-01T09:00:00Z) is earlier than transition 0 at \
         2026-06-01T10:00:00Z: transitions must be in time order"
    );
    assert_eq!(
        refuse(vec![
            start("2026-06-01T08:00:00Z"),
            start("2026-06-01T09:00:00Z")
        ]),
        ClockError::StartedTwice {
            index: 1,
            at: utc("2026-06-01T09:00:00Z")
        }
    );
    for (transition, state) in [
        (resume("2026-06-01T09:00:00Z"), ClockState::Running),
        (reopen("2026-06-01T09:00:00Z"), ClockState::Running),
    ] {
        let kind = transition.kind.name();
        assert_eq!(
            refuse(vec![start("2026-06-01T08:00:00Z"), transition]),
            ClockError::Impossible {
                index: 1,
                kind,
                at: utc("2026-06-01T09:00:00Z"),
                state
            }
        );
    }
    assert!(matches!(
        refuse(vec![
            start("2026-06-01T08:00:00Z"),
            stop("2026-06-01T09:00:00Z"),
            stop("2026-06-01T10:00:00Z")
        ]),
        ClockError::Impossible {
            index: 2,
            state: ClockState::Stopped,
            ..
        }
    ));
    assert!(matches!(
        refuse(vec![
            start("2026-06-01T08:00:00Z"),
            target("2026-06-01T09:00:00Z", -5)
        ]),
        ClockError::TransitionTargetOutOfRange {
            index: 1,
            seconds: -5,
            ..
        }
    ));
    let too_early = ClockInput::new(
        always(),
        vec![start("2026-06-03T00:00:00Z")],
        utc("2026-06-02T00:00:00Z"),
    );
    assert_eq!(
        evaluate(&too_early).unwrap_err().to_string(),
        "as_of 2026-06-02T00:00:00Z is before the clock's start at 2026-06-03T00:00:00Z"
    );
}

#[test]
fn evaluating_without_explanation_gives_the_same_figures() {
    let input = ClockInput::new(
        business_hours(),
        vec![
            start("2026-06-04T08:00:00Z"),
            pause("2026-06-04T15:00:00Z"),
            resume("2026-06-08T09:00:00Z"),
        ],
        utc("2026-06-08T12:00:00Z"),
    )
    .with_target_seconds(Some(16 * HOUR));
    let full = evaluate(&input).unwrap();
    let figures_only = evaluate_without_explanation(&input).unwrap();
    assert!(figures_only.intervals.is_empty());
    assert_eq!(
        ClockEvaluation {
            intervals: Vec::new(),
            ..full
        },
        figures_only
    );
}

/// docs/domain.md "What each step does to the clocks": a pause carries a reason code and
/// an actor; its interval names both.
#[test]
fn issue_20_a_paused_interval_names_who_paused_the_clock() {
    let evaluation = clock(
        always(),
        Some(4 * HOUR),
        vec![
            start("2026-06-01T08:00:00Z"),
            Transition::pause_by(
                utc("2026-06-01T09:00:00Z"),
                "awaiting_customer",
                "agent.martin",
            ),
            resume("2026-06-01T10:00:00Z"),
            pause("2026-06-01T11:00:00Z"),
        ],
        "2026-06-01T12:00:00Z",
    );
    let paused: Vec<(Option<&str>, Option<&str>)> = evaluation
        .intervals
        .iter()
        .filter(|interval| interval.kind == IntervalKind::Paused)
        .map(|interval| (interval.detail.as_deref(), interval.actor.as_deref()))
        .collect();
    assert_eq!(
        paused,
        [
            (Some("awaiting_customer"), Some("agent.martin")),
            (Some("awaiting_customer"), None),
        ]
    );
    let first_pause = serde_json::to_value(&evaluation.intervals[1]).unwrap();
    assert_eq!(
        first_pause,
        serde_json::json!({"from": "2026-06-01T09:00:00Z", "to": "2026-06-01T10:00:00Z",
            "kind": "paused", "detail": "awaiting_customer", "actor": "agent.martin"})
    );
}

#[test]
fn the_output_format_is_snake_case_with_utc_instants() {
    // Round the clock, 4 h from 08:00Z, paused at 09:00Z, as of 10:00Z: 1 h counted.
    let evaluation = clock(
        always(),
        Some(4 * HOUR),
        vec![start("2026-06-01T08:00:00Z"), pause("2026-06-01T09:00:00Z")],
        "2026-06-01T10:00:00Z",
    );
    let expected = serde_json::json!({
        "state": "paused",
        "counted_seconds": 3600,
        "target_seconds": 14400,
        "remaining_seconds": 10800,
        "deadline": null,
        "at_risk": false,
        "breached": false,
        "breached_at": null,
        "verdict": "paused",
        "calendar": "24x7",
        "intervals": [
            {"from": "2026-06-01T08:00:00Z", "to": "2026-06-01T09:00:00Z", "kind": "counted"},
            {"from": "2026-06-01T09:00:00Z", "to": "2026-06-01T10:00:00Z", "kind": "paused",
             "detail": "awaiting_customer"}
        ]
    });
    assert_eq!(serde_json::to_value(&evaluation).unwrap(), expected);
    let back: ClockEvaluation = serde_json::from_value(expected).unwrap();
    assert_eq!(back, evaluation);
}

// Priority changes that move the clock to another calendar (default-2026, Gold: GTI P1
// 15 min round the clock, GTI P3 1 h business hours; GTR P1 4 h round the clock, GTR P2
// 8 h round the clock, GTR P3 16 h business hours).

/// A Gold GTI raised from P4 (2 h business hours) to P1 (15 min round the clock): the
/// evaluation names the calendar it counts on from the change on, not the one it
/// started on; before the change, the one it started on.
#[test]
fn issue_20_an_evaluation_names_the_calendar_the_clock_counts_on_at_its_instant() {
    let transitions = vec![
        start("2026-03-27T10:00:00Z"),
        target_on("2026-03-27T10:30:00Z", Some(15 * MINUTE), "24x7"),
    ];
    let before = clock(
        business_hours(),
        Some(2 * HOUR),
        transitions.clone(),
        "2026-03-27T10:10:00Z",
    );
    assert_eq!(before.calendar, "business-hours-fr");
    let after = clock(
        business_hours(),
        Some(2 * HOUR),
        transitions,
        "2026-03-27T10:40:00Z",
    );
    assert_eq!(after.calendar, "24x7");
}

#[test]
fn gold_gti_p1_lowered_to_p3_moves_to_business_hours_on_a_friday_evening() {
    // Opened Friday 2026-03-27 17:30 CET (16:30Z), P1: 15 min round the clock. Lowered to
    // P3 at 17:35 CET (16:35Z): 1 h business hours from then on. 5 min counted round the
    // clock (16:30Z-16:35Z), then 17:35-18:00 CET is still open on Friday: 25 min more
    // (16:35Z-17:00Z). Closed from 18:00 CET until Monday 30 March 09:00, which is CEST
    // after the change of 29 March: 07:00Z. As of Monday 09:10 CEST (07:10Z): 5 + 25 + 10
    // = 40 min = 2400 s counted; 1200 s left, due Monday 09:30 CEST = 07:30Z; 2400 < 75% of
    // 3600 (2700): not at risk.
    let transitions = vec![
        start("2026-03-27T16:30:00Z"),
        target_on("2026-03-27T16:35:00Z", Some(HOUR), "business-hours-fr"),
    ];
    let evaluation = clock(
        always(),
        Some(15 * MINUTE),
        transitions,
        "2026-03-30T07:10:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 2400,
            remaining_seconds: Some(1200),
            deadline: Some("2026-03-30T07:30:00Z"),
            at_risk: false,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    // Counted round the clock, then on business hours: one counted interval.
    assert_eq!(
        evaluation.intervals,
        vec![
            counted("2026-03-27T16:30:00Z", "2026-03-27T17:00:00Z"),
            interval(
                "2026-03-27T17:00:00Z",
                "2026-03-30T07:00:00Z",
                IntervalKind::OutsideHours,
                None
            ),
            counted("2026-03-30T07:00:00Z", "2026-03-30T07:10:00Z"),
        ]
    );
    // The same 1 h target kept round the clock would have been breached on Friday at
    // 17:30Z (16:30Z + 1 h).
    let round_the_clock = clock(
        always(),
        Some(15 * MINUTE),
        vec![
            start("2026-03-27T16:30:00Z"),
            target("2026-03-27T16:35:00Z", HOUR),
        ],
        "2026-03-30T07:10:00Z",
    );
    assert_eq!(
        round_the_clock.breached_at,
        Some(utc("2026-03-27T17:30:00Z"))
    );
}

#[test]
fn gold_gti_p1_lowered_to_p3_after_closing_time_waits_for_monday() {
    // Opened Friday 2026-03-27 18:30 CET (17:30Z), P1 15 min round the clock, lowered to
    // P3 (1 h business hours) at 18:35 CET (17:35Z): 5 min counted, then closed until
    // Monday 30 March 09:00 CEST (07:00Z, after the DST change). 55 min left: due Monday
    // 09:55 CEST = 07:55Z. As of Saturday 28 March 11:00 CET (10:00Z): 300 s counted.
    let evaluation = clock(
        always(),
        Some(15 * MINUTE),
        vec![
            start("2026-03-27T17:30:00Z"),
            target_on("2026-03-27T17:35:00Z", Some(HOUR), "business-hours-fr"),
        ],
        "2026-03-28T10:00:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 5 * MINUTE,
            remaining_seconds: Some(55 * MINUTE),
            deadline: Some("2026-03-30T07:55:00Z"),
            at_risk: false,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    assert_eq!(
        evaluation.intervals,
        vec![
            counted("2026-03-27T17:30:00Z", "2026-03-27T17:35:00Z"),
            interval(
                "2026-03-27T17:35:00Z",
                "2026-03-28T10:00:00Z",
                IntervalKind::OutsideHours,
                None
            ),
        ]
    );
}

#[test]
fn gold_gtr_p3_raised_to_p1_moves_to_round_the_clock_before_opening_time() {
    // Opened Monday 2026-06-01 16:00 CEST (14:00Z), P3: 16 h business hours. 16:00-18:00
    // counted: 7200 s. Raised to P1 (4 h round the clock) on Tuesday 2 June at 08:00 CEST
    // (06:00Z), before opening time: 7200 < 14400, no breach; every second counts from
    // then on. As of 09:00 CEST (07:00Z): 7200 + 3600 = 10800 s; 3600 s left, due 08:00Z;
    // 10800 = 75% of 14400: at risk.
    let evaluation = clock(
        business_hours(),
        Some(16 * HOUR),
        vec![
            start("2026-06-01T14:00:00Z"),
            target_on("2026-06-02T06:00:00Z", Some(4 * HOUR), "24x7"),
        ],
        "2026-06-02T07:00:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 3 * HOUR,
            remaining_seconds: Some(HOUR),
            deadline: Some("2026-06-02T08:00:00Z"),
            at_risk: true,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    // The night is outside hours until the change, then counted.
    assert_eq!(
        evaluation.intervals,
        vec![
            counted("2026-06-01T14:00:00Z", "2026-06-01T16:00:00Z"),
            interval(
                "2026-06-01T16:00:00Z",
                "2026-06-02T06:00:00Z",
                IntervalKind::OutsideHours,
                None
            ),
            counted("2026-06-02T06:00:00Z", "2026-06-02T07:00:00Z"),
        ]
    );
}

#[test]
fn gold_gtr_p2_lowered_to_p3_while_paused() {
    // Opened Wednesday 2026-06-03 10:00 CEST (08:00Z), P2: 8 h round the clock. Paused at
    // 12:00 CEST (10:00Z) after 7200 s. Lowered to P3 (16 h business hours) at 15:00 CEST
    // (13:00Z) while paused: 7200 < 57600. Resumed Thursday 4 June at 08:00 CEST (06:00Z):
    // business hours open at 09:00 CEST (07:00Z). As of 12:00 CEST (10:00Z): 7200 + 10800
    // = 18000 s; 39600 s = 11 h left: Thursday 12:00-18:00 (6 h), then Friday 5 June
    // 09:00-14:00 CEST (5 h): due Friday 12:00Z. 18000 / 57600 = 31%: not at risk.
    let transitions = vec![
        start("2026-06-03T08:00:00Z"),
        pause("2026-06-03T10:00:00Z"),
        target_on("2026-06-03T13:00:00Z", Some(16 * HOUR), "business-hours-fr"),
        resume("2026-06-04T06:00:00Z"),
    ];
    let evaluation = clock(
        always(),
        Some(8 * HOUR),
        transitions,
        "2026-06-04T10:00:00Z",
    );
    assert_figures(
        &evaluation,
        Figures {
            state: ClockState::Running,
            counted_seconds: 5 * HOUR,
            remaining_seconds: Some(11 * HOUR),
            deadline: Some("2026-06-05T12:00:00Z"),
            at_risk: false,
            breached_at: None,
            verdict: Verdict::Running,
        },
    );
    // The change does not cut the paused interval; after the resume, business hours.
    assert_eq!(
        evaluation.intervals,
        vec![
            counted("2026-06-03T08:00:00Z", "2026-06-03T10:00:00Z"),
            interval(
                "2026-06-03T10:00:00Z",
                "2026-06-04T06:00:00Z",
                IntervalKind::Paused,
                Some("awaiting_customer")
            ),
            interval(
                "2026-06-04T06:00:00Z",
                "2026-06-04T07:00:00Z",
                IntervalKind::OutsideHours,
                None
            ),
            counted("2026-06-04T07:00:00Z", "2026-06-04T10:00:00Z"),
        ]
    );
    // Lowered instead to a 1 h business-hours target while 7200 s are counted: breached
    // at the change (13:00Z), while paused, and breached it stays after the resume.
    let breached = clock(
        always(),
        Some(8 * HOUR),
        vec![
            start("2026-06-03T08:00:00Z"),
            pause("2026-06-03T10:00:00Z"),
            target_on("2026-06-03T13:00:00Z", Some(HOUR), "business-hours-fr"),
            resume("2026-06-04T06:00:00Z"),
        ],
        "2026-06-04T10:00:00Z",
    );
    assert_figures(
        &breached,
        Figures {
            state: ClockState::Running,
            counted_seconds: 5 * HOUR,
            remaining_seconds: Some(-4 * HOUR),
            deadline: Some("2026-06-03T13:00:00Z"),
            at_risk: false,
            breached_at: Some("2026-06-03T13:00:00Z"),
            verdict: Verdict::Breached,
        },
    );
}

#[test]
fn a_clock_returns_to_its_own_custom_calendar_by_name() {
    // A custom calendar open on Sundays 10:00-12:00 Paris. Start Sunday 2026-06-07 10:00
    // CEST (08:00Z); round the clock from 11:00 CEST (09:00Z); back on the custom calendar
    // at 13:00 CEST (11:00Z), when it is closed. As of 14:00 CEST (12:00Z): 1 h + 2 h
    // counted, then 1 h outside hours. No commitment.
    let sundays = sundays_only("10:00", "12:00");
    let own_name = sundays.name().to_owned();
    let evaluation = clock(
        sundays,
        None,
        vec![
            start("2026-06-07T08:00:00Z"),
            target_on("2026-06-07T09:00:00Z", None, "24x7"),
            target_on("2026-06-07T11:00:00Z", None, &own_name),
        ],
        "2026-06-07T12:00:00Z",
    );
    assert_eq!(evaluation.counted_seconds, 3 * HOUR);
    assert_eq!(evaluation.verdict, Verdict::NoCommitment);
    assert_eq!(
        evaluation.intervals,
        vec![
            counted("2026-06-07T08:00:00Z", "2026-06-07T11:00:00Z"),
            interval(
                "2026-06-07T11:00:00Z",
                "2026-06-07T12:00:00Z",
                IntervalKind::OutsideHours,
                None
            ),
        ]
    );
}

#[test]
fn an_unknown_calendar_name_is_refused_naming_its_transition() {
    let transitions = vec![
        start("2026-06-01T08:00:00Z"),
        pause("2026-06-01T10:00:00Z"),
        target_on("2026-06-01T15:00:00Z", Some(HOUR), "business-hours-de"),
    ];
    let input = |as_of| ClockInput::new(business_hours(), transitions.clone(), utc(as_of));
    let error = evaluate(&input("2026-06-02T00:00:00Z")).unwrap_err();
    assert_eq!(
        error,
        ClockError::UnknownTransitionCalendar {
            index: 2,
            at: utc("2026-06-01T15:00:00Z"),
            name: "business-hours-de".into(),
        }
    );
    assert!(
        error.to_string().starts_with(
            "transition 2 (target at 2026-06-01T15:00:00Z): unknown calendar 'business-hours-de'"
        ),
        "{error}"
    );
    // Like any transition after as_of, it is not looked at before its time.
    assert!(evaluate(&input("2026-06-01T14:00:00Z")).is_ok());
}
