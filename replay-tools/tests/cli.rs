//! `sablier-replay` driven from outside, as an analyst would: the real binary, stdin in,
//! stdout and the exit code out.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn sablier_replay(arguments: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sablier-replay"))
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin is written");
    child.wait_with_output().expect("the binary ends")
}

fn stdout_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn stdout_text(output: &Output) -> String {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .trim_end()
        .to_owned()
}

#[test]
fn clock_answers_good_lines_and_names_the_problem_of_bad_ones() {
    // Friday 2026-03-27 17:30 CET (16:30Z), 4 business hours, as of Monday 11:00 CEST
    // (09:00Z): 30 min + 2 h counted, due Monday 12:30 CEST (10:30Z).
    let good = json!({
        "calendar": "business-hours-fr", "timezone": "Europe/Paris", "target_seconds": 14400,
        "at_risk_ratio": 0.75,
        "transitions": [{"at": "2026-03-27T16:30:00Z", "kind": "start"}],
        "as_of": "2026-03-30T09:00:00Z"
    });
    let paused_twice = json!({
        "calendar": "24x7",
        "transitions": [
            {"at": "2026-06-01T08:00:00Z", "kind": "start"},
            {"at": "2026-06-01T09:00:00Z", "kind": "pause", "reason": "awaiting_customer"},
            {"at": "2026-06-01T10:00:00Z", "kind": "pause", "reason": "awaiting_customer"}
        ],
        "as_of": "2026-06-01T11:00:00Z"
    });
    let input = format!("{good}\n{paused_twice}\nnot json\n{good}\n");
    let output = sablier_replay(&["clock"], &input);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a bad line makes the exit code 1"
    );
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 4, "one answer per line, in order");
    let expected = json!({
        "state": "running", "counted_seconds": 9000, "target_seconds": 14400,
        "remaining_seconds": 5400, "deadline": "2026-03-30T10:30:00Z", "at_risk": false,
        "breached": false, "breached_at": null, "verdict": "running",
        "calendar": "business-hours-fr",
        "intervals": [
            {"from": "2026-03-27T16:30:00Z", "to": "2026-03-27T17:00:00Z", "kind": "counted"},
            {"from": "2026-03-27T17:00:00Z", "to": "2026-03-30T07:00:00Z", "kind": "outside_hours"},
            {"from": "2026-03-30T07:00:00Z", "to": "2026-03-30T09:00:00Z", "kind": "counted"}
        ]
    });
    assert_eq!(lines[0], expected);
    assert_eq!(
        lines[1],
        json!({"error": "line 2: transition 2 (pause at 2026-06-01T10:00:00Z) is impossible while the clock is paused"})
    );
    let not_json = lines[2]["error"].as_str().unwrap();
    assert!(not_json.starts_with("line 3: not valid JSON"), "{not_json}");
    assert_eq!(lines[3], expected);
}

#[test]
fn clock_exits_0_when_every_line_is_answered() {
    let line = json!({
        "calendar": "24x7",
        "transitions": [{"at": "2026-06-01T08:00:00Z", "kind": "start"}],
        "as_of": "2026-06-01T09:00:00Z"
    });
    let output = sablier_replay(&["clock"], &format!("{line}\n\n{line}\n"));
    assert_eq!(output.status.code(), Some(0));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2, "blank lines are skipped");
    assert_eq!(lines[0]["verdict"], "no_commitment");
    assert_eq!(lines[0]["counted_seconds"], 3600);
}

#[test]
fn clock_follows_a_target_transition_onto_another_calendar() {
    // Gold GTI: opened Friday 2026-03-27 18:30 CET (17:30Z) as P1 (15 min round the
    // clock), lowered to P3 (1 h business hours) at 18:35 CET: 5 min counted, then closed
    // until Monday 09:00 CEST (07:00Z); due 09:55 CEST = 07:55Z.
    let moved = json!({
        "calendar": "24x7", "target_seconds": 900,
        "transitions": [
            {"at": "2026-03-27T17:30:00Z", "kind": "start"},
            {"at": "2026-03-27T17:35:00Z", "kind": "target", "target_seconds": 3600,
             "calendar": "business-hours-fr"}
        ],
        "as_of": "2026-03-28T10:00:00Z"
    });
    let unknown = json!({
        "calendar": "24x7",
        "transitions": [
            {"at": "2026-03-27T17:30:00Z", "kind": "start"},
            {"at": "2026-03-27T17:35:00Z", "kind": "target", "target_seconds": 3600,
             "calendar": "office-hours"}
        ],
        "as_of": "2026-03-28T10:00:00Z"
    });
    let misplaced = json!({
        "calendar": "24x7",
        "transitions": [
            {"at": "2026-03-27T17:30:00Z", "kind": "start", "calendar": "24x7"}
        ],
        "as_of": "2026-03-28T10:00:00Z"
    });
    let output = sablier_replay(&["clock"], &format!("{moved}\n{unknown}\n{misplaced}\n"));
    assert_eq!(output.status.code(), Some(1));
    let lines = stdout_lines(&output);
    assert_eq!(lines[0]["counted_seconds"], 300);
    assert_eq!(lines[0]["deadline"], "2026-03-30T07:55:00Z");
    assert_eq!(
        lines[0]["intervals"],
        json!([
            {"from": "2026-03-27T17:30:00Z", "to": "2026-03-27T17:35:00Z", "kind": "counted"},
            {"from": "2026-03-27T17:35:00Z", "to": "2026-03-28T10:00:00Z",
             "kind": "outside_hours"}
        ])
    );
    let unknown = lines[1]["error"].as_str().unwrap();
    assert!(
        unknown.starts_with(
            "line 2: transition 1 (target at 2026-03-27T17:35:00Z): unknown calendar 'office-hours'"
        ),
        "{unknown}"
    );
    let misplaced = lines[2]["error"].as_str().unwrap();
    assert!(
        misplaced.contains("only a target transition has a calendar"),
        "{misplaced}"
    );
}

