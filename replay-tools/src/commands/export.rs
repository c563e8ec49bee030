//! `sablier-replay export`: the log, or the part of it a dispute needs, as JSON Lines
//! (`replay-tools/docs/export-format.md`).
//!
//! The log is read once, in position order, in bounded batches, up to the head it had when
//! the export started (events appended meanwhile are left for the next export). A complete
//! export copies every stored row as it is, damaged ones included (`verify` is the tool
//! that judges them), and is what `import` accepts. A filtered export decodes the events
//! it must judge by instant or contract; an event that cannot be decoded is named on
//! stderr and left out, and the export goes on (exit 1).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use futures::TryStreamExt;
use sablier_projections::FeedEvent;
use sablier_store::seal::GENESIS_HASH;
use sablier_store::{DEFAULT_DATABASE_URL, EventLog, FeedFilter};

use super::database::open_existing;
use crate::export_format::{END_PREFIX, End, EndLine, EventLine, FORMAT, Header, VERSION};
use crate::outcome::Outcome;
use crate::progress::Progress;
use crate::selection::{EventFilter, SelectionArgs};

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    selection: SelectionArgs,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The database to read: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

pub fn run(arguments: &ExportArgs) -> anyhow::Result<Outcome> {
    let out: Box<dyn Write> = match &arguments.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let out = std::io::BufWriter::with_capacity(1 << 20, out);
    super::database::block_on(export(arguments, out))
}

async fn export(arguments: &ExportArgs, mut out: impl Write) -> anyhow::Result<Outcome> {
    let database = open_existing(&arguments.database_url).await?;
    let log = EventLog::new(database.clone());
    let (head, _) = log.head().await.context("cannot read the log's head")?;
    let selection = &arguments.selection;
    let header = Header {
        format: FORMAT.to_owned(),
        version: VERSION,
        complete: selection.is_everything(),
        selection: selection.describe(),
    };
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n")?;

    let mut filter = EventFilter::new(selection.clone());
    let mut damaged = 0_u64;
    let mut end = End {
        events: 0,
        last_position: 0,
        last_hash: GENESIS_HASH.to_owned(),
    };
    let progress = Progress::new("export", head);
    let mut events = std::pin::pin!(log.stream_after(0, FeedFilter::all()));
    while let Some(event) = events
        .try_next()
        .await
        .context("cannot read the event log")?
    {
        if event.position > head {
            break;
        }
        progress.set(event.position);
        if !filter.keeps_id(&event.aggregate_id) {
            continue;
        }
        if selection.needs_decoding() {
            match FeedEvent::decode(&event) {
                Ok(decoded) if filter.keeps(&decoded) => {}
                Ok(_) => continue,
                Err(error) => {
                    damaged += 1;
                    progress.suspend(|| {
                        eprintln!(
                            "sablier-replay: position {} ({} {} #{}) left out, unreadable: {error}",
                            event.position,
                            event.aggregate_type,
                            event.aggregate_id,
                            event.sequence
                        );
                    });
                    continue;
                }
            }
        }
        serde_json::to_writer(&mut out, &EventLine::of(&event))?;
        out.write_all(b"\n")?;
        end.events += 1;
        end.last_position = event.position;
        end.last_hash = event.hash;
    }
    progress.finish();
    database.close().await;
    let end = serde_json::to_string(&EndLine { end })?;
    debug_assert!(end.starts_with(END_PREFIX));
    out.write_all(end.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush().context("writing the export")?;
    Ok(if damaged == 0 {
        Outcome::Clean
    } else {
        Outcome::ProblemsFound
    })
}
