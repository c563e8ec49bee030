//! `sablier-replay clock`: evaluates one SLA clock per input line, so an analyst can
//! replay a disputed verdict from its transitions. A refused line is answered with
//! `{"error": "line N: ..."}` and the others are still answered, in order.

use std::io::{BufRead, BufWriter, Write};

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::{Europe, Tz};
use clap::Args;
use sablier_sla::{Calendar, ClockInput, RiskRatio, Transition, evaluate};
use serde::Deserialize;
use serde_json::error::Category;

use crate::outcome::Outcome;

/// No options yet: the input format is in `Command::Clock`'s help.
#[derive(Debug, Args)]
pub struct ClockArgs {}

/// One input line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    calendar: String,
    #[serde(default)]
    timezone: Option<Tz>,
    #[serde(default)]
    target_seconds: Option<i64>,
    #[serde(default)]
    at_risk_ratio: Option<serde_json::Number>,
    transitions: Vec<Transition>,
    as_of: DateTime<Utc>,
    #[serde(default)]
    exclude_maintenance_windows: bool,
}

pub fn run(_arguments: &ClockArgs) -> anyhow::Result<Outcome> {
    let stdin = std::io::stdin().lock();
    let mut stdout = BufWriter::new(std::io::stdout().lock());
    let mut outcome = Outcome::Clean;
    for (index, line) in stdin.lines().enumerate() {
        let line = line.context("reading stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = answer(&line).unwrap_or_else(|problem| {
            outcome = Outcome::ProblemsFound;
            serde_json::json!({ "error": format!("line {}: {problem}", index + 1) }).to_string()
        });
        writeln!(stdout, "{answer}").context("writing to stdout")?;
    }
    stdout.flush().context("writing to stdout")?;
    Ok(outcome)
}

/// The evaluation of one line as JSON, or what is wrong with the line.
fn answer(line: &str) -> Result<String, String> {
    let request: ClockRequest =
        serde_json::from_str(line).map_err(|error| match error.classify() {
            Category::Syntax | Category::Eof => format!("not valid JSON: {error}"),
            Category::Data | Category::Io => error.to_string(),
        })?;
    let calendar = Calendar::named(&request.calendar, request.timezone.unwrap_or(Europe::Paris))
        .map_err(|error| format!("calendar: {error}"))?;
    let at_risk_ratio = match &request.at_risk_ratio {
        None => RiskRatio::default(),
        Some(ratio) => RiskRatio::parse_decimal(&ratio.to_string())
            .map_err(|error| format!("at_risk_ratio: {error}"))?,
    };
    let input = ClockInput {
        calendar,
        target_seconds: request.target_seconds,
        at_risk_ratio,
        transitions: request.transitions,
        as_of: request.as_of,
        exclude_maintenance_windows: request.exclude_maintenance_windows,
    };
    let evaluation = evaluate(&input).map_err(|error| error.to_string())?;
    serde_json::to_string(&evaluation).map_err(|error| error.to_string())
}
