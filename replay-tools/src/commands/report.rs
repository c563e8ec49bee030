//! `sablier-replay report --contract C --month YYYY-MM`: a contract's SLA compliance for a
//! month, per metric and priority, and optionally a chart of each incident's restoration
//! against its deadline.
//!
//! The month is the contract's (its time zone, as the clocks record it); an incident counts
//! in the month its clock started. Each clock is evaluated by sablier-sla as of `--as-of`
//! (default now) and grouped by metric and the priority it has then. A clock is met,
//! breached (final), or still pending (running, paused, or without commitment); "% met"
//! is met over met plus breached, to the tenth of a percent, in integer arithmetic. The
//! overrun of a breached clock is the wall-clock time from its breach to its stop (or to
//! the evaluation instant while it still runs); the worst one is shown.
//!
//! `--chart FILE.svg` draws one row per incident's GTR clock: a bar from creation to
//! restoration (or to the evaluation instant), green when met, red when breached, grey
//! while pending, and a tick at its deadline (as it stood just before restoration).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use chrono_tz::Tz;
use clap::{Args, ValueEnum};
use sablier_domain::YearMonth;
use sablier_projections::ViewReader;
use sablier_projections::sla_clocks::{ClockRow, SlaClocks};
use sablier_sla::clock::evaluate_without_explanation;
use sablier_sla::{ClockEvaluation, Metric, TransitionKind, Verdict};
use sablier_store::DEFAULT_DATABASE_URL;
use serde::Serialize;

use super::database::open_existing;
use crate::instants::{format_instant, parse_instant};
use crate::outcome::Outcome;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long)]
    contract: String,
    /// The month, YYYY-MM, in the contract's time zone.
    #[arg(long, value_name = "YYYY-MM")]
    month: String,
    /// The instant of the evaluation, RFC 3339 (default: now).
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    as_of: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also draw each incident's GTR deadline against its restoration, as SVG.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// The database to read: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

/// One line of the report: a metric and a priority.
#[derive(Debug, Default, Serialize)]
struct Compliance {
    metric: String,
    priority: String,
    requests: u64,
    met: u64,
    breached: u64,
    pending: u64,
    /// Tenths of a percent, `None` when nothing is decided yet.
    met_per_mille: Option<u64>,
    worst_overrun_seconds: Option<i64>,
    worst_overrun_request: Option<String>,
}

/// One incident's GTR clock, as the chart draws it.
struct Bar {
    request_id: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    verdict: Verdict,
}

pub fn run(arguments: &ReportArgs) -> anyhow::Result<Outcome> {
    let month: YearMonth = arguments
        .month
        .parse()
        .map_err(|error| anyhow!("--month: {error}"))?;
    let as_of = arguments
        .as_of
        .unwrap_or_else(|| Utc::now().trunc_subsecs(0));
    super::database::block_on(report(arguments, month, as_of))
}

