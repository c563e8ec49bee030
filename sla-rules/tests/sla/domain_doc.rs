//! `docs/domain.md` states the rules in the project's own words; these tests keep two of
//! its tables equal to the code, so that an edit of either alone fails: the targets of
//! `default-2026` (with whether pauses stop each metric) and the public holidays of the
//! named calendars.

use chrono::{Days, NaiveDate};
use sablier_sla::calendar::{PublicHolidays, easter_sunday};
use sablier_sla::policy::POLICY_METRICS;
use sablier_sla::{Metric, Policy, Priority, Tier};

fn domain_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/domain.md");
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// The table whose header row starts with `header_start`: its header cells, then its rows
/// of cells (the `|---|` line skipped).
fn table(document: &str, header_start: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let cells = |line: &str| -> Vec<String> {
        let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
        inner
            .split('|')
            .map(|cell| cell.trim().to_owned())
            .collect()
    };
    let mut lines = document
        .lines()
        .skip_while(|line| !line.starts_with(header_start));
    let header = cells(
        lines
            .next()
            .unwrap_or_else(|| panic!("docs/domain.md has no table starting '{header_start}'")),
    );
    let rows = lines
        .take_while(|line| line.starts_with('|'))
        .filter(|line| !line.starts_with("|---"))
        .map(cells)
        .collect();
    (header, rows)
}

/// A targets cell of the document: `–` (no commitment) or `AMOUNT UNIT [...] [bh]`, as
/// seconds and the calendar name the policy uses.
fn document_target(cell: &str) -> Option<(i64, String)> {
    if cell == "–" {
        return None;
    }
    let mut tokens: Vec<&str> = cell.split_whitespace().collect();
    let calendar = match tokens.last() {
        Some(&"bh") => {
            tokens.pop();
            "business-hours-fr"
        }
        _ => "24x7",
    };
    assert!(
        tokens.len().is_multiple_of(2) && !tokens.is_empty(),
        "targets cell '{cell}' is not AMOUNT UNIT pairs"
    );
    let seconds = tokens
        .chunks(2)
        .map(|pair| {
            let amount: i64 = pair[0]
                .parse()
                .unwrap_or_else(|_| panic!("targets cell '{cell}': '{}' is not a number", pair[0]));
            let unit = match pair[1] {
                "s" => 1,
                "min" => 60,
                "h" => 3600,
                other => panic!("targets cell '{cell}': unknown unit '{other}'"),
            };
            amount * unit
        })
        .sum();
    Some((seconds, calendar.to_owned()))
}

#[test]
fn issue_21_docs_domain_md_states_the_targets_the_default_policy_applies() {
    let document = domain_md();
    let policy = Policy::default_2026();
    let (header, rows) = table(&document, "| tier | GTI P1 |");

    let columns: Vec<(Metric, Priority)> = POLICY_METRICS
        .into_iter()
        .flat_map(|metric| Priority::ALL.map(|priority| (metric, priority)))
        .collect();
    let expected_header: Vec<String> = std::iter::once("tier".to_owned())
        .chain(
            columns
                .iter()
                .map(|(metric, priority)| format!("{metric} {priority}")),
        )
        .collect();
    assert_eq!(header, expected_header, "the targets table's columns");
    let tiers: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(
        tiers,
        Tier::ALL.map(Tier::as_str),
        "the targets table's rows"
    );

    let mut differences = Vec::new();
    for (tier, row) in Tier::ALL.into_iter().zip(&rows) {
        assert_eq!(row.len(), header.len(), "the {tier} row's cell count");
        for ((metric, priority), cell) in columns.iter().zip(&row[1..]) {
            let documented = document_target(cell);
            let compiled = policy
                .target(tier, *priority, *metric)
                .map(|target| (target.seconds, target.calendar.clone()));
            if documented != compiled {
                differences.push(format!(
                    "{tier}/{priority}/{metric}: docs/domain.md says '{cell}' = {documented:?}, \
                     {} applies {compiled:?}",
                    policy.version()
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "docs/domain.md and the compiled {} policy differ:\n{}",
        policy.version(),
        differences.join("\n")
    );

    // The metrics table says whether pauses stop each metric: so does the policy.
    let (header, rows) = table(&document, "| metric | measures |");
    let column = header
        .iter()
        .position(|name| name == "pauses stop it")
        .expect("the metrics table has a 'pauses stop it' column");
    for metric in POLICY_METRICS {
        let row = rows
            .iter()
            .find(|row| row[0] == metric.as_str())
            .unwrap_or_else(|| panic!("the metrics table has no {metric} row"));
        let documented = match row[column].as_str() {
            "yes" => true,
            "no" => false,
            other => panic!("{metric}: 'pauses stop it' is '{other}', expected yes or no"),
        };
        for (tier, priority, _, target) in policy.cells().filter(|cell| cell.2 == metric) {
            if let Some(target) = target {
                assert_eq!(
                    target.pausable, documented,
                    "{tier}/{priority}/{metric}: whether pauses stop it"
                );
            }
        }
    }
}

/// A holiday's date rule of the document in `year`: `D Month` or `Easter ± N`.
fn document_date(rule: &str, year: i32) -> NaiveDate {
    if let Some(offset) = rule.strip_prefix("Easter ") {
        let (sign, days) = offset.split_once(' ').expect("Easter ± N");
        let days: u64 = days.parse().expect("a number of days");
        let easter = easter_sunday(year);
        return match sign {
            "+" => easter.checked_add_days(Days::new(days)),
            "−" | "-" => easter.checked_sub_days(Days::new(days)),
            other => panic!("'{rule}': unknown sign '{other}'"),
        }
        .expect("a date near Easter");
    }
    let (day, month) = rule.split_once(' ').expect("D Month");
    let months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = months
        .iter()
        .position(|name| *name == month)
        .unwrap_or_else(|| panic!("'{rule}': unknown month"));
    NaiveDate::from_ymd_opt(year, month as u32 + 1, day.parse().expect("a day"))
        .unwrap_or_else(|| panic!("'{rule}' is not a date in {year}"))
}

#[test]
fn issue_21_docs_domain_md_states_the_public_holidays_the_calendars_observe() {
    let document = domain_md();
    let (header, rows) = table(&document, "| holiday | date |");
    for (set, calendar) in [
        (PublicHolidays::France, "business-hours-fr"),
        (
            PublicHolidays::FranceAlsaceMoselle,
            "business-hours-fr-alsace",
        ),
    ] {
        let column = header
            .iter()
            .position(|name| name == calendar)
            .unwrap_or_else(|| panic!("the holidays table has no {calendar} column"));
        for year in 1990..=2060 {
            let mut documented: Vec<(NaiveDate, String)> = rows
                .iter()
                .filter(|row| match row[column].as_str() {
                    "closed" => true,
                    "open" => false,
                    other => panic!("{}: '{other}', expected open or closed", row[0]),
                })
                .map(|row| (document_date(&row[1], year), row[0].clone()))
                .collect();
            documented.sort();
            let mut compiled: Vec<(NaiveDate, String)> = set
                .of_year(year)
                .into_iter()
                .map(|holiday| (holiday.date, holiday.name))
                .collect();
            compiled.sort();
            assert_eq!(
                documented, compiled,
                "{calendar} in {year}: docs/domain.md (left) and the code (right)"
            );
        }
    }
}
