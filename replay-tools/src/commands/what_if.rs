//! `sablier-replay what-if --policy FILE`: the selected requests' SLA clocks evaluated
//! under another policy, beside their verdicts under the policy they were opened under.
//! Writes nothing.
//!
//! A clock is replayed with the transitions its events stated, under the other policy's
//! terms: the cell for its pinned tier and opening priority gives the starting target and
//! calendar, each priority change takes the new priority's cell from its instant on (the
//! priorities come from the request's own events), the policy's at-risk ratio applies, and
//! when the policy says a metric's pauses do not stop it, its pauses are ignored. (A
//! metric the other policy makes pausable keeps the pauses the events stated: the log
//! holds no pause a clock did not take.) Change requests' delivery clocks follow the
//! article's lead time, not a policy, and are left out. Only verdicts that differ are
//! listed. Exit code 0 no verdict differs, 1 some differ (or a request's events could not
//! be read: each is named), 2 could not run.

use std::io::Write;

use anyhow::{Context, anyhow};
use chrono::{DateTime, SubsecRound, Utc};
use clap::Args;
use sablier_domain::incident::IncidentEvent;
use sablier_projections::sla_clocks::ClockRow;
use sablier_projections::{DomainEvent, FeedEvent, Param, ViewReader};
use sablier_sla::clock::{ClockInput, evaluate_without_explanation};
use sablier_sla::{
    ClockEvaluation, Metric, Policy, Priority, Tier, Transition, TransitionKind, Verdict,
};
use sablier_store::{DEFAULT_DATABASE_URL, EventLog};
use serde::Serialize;

use super::database::open_existing;
use crate::instants::{format_instant, parse_instant};
use crate::outcome::Outcome;
use crate::selection::SelectionArgs;