#[test]
fn calendar_holidays_lists_a_year() {
    let output = sablier_replay(
        &[
            "calendar",
            "holidays",
            "--calendar",
            "business-hours-fr-alsace",
            "--year",
            "2026",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0));
    let holidays: Value = serde_json::from_str(&stdout_text(&output)).unwrap();
    let holidays = holidays.as_array().unwrap();
    // The 11 French holidays plus Good Friday (Easter 5 April - 2 days) and 26 December.
    assert_eq!(holidays.len(), 13);
    assert_eq!(
        holidays[1],
        json!({"date": "2026-04-03", "name": "Good Friday"})
    );
    assert_eq!(
        holidays[12],
        json!({"date": "2026-12-26", "name": "St Stephen's Day"})
    );
}

#[test]
fn issue_20_calendar_holidays_lists_a_date_once_with_every_name() {
    let output = sablier_replay(
        &[
            "calendar",
            "holidays",
            "--calendar",
            "business-hours-fr",
            "--year",
            "2008",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0));
    let holidays: Value = serde_json::from_str(&stdout_text(&output)).unwrap();
    let on_first_of_may: Vec<&Value> = holidays
        .as_array()
        .unwrap()
        .iter()
        .filter(|holiday| holiday["date"] == "2008-05-01")
        .collect();
    assert_eq!(
        on_first_of_may,
        [&json!({"date": "2008-05-01", "name": "Labour Day / Ascension Day"})]
    );
}

#[test]
fn calendar_open_seconds_and_add_agree_with_the_hand_worked_friday() {
    // Friday 17:30 CET to Monday 12:30 CEST: 30 min + 3 h 30 = 14400 s.
    let open = sablier_replay(
        &[
            "calendar",
            "open-seconds",
            "--calendar",
            "business-hours-fr",
            "--timezone",
            "Europe/Paris",
            "--from",
            "2026-03-27T17:30:00+01:00",
            "--to",
            "2026-03-30T10:30:00Z",
        ],
        "",
    );
    assert_eq!(
        (open.status.code(), stdout_text(&open)),
        (Some(0), "14400".to_owned())
    );
    let add = sablier_replay(
        &[
            "calendar",
            "add",
            "--calendar",
            "business-hours-fr",
            "--from",
            "2026-03-27T16:30:00Z",
            "--seconds",
            "14400",
        ],
        "",
    );
    assert_eq!(
        (add.status.code(), stdout_text(&add)),
        (Some(0), "2026-03-30T10:30:00Z".to_owned())
    );
}

#[test]
fn calendar_commands_that_cannot_run_exit_2() {
    let unknown = sablier_replay(
        &[
            "calendar",
            "add",
            "--calendar",
            "weekdays",
            "--from",
            "2026-03-27T16:30:00Z",
            "--seconds",
            "1",
        ],
        "",
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown calendar 'weekdays'"));
    let bad_year = sablier_replay(
        &[
            "calendar",
            "holidays",
            "--calendar",
            "24x7",
            "--year",
            "1800",
        ],
        "",
    );
    assert_eq!(bad_year.status.code(), Some(2));
    let bad_instant = sablier_replay(
        &[
            "calendar",
            "open-seconds",
            "--calendar",
            "24x7",
            "--from",
            "yesterday",
            "--to",
            "2026-03-27T16:30:00Z",
        ],
        "",
    );
    assert_eq!(bad_instant.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_instant.stderr).contains("RFC 3339"));
}

/// Issue 20: past 2099 the time-zone tables hold no summer time, so calendar answers there
/// would be silently wrong: instants outside 1970-2099 are refused, and so is an answer
/// that would leave the span.
#[test]
fn issue_20_calendar_refuses_instants_outside_the_span_of_exact_answers() {
    let refused = [
        vec![
            "calendar",
            "add",
            "--calendar",
            "business-hours-fr",
            "--from",
            "9999-12-31T17:00:00Z",
            "--seconds",
            "1",
        ],
        vec![
            "calendar",
            "open-seconds",
            "--calendar",
            "business-hours-fr",
            "--from",
            "2150-07-06T07:00:00Z",
            "--to",
            "2150-07-06T08:00:00Z",
        ],
        vec![
            "calendar",
            "open-seconds",
            "--calendar",
            "24x7",
            "--from",
            "1969-12-31T23:59:59Z",
            "--to",
            "1970-01-01T00:00:01Z",
        ],
        vec![
            "calendar",
            "add",
            "--calendar",
            "24x7",
            "--from",
            "2099-12-31T23:59:00Z",
            "--seconds",
            "120",
        ],
    ];
    for args in refused {
        let output = sablier_replay(&args, "");
        let said = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {said}");
        assert!(said.contains("2099-12-31T23:59:59Z"), "{args:?}: {said}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    // The last summer of the span is exact: Paris is open at 09:00 local (07:00Z).
    let output = sablier_replay(
        &[
            "calendar",
            "open-seconds",
            "--calendar",
            "business-hours-fr",
            "--from",
            "2099-07-06T07:00:00Z",
            "--to",
            "2099-07-06T08:00:00Z",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout_text(&output).trim(), "3600");
}
