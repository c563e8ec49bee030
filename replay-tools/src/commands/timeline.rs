//! `sablier-replay timeline REQUEST_ID`: every event of a request in order, with when,
//! who (login, role, on whose behalf), through what, for which HTTP request, what it did,
//! and the state of each SLA clock right after it.
//!
//! Events are described by the audit trail view. The clocks are rebuilt from the request's
//! own events in the log, one event at a time, by the SLA clocks projection's rules, and
//! each is evaluated by `sablier-sla` as of the event's instant with the transitions
//! stated up to that event: several events within one second each show their own state.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use sablier_projections::audit_trail::{AuditEntry, AuditTrail};
use sablier_projections::sla_clocks::ClocksAfterEach;
use sablier_projections::{FeedEvent, ViewReader};
use sablier_sla::Verdict;
use sablier_store::{DEFAULT_DATABASE_URL, EventLog};
use serde::Serialize;

use super::database::open_existing;
use super::explain::warn_if_behind;
use crate::instants::format_instant;
use crate::outcome::Outcome;

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// The request (incident, change or order) or contract whose history to show.
    request_id: String,
    /// One JSON object per event instead of text.
    #[arg(long)]
    json: bool,
    /// The database to read: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

#[derive(Serialize)]
struct Step<'a> {
    sequence: i64,
    position: i64,
    at: DateTime<Utc>,
    event_type: &'a str,
    actor: &'a str,
    actor_role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    on_behalf_of: Option<&'a str>,
    channel: &'a str,
    request_id: &'a str,
    summary: &'a str,
    clocks: Vec<ClockAfter>,
}

/// A clock as it stood right after an event.
#[derive(Serialize)]
struct ClockAfter {
    metric: String,
    state: &'static str,
    verdict: Verdict,
    counted_seconds: i64,
    target_seconds: Option<i64>,
    remaining_seconds: Option<i64>,
    deadline: Option<DateTime<Utc>>,
    /// The calendar it counts on after the event (a priority change may move it).
    calendar: String,
}

pub fn run(arguments: &TimelineArgs) -> anyhow::Result<Outcome> {
    super::database::block_on(timeline(arguments))
}

async fn timeline(arguments: &TimelineArgs) -> anyhow::Result<Outcome> {
    let database = open_existing(&arguments.database_url).await?;
    let reader = ViewReader::new(database.clone());
    warn_if_behind(&database, &reader, AuditTrail::NAME).await?;
    let history = AuditTrail::history(&reader, &arguments.request_id)
        .await
        .context("cannot read the audit trail view")?;
    let stream = match history.first() {
        Some(first) => EventLog::new(database.clone())
            .load_stream(&first.aggregate_type, &arguments.request_id)
            .await
            .context("cannot read the request's events")?,
        None => Vec::new(),
    };
    database.close().await;
    if history.is_empty() {
        eprintln!(
            "sablier-replay: no event for {} (unknown, or not yet projected)",
            arguments.request_id
        );
        return Ok(Outcome::ProblemsFound);
    }
    let mut outcome = Outcome::Clean;
    let mut clocks = ClocksAfterEach::default();
    let mut events = stream.iter().peekable();
    let mut out = std::io::stdout().lock();
    for entry in &history {
        // Apply the request's events up to this entry's, in sequence order.
        while let Some(stored) = events.next_if(|stored| stored.sequence <= entry.sequence) {
            let applied = FeedEvent::decode(stored)
                .map_err(anyhow::Error::from)
                .and_then(|event| Ok(clocks.apply(&event)?));
            if let Err(error) = applied {
                eprintln!(
                    "sablier-replay: event #{} at position {} left out of the clocks: {error:#}",
                    stored.sequence, stored.position
                );
                outcome = Outcome::ProblemsFound;
            }
        }
        let step = Step {
            sequence: entry.sequence,
            position: entry.position,
            at: entry.at,
            event_type: &entry.event_type,
            actor: &entry.actor,
            actor_role: &entry.actor_role,
            on_behalf_of: entry.on_behalf_of.as_deref(),
            channel: &entry.channel,
            request_id: &entry.request_id,
            summary: &entry.summary,
            clocks: clocks_after(&clocks, entry)?,
        };
        if arguments.json {
            writeln!(out, "{}", serde_json::to_string(&step)?)?;
        } else {
            write_text(&mut out, &step)?;
        }
    }
    Ok(outcome)
}

/// Each clock started by the entry's instant, with the transitions up to the entry's event,
/// evaluated as of that instant.
fn clocks_after(clocks: &ClocksAfterEach, entry: &AuditEntry) -> anyhow::Result<Vec<ClockAfter>> {
    let figures = clocks
        .figures(entry.at)
        .with_context(|| format!("evaluating the clocks of {}", entry.request_id))?;
    Ok(figures
        .into_iter()
        .map(|(metric, evaluation)| ClockAfter {
            metric: metric.as_str().to_owned(),
            state: evaluation.state.as_str(),
            verdict: evaluation.verdict,
            counted_seconds: evaluation.counted_seconds,
            target_seconds: evaluation.target_seconds,
            remaining_seconds: evaluation.remaining_seconds,
            deadline: evaluation.deadline,
            calendar: evaluation.calendar,
        })
        .collect())
}

fn write_text(out: &mut impl Write, step: &Step<'_>) -> anyhow::Result<()> {
    let on_behalf = step
        .on_behalf_of
        .map(|login| format!(" on behalf of {login}"))
        .unwrap_or_default();
    writeln!(
        out,
        "#{} {} {} by {} ({}{on_behalf}, {}, request {}): {}",
        step.sequence,
        format_instant(step.at),
        step.event_type,
        step.actor,
        step.actor_role,
        step.channel,
        step.request_id,
        step.summary,
    )?;
    for clock in &step.clocks {
        writeln!(
            out,
            "    {} {}, {}: counted {} s, remaining {}, deadline {}, on {}",
            clock.metric,
            clock.state,
            clock.verdict.as_str(),
            clock.counted_seconds,
            clock
                .remaining_seconds
                .map_or_else(|| "none".to_owned(), |seconds| format!("{seconds} s")),
            clock
                .deadline
                .map_or_else(|| "-".to_owned(), format_instant),
            clock.calendar,
        )?;
    }
    Ok(())
}
