//! `sablier-replay rebuild`: rebuilds every view from the log into a scratch database and
//! compares it, row by row, with the live views. Read-only on the live database.
//!
//! Each view is rebuilt up to the position its live checkpoint says it has applied, so a
//! view that lags the log is compared with what it should hold at that position, not
//! reported as drift. Tables are read in key order on both sides (text compared byte by
//! byte on either backend) and merged, so memory stays bounded whatever their size. Each
//! differing row is named by its table and key, with the columns that differ. An event
//! the rebuild cannot decode is named and left out, and the comparison goes on. If a
//! projector moved the live views meanwhile, a warning says the comparison may show its
//! work. Exit code 0 no drift, 1 drift or damaged events, 2 could not run.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Write;

use anyhow::Context;
use clap::Args;
use futures::TryStreamExt;
use sablier_projections::snapshot::{Column, rows_in_key_order_sql, sqlite_layout, stream_rows};
use sablier_projections::{Checkpoints, ViewReader, catalogue};
use sablier_store::{DEFAULT_DATABASE_URL, Database, EventLog, FeedFilter};
use serde_json::Value;

use super::database::open_existing;
use crate::outcome::Outcome;
use crate::progress::Progress;
use crate::scratch::{Fed, Scratch, Target};

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// The database whose views to check (read-only): sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

pub fn run(arguments: &RebuildArgs) -> anyhow::Result<Outcome> {
    super::database::block_on(rebuild(arguments))
}

/// Each projection's live checkpoint (0 when it never ran).
async fn checkpoints(database: &Database) -> anyhow::Result<HashMap<String, i64>> {
    let checkpoints = Checkpoints::read(&ViewReader::new(database.clone()))
        .await
        .context("cannot read the projection checkpoints")?;
    Ok(checkpoints
        .iter()
        .map(|checkpoint| (checkpoint.view.clone(), checkpoint.position))
        .collect())
}

