//! `sablier-replay explain REQUEST_ID`: what each SLA clock of a request said at an
//! instant, and why, interval by interval.
//!
//! The clocks come from the SLA clocks view (`sla_clocks`, rebuilt from the log alone):
//! the transitions each event stated, the pinned tier, policy version, calendar and
//! target. The verdict is computed now by `sablier-sla` as of `--as-of` (default: now),
//! so the same log gives the same answer to the second whenever it is asked. When the
//! view has not yet applied the whole log, a warning on stderr says how far it is.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use clap::Args;
use sablier_projections::ViewReader;
use sablier_projections::sla_clocks::{ClockRow, SlaClocks};
use sablier_sla::{ClockEvaluation, TransitionKind};
use sablier_store::{DEFAULT_DATABASE_URL, EventLog};
use serde::Serialize;

use super::database::open_existing;
use crate::instants::parse_instant;
use crate::outcome::Outcome;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The request (incident or change) whose clocks to explain.
    request_id: String,
    /// One metric only: GTI, GTD, GTR or delivery.
    #[arg(long)]
    metric: Option<String>,
    /// The instant of the evaluation, RFC 3339 (default: now).
    #[arg(long, value_name = "T")]
    as_of: Option<String>,
    /// One JSON object per clock instead of text.
    #[arg(long)]
    json: bool,
    /// The database to read: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

/// One clock's explanation, as `--json` prints it.
#[derive(Serialize)]
struct Explained<'a> {
    request_id: &'a str,
    metric: &'a str,
    request_kind: &'a str,
    contract_id: &'a str,
    tier: Option<&'a str>,
    policy_version: Option<&'a str>,
    priority: Option<&'a str>,
    /// The calendar the clock started on; `calendar` (from the evaluation) is the one it
    /// counts on as of `as_of`.
    started_on_calendar: &'a str,
    time_zone: &'a str,
    as_of: DateTime<Utc>,
    target_changes: Vec<TargetChange>,
    #[serde(flatten)]
    evaluation: ClockEvaluation,
}

#[derive(Serialize)]
struct TargetChange {
    at: DateTime<Utc>,
    target_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar: Option<String>,
}

pub fn run(arguments: &ExplainArgs) -> anyhow::Result<Outcome> {
    let as_of = match &arguments.as_of {
        Some(text) => parse_instant(text).map_err(|error| anyhow::anyhow!("--as-of: {error}"))?,
        None => Utc::now().trunc_subsecs(0),
    };
    super::database::block_on(explain(arguments, as_of))
}

async fn explain(arguments: &ExplainArgs, as_of: DateTime<Utc>) -> anyhow::Result<Outcome> {
    let database = open_existing(&arguments.database_url).await?;
    let reader = ViewReader::new(database.clone());
    warn_if_behind(&database, &reader, SlaClocks::NAME).await?;
    let clocks = SlaClocks::for_request(&reader, &arguments.request_id)
        .await
        .context("cannot read the SLA clocks view")?;
    database.close().await;
    let clocks: Vec<&ClockRow> = clocks
        .iter()
        .filter(|clock| {
            arguments
                .metric
                .as_deref()
                .is_none_or(|metric| clock.metric.eq_ignore_ascii_case(metric))
        })
        .collect();
    if clocks.is_empty() {
        let what = match &arguments.metric {
            Some(metric) => format!("no {metric} clock"),
            None => "no SLA clock".to_owned(),
        };
        eprintln!(
            "sablier-replay: {what} for request {} (unknown, or not yet projected)",
            arguments.request_id
        );
        return Ok(Outcome::ProblemsFound);
    }
    print_clocks(
        &clocks,
        as_of,
        arguments.json,
        &mut std::io::stdout().lock(),
    )?;
    Ok(Outcome::Clean)
}

/// Each clock evaluated as of `as_of` and explained, as text or one JSON object per clock:
/// the output of `explain`, and of `as-of T clocks`.
pub(super) fn print_clocks(
    clocks: &[&ClockRow],
    as_of: DateTime<Utc>,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    for clock in clocks {
        let evaluation = clock
            .evaluate(as_of)
            .with_context(|| format!("evaluating {} {}", clock.request_id, clock.metric))?;
        let explained = Explained {
            request_id: &clock.request_id,
            metric: &clock.metric,
            request_kind: &clock.request_kind,
            contract_id: &clock.contract_id,
            tier: clock.tier.as_deref(),
            policy_version: clock.policy_version.as_deref(),
            priority: clock.priority.as_deref(),
            started_on_calendar: &clock.calendar,
            time_zone: &clock.time_zone,
            as_of,
            target_changes: target_changes(clock)?,
            evaluation,
        };
        if json {
            writeln!(out, "{}", serde_json::to_string(&explained)?)?;
        } else {
            write_text(out, &explained)?;
        }
    }
    Ok(())
}

