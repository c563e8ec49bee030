//! `sablier-replay as-of T ...`: a view as it stood at instant T, rebuilt from the events
//! up to T into a scratch database (the live database is only read, its views not at all).
//!
//! "Up to T" means every event whose own instant (`at`, in its payload) is at or before T,
//! applied in position order. Positions follow commit order and an event's instant is
//! taken just before its commit, so this is what the live views held once the commands
//! of instant T had committed. Only the events the view needs are applied: a request's
//! own events for its clocks, a contract's events and its requests' for its list and its
//! billing. An event that cannot be decoded is named on stderr and left out (exit 1).

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use sablier_domain::{ContractId, YearMonth};
use sablier_projections::billing::Billing;
use sablier_projections::request_list::RequestList;
use sablier_projections::request_list::{PageLimit, RequestQuery, RequestRow, SortOrder};
use sablier_projections::sla_clocks::{ClockRow, SlaClocks};
use sablier_projections::{Projection, ViewReader};
use sablier_store::{DEFAULT_DATABASE_URL, EventLog, FeedFilter};
use serde::Serialize;

use super::database::open_existing;
use crate::instants::{format_instant, parse_instant};
use crate::outcome::Outcome;
use crate::scratch::{Fed, Scratch, Target};
use crate::selection::{EventFilter, SelectionArgs};

#[derive(Debug, Args)]
pub struct AsOfArgs {
    /// The instant, RFC 3339.
    #[arg(value_parser = parse_instant)]
    instant: DateTime<Utc>,
    #[command(subcommand)]
    view: AsOfView,
    /// The database to read: sqlite://PATH or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum AsOfView {
    /// A contract's requests (incidents, changes, orders), oldest first, with their
    /// status then: one line each, or one JSON object each with `--json`.
    Requests {
        #[arg(long)]
        contract: String,
        #[arg(long)]
        json: bool,
    },
    /// A request's SLA clocks evaluated at T, explained as `explain` does.
    Clocks {
        request_id: String,
        /// One metric only: GTI, GTD, GTR or delivery.
        #[arg(long)]
        metric: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A contract's billing for a month (YYYY-MM), as JSON.
    Billing {
        #[arg(long)]
        contract: String,
        #[arg(long, value_name = "YYYY-MM")]
        month: String,
    },
}

/// A request as `as-of T requests --json` prints it.
#[derive(Serialize)]
struct ListedRequest<'a> {
    request_id: &'a str,
    kind: &'static str,
    contract_id: &'a str,
    contract_name: Option<&'a str>,
    name: &'a str,
    reference: Option<&'a str>,
    created_at: String,
    created_by: &'a str,
    created_on_behalf_of: Option<&'a str>,
    detailed_status: &'a str,
    portal_status: &'static str,
    last_update_at: String,
    last_position: i64,
}

impl<'a> ListedRequest<'a> {
    fn of(row: &'a RequestRow) -> Self {
        Self {
            request_id: &row.request_id,
            kind: row.kind.as_str(),
            contract_id: row.contract_id.as_str(),
            contract_name: row.contract_name.as_deref(),
            name: &row.name,
            reference: row.reference.as_deref(),
            created_at: format_instant(row.created_at),
            created_by: &row.created_by,
            created_on_behalf_of: row.created_on_behalf_of.as_deref(),
            detailed_status: &row.detailed_status,
            portal_status: row.portal_status.as_str(),
            last_update_at: format_instant(row.last_update_at),
            last_position: row.last_position,
        }
    }
}

pub fn run(arguments: &AsOfArgs) -> anyhow::Result<Outcome> {
    super::database::block_on(as_of(arguments))
}

/// Applies the events up to `instant` that `selection` keeps to the `view` projection in
/// a scratch database.
async fn rebuilt_at(
    log: &EventLog,
    instant: DateTime<Utc>,
    view: Arc<dyn Projection>,
    selection: SelectionArgs,
) -> anyhow::Result<(Scratch, Fed)> {
    let (head, _) = log.head().await.context("cannot read the log's head")?;
    let scratch = Scratch::new().await?;
    let targets = [Target {
        projection: view,
        up_to: head,
    }];
    let mut filter = EventFilter::new(selection);
    let fed = scratch
        .feed(
            log,
            FeedFilter::all(),
            &targets,
            |event| event.at <= instant && filter.keeps(event),
            |_| {},
        )
        .await?;
    for (position, reason) in &fed.damaged {
        eprintln!("sablier-replay: position {position}: unreadable, left out: {reason}");
    }
    Ok((scratch, fed))
}

