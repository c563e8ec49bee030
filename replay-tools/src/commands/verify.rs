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
use sablier_store::{DEFAULT_DATABASE_URL, Database, EventLog, FeedFilter, StoredEvent};

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

/// A batch of events and, for each, why it does not decode (`None` when it does).
type Decoded = (Vec<StoredEvent>, Vec<Option<String>>);

fn decode(batch: Vec<StoredEvent>) -> Decoded {
    let unreadable = batch
        .iter()
        .map(|event| {
            FeedEvent::decode(event)
                .err()
                .map(|error| error.to_string())
        })
        .collect();
    (batch, unreadable)
}

/// The chain, positions and stream sequences as far as the walk has come.
struct Walk<'a> {
    checked: u64,
    previous_position: i64,
    previous_hash: String,
    sequences: HashMap<(String, String), i64>,
    recorded_head: Option<&'a str>,
    recorded_head_seen: bool,
}

impl Walk<'_> {
    fn check(
        &mut self,
        (batch, unreadable): Decoded,
        findings: &mut Findings,
    ) -> anyhow::Result<()> {
        for (event, unreadable) in batch.into_iter().zip(unreadable) {
            self.checked += 1;
            findings.progress.set(event.position);
            if event.position != self.previous_position + 1 {
                findings.report(format!(
                    "positions {}..={} are missing: events were removed before {}",
                    self.previous_position + 1,
                    event.position - 1,
                    name(&event)
                ))?;
            }
            let expected = chain_hash(&self.previous_hash, event.sealed());
            if event.hash != expected {
                findings.report(format!(
                    "{}: the seal is broken (stored hash {}, chain gives {expected}): this \
                     event was altered, or an event before it was removed or reordered",
                    name(&event),
                    event.hash
                ))?;
            }
            if let Some(error) = unreadable {
                findings.report(format!("{}: unreadable: {error}", name(&event)))?;
            }
            if self.recorded_head == Some(event.hash.as_str()) {
                self.recorded_head_seen = true;
            }
            let stream = (event.aggregate_type.clone(), event.aggregate_id.clone());
            let last = self.sequences.insert(stream, event.sequence).unwrap_or(0);
            if event.sequence != last + 1 {
                findings.report(format!(
                    "{}: the stream jumps from #{last} to #{}",
                    name(&event),
                    event.sequence
                ))?;
            }
            self.previous_position = event.position;
            self.previous_hash = event.hash;
        }
        Ok(())
    }
}

impl Walk<'_> {
    /// Checks every event of the log in order. Three stages overlap: the feed reads batch
    /// k+1 while batch k decodes on a blocking thread and the chain and sequences of batch
    /// k-1 are checked here, in order.
    async fn through(&mut self, log: &EventLog, findings: &mut Findings) -> anyhow::Result<()> {
        let mut batches = std::pin::pin!(log.batches_after(0, FeedFilter::all()));
        let mut decoding: Option<tokio::task::JoinHandle<Decoded>> = None;
        loop {
            let next = batches
                .try_next()
                .await
                .context("cannot read the event log")?
                .map(|batch| tokio::task::spawn_blocking(move || decode(batch)));
            if let Some(decoded) = decoding.take() {
                self.check(decoded.await.context("decoding a batch")?, findings)?;
            }
            match next {
                Some(handle) => decoding = Some(handle),
                None => return Ok(()),
            }
        }
    }
}

/// Reports each view stalled at an event it cannot apply.
async fn report_stalls(database: &Database, findings: &mut Findings) -> anyhow::Result<()> {
    let stalls =
        sablier_projections::stalled_views(&sablier_projections::ViewReader::new(database.clone()))
            .await
            .context("cannot read the views' checkpoints")?;
    for stall in stalls {
        findings.report(stall.to_string())?;
    }
    Ok(())
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
    let mut walk = Walk {
        checked: 0,
        previous_position: 0,
        previous_hash: GENESIS_HASH.to_owned(),
        sequences: HashMap::new(),
        recorded_head: arguments.head.as_deref(),
        recorded_head_seen: arguments.head.as_deref() == Some(GENESIS_HASH),
    };
    walk.through(&log, &mut findings).await?;
    let Walk {
        checked,
        previous_position,
        previous_hash,
        sequences,
        recorded_head_seen,
        ..
    } = walk;
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
    // A view stalled at an event it cannot apply: the log may be sound, the views are not.
    report_stalls(&database, &mut findings).await?;
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
