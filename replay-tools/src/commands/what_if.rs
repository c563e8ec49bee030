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
use sablier_projections::sla_clocks::{ClockRow, SlaClocks};
use sablier_projections::{DomainEvent, FeedEvent, ViewReader};
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
    super::explain::warn_if_behind(&database, &reader, SlaClocks::NAME).await?;
    let mut out = std::io::stdout().lock();
    if !arguments.json {
        print_header(&mut out)?;
    }
    let mut tally = Tally::default();
    let mut priorities = Priorities::default();
    let mut after = (String::new(), String::new());
    loop {
        let page = clocks_after(&reader, &arguments.selection, &after).await?;
        let Some(last) = page.last() else { break };
        after = (last.request_id.clone(), last.metric.clone());
        for clock in &page {
            if !is_selected(clock, &arguments.selection)? {
                continue;
            }
            let Some(history) = priorities.of(&log, clock, &mut tally).await else {
                continue;
            };
            tally.compared += 1;
            if let Some(difference) = compare(clock, policy, history, as_of)? {
                tally.differing += 1;
                print_difference(&mut out, &difference, arguments.json)?;
            }
        }
    }
    database.close().await;
    let summary = format!(
        "compared {} clocks as of {} under {}: {} verdicts differ",
        tally.compared,
        format_instant(as_of),
        policy.version(),
        tally.differing
    );
    if arguments.json {
        eprintln!("sablier-replay: {summary}");
    } else {
        writeln!(out, "{summary}")?;
    }
    Ok(if tally.differing == 0 && tally.unreadable == 0 {
        Outcome::Clean
    } else {
        Outcome::ProblemsFound
    })
}

/// What the comparison went through.
#[derive(Default)]
struct Tally {
    compared: u64,
    differing: u64,
    /// Requests left out because their events could not be read.
    unreadable: u64,
}

/// The priorities of the request being compared: its clocks may span two pages.
#[derive(Default)]
struct Priorities(Option<(String, PriorityHistory)>);

impl Priorities {
    /// The clock's request's priority history, read once per request; `None` when it is
    /// empty or unreadable (then counted and said on stderr once).
    async fn of(
        &mut self,
        log: &EventLog,
        clock: &ClockRow,
        tally: &mut Tally,
    ) -> Option<&PriorityHistory> {
        if self
            .0
            .as_ref()
            .is_none_or(|(id, _)| *id != clock.request_id)
        {
            let history = match priority_history(log, &clock.request_id).await {
                Ok(history) => history,
                Err(error) => {
                    tally.unreadable += 1;
                    eprintln!(
                        "sablier-replay: {}: cannot read its priorities, left out: {error:#}",
                        clock.request_id
                    );
                    Vec::new()
                }
            };
            self.0 = Some((clock.request_id.clone(), history));
        }
        self.0
            .as_ref()
            .map(|(_, history)| history)
            .filter(|history| !history.is_empty())
    }
}

/// Whether the clock started within the selection's `--from`/`--to`.
fn is_selected(clock: &ClockRow, selection: &SelectionArgs) -> anyhow::Result<bool> {
    let Some(started) = clock.started_at()? else {
        return Ok(false);
    };
    Ok(!(selection.from.is_some_and(|from| started < from)
        || selection.to.is_some_and(|to| started > to)))
}

/// The clock's verdict as pinned and under `policy`; `Some` when they differ.
fn compare(
    clock: &ClockRow,
    policy: &Policy,
    history: &[(DateTime<Utc>, Priority)],
    as_of: DateTime<Utc>,
) -> anyhow::Result<Option<Difference>> {
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
        return Ok(None);
    }
    Ok(Some(Difference {
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
    }))
}

/// One line of the text table.
fn row(out: &mut dyn Write, cells: [&str; 8]) -> std::io::Result<()> {
    let [
        request,
        metric,
        tier,
        priority,
        actual,
        what_if,
        actual_deadline,
        what_if_deadline,
    ] = cells;
    writeln!(
        out,
        "{request:<36} {metric:<6} {tier:<8} {priority:<4} {actual:<28} {what_if:<28} \
         {actual_deadline:<20} {what_if_deadline:<20}"
    )
}

fn print_header(out: &mut dyn Write) -> std::io::Result<()> {
    row(
        out,
        [
            "request",
            "metric",
            "tier",
            "prio",
            "actual verdict (policy)",
            "what-if verdict (policy)",
            "actual deadline",
            "what-if deadline",
        ],
    )
}

fn print_difference(
    out: &mut dyn Write,
    difference: &Difference,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(difference)?)?;
        return Ok(());
    }
    let instant = |at: Option<DateTime<Utc>>| at.map_or_else(|| "-".to_owned(), format_instant);
    row(
        out,
        [
            &difference.request_id,
            &difference.metric,
            &difference.tier,
            &difference.priority,
            &format!(
                "{} ({})",
                difference.actual_verdict.as_str(),
                difference.actual_policy
            ),
            &format!(
                "{} ({})",
                difference.what_if_verdict.as_str(),
                difference.what_if_policy
            ),
            &instant(difference.actual_deadline),
            &instant(difference.what_if_deadline),
        ],
    )?;
    Ok(())
}

/// The next page of selected clocks after `after` in (request, metric) order.
async fn clocks_after(
    reader: &ViewReader,
    selection: &SelectionArgs,
    after: &(String, String),
) -> anyhow::Result<Vec<ClockRow>> {
    SlaClocks::incident_clocks_after(
        reader,
        (&after.0, &after.1),
        selection.contract.as_deref(),
        selection.request.as_deref(),
        PAGE,
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
