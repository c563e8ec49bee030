//! The projections benchmark (issue 4), one phase per process so each reports its own peak
//! memory (`VmHWM`):
//!
//! - `generate URL N`: writes a realistic log of about N events (10,000 contracts with
//!   users and tier changes; incidents walked through their lifecycle; changes; orders),
//!   produced by the real aggregates in memory and appended in large batches.
//! - `baseline URL`: streams the whole log and decodes every event, nothing else.
//! - `rebuild URL`: resets every projection and rebuilds it from position 0.
//! - `floor URL [INTO]` (SQLite, views of URL already rebuilt): writes the views' rows into
//!   emptied views (URL's own, or those of INTO, a copy of the same log) and nothing else:
//!   what no rebuild can beat (`scripts/bench-write-floor.sh`).
//! - `lag URL RATE SECONDS`: commands at RATE per second for SECONDS while a projector
//!   follows; reports the commit-to-visible lag percentiles.
//!
//! `scripts/bench-projections.sh` runs them all; figures go to docs/benchmarks.md.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark reports its figures on stdout"
)]

/// As in the binaries that run the projector (`sablier`, `sablier-replay`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Duration as Span, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::SerializedEvent;
use cqrs_es::{Aggregate, DomainEvent as _};
use futures::TryStreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sablier_domain::change::{ArticleRef, Change, ChangeCommand, ChangeForm, LeadTime};
use sablier_domain::contract::{
    Contract, ContractCommand, DeclareUser, DeclaredUser, Offer, SectionRole, SectionRoles,
};
use sablier_domain::incident::{Incident, IncidentCommand, PauseReason};
use sablier_domain::order::{
    Civility, Order, OrderCommand, OrderContact, PlaceOrder, ServiceItemId,
};
use sablier_domain::services::ContractAt;
use sablier_domain::testing::TestServices;
use sablier_domain::text::{AssetRef, Email, FreeText, Login, Name, PhoneNumber, Title};
use sablier_domain::{
    Actor, ActorRole, Authored, ChangeId, Channel, CommandContext, ContractId, IncidentId, OrderId,
    Services,
};
use sablier_projections::{FeedEvent, Projector, catalogue, snapshot};
use sablier_sla::{Priority, Tier};
use sablier_store::{Database, EventLog, FeedFilter};

fn peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Appends the events of one command to the pending batch, with its sequence numbers.
struct Writer {
    log: EventLog,
    sequences: HashMap<String, usize>,
    pending: Vec<SerializedEvent>,
    written: usize,
    metadata: serde_json::Value,
}

impl Writer {
    fn push<A: Aggregate>(&mut self, id: &str, events: Vec<A::Event>) {
        for event in events {
            let sequence = self.sequences.entry(id.to_owned()).or_default();
            *sequence += 1;
            self.pending.push(SerializedEvent::new(
                id.to_owned(),
                *sequence,
                A::TYPE.to_owned(),
                event.event_type(),
                event.event_version(),
                serde_json::to_value(&event).unwrap(),
                self.metadata.clone(),
            ));
        }
    }