fn target_changes(clock: &ClockRow) -> anyhow::Result<Vec<TargetChange>> {
    Ok(clock
        .transitions()?
        .into_iter()
        .filter_map(|transition| match transition.kind {
            TransitionKind::Target {
                target_seconds,
                calendar,
            } => Some(TargetChange {
                at: transition.at,
                target_seconds,
                calendar,
            }),
            _ => None,
        })
        .collect())
}

/// Tells on stderr when the view `view` has not applied the whole log.
pub(super) async fn warn_if_behind(
    database: &sablier_store::Database,
    reader: &ViewReader,
    view: &str,
) -> anyhow::Result<()> {
    let (head, _) = EventLog::new(database.clone())
        .head()
        .await
        .context("cannot read the log's head")?;
    let reached = sablier_projections::views_position(reader, &[view]).await?;
    if reached < head {
        eprintln!(
            "sablier-replay: warning: the view {view} has applied the log up to position \
             {reached} of {head}; run `sablier project --once` for the latest events"
        );
    }
    Ok(())
}

fn duration(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let text = match (hours, minutes, rest) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, 0) => format!("{h} h"),
        (h, m, 0) => format!("{h} h {m} min"),
        (h, m, s) => format!("{h} h {m} min {s} s"),
    };
    format!("{sign}{text}")
}

fn optional_duration(seconds: Option<i64>) -> String {
    seconds.map_or_else(|| "none".to_owned(), duration)
}

fn instant(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), crate::instants::format_instant)
}

fn write_text(out: &mut impl Write, clock: &Explained<'_>) -> anyhow::Result<()> {
    let evaluation = &clock.evaluation;
    writeln!(
        out,
        "{} {} ({}, contract {}, tier {}, policy {}, priority {})",
        clock.request_id,
        clock.metric,
        clock.request_kind,
        clock.contract_id,
        clock.tier.unwrap_or("-"),
        clock.policy_version.unwrap_or("-"),
        clock.priority.unwrap_or("-"),
    )?;
    writeln!(
        out,
        "  as of {}: verdict {}, {}; counted {} ({} s), target {}, remaining {}",
        crate::instants::format_instant(clock.as_of),
        evaluation.verdict.as_str(),
        evaluation.state,
        duration(evaluation.counted_seconds),
        evaluation.counted_seconds,
        optional_duration(evaluation.target_seconds),
        optional_duration(evaluation.remaining_seconds),
    )?;
    let started_on = if clock.started_on_calendar == evaluation.calendar {
        String::new()
    } else {
        format!(", started on {}", clock.started_on_calendar)
    };
    writeln!(
        out,
        "  deadline {}; breached {}; at risk {}; counting on {} ({}){started_on}",
        instant(evaluation.deadline),
        instant(evaluation.breached_at),
        if evaluation.at_risk { "yes" } else { "no" },
        evaluation.calendar,
        clock.time_zone,
    )?;
    for change in &clock.target_changes {
        writeln!(
            out,
            "  target changed at {} to {}{}",
            crate::instants::format_instant(change.at),
            optional_duration(change.target_seconds),
            change
                .calendar
                .as_deref()
                .map(|calendar| format!(", counted on {calendar} from then on"))
                .unwrap_or_default(),
        )?;
    }
    for interval in &evaluation.intervals {
        writeln!(
            out,
            "    {} -> {}  {:>14}  {}{}",
            crate::instants::format_instant(interval.from),
            crate::instants::format_instant(interval.to),
            duration(interval.seconds()),
            interval.kind.as_str(),
            match (&interval.detail, &interval.actor) {
                (Some(detail), Some(actor)) => format!(" ({detail}, by {actor})"),
                (Some(detail), None) => format!(" ({detail})"),
                (None, Some(actor)) => format!(" (by {actor})"),
                (None, None) => String::new(),
            },
        )?;
    }
    Ok(())
}
