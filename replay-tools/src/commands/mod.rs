//! The subcommands, one module each. A new one (timeline, explain, verify, export...) adds
//! a module and a variant here.

mod as_of;
mod calendar;
mod clock;
mod database;
mod explain;
mod export;
mod import;
mod rebuild;
mod report;
mod timeline;
mod verify;
mod what_if;

use clap::Subcommand;

use crate::outcome::Outcome;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate SLA clocks: one JSON object per line on stdin, one answer per line on stdout.
    ///
    /// Input line: {"calendar": "business-hours-fr", "timezone": "Europe/Paris",
    /// "target_seconds": 14400, "at_risk_ratio": 0.75, "transitions": [{"at":
    /// "2026-03-27T16:30:00Z", "kind": "start"}, {"at": "...", "kind": "pause", "reason":
    /// "awaiting_customer"}, {"at": "...", "kind": "resume"}, {"at": "...", "kind": "target",
    /// "target_seconds": 7200}, {"at": "...", "kind": "stop"}, {"at": "...", "kind":
    /// "reopen"}], "as_of": "2026-03-31T00:00:00Z"}. timezone (default Europe/Paris),
    /// target_seconds (default: no commitment), at_risk_ratio (default 0.75) and
    /// exclude_maintenance_windows (default false) are optional; blank lines are skipped.
    /// A pause may name its "actor" (a login), which its interval repeats.
    /// A target transition may name the calendar the clock counts on from then on, e.g.
    /// {"at": "...", "kind": "target", "target_seconds": 3600, "calendar":
    /// "business-hours-fr"} (in the line's timezone; without it the calendar is kept).
    ///
    /// Output line: state, counted_seconds, target_seconds, remaining_seconds, deadline,
    /// at_risk, breached, breached_at, verdict, calendar (counted on as of as_of) and
    /// intervals, or {"error": "line N: ..."}.
    /// Exit code: 0 when every line was answered, 1 when a line was refused, 2 when the
    /// command could not run.
    Clock(clock::ClockArgs),
    /// Ask a calendar: holidays, open seconds between two instants, adding open seconds.
    #[command(subcommand)]
    Calendar(calendar::CalendarCommand),
    /// Check the whole event log, read-only: positions without gaps, each stream's
    /// sequences, every event readable, and the hash chain sealing them (an event altered,
    /// removed or reordered is named). Prints each problem, then the head hash to record;
    /// `--head HASH` checks the log still contains a head recorded earlier. Exit code 0
    /// clean, 1 problems found, 2 could not run.
    Verify(verify::VerifyArgs),
    /// Explain a request's SLA clocks as of an instant: verdict, counted and remaining
    /// time, deadline, pinned tier and policy version, target changes, and the
    /// interval-by-interval explanation. Readable text, or `--json` (one object per
    /// clock). Exit code 0 explained, 1 no such clock, 2 could not run.
    Explain(explain::ExplainArgs),
    /// Every event of a request in order: instant, actor, role, on whose behalf, channel,
    /// HTTP request id, a one-line summary, and the state of each SLA clock right after
    /// it. Readable text, or `--json` (one object per event). Exit code 0 shown, 1 no
    /// such request, 2 could not run.
    Timeline(timeline::TimelineArgs),
    /// Export the log as JSON Lines (format: replay-tools/docs/export-format.md): a
    /// versioned header, each event exactly as stored (position, stream, sequence, type,
    /// payload, metadata, hash), and an end line. Without a selection the export is
    /// complete and can be imported; `--contract`, `--request`, `--from`, `--to` keep the
    /// events a dispute needs. Exit code 0 exported, 1 unreadable events left out of a
    /// filtered export (each named), 2 could not run.
    Export(export::ExportArgs),
    /// Load a complete export into an EMPTY database (created if missing), keeping
    /// positions, sequences and the hash chain, so `verify` is clean on it and its head
    /// is the source's. Refuses a database that holds anything, a filtered export, a
    /// broken chain or a file cut short, and then changes nothing. The only replay tool
    /// that writes. Exit code 0 imported, 2 refused or failed.
    Import(import::ImportArgs),
    /// Rebuild every view from the log into a scratch database (the live one is only
    /// read) and compare it row by row with the live views, each up to the position its
    /// checkpoint reached. Names each row that drifted: its table, key and the columns
    /// that differ. Exit code 0 no drift, 1 drift or unreadable events, 2 could not run.
    Rebuild(rebuild::RebuildArgs),
    /// A view as it stood at instant T, rebuilt from the events up to T (each event's own
    /// instant) in a scratch database: `requests --contract C`, `clocks REQUEST` (as
    /// `explain` prints them, evaluated at T) or `billing --contract C --month YYYY-MM`.
    /// Exit code 0 shown, 1 nothing then (or unreadable events left out), 2 could not run.
    AsOf(as_of::AsOfArgs),
    /// Evaluate the selected incidents' SLA clocks under another policy (TOML file, see
    /// sla-rules/docs/policy-format.md, or `default-2026`) and list the clocks whose
    /// verdict differs from the one under the policy they were opened under: the same
    /// events, the other policy's targets, calendars, pausing and at-risk ratio. Writes
    /// nothing. Exit code 0 no verdict differs, 1 some differ, 2 could not run.
    WhatIf(what_if::WhatIfArgs),
    /// A contract's SLA compliance for a month, per metric and priority: requests, met,
    /// breached, pending, % met and the worst overrun, as a table, `--format csv` or
    /// `json`; `--chart FILE.svg` draws each incident's GTR restoration against its
    /// deadline. Exit code 0 reported, 2 could not run.
    Report(report::ReportArgs),
}

impl Command {
    pub fn run(self) -> anyhow::Result<Outcome> {
        match self {
            Command::Clock(arguments) => clock::run(&arguments),
            Command::Calendar(command) => calendar::run(command),
            Command::Verify(arguments) => verify::run(&arguments),
            Command::Explain(arguments) => explain::run(&arguments),
            Command::Timeline(arguments) => timeline::run(&arguments),
            Command::Export(arguments) => export::run(&arguments),
            Command::Import(arguments) => import::run(&arguments),
            Command::Rebuild(arguments) => rebuild::run(&arguments),
            Command::AsOf(arguments) => as_of::run(&arguments),
            Command::WhatIf(arguments) => what_if::run(&arguments),
            Command::Report(arguments) => report::run(&arguments),
        }
    }
}