    async fn flush_if_full(&mut self) {
        if self.pending.len() >= 5000 {
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        self.written += self.pending.len();
        self.log
            .append(&self.pending)
            .await
            .expect("the batch is appended");
        self.pending.clear();
    }
}

async fn decide<A: Aggregate<Services = Services, Command = Authored<C>>, C>(
    aggregate: &mut A,
    services: &Services,
    by: &Actor,
    command: C,
) -> Vec<A::Event>
where
    A::Error: std::fmt::Debug,
{
    let sink = EventSink::default();
    aggregate
        .handle(Authored::new(by.clone(), command), services, &sink)
        .await
        .expect("a valid generated command");
    sink.collect().await
}

fn actor(login: &str, role: ActorRole) -> Actor {
    Actor::new(Login::parse(login).unwrap(), role)
}

/// A request being walked through its lifecycle, one command per step.
enum Walk {
    Incident {
        id: IncidentId,
        state: Incident,
        step: usize,
    },
    Change {
        id: ChangeId,
        state: Change,
        step: usize,
    },
    Order {
        id: OrderId,
        state: Order,
        step: usize,
    },
}

async fn generate(database: &Database, target_events: usize) {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(2026);
    let start = Utc.with_ymd_and_hms(2026, 1, 5, 7, 0, 0).unwrap();
    let fakes = TestServices::at(start);
    let services = fakes.services.clone();
    let admin = actor("sablier.admin", ActorRole::Admin);
    let agent = actor("agent.martin", ActorRole::Agent);
    let customer = actor("jean.dupont", ActorRole::Customer);
    let context = CommandContext::new(agent.clone(), Channel::Api, "bench-generate");
    let mut writer = Writer {
        log: EventLog::new(database.clone()),
        sequences: HashMap::new(),
        pending: Vec::new(),
        written: 0,
        metadata: serde_json::to_value(context.to_metadata()).unwrap(),
    };

    let tiers = [Tier::Standard, Tier::Bronze, Tier::Silver, Tier::Gold];
    let mut contracts = Vec::new();
    for n in 0..10_000u32 {
        let id = ContractId::parse(format!("OCB{:07}", n + 1)).unwrap();
        let tier = tiers[n as usize % 4];
        let referent = Login::parse(format!("referent{n:05}")).unwrap();
        let mut contract = Contract::default();
        let create = ContractCommand::CreateContract {
            contract_id: id.clone(),
            name: Title::parse(format!("SI_{n}")).unwrap(),
            offer: Offer::FlexibleComputingAdvanced,
            company: Name::parse(format!("Company {n}")).unwrap(),
            time_zone: Paris,
            tier,
            referent: DeclaredUser {
                login: referent.clone(),
                email: Email::parse(format!("referent{n:05}@example.fr")).unwrap(),
                first_name: Name::parse("Jean").unwrap(),
                last_name: Name::parse("Dupont").unwrap(),
            },
        };
        let mut events = decide(&mut contract, &services, &admin, create).await;
        let declare = ContractCommand::DeclareUser(DeclareUser {
            login: Login::parse(format!("visitor{n:05}")).unwrap(),
            email: Email::parse(format!("visitor{n:05}@example.fr")).unwrap(),
            first_name: Name::parse("Paul").unwrap(),
            last_name: Name::parse("Martin").unwrap(),
            roles: SectionRoles::uniform(SectionRole::Visitor),
        });
        events.extend(decide(&mut contract, &services, &admin, declare).await);
        if tier < Tier::Gold && n % 5 == 0 {
            let upgrade = ContractCommand::UpgradeSupportTier { to: Tier::Gold };
            events.extend(decide(&mut contract, &services, &admin, upgrade).await);
        }
        writer.push::<Contract>(id.as_str(), events);
        fakes.contracts.insert(ContractAt {
            id: id.clone(),
            name: Title::parse(format!("SI_{n}")).unwrap(),
            offer: Offer::FlexibleComputingAdvanced,
            time_zone: Paris,
            tier,
        });
        contracts.push(id);
        writer.flush_if_full().await;
    }

    let text = |value: &str| FreeText::parse(value).unwrap();
    let mut active: Vec<Walk> = Vec::new();
    let mut now = start;
    while writer.written + writer.pending.len() < target_events {
        now += Span::seconds(rng.gen_range(1..20));
        fakes.clock.set(now);
        if active.len() < 64 {
            let contract = contracts[rng.gen_range(0..contracts.len())].clone();
            let walk = match rng.gen_range(0..10) {
                0..=6 => {
                    let id = IncidentId::generate();
                    let mut state = Incident::default();
                    let open = IncidentCommand::Open {
                        incident_id: id.clone(),
                        contract_id: contract,
                        priority: Priority::ALL[rng.gen_range(0..4)],
                        title: Title::parse("Generated incident").unwrap(),
                        description: text("Generated for the benchmark"),
                    };
                    let events = decide(&mut state, &services, &customer, open).await;
                    writer.push::<Incident>(id.as_str(), events);
                    Walk::Incident { id, state, step: 0 }
                }
                7..=8 => {
                    let id = ChangeId::generate();
                    let mut state = Change::default();
                    let submit = ChangeCommand::Submit {
                        change_id: id.clone(),
                        contract,
                        form: ChangeForm {
                            asset: Some(
                                AssetRef::parse(format!("vm-{}", rng.gen_range(0..100))).unwrap(),
                            ),
                            article: Some(ArticleRef {
                                catalogue: Title::parse("Catalogue de Changement Standard")
                                    .unwrap(),
                                category: Title::parse("Quotas").unwrap(),
                                article: Title::parse("Modifier mes quotas").unwrap(),
                            }),
                            lead_time: Some(LeadTime::Standard),
                            ..ChangeForm::default()
                        },
                    };
                    let events = decide(&mut state, &services, &customer, submit).await;
                    writer.push::<Change>(id.as_str(), events);
                    Walk::Change { id, state, step: 0 }
                }
                _ => {
                    let id = OrderId::generate();
                    let mut state = Order::default();
                    let place = OrderCommand::PlaceOrder(PlaceOrder {
                        order_id: id.clone(),
                        contract,
                        item: ServiceItemId::parse("pack-expert-4h").unwrap(),
                        contact: OrderContact {
                            civility: Civility::Mr,
                            last_name: Name::parse("Dupont").unwrap(),
                            first_name: Name::parse("Jean").unwrap(),
                            email: Email::parse("jean.dupont@example.fr").unwrap(),
                            landline: None,
                            mobile: Some(PhoneNumber::parse("0612345678").unwrap()),
                        },
                        comments: None,
                    });
                    let events = decide(&mut state, &services, &customer, place).await;
                    writer.push::<Order>(id.as_str(), events);
                    Walk::Order { id, state, step: 0 }
                }
            };
            active.push(walk);
            continue;
        }
        let index = rng.gen_range(0..active.len());
        let finished = match &mut active[index] {
            Walk::Incident { id, state, step } => {
                *step += 1;
                let command = match *step {
                    1 => Some((&agent, IncidentCommand::StartIntervention)),
                    2 => Some((
                        &agent,
                        IncidentCommand::AwaitCustomer {
                            reason: PauseReason::awaiting_customer(),
                        },
                    )),
                    3 => Some((&customer, IncidentCommand::RecordCustomerResponse)),
                    4 => Some((
                        &agent,
                        IncidentCommand::ShareDiagnosis {
                            diagnosis: text("found"),
                        },
                    )),
                    5 => Some((
                        &agent,
                        IncidentCommand::Restore {
                            resolution: text("fixed"),
                        },
                    )),
                    6 => Some((&customer, IncidentCommand::Close)),
                    _ => None,
                };
                match command {
                    Some((by, command)) => {
                        let events = decide(state, &services, by, command).await;
                        writer.push::<Incident>(id.as_str(), events);
                        false
                    }
                    None => true,
                }
            }
            Walk::Change { id, state, step } => {
                *step += 1;
                let command = match *step {
                    1 => Some(ChangeCommand::Start),
                    2 => Some(ChangeCommand::Complete { note: None }),
                    _ => None,
                };
                match command {
                    Some(command) => {
                        let events = decide(state, &services, &agent, command).await;
                        writer.push::<Change>(id.as_str(), events);
                        false
                    }
                    None => true,
                }
            }
            Walk::Order { id, state, step } => {
                *step += 1;
                let command = match *step {
                    1 => Some(OrderCommand::Start),
                    2 => Some(OrderCommand::Complete { note: None }),
                    _ => None,
                };
                match command {
                    Some(command) => {
                        let events = decide(state, &services, &agent, command).await;
                        writer.push::<Order>(id.as_str(), events);
                        false
                    }
                    None => true,
                }
            }
        };
        if finished {
            active.swap_remove(index);
        }
        writer.flush_if_full().await;
    }
    writer.flush().await;
    println!(
        "generate: {} events in {:.1} s ({:.0} events/s), peak memory {:.0} MiB",
        writer.written,
        started.elapsed().as_secs_f64(),
        writer.written as f64 / started.elapsed().as_secs_f64(),
        peak_memory_mib()
    );
}

async fn baseline(database: &Database) {
    let log = EventLog::new(database.clone());
    let started = Instant::now();
    let mut events = std::pin::pin!(log.stream_after(0, FeedFilter::all()));
    let mut count = 0u64;
    while let Some(stored) = events.try_next().await.unwrap() {
        let decoded = FeedEvent::decode(&stored).expect("every event decodes");
        std::hint::black_box(decoded);
        count += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "baseline (read + decode): {count} events in {seconds:.1} s = {:.0} events/s, peak memory {:.0} MiB",
        count as f64 / seconds,
        peak_memory_mib()
    );
}

/// The views to rebuild: all, or those named in `SABLIER_BENCH_VIEWS` (comma-separated), to
/// see what each one costs.
fn selected_views() -> Vec<Arc<dyn sablier_projections::Projection>> {
    let names = std::env::var("SABLIER_BENCH_VIEWS").unwrap_or_default();
    catalogue::all()
        .into_iter()
        .filter(|view| names.is_empty() || names.split(',').any(|name| name == view.name()))
        .collect()
}

async fn rebuild(database: &Database) {
    let views = selected_views();
    let names: Vec<&str> = views.iter().map(|view| view.name()).collect();
    println!("rebuilding {}", names.join(", "));
    let mut projector = Projector::new(EventLog::new(database.clone()), views);
    if let Ok(size) = std::env::var("SABLIER_BENCH_BATCH") {
        projector = projector.with_batch_size(size.parse().expect("a batch size"));
    }
    if let Ok(millis) = std::env::var("SABLIER_BENCH_SPAN_MS") {
        let millis = millis.parse().expect("a transaction span in milliseconds");
        projector = projector.with_transaction_span(Duration::from_millis(millis));
    }
    projector.reset(&[]).await.unwrap();
    let started = Instant::now();
    let position = projector.catch_up().await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rebuild ({} views): {position} events in {seconds:.1} s = {:.0} events/s, peak memory {:.0} MiB",
        names.len(),
        position as f64 / seconds,
        peak_memory_mib()
    );
}