async fn report(
    arguments: &ReportArgs,
    month: YearMonth,
    as_of: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let database = open_existing(&arguments.database_url).await?;
    let reader = ViewReader::new(database.clone());
    super::explain::warn_if_behind(&database, &reader, SlaClocks::NAME).await?;
    let clocks = SlaClocks::of_contract_incidents(&reader, &arguments.contract)
        .await
        .context("cannot read the SLA clocks view")?;
    database.close().await;

    let tally = Tally::of(&clocks, month, as_of)?;
    let zone_name = tally
        .time_zone
        .map_or_else(|| "-".to_owned(), |zone| zone.name().to_owned());
    let heading = Heading {
        contract: &arguments.contract,
        month,
        zone_name: &zone_name,
        as_of,
    };
    let lines = tally.lines();
    let mut out = std::io::stdout().lock();
    match arguments.format {
        Format::Json => print_json(&mut out, &heading, &lines)?,
        Format::Csv => print_csv(&mut out, &lines)?,
        Format::Text => print_text(&mut out, &heading, &lines)?,
    }
    if let Some(path) = &arguments.chart {
        std::fs::write(path, chart(&arguments.contract, month, as_of, &tally.bars))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(Outcome::Clean)
}

/// The month's clocks counted per metric and priority, and the GTR bars of the chart.
#[derive(Default)]
struct Tally {
    lines: BTreeMap<(String, String), Compliance>,
    bars: Vec<Bar>,
    time_zone: Option<Tz>,
}

impl Tally {
    /// Counts each clock that started in `month` (in its contract's zone) by `as_of`.
    fn of(clocks: &[ClockRow], month: YearMonth, as_of: DateTime<Utc>) -> anyhow::Result<Self> {
        let mut tally = Self::default();
        for clock in clocks {
            let zone: Tz = clock.time_zone()?;
            let transitions = clock.transitions()?;
            let Some(start) = transitions.first().map(|first| first.at) else {
                continue;
            };
            if start < month.starts_at(zone)
                || start >= month.next().starts_at(zone)
                || start > as_of
            {
                continue;
            }
            tally.time_zone = Some(zone);
            let evaluation = evaluate(clock, as_of)?;
            let stopped_at = transitions
                .iter()
                .rev()
                .find(|transition| {
                    transition.at <= as_of && matches!(transition.kind, TransitionKind::Stop)
                })
                .map(|transition| transition.at)
                .filter(|_| evaluation.state == sablier_sla::ClockState::Stopped);
            let end = stopped_at.unwrap_or(as_of);
            tally.count(clock, &evaluation, end);
            if clock.metric == Metric::Gtr.as_str() {
                tally.bars.push(Bar {
                    request_id: clock.request_id.clone(),
                    start,
                    end,
                    deadline: chart_deadline(clock, &evaluation, stopped_at)?,
                    verdict: evaluation.verdict,
                });
            }
        }
        for line in tally.lines.values_mut() {
            line.met_per_mille = line.share_met();
        }
        Ok(tally)
    }

    /// Counts one clock in its metric and priority's line; `end` is its stop, or the
    /// evaluation instant while it runs.
    fn count(&mut self, clock: &ClockRow, evaluation: &ClockEvaluation, end: DateTime<Utc>) {
        let priority = clock.priority.clone().unwrap_or_else(|| "-".to_owned());
        let line = self
            .lines
            .entry((clock.metric.clone(), priority.clone()))
            .or_insert_with(|| Compliance {
                metric: clock.metric.clone(),
                priority,
                ..Compliance::default()
            });
        line.requests += 1;
        match evaluation.verdict {
            Verdict::Met => line.met += 1,
            Verdict::Breached => {
                line.breached += 1;
                let overrun = evaluation
                    .breached_at
                    .map_or(0, |breached_at| (end - breached_at).num_seconds());
                if line
                    .worst_overrun_seconds
                    .is_none_or(|worst| overrun > worst)
                {
                    line.worst_overrun_seconds = Some(overrun);
                    line.worst_overrun_request = Some(clock.request_id.clone());
                }
            }
            _ => line.pending += 1,
        }
    }

    /// The lines in (metric, priority) order.
    fn lines(&self) -> Vec<&Compliance> {
        self.lines.values().collect()
    }
}

impl Compliance {
    /// Met over met plus breached, in tenths of a percent, rounded half up.
    fn share_met(&self) -> Option<u64> {
        let decided = self.met + self.breached;
        (decided > 0).then(|| (self.met * 1000 + decided / 2) / decided)
    }
}

/// The deadline a GTR bar marks: its breach, or the deadline as it stood just before the
/// clock stopped, or its deadline now.
fn chart_deadline(
    clock: &ClockRow,
    evaluation: &ClockEvaluation,
    stopped_at: Option<DateTime<Utc>>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    Ok(match (evaluation.breached_at, stopped_at) {
        (Some(breached_at), _) => Some(breached_at),
        (None, Some(stopped_at)) => evaluate(clock, stopped_at - Duration::seconds(1))?
            .deadline
            .or(evaluation.deadline),
        (None, None) => evaluation.deadline,
    })
}

/// What the report is of, as its heading says.
struct Heading<'a> {
    contract: &'a str,
    month: YearMonth,
    zone_name: &'a str,
    as_of: DateTime<Utc>,
}

fn print_json(out: &mut dyn Write, heading: &Heading, lines: &[&Compliance]) -> anyhow::Result<()> {
    let report = serde_json::json!({
        "contract_id": heading.contract,
        "month": heading.month.to_string(),
        "time_zone": heading.zone_name,
        "as_of": format_instant(heading.as_of),
        "lines": lines,
    });
    writeln!(out, "{report}")?;
    Ok(())
}

fn print_csv(out: &mut dyn Write, lines: &[&Compliance]) -> anyhow::Result<()> {
    writeln!(
        out,
        "metric,priority,requests,met,breached,pending,percent_met,worst_overrun_seconds,worst_overrun_request"
    )?;
    for line in lines {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            line.metric,
            line.priority,
            line.requests,
            line.met,
            line.breached,
            line.pending,
            line.met_per_mille.map(percent).unwrap_or_default(),
            line.worst_overrun_seconds
                .map(|seconds| seconds.to_string())
                .unwrap_or_default(),
            line.worst_overrun_request.as_deref().unwrap_or_default(),
        )?;
    }
    Ok(())
}