async fn rebuild(arguments: &RebuildArgs) -> anyhow::Result<Outcome> {
    let live = open_existing(&arguments.database_url).await?;
    let log = EventLog::new(live.clone());
    let (head, _) = log.head().await.context("cannot read the log's head")?;
    let before = checkpoints(&live).await?;
    let targets = targets_up_to(&before, head);
    let scratch = Scratch::new().await?;
    let progress = Progress::new("rebuild", head);
    let fed = scratch
        .feed(
            &log,
            FeedFilter::all(),
            &targets,
            |_| true,
            |position| progress.set(position),
        )
        .await?;
    progress.finish();
    let mut out = std::io::stdout().lock();
    let mut problems = report_stalls_and_damage(&live, &fed, &mut out).await?;
    for target in &targets {
        for table in target.projection.tables() {
            problems += compare_table(&live, &scratch.database, table, &mut out).await?;
        }
    }
    scratch.close().await;
    if checkpoints(&live).await? != before {
        eprintln!(
            "sablier-replay: warning: a projector moved the views during the comparison; \
             differences may be its work: run again with the projector stopped"
        );
    }
    live.close().await;
    writeln!(
        out,
        "rebuilt {} views from {} events and compared them with the live views: {}",
        targets.len(),
        fed.applied,
        match problems {
            0 => "no drift".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    )?;
    Ok(if problems == 0 {
        Outcome::Clean
    } else {
        Outcome::ProblemsFound
    })
}

/// Every view, to be compared up to its live checkpoint; says on stderr which views have
/// not applied the whole log.
fn targets_up_to(before: &HashMap<String, i64>, head: i64) -> Vec<Target> {
    let targets: Vec<Target> = catalogue::all()
        .into_iter()
        .map(|projection| {
            let up_to = before.get(projection.name()).copied().unwrap_or(0);
            Target { projection, up_to }
        })
        .collect();
    for target in &targets {
        if target.up_to != head {
            eprintln!(
                "sablier-replay: the view {} has applied the log up to position {} of {head}: \
                 compared with a rebuild up to {}",
                target.projection.name(),
                target.up_to,
                target.up_to
            );
        }
    }
    targets
}

/// Reports each stalled live view and each event the rebuild could not read; returns how
/// many.
async fn report_stalls_and_damage(
    live: &Database,
    fed: &Fed,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let mut problems = 0_usize;
    for stall in sablier_projections::stalled_views(&ViewReader::new(live.clone()))
        .await
        .context("cannot read the views' checkpoints")?
    {
        problems += 1;
        writeln!(
            out,
            "{stall}; its rows are compared up to position {}",
            stall.position
        )?;
    }
    for (position, reason) in &fed.damaged {
        problems += 1;
        writeln!(
            out,
            "position {position}: unreadable, left out of the rebuild: {reason}"
        )?;
    }
    Ok(problems)
}

/// Merges the live and rebuilt rows of `table` in key order and reports each difference;
/// returns how many.
async fn compare_table(
    live: &Database,
    rebuilt: &Database,
    table: &str,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let columns = sqlite_layout(rebuilt, table).await?;
    let keys = columns.iter().filter(|column| column.key > 0).count();
    let live_sql = rows_in_key_order_sql(live, table, &columns);
    let rebuilt_sql = rows_in_key_order_sql(rebuilt, table, &columns);
    let mut live_rows = stream_rows(live, &live_sql);
    let mut rebuilt_rows = stream_rows(rebuilt, &rebuilt_sql);
    let context = || format!("reading the view table {table}");
    let mut live_row = live_rows.try_next().await.with_context(context)?;
    let mut rebuilt_row = rebuilt_rows.try_next().await.with_context(context)?;
    let mut differences = 0;
    loop {
        let order = match (&live_row, &rebuilt_row) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(live), Some(rebuilt)) => compare_keys(&live[..keys], &rebuilt[..keys]),
        };
        match order {
            Ordering::Less => {
                let row = live_row.take().unwrap_or_default();
                differences += 1;
                writeln!(
                    out,
                    "{table} {}: in the live view, not in the rebuild: {}",
                    key_text(&columns, &row),
                    row_text(&columns, &row)
                )?;
                live_row = live_rows.try_next().await.with_context(context)?;
            }
            Ordering::Greater => {
                let row = rebuilt_row.take().unwrap_or_default();
                differences += 1;
                writeln!(
                    out,
                    "{table} {}: missing from the live view: {}",
                    key_text(&columns, &row),
                    row_text(&columns, &row)
                )?;
                rebuilt_row = rebuilt_rows.try_next().await.with_context(context)?;
            }
            Ordering::Equal => {
                let (live, rebuilt) = (
                    live_row.take().unwrap_or_default(),
                    rebuilt_row.take().unwrap_or_default(),
                );
                let differing: Vec<String> = columns
                    .iter()
                    .zip(live.iter().zip(&rebuilt))
                    .filter(|(_, (live, rebuilt))| live != rebuilt)
                    .map(|(column, (live, rebuilt))| {
                        format!("{} is {live} live, {rebuilt} rebuilt", column.name)
                    })
                    .collect();
                if !differing.is_empty() {
                    differences += 1;
                    writeln!(
                        out,
                        "{table} {}: differs: {}",
                        key_text(&columns, &live),
                        differing.join("; ")
                    )?;
                }
                live_row = live_rows.try_next().await.with_context(context)?;
                rebuilt_row = rebuilt_rows.try_next().await.with_context(context)?;
            }
        }
    }
    Ok(differences)
}

/// Key order as both backends read it: text byte by byte, numbers by value, null first.
fn compare_keys(left: &[Value], right: &[Value]) -> Ordering {
    for (left, right) in left.iter().zip(right) {
        let order = match (left, right) {
            (Value::String(left), Value::String(right)) => left.as_bytes().cmp(right.as_bytes()),
            (Value::Number(left), Value::Number(right)) => left
                .as_i64()
                .cmp(&right.as_i64())
                .then_with(|| left.to_string().cmp(&right.to_string())),
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Less,
            (_, Value::Null) => Ordering::Greater,
            (left, right) => left.to_string().cmp(&right.to_string()),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

fn key_text(columns: &[Column], row: &[Value]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .zip(row)
        .filter(|(column, _)| column.key > 0)
        .map(|(column, value)| format!("{}={value}", column.name))
        .collect();
    format!("({})", parts.join(", "))
}

fn row_text(columns: &[Column], row: &[Value]) -> String {
    let object: serde_json::Map<String, Value> = columns
        .iter()
        .zip(row)
        .map(|(column, value)| (column.name.clone(), value.clone()))
        .collect();
    Value::Object(object).to_string()
}
