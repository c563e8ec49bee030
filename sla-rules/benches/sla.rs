//! Speed of the SLA engine (issue 3): deadlines (add) for a 40 business-hour target from
//! random instants, a 30-day clock with 20 transitions on business-hours-fr (with and
//! without its explanation), and how open-seconds and the explanation's spans (walked
//! piece by piece) grow with the span (1, 30, 365 days). Each group has a baseline measured in the same
//! run: the `24x7` calendar doing the same operation, and plain chrono addition. Figures
//! and the command are recorded in docs/benchmarks.md.

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sablier_sla::clock::evaluate_without_explanation;
use sablier_sla::{Calendar, ClockInput, Transition, evaluate};

const FORTY_HOURS: i64 = 40 * 3600;

fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, 0)
        .unwrap()
}

/// 1024 instants spread over 2026 (both DST changes included), from a fixed xorshift seed.
fn random_instants_in_2026() -> Vec<DateTime<Utc>> {
    let year_start = at(2026, 1, 1, 0, 0);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            year_start + Duration::seconds((state % (365 * 86_400)) as i64)
        })
        .collect()
}

fn add_forty_business_hours(c: &mut Criterion) {
    let instants = random_instants_in_2026();
    let business_hours = Calendar::named("business-hours-fr", Europe::Paris).unwrap();
    let always = Calendar::named("24x7", Europe::Paris).unwrap();
    let mut group = c.benchmark_group("add 40 h from random instants");
    let mut index = 0;
    let mut next = move || {
        index = (index + 1) % instants.len();
        instants[index]
    };
    group.bench_function("business-hours-fr", |b| {
        b.iter(|| business_hours.add_open_seconds(black_box(next()), black_box(FORTY_HOURS)))
    });
    group.bench_function("baseline 24x7", |b| {
        b.iter(|| always.add_open_seconds(black_box(next()), black_box(FORTY_HOURS)))
    });
    group.bench_function("baseline chrono addition", |b| {
        b.iter(|| black_box(next()) + Duration::seconds(black_box(FORTY_HOURS)))
    });
    group.finish();
}

/// A clock over 30 days of March 2026, across the DST change: a start, nine pauses of
/// 20 hours and their resumptions, and a target change (20 transitions). On business hours
/// the targets (200 then 180 hours) keep it running and unbreached, so the deadline is
/// computed too: the most work an evaluation does. (Round the clock, it is breached.)
fn thirty_day_clock(calendar: &str) -> ClockInput {
    let calendar = Calendar::named(calendar, Europe::Paris).unwrap();
    let start = at(2026, 3, 2, 8, 0);
    let mut transitions = vec![Transition::start(start)];
    for pause in 0..9 {
        let pause_at = start + Duration::hours(3 * 24 * pause + 5);
        transitions.push(Transition::pause(pause_at, "awaiting_customer"));
        transitions.push(Transition::resume(pause_at + Duration::hours(20)));
    }
    transitions.push(Transition::target(at(2026, 3, 30, 9, 0), Some(180 * 3600)));
    assert_eq!(transitions.len(), 20);
    ClockInput::new(calendar, transitions, start + Duration::days(30))
        .with_target_seconds(Some(200 * 3600))
}

fn evaluate_thirty_day_clock(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate 30-day clock, 20 transitions");
    for calendar in ["business-hours-fr", "24x7"] {
        let input = thirty_day_clock(calendar);
        if calendar == "business-hours-fr" {
            let evaluation = evaluate(&input).unwrap();
            assert!(!evaluation.breached && evaluation.deadline.is_some());
        }
        let name = if calendar == "24x7" {
            "baseline 24x7"
        } else {
            calendar
        };
        group.bench_function(format!("{name}, with explanation"), |b| {
            b.iter(|| evaluate(black_box(&input)))
        });
        group.bench_function(format!("{name}, without explanation"), |b| {
            b.iter(|| evaluate_without_explanation(black_box(&input)))
        });
    }
    group.finish();
}

fn open_seconds_by_span(c: &mut Criterion) {
    let business_hours = Calendar::named("business-hours-fr", Europe::Paris).unwrap();
    let always = Calendar::named("24x7", Europe::Paris).unwrap();
    let from = at(2026, 3, 27, 16, 30);
    let mut group = c.benchmark_group("open_seconds_between by span");
    for days in [1, 30, 365] {
        let to = from + Duration::days(days);
        group.bench_with_input(BenchmarkId::new("business-hours-fr", days), &to, |b, to| {
            b.iter(|| business_hours.open_seconds_between(black_box(from), black_box(*to)))
        });
        group.bench_with_input(BenchmarkId::new("baseline 24x7", days), &to, |b, to| {
            b.iter(|| always.open_seconds_between(black_box(from), black_box(*to)))
        });
    }
    group.finish();
    // The piece-by-piece walk that explanations use, for comparison: linear in days.
    let mut group = c.benchmark_group("spans_between by span");
    for days in [1, 30, 365] {
        let to = from + Duration::days(days);
        group.bench_with_input(BenchmarkId::new("business-hours-fr", days), &to, |b, to| {
            b.iter(|| business_hours.spans_between(black_box(from), black_box(*to)))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    add_forty_business_hours,
    evaluate_thirty_day_clock,
    open_seconds_by_span
);
criterion_main!(benches);
