//! `sablier-replay import FILE`: loads a complete export into an empty database, the one
//! replay tool that writes.
//!
//! The target must hold no log (no event, head at position 0, no view past 0); it is
//! created and migrated if it does not exist yet, and a database that holds anything is
//! refused before it is touched. The file is read line by line (memory stays bounded):
//! its header must name a format version this build reads and a complete export;
//! positions must run 1, 2, 3… and each hash must be the chain's (recomputed as `verify`
//! does), so the imported log verifies clean and keeps the head an analyst may have
//! recorded; the end line must match what was read, or the file was cut short. Everything
//! is written in one transaction, in multi-row statements: any refusal leaves the target
//! as it was. Exit code 0 imported, 2 refused or failed (nothing imported).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use sablier_store::import::{LogImport, ReferenceCounter, why_not_empty};
use sablier_store::seal::{GENESIS_HASH, chain_hash};
use sablier_store::{Database, StoredEvent};
use serde::Deserialize;

use crate::export_format::{END_PREFIX, End, EndLine, EventLine, FORMAT, Header, VERSION};
use crate::outcome::Outcome;
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A complete export written by `sablier-replay export`.
    file: PathBuf,
    /// The database to load into, which must be empty: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
}

pub fn run(arguments: &ImportArgs) -> anyhow::Result<Outcome> {
    super::database::block_on(import(arguments))
}

/// The fields of an `OrderPlaced` payload that fix an order reference counter.
#[derive(Deserialize)]
struct OrderPlacedPayload {
    #[serde(rename = "OrderPlaced")]
    placed: PlacedReference,
}

#[derive(Deserialize)]
struct PlacedReference {
    contract: String,
    reference_month: String,
    reference_sequence: i64,
}

async fn import(arguments: &ImportArgs) -> anyhow::Result<Outcome> {
    let path = &arguments.file;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut lines = std::io::BufReader::with_capacity(1 << 20, file).lines();
    check_header(path, lines.next())?;

    let url = &arguments.database_url;
    let database = Database::connect(url)
        .await
        .with_context(|| format!("cannot open {url}"))?;
    if let Some(reason) = why_not_empty(&database).await? {
        database.close().await;
        bail!("refusing to import into {url}: {reason}; import only into an empty database");
    }
    database
        .migrate()
        .await
        .with_context(|| format!("cannot migrate {url}"))?;
    let mut import = LogImport::begin(&database)
        .await
        .with_context(|| format!("refusing to import into {url}"))?;
    let (read, counters) = import_events(path, lines, &mut import).await?;
    import
        .finish(&counters)
        .await
        .context("committing the import")?;
    database.close().await;
    writeln!(
        std::io::stdout(),
        "imported {} events; head position {} hash {}",
        read.events,
        read.last_position,
        read.last_hash
    )?;
    Ok(Outcome::Clean)
}

/// Refuses a file whose first line is not the header of a complete export in a version
/// this build reads.
fn check_header(path: &Path, first: Option<std::io::Result<String>>) -> anyhow::Result<()> {
    let header = first
        .transpose()
        .with_context(|| format!("reading {}", path.display()))?
        .with_context(|| format!("{} is empty", path.display()))?;
    let header: Header = serde_json::from_str(&header)
        .with_context(|| format!("{}: line 1 is not an export header", path.display()))?;
    if header.format != FORMAT {
        bail!(
            "{}: format '{}', expected '{FORMAT}'",
            path.display(),
            header.format
        );
    }
    if header.version != VERSION {
        bail!(
            "{}: format version {}, this build reads version {VERSION}",
            path.display(),
            header.version
        );
    }
    if !header.complete || !header.selection.is_everything() {
        bail!(
            "{}: a filtered export ({:?}) cannot be imported: only a complete export carries \
             the whole hash chain",
            path.display(),
            header.selection
        );
    }
    Ok(())
}

/// Pushes every event line after the header into `import`, checking positions, the hash
/// chain and the end line; returns what was read and the order reference counters the
/// events fix.
async fn import_events(
    path: &Path,
    lines: impl Iterator<Item = std::io::Result<String>>,
    import: &mut LogImport,
) -> anyhow::Result<(End, Vec<ReferenceCounter>)> {
    let mut read = End {
        events: 0,
        last_position: 0,
        last_hash: GENESIS_HASH.to_owned(),
    };
    let mut counters = Counters::default();
    let mut end: Option<End> = None;
    let progress = Progress::new("import", 0);
    for (index, line) in lines.enumerate() {
        let number = index + 2;
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let place = || format!("{} line {number}", path.display());
        if end.is_some() {
            bail!("{}: nothing may follow the end line", place());
        }
        if line.starts_with(END_PREFIX) {
            let EndLine { end: stated } = serde_json::from_str(&line)
                .with_context(|| format!("{}: unreadable end line", place()))?;
            end = Some(stated);
            continue;
        }
        let event: EventLine<'_> = serde_json::from_str(&line)
            .with_context(|| format!("{}: not an event line", place()))?;
        let event = chained(event, &read).map_err(|error| anyhow!("{}: {error}", place()))?;
        counters
            .count(&event)
            .with_context(|| format!("{}: unreadable OrderPlaced", place()))?;
        read.events += 1;
        read.last_position = event.position;
        read.last_hash.clone_from(&event.hash);
        progress.set(event.position);
        import.push(event).await.context("writing the events")?;
    }
    progress.finish();
    match end {
        None => bail!("{}: no end line: the file was cut short", path.display()),
        Some(stated) if stated != read => bail!(
            "{}: the end line states {stated:?} but the file holds {read:?}",
            path.display()
        ),
        Some(_) => Ok((read, counters.into_rows())),
    }
}

/// The event of `line`, once it is checked to follow `read` without a gap and to carry the
/// chain's hash.
fn chained(line: EventLine<'_>, read: &End) -> anyhow::Result<StoredEvent> {
    if line.position != read.last_position + 1 {
        bail!(
            "position {} follows {}: positions must run without gaps from 1",
            line.position,
            read.last_position
        );
    }
    let event = line.into_stored();
    let sealed = chain_hash(&read.last_hash, event.sealed());
    if sealed != event.hash {
        bail!(
            "position {} ({} {} #{}): the stored hash {} is not the chain's {sealed}: \
             the file was altered, or the log it came from does not verify",
            event.position,
            event.aggregate_type,
            event.aggregate_id,
            event.sequence,
            event.hash
        );
    }
    Ok(event)
}

/// The highest order reference sequence per (contract, month), which the imported
/// database's counters must continue from.
#[derive(Default)]
struct Counters(BTreeMap<(String, String), i64>);

impl Counters {
    fn count(&mut self, event: &StoredEvent) -> serde_json::Result<()> {
        if event.aggregate_type == "Order" && event.event_type == "OrderPlaced" {
            let placed: OrderPlacedPayload = serde_json::from_str(&event.payload)?;
            let counter = self
                .0
                .entry((placed.placed.contract, placed.placed.reference_month))
                .or_insert(0);
            *counter = (*counter).max(placed.placed.reference_sequence);
        }
        Ok(())
    }

    fn into_rows(self) -> Vec<ReferenceCounter> {
        self.0
            .into_iter()
            .map(|((contract_id, month), last_sequence)| ReferenceCounter {
                contract_id,
                month,
                last_sequence,
            })
            .collect()
    }
}