fn print_text(out: &mut dyn Write, heading: &Heading, lines: &[&Compliance]) -> anyhow::Result<()> {
    writeln!(
        out,
        "SLA compliance of contract {}, {} ({}), as of {}",
        heading.contract,
        heading.month,
        heading.zone_name,
        format_instant(heading.as_of)
    )?;
    writeln!(
        out,
        "{:<8} {:<8} {:>8} {:>6} {:>8} {:>8} {:>7}  worst overrun",
        "metric", "priority", "requests", "met", "breached", "pending", "% met"
    )?;
    for line in lines {
        let worst = match (&line.worst_overrun_seconds, &line.worst_overrun_request) {
            (Some(seconds), Some(request)) => format!("{} ({request})", duration(*seconds)),
            _ => "-".to_owned(),
        };
        writeln!(
            out,
            "{:<8} {:<8} {:>8} {:>6} {:>8} {:>8} {:>7}  {worst}",
            line.metric,
            line.priority,
            line.requests,
            line.met,
            line.breached,
            line.pending,
            line.met_per_mille.map_or_else(|| "-".to_owned(), percent),
        )?;
    }
    if lines.is_empty() {
        writeln!(out, "no incident clock started that month")?;
    }
    Ok(())
}

/// The clock's figures as of `as_of` (the report shows no explanation).
fn evaluate(clock: &ClockRow, as_of: DateTime<Utc>) -> anyhow::Result<ClockEvaluation> {
    let input = clock.input(as_of)?;
    evaluate_without_explanation(&input)
        .with_context(|| format!("evaluating {} {}", clock.request_id, clock.metric))
}

fn percent(per_mille: u64) -> String {
    format!("{}.{}", per_mille / 10, per_mille % 10)
}

fn duration(seconds: i64) -> String {
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (hours, minutes) {
        (0, 0) => format!("{rest} s"),
        (0, m) => format!("{m} min {rest} s"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart: one row per GTR clock, time flowing right.
/// One bar of the chart at height `y`: the clock from creation to its end, coloured by
/// verdict, and a tick at its deadline; `x` places an instant.
fn draw_bar(svg: &mut String, bar: &Bar, y: i64, x: &dyn Fn(DateTime<Utc>) -> i64) {
    let colour = match bar.verdict {
        Verdict::Met => "#2e7d32",
        Verdict::Breached => "#c62828",
        _ => "#9e9e9e",
    };
    let (from, to) = (x(bar.start), x(bar.end));
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"{}\">{}</text>",
        y + 14,
        escape(&bar.request_id)
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{from}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{colour}\">\
         <title>{} {}: {} to {}</title></rect>",
        y + 3,
        (to - from).max(1),
        escape(&bar.request_id),
        bar.verdict.as_str(),
        format_instant(bar.start),
        format_instant(bar.end)
    );
    if let Some(deadline) = bar.deadline {
        let at = x(deadline);
        let _ = writeln!(
            svg,
            "<line x1=\"{at}\" y1=\"{}\" x2=\"{at}\" y2=\"{}\" stroke=\"black\" \
             stroke-width=\"2\"><title>deadline {}</title></line>",
            y,
            y + 20,
            format_instant(deadline)
        );
    }
}

fn chart(contract: &str, month: YearMonth, as_of: DateTime<Utc>, bars: &[Bar]) -> String {
    const LEFT: i64 = 300;
    const WIDTH: i64 = 640;
    const ROW: i64 = 22;
    const TOP: i64 = 50;
    let first = bars.iter().map(|bar| bar.start).min().unwrap_or(as_of);
    let last = bars
        .iter()
        .flat_map(|bar| [Some(bar.end), bar.deadline])
        .flatten()
        .max()
        .unwrap_or(as_of)
        .max(first + Duration::minutes(1));
    let span = (last - first).num_seconds().max(1);
    let x = |at: DateTime<Utc>| LEFT + (at - first).num_seconds() * WIDTH / span;
    let height = TOP + ROW * bars.len() as i64 + 40;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">",
        LEFT + WIDTH + 20
    );
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"20\" font-size=\"14\">GTR of contract {} in {month}: restoration \
         (bar) against deadline (tick), as of {}</text>",
        escape(contract),
        format_instant(as_of)
    );
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT}\" y=\"40\">{}</text><text x=\"{}\" y=\"40\" text-anchor=\"end\">{}</text>",
        format_instant(first),
        LEFT + WIDTH,
        format_instant(last)
    );
    for (index, bar) in bars.iter().enumerate() {
        draw_bar(&mut svg, bar, TOP + ROW * index as i64, &x);
    }
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"{}\">green: met; red: breached; grey: pending; black tick: deadline</text>",
        height - 12
    );
    svg.push_str("</svg>\n");
    svg
}