#[derive(Debug, Args)]
pub struct WhatIfArgs {
    /// The policy to evaluate under: a TOML file (sla-rules/docs/policy-format.md), or
    /// `default-2026` for the embedded default.
    #[arg(long, value_name = "FILE")]
    policy: String,
    /// Which clocks: `--contract`, `--request`, and `--from`/`--to` on when a clock started.
    #[command(flatten)]
    selection: SelectionArgs,
    /// The instant of both evaluations, RFC 3339 (default: now).
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    as_of: Option<DateTime<Utc>>,
    /// One JSON object per differing verdict instead of a table.
    #[arg(long)]
    json: bool,
    /// The database to read: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

/// A clock whose verdict differs under the other policy.
#[derive(Serialize)]
struct Difference {
    request_id: String,
    metric: String,
    tier: String,
    priority: String,
    actual_policy: String,
    actual_verdict: Verdict,
    actual_deadline: Option<DateTime<Utc>>,
    actual_breached_at: Option<DateTime<Utc>>,
    what_if_policy: String,
    what_if_verdict: Verdict,
    what_if_deadline: Option<DateTime<Utc>>,
    what_if_breached_at: Option<DateTime<Utc>>,
}

pub fn run(arguments: &WhatIfArgs) -> anyhow::Result<Outcome> {
    let policy = if arguments.policy == "default-2026" {
        Policy::default_2026()
    } else {
        let text = std::fs::read_to_string(&arguments.policy)
            .with_context(|| format!("cannot read the policy {}", arguments.policy))?;
        Policy::parse(&text).with_context(|| format!("policy {}", arguments.policy))?
    };
    let as_of = arguments
        .as_of
        .unwrap_or_else(|| Utc::now().trunc_subsecs(0));
    super::database::block_on(what_if(arguments, &policy, as_of))
}

/// An incident's priority from its opening on: (instant, priority) in order.
type PriorityHistory = Vec<(DateTime<Utc>, Priority)>;

/// Clocks read per query: the view is paged through, never loaded whole.
const PAGE: i64 = 500;

async fn what_if(
    arguments: &WhatIfArgs,
    policy: &Policy,
    as_of: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let database = open_existing(&arguments.database_url).await?;
    let reader = ViewReader::new(database.clone());
    let log = EventLog::new(database.clone());
    super::explain::warn_if_behind(
        &database,
        &reader,
        sablier_projections::sla_clocks::SlaClocks::NAME,
    )
    .await?;
    let selection = &arguments.selection;
    let mut out = std::io::stdout().lock();
    let (mut compared, mut differing, mut unreadable) = (0_u64, 0_u64, 0_u64);
    let mut after = (String::new(), String::new());
    if !arguments.json {
        writeln!(
            out,
            "{:<36} {:<6} {:<8} {:<4} {:<28} {:<28} {:<20} {:<20}",
            "request",
            "metric",
            "tier",
            "prio",
            "actual verdict (policy)",
            "what-if verdict (policy)",
            "actual deadline",
            "what-if deadline"
        )?;
    }
    // The priorities of the request being compared: its clocks may span two pages.
    let mut priorities: Option<(String, PriorityHistory)> = None;
    loop {
        let page = clocks_after(&reader, selection, &after).await?;
        let Some(last) = page.last() else { break };
        after = (last.request_id.clone(), last.metric.clone());
        for clock in &page {
            let Some(started) = clock.started_at()? else {
                continue;
            };
            if selection.from.is_some_and(|from| started < from)
                || selection.to.is_some_and(|to| started > to)
            {
                continue;
            }
            if priorities
                .as_ref()
                .is_none_or(|(id, _)| *id != clock.request_id)
            {
                match priority_history(&log, &clock.request_id).await {
                    Ok(history) => priorities = Some((clock.request_id.clone(), history)),
                    Err(error) => {
                        unreadable += 1;
                        eprintln!(
                            "sablier-replay: {}: cannot read its priorities, left out: {error:#}",
                            clock.request_id
                        );
                        priorities = Some((clock.request_id.clone(), Vec::new()));
                        continue;
                    }
                }
            }
            let (_, history) = priorities
                .as_ref()
                .expect("the request's priorities were read just above");
            if history.is_empty() {
                continue;
            }
            compared += 1;
            let actual = clock
                .input(as_of)
                .map_err(anyhow::Error::from)
                .and_then(|input| Ok(evaluate_without_explanation(&input)?))
                .with_context(|| format!("evaluating {} {}", clock.request_id, clock.metric))?;
            let under = evaluate_under(clock, policy, history, as_of).with_context(|| {
                format!(
                    "evaluating {} {} under {}",
                    clock.request_id,
                    clock.metric,
                    policy.version()
                )
            })?;
            if actual.verdict == under.verdict {
                continue;
            }
            differing += 1;
            let difference = Difference {
                request_id: clock.request_id.clone(),
                metric: clock.metric.clone(),
                tier: clock.tier.clone().unwrap_or_default(),
                priority: clock.priority.clone().unwrap_or_default(),
                actual_policy: clock.policy_version.clone().unwrap_or_default(),
                actual_verdict: actual.verdict,
                actual_deadline: actual.deadline,
                actual_breached_at: actual.breached_at,
                what_if_policy: policy.version().to_owned(),
                what_if_verdict: under.verdict,
                what_if_deadline: under.deadline,
                what_if_breached_at: under.breached_at,
            };
            if arguments.json {
                writeln!(out, "{}", serde_json::to_string(&difference)?)?;
            } else {
                let instant =
                    |at: Option<DateTime<Utc>>| at.map_or_else(|| "-".to_owned(), format_instant);
                writeln!(
                    out,
                    "{:<36} {:<6} {:<8} {:<4} {:<28} {:<28} {:<20} {:<20}",
                    difference.request_id,
                    difference.metric,
                    difference.tier,
                    difference.priority,
                    format!(
                        "{} ({})",
                        difference.actual_verdict.as_str(),
                        difference.actual_policy
                    ),
                    format!(
                        "{} ({})",
                        difference.what_if_verdict.as_str(),
                        difference.what_if_policy
                    ),
                    instant(difference.actual_deadline),
                    instant(difference.what_if_deadline),
                )?;
            }
        }
    }
    database.close().await;
    let summary = format!(
        "compared {compared} clocks as of {} under {}: {differing} verdicts differ",
        format_instant(as_of),
        policy.version()
    );
    if arguments.json {
        eprintln!("sablier-replay: {summary}");
    } else {
        writeln!(out, "{summary}")?;
    }
    Ok(if differing == 0 && unreadable == 0 {
        Outcome::Clean
    } else {
        Outcome::ProblemsFound
    })
}

/// The next page of selected clocks after `after` in (request, metric) order.
async fn clocks_after(
    reader: &ViewReader,
    selection: &SelectionArgs,
    after: &(String, String),
) -> anyhow::Result<Vec<ClockRow>> {
    let mut params = vec![
        Param::Text(after.0.clone()),
        Param::Text(after.1.clone()),
        Param::Int(PAGE),
    ];
    let mut filter = String::new();
    if let Some(contract) = &selection.contract {
        params.push(Param::Text(contract.clone()));
        filter.push_str(&format!(" AND contract_id = ${}", params.len()));
    }
    if let Some(request) = &selection.request {
        params.push(Param::Text(request.clone()));
        filter.push_str(&format!(" AND request_id = ${}", params.len()));
    }
    reader
        .fetch_all(
            &format!(
                "SELECT * FROM sla_clocks WHERE (request_id > $1 OR (request_id = $1 AND metric > $2)) \
                 AND request_kind = 'incident'{filter} \
                 ORDER BY request_id, metric LIMIT $3"
            ),
            &params,
        )
        .await
        .context("cannot read the SLA clocks view")
}

/// The incident's priorities, read from its own events.
async fn priority_history(log: &EventLog, request_id: &str) -> anyhow::Result<PriorityHistory> {
    let mut history = Vec::new();
    for stored in log.load_stream("Incident", request_id).await? {
        match FeedEvent::decode(&stored)?.event {
            DomainEvent::Incident(IncidentEvent::IncidentOpened { at, priority, .. }) => {
                history.push((at, priority));
            }
            DomainEvent::Incident(IncidentEvent::PriorityChanged { at, to, .. }) => {
                history.push((at, to));
            }
            _ => {}
        }
    }
    Ok(history)
}

/// The clock replayed under `policy`'s terms.
fn evaluate_under(
    clock: &ClockRow,
    policy: &Policy,
    history: &[(DateTime<Utc>, Priority)],
    as_of: DateTime<Utc>,
) -> anyhow::Result<ClockEvaluation> {
    let tier: Tier = clock
        .tier
        .as_deref()
        .ok_or_else(|| anyhow!("no pinned tier"))?
        .parse()?;
    let metric: Metric = clock.metric.parse()?;
    let time_zone = clock.time_zone()?;
    let priority_at = |at: DateTime<Utc>| {
        history
            .iter()
            .rev()
            .find(|(changed, _)| *changed <= at)
            .or(history.first())
            .map(|(_, priority)| *priority)
    };
    let opening = history
        .first()
        .map(|(_, priority)| *priority)
        .ok_or_else(|| anyhow!("no opening priority"))?;
    let cell = policy.target(tier, opening, metric);
    let calendar = match cell {
        Some(target) => target.calendar_in(time_zone)?,
        None => clock.calendar()?,
    };
    let pausable = cell.is_none_or(|target| target.pausable);
    let mut transitions = Vec::new();
    for transition in clock.transitions()? {
        match &transition.kind {
            TransitionKind::Pause { .. } | TransitionKind::Resume if !pausable => {}
            TransitionKind::Target { .. } => {
                let priority = priority_at(transition.at).unwrap_or(opening);
                transitions.push(match policy.target(tier, priority, metric) {
                    Some(target) => Transition::target_on(
                        transition.at,
                        Some(target.seconds),
                        target.calendar.clone(),
                    ),
                    None => Transition::target(transition.at, None),
                });
            }
            _ => transitions.push(transition),
        }
    }
    let mut input: ClockInput = ClockInput::new(calendar, transitions, as_of)
        .with_target_seconds(cell.map(|target| target.seconds));
    input.at_risk_ratio = policy.at_risk_ratio();
    Ok(evaluate_without_explanation(&input)?)
}
