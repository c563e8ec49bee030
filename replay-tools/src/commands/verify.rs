//! `sablier-replay verify`: checks the whole event log, read-only.
//!
//! - Positions run 1, 2, 3… without gaps (a gap is an event removed).
//! - Each stream's sequences run 1, 2, 3… (an aggregate's event removed or moved).
//! - Every event decodes (upcasters applied), as the projections read it.
//! - The seal: each event's `hash` is SHA-256 over the previous event's hash and this
//!   event's position, stream, sequence, type, version, payload and metadata, exactly as
//!   stored (`sablier_store::seal`). Recomputing the chain from the genesis hash finds an
//!   event altered, removed or reordered after it was written: the first event whose
//!   stored hash differs is named, and the check goes on from its stored hash, so one
//!   damaged event is reported once and the rest of the log is still checked.
//! - The head row (`event_log_head`) names the last event and its hash (events removed at
//!   the end), and `--head HASH`, a head recorded earlier, must be the hash of an event
//!   still in the chain (a log rewritten wholesale, hashes recomputed, fails this).
//!
//! Each problem is one line on stdout; the last line sums up and prints the head to
//! record. Exit code 0 clean, 1 problems found, 2 could not run.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context;
use clap::Args;
use futures::TryStreamExt;
use sablier_projections::FeedEvent;
use sablier_store::seal::{GENESIS_HASH, chain_hash};
use sablier_store::{DEFAULT_DATABASE_URL, EventLog, FeedFilter, StoredEvent};

use super::database::open_existing;
use crate::outcome::Outcome;
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The database to check (read-only): sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// A head hash recorded earlier (printed by a previous `verify`): the log must still
    /// contain the event it sealed.
    #[arg(long, value_name = "HASH")]
    head: Option<String>,
}

pub fn run(arguments: &VerifyArgs) -> anyhow::Result<Outcome> {
    super::database::block_on(verify(arguments))
}

/// What the walk over the log found, printed as it is found (above the progress bar).
struct Findings {
    problems: usize,
    out: std::io::Stdout,
    progress: Progress,
}

impl Findings {
    fn report(&mut self, problem: String) -> anyhow::Result<()> {
        self.problems += 1;
        self.say(problem)
    }

    fn say(&mut self, line: String) -> anyhow::Result<()> {
        let out = &self.out;
        self.progress
            .suspend(|| writeln!(out.lock(), "{line}"))
            .context("writing to stdout")
    }
}

fn name(event: &StoredEvent) -> String {
    format!(
        "position {} ({} {} #{}, {})",
        event.position, event.aggregate_type, event.aggregate_id, event.sequence, event.event_type
    )
}

async fn verify(arguments: &VerifyArgs) -> anyhow::Result<Outcome> {
    let database = open_existing(&arguments.database_url).await?;
    let log = EventLog::new(database.clone());
    let (head_at_start, _) = log.head().await.context("cannot read the log's head")?;
    let mut findings = Findings {
        problems: 0,
        out: std::io::stdout(),
        progress: Progress::new("verify", head_at_start),
    };
    let mut checked: u64 = 0;
    let mut previous_position = 0;
    let mut previous_hash = GENESIS_HASH.to_owned();
    let mut sequences: HashMap<(String, String), i64> = HashMap::new();
    let mut recorded_head_seen = arguments.head.as_deref() == Some(GENESIS_HASH);
    let mut events = std::pin::pin!(log.stream_after(0, FeedFilter::all()));
    while let Some(event) = events
        .try_next()
        .await
        .context("cannot read the event log")?
    {
        checked += 1;
        findings.progress.set(event.position);
        if event.position != previous_position + 1 {
            findings.report(format!(
                "positions {}..={} are missing: events were removed before {}",
                previous_position + 1,
                event.position - 1,
                name(&event)
            ))?;
        }
        let expected = chain_hash(&previous_hash, event.sealed());
        if event.hash != expected {
            findings.report(format!(
                "{}: the seal is broken (stored hash {}, chain gives {expected}): this event \
                 was altered, or an event before it was removed or reordered",
                name(&event),
                event.hash
            ))?;
        }
        let stream = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let last = sequences.get(&stream).copied().unwrap_or(0);
        if event.sequence != last + 1 {
            findings.report(format!(
                "{}: the stream jumps from #{last} to #{}",
                name(&event),
                event.sequence
            ))?;
        }
        sequences.insert(stream, event.sequence);
        if let Err(error) = FeedEvent::decode(&event) {
            findings.report(format!("{}: unreadable: {error}", name(&event)))?;
        }
        if arguments.head.as_deref() == Some(event.hash.as_str()) {
            recorded_head_seen = true;
        }
        previous_position = event.position;
        previous_hash = event.hash;
    }
    findings.progress.finish();
    let (head_position, head_hash) = log.head().await.context("cannot read the log's head")?;
    if (head_position, head_hash.as_str()) != (previous_position, previous_hash.as_str()) {
        findings.report(format!(
            "the head says the log ends at position {head_position} with hash {head_hash}, \
             but it ends at position {previous_position} with hash {previous_hash}: events \
             were removed at the end, or the head was altered"
        ))?;
    }
    if let Some(recorded) = &arguments.head
        && !recorded_head_seen
    {
        findings.report(format!(
            "the recorded head {recorded} is not the hash of any event in the log: the log \
             was rewritten since it was recorded"
        ))?;
    }
    database.close().await;
    findings.say(format!(
        "checked {checked} events in {} streams: {}; head position {head_position} \
         hash {head_hash}",
        sequences.len(),
        match findings.problems {
            0 => "clean".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    ))?;
    Ok(if findings.problems == 0 {
        Outcome::Clean
    } else {
        Outcome::ProblemsFound
    })
}