fn selection(contract: Option<&str>, request: Option<&str>) -> SelectionArgs {
    SelectionArgs {
        contract: contract.map(str::to_owned),
        request: request.map(str::to_owned),
        from: None,
        to: None,
    }
}

async fn as_of(arguments: &AsOfArgs) -> anyhow::Result<Outcome> {
    let instant = arguments.instant;
    let database = open_existing(&arguments.database_url).await?;
    let log = EventLog::new(database.clone());
    let mut out = std::io::stdout().lock();
    let (found, fed) = match &arguments.view {
        AsOfView::Requests { contract, json } => {
            requests_at(&log, instant, contract, *json, &mut out).await?
        }
        AsOfView::Clocks {
            request_id,
            metric,
            json,
        } => {
            clocks_at(
                &log,
                instant,
                request_id,
                metric.as_deref(),
                *json,
                &mut out,
            )
            .await?
        }
        AsOfView::Billing { contract, month } => {
            billing_at(&log, instant, contract, month, &mut out).await?
        }
    };
    database.close().await;
    if !found {
        eprintln!(
            "sablier-replay: nothing to show as of {}: unknown, or not yet there then",
            format_instant(instant)
        );
    }
    Ok(if found && fed.damaged.is_empty() {
        Outcome::Clean
    } else {
        Outcome::ProblemsFound
    })
}

/// Prints the contract's requests as they were listed at `instant`, oldest first; tells
/// whether there was any.
async fn requests_at(
    log: &EventLog,
    instant: DateTime<Utc>,
    contract: &str,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<(bool, Fed)> {
    let mut query = RequestQuery::for_staff();
    query.contract =
        Some(ContractId::parse(contract).map_err(|error| anyhow!("--contract: {error}"))?);
    query.sort = SortOrder::OldestFirst;
    query.limit = PageLimit::new(PageLimit::MAX)?;
    let (scratch, fed) = rebuilt_at(
        log,
        instant,
        Arc::new(RequestList),
        selection(Some(contract), None),
    )
    .await?;
    let reader = ViewReader::new(scratch.database.clone());
    let mut found = false;
    loop {
        let page = RequestList::page(&reader, &query)
            .await
            .context("reading the rebuilt request list")?;
        for row in &page.rows {
            found = true;
            let listed = ListedRequest::of(row);
            if json {
                writeln!(out, "{}", serde_json::to_string(&listed)?)?;
            } else {
                writeln!(
                    out,
                    "{}  {}  {}  {} ({})  {}",
                    listed.created_at,
                    listed.request_id,
                    listed.kind,
                    listed.portal_status,
                    listed.detailed_status,
                    listed.name
                )?;
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    scratch.close().await;
    Ok((found, fed))
}

/// Prints the request's clocks (or one metric's) as they stood at `instant`.
async fn clocks_at(
    log: &EventLog,
    instant: DateTime<Utc>,
    request_id: &str,
    metric: Option<&str>,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<(bool, Fed)> {
    let (scratch, fed) = rebuilt_at(
        log,
        instant,
        Arc::new(SlaClocks),
        selection(None, Some(request_id)),
    )
    .await?;
    let reader = ViewReader::new(scratch.database.clone());
    let clocks = SlaClocks::for_request(&reader, request_id)
        .await
        .context("reading the rebuilt SLA clocks")?;
    scratch.close().await;
    let clocks: Vec<&ClockRow> = clocks
        .iter()
        .filter(|clock| metric.is_none_or(|metric| clock.metric.eq_ignore_ascii_case(metric)))
        .collect();
    super::explain::print_clocks(&clocks, instant, json, out)?;
    Ok((!clocks.is_empty(), fed))
}

/// Prints the contract's bill for `month` as it stood at `instant`.
async fn billing_at(
    log: &EventLog,
    instant: DateTime<Utc>,
    contract: &str,
    month: &str,
    out: &mut impl Write,
) -> anyhow::Result<(bool, Fed)> {
    let contract_id =
        ContractId::parse(contract).map_err(|error| anyhow!("--contract: {error}"))?;
    let month: YearMonth = month.parse().map_err(|error| anyhow!("--month: {error}"))?;
    let (scratch, fed) = rebuilt_at(
        log,
        instant,
        Arc::new(Billing::default()),
        selection(Some(contract), None),
    )
    .await?;
    let reader = ViewReader::new(scratch.database.clone());
    let bill = Billing::month(&reader, &contract_id, month)
        .await
        .context("reading the rebuilt billing")?;
    scratch.close().await;
    if let Some(bill) = &bill {
        writeln!(out, "{}", serde_json::to_string(bill)?)?;
    }
    Ok((bill.is_some(), fed))
}