/// The floor under a rebuild on SQLite: every view's rows, read beforehand in key order,
/// written into emptied views (the reset a rebuild starts with) in one transaction,
/// through one kept one-row statement per table. No reading of the log, no decoding, no
/// view logic: only what SQLite must do to store the rows, in the order that costs it
/// least. The views written are `into`'s (a copy of the same log whose views were never
/// filled: the file grows as a first rebuild's does), or `database`'s own (their pages
/// freed by the reset and reused, as a rebuild over earlier views does). Their checkpoints
/// end where `database`'s were.
async fn floor(database: &Database, into: Option<&Database>) {
    use rusqlite::types::Value;
    use sablier_store::database::open_sqlite_file;
    let Some(path) = database.sqlite_file() else {
        eprintln!("floor: an SQLite file (PostgreSQL: scripts/bench-write-floor.sh)");
        return;
    };
    let views = catalogue::all();
    let tables: Vec<&str> = views
        .iter()
        .flat_map(|view| view.tables().iter().copied())
        .collect();
    let reading = open_sqlite_file(&path, true).expect("the database opens");
    let checkpoints: Vec<(String, i64)> = reading
        .prepare("SELECT name, position FROM projection_checkpoints")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let events = checkpoints
        .iter()
        .map(|(_, position)| *position)
        .min()
        .unwrap_or(0);
    assert!(events > 0, "floor: rebuild the views first");
    let mut loaded: Vec<(&str, String, Vec<Vec<Value>>)> = Vec::new();
    for table in &tables {
        let layout = snapshot::sqlite_layout(database, table).await.unwrap();
        let columns: Vec<&str> = layout.iter().map(|column| column.name.as_str()).collect();
        let key: Vec<&str> = layout
            .iter()
            .filter(|column| column.key > 0)
            .map(|column| column.name.as_str())
            .collect();
        let columns = columns.join(", ");
        let mut select = reading
            .prepare(&format!(
                "SELECT {columns} FROM {table} ORDER BY {}",
                key.join(", ")
            ))
            .unwrap();
        let width = layout.len();
        let rows: Vec<Vec<Value>> = select
            .query_map([], |row| (0..width).map(|column| row.get(column)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        loaded.push((table, columns, rows));
    }
    drop(reading);
    let into = into.unwrap_or(database);
    let Some(path) = into.sqlite_file() else {
        eprintln!("floor: into an SQLite file");
        return;
    };
    Projector::new(EventLog::new(into.clone()), views)
        .reset(&[])
        .await
        .unwrap();
    let rows: usize = loaded.iter().map(|(_, _, rows)| rows.len()).sum();
    let started = Instant::now();
    let mut connection = open_sqlite_file(&path, false).expect("the database opens");
    let tx = connection.transaction().unwrap();
    for (table, columns, rows) in &loaded {
        let placeholders = vec!["?"; columns.split(", ").count()].join(", ");
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO {table} ({columns}) VALUES ({placeholders})"
            ))
            .unwrap();
        for row in rows {
            insert.execute(rusqlite::params_from_iter(row)).unwrap();
        }
    }
    for (name, position) in &checkpoints {
        tx.execute(
            "UPDATE projection_checkpoints SET position = ?1 WHERE name = ?2",
            rusqlite::params![position, name],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "floor (the views' {rows} rows written, nothing else): the {events} events' views in {seconds:.1} s = {:.0} events/s",
        events as f64 / seconds
    );
}

async fn lag(database: &Database, rate: u64, seconds: u64) {
    let log = EventLog::new(database.clone());
    let fakes = TestServices::at(Utc::now());
    let services = sablier_store::ports::services(
        &log,
        fakes.services.clock.clone(),
        fakes.services.policies.clone(),
        Default::default(),
    );
    let engine = Arc::new(sablier_store::Engine::new(log.clone(), services));
    let projector = Arc::new(Projector::new(log.clone(), catalogue::all()));
    projector.catch_up().await.unwrap();
    let reached = projector.reached();
    let waker = projector.waker();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let follower = {
        let projector = projector.clone();
        tokio::spawn(async move { projector.follow(Duration::from_millis(50), stopped).await })
    };
    let contract = ContractId::parse("OCB0000001").unwrap();
    let customer = actor("jean.dupont", ActorRole::Customer);
    let context = CommandContext::new(customer.clone(), Channel::Api, "bench-lag");
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticker = tokio::time::interval(interval);
    let mut waits = Vec::new();
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        ticker.tick().await;
        let id = IncidentId::generate();
        let open = IncidentCommand::Open {
            incident_id: id.clone(),
            contract_id: contract.clone(),
            priority: Priority::P2,
            title: Title::parse("Lag probe").unwrap(),
            description: FreeText::parse("Lag probe").unwrap(),
        };
        let committed = engine
            .incidents
            .execute(id.as_str(), Authored::new(customer.clone(), open), &context)
            .await
            .unwrap();
        let committed_at = Instant::now();
        let position = committed.last_position().unwrap();
        waker.notify_one();
        let mut reached = reached.clone();
        waits.push(tokio::spawn(async move {
            reached
                .wait_for(|reached| *reached >= position)
                .await
                .unwrap();
            committed_at.elapsed()
        }));
    }
    let mut lags = Vec::new();
    for wait in waits {
        lags.push(wait.await.unwrap());
    }
    let _ = stop.send(true);
    follower.await.unwrap();
    lags.sort();
    let percentile = |p: f64| lags[((lags.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "lag at {rate} commands/s for {seconds} s ({} commands): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lags.len(),
        percentile(0.5),
        percentile(0.99),
        percentile(1.0)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(mode) = args.first() else {
        eprintln!(
            "usage: projections generate URL N | baseline URL | rebuild URL | floor URL [INTO] | lag URL RATE SECONDS"
        );
        return;
    };
    let database = Database::connect_and_migrate(&args[1])
        .await
        .expect("the database opens");
    match mode.as_str() {
        "generate" => generate(&database, args[2].parse().unwrap()).await,
        "baseline" => baseline(&database).await,
        "rebuild" => rebuild(&database).await,
        "floor" => {
            let into = match args.get(2) {
                Some(url) => Some(
                    Database::connect_and_migrate(url)
                        .await
                        .expect("the database opens"),
                ),
                None => None,
            };
            floor(&database, into.as_ref()).await;
            if let Some(into) = into {
                into.close().await;
            }
        }
        "lag" => {
            lag(
                &database,
                args[2].parse().unwrap(),
                args[3].parse().unwrap(),
            )
            .await
        }
        other => eprintln!("unknown mode {other}"),
    }
    database.close().await;
}
