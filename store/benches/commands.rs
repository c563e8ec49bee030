//! Command throughput and latency through the full stack (load, decide, append with the
//! hash chain), beside a baseline that inserts the same rows with plain SQL in one
//! autocommit statement each, measured in the same run on the same database.
//!
//! `cargo bench -p sablier-store --bench commands` (SQLite; PostgreSQL too when
//! `SABLIER_TEST_POSTGRES_URL` is set). `SABLIER_BENCH_OPS` sets the commands per scenario.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark reports its figures on stdout"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use chrono_tz::Europe::Paris;
use sablier_domain::contract::{Contract, ContractCommand, DeclaredUser, Offer};
use sablier_domain::incident::{Incident, IncidentCommand};
use sablier_domain::services::{DomainSettings, StaticPolicyBook};
use sablier_domain::text::{Email, FreeText, IncidentComment, Login, Name, Title};
use sablier_domain::{
    Actor, ActorRole, Authored, Channel, CommandContext, ContractId, FixedClock, IncidentId,
};
use sablier_sla::{Priority, Tier};
use sablier_store::testing::TestDatabase;
use sablier_store::{CommandBus, Database, EventLog, ports};

const BASELINE_TABLE_SQLITE: &str = "CREATE TABLE baseline_events (aggregate_type TEXT NOT NULL, \
    aggregate_id TEXT NOT NULL, sequence INTEGER NOT NULL, event_type TEXT NOT NULL, \
    event_version TEXT NOT NULL, payload TEXT NOT NULL, metadata TEXT NOT NULL, \
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)) STRICT";
const BASELINE_TABLE_POSTGRES: &str = "CREATE TABLE baseline_events (aggregate_type TEXT NOT NULL, \
    aggregate_id TEXT NOT NULL, sequence BIGINT NOT NULL, event_type TEXT NOT NULL, \
    event_version TEXT NOT NULL, payload JSON NOT NULL, metadata JSON NOT NULL, \
    PRIMARY KEY (aggregate_type, aggregate_id, sequence))";

struct Outcome {
    ops: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Outcome {
    fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort();
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[index]
    }
}

fn context() -> CommandContext {
    let agent = Actor::new(Login::parse("agent.martin").unwrap(), ActorRole::Agent);
    CommandContext::new(agent, Channel::Api, "bench")
}

async fn setup(log: &EventLog) -> (Arc<CommandBus<Incident>>, IncidentId) {
    let services = ports::services(
        log,
        Arc::new(FixedClock::at(Utc::now())),
        Arc::new(StaticPolicyBook::default()),
        DomainSettings::default(),
    );
    let contract_id = ContractId::parse("OCB0000124").unwrap();
    let admin = CommandContext::new(
        Actor::new(Login::parse("sablier.admin").unwrap(), ActorRole::Admin),
        Channel::Cli,
        "bench",
    );
    let create = ContractCommand::CreateContract {
        contract_id: contract_id.clone(),
        name: Title::parse("SI_Prod").unwrap(),
        offer: Offer::FlexibleComputingAdvanced,
        company: Name::parse("ACME").unwrap(),
        time_zone: Paris,
        tier: Tier::Gold,
        referent: DeclaredUser {
            login: Login::parse("jean.dupont").unwrap(),
            email: Email::parse("jean.dupont@example.fr").unwrap(),
            first_name: Name::parse("Jean").unwrap(),
            last_name: Name::parse("Dupont").unwrap(),
        },
    };
    CommandBus::<Contract>::new(log.clone(), services.clone())
        .execute(
            contract_id.as_str(),
            Authored::new(admin.actor.clone(), create),
            &admin,
        )
        .await
        .unwrap();
    let bus = Arc::new(CommandBus::<Incident>::new(log.clone(), services));
    let id = IncidentId::generate();
    bus.execute(
        id.as_str(),
        Authored::new(customer_context().actor.clone(), open(&id)),
        &customer_context(),
    )
    .await
    .unwrap();
    (bus, id)
}

/// `clients` tasks each run `ops / clients` commands: on distinct aggregates, each opens
/// a new incident (its own stream); on the hot aggregate, each comments on `hot`.
async fn run_commands(
    bus: Arc<CommandBus<Incident>>,
    hot: Option<IncidentId>,
    clients: usize,
    ops: usize,
) -> Outcome {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (bus, hot) = (bus.clone(), hot.clone());
            tokio::spawn(async move {
                let agent = context();
                let customer = customer_context();
                let mut latencies = Vec::new();
                for n in 0..ops / clients {
                    let start = Instant::now();
                    match &hot {
                        Some(id) => {
                            let text =
                                IncidentComment::parse(format!("client {client} comment {n}"))
                                    .unwrap();
                            let command = Authored::new(
                                agent.actor.clone(),
                                IncidentCommand::AddComment { text },
                            );
                            bus.execute(id.as_str(), command, &agent)
                                .await
                                .expect("the command succeeds");
                        }
                        None => {
                            let id = IncidentId::generate();
                            let command = Authored::new(customer.actor.clone(), open(&id));
                            bus.execute(id.as_str(), command, &customer)
                                .await
                                .expect("the command succeeds");
                        }
                    }
                    latencies.push(start.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Outcome {
        ops: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn customer_context() -> CommandContext {
    CommandContext::new(
        Actor::new(Login::parse("jean.dupont").unwrap(), ActorRole::Customer),
        Channel::Portal,
        "bench",
    )
}

fn open(id: &IncidentId) -> IncidentCommand {
    IncidentCommand::Open {
        incident_id: id.clone(),
        contract_id: ContractId::parse("OCB0000124").unwrap(),
        priority: Priority::P3,
        title: Title::parse("Bench").unwrap(),
        description: FreeText::parse("Bench incident").unwrap(),
    }
}

/// An `IncidentOpened` payload as the domain writes it, to insert the same rows.
fn opened_payload(id: &str) -> serde_json::Value {
    serde_json::json!({"IncidentOpened": {
        "at": Utc::now(), "incident_id": id, "contract_id": "OCB0000124", "contract_name": "SI_Prod",
        "time_zone": "Europe/Paris", "priority": "P3", "title": "Bench", "description": "Bench incident",
        "tier": "Gold", "policy_version": "default-2026",
        "clocks": [
            {"metric": "GTI", "kind": "start", "target_seconds": 3600, "calendar": "business-hours-fr", "pausable": false},
            {"metric": "GTD", "kind": "start", "target_seconds": null, "calendar": "24x7", "pausable": true},
            {"metric": "GTR", "kind": "start", "target_seconds": 57600, "calendar": "business-hours-fr", "pausable": true}
        ]
    }})
}

/// The same rows (an opened incident: same payload and metadata shape) inserted with one
/// plain autocommit statement each, no load, no decision, no chain.
async fn run_baseline(database: &Database, clients: usize, ops: usize, tag: &str) -> Outcome {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let database = database.clone();
            let aggregate_id = format!("{tag}-{client}");
            tokio::spawn(async move {
                let metadata = serde_json::to_string(&context().to_metadata()).unwrap();
                let mut latencies = Vec::new();
                for n in 0..ops / clients {
                    let payload = serde_json::to_string(&opened_payload(&format!("INC{client}x{n}"))).unwrap();
                    let start = Instant::now();
                    match &database {
                        Database::Sqlite(pool) => sqlx::query("INSERT INTO baseline_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                            .bind("Incident").bind(format!("{aggregate_id}-{n}")).bind(1_i64).bind("IncidentOpened").bind("1").bind(&payload).bind(&metadata)
                            .execute(pool).await.map(drop),
                        Database::Postgres(pool) => sqlx::query("INSERT INTO baseline_events VALUES ($1, $2, $3, $4, $5, $6::json, $7::json)")
                            .bind("Incident").bind(format!("{aggregate_id}-{n}")).bind(1_i64).bind("IncidentOpened").bind("1").bind(&payload).bind(&metadata)
                            .execute(pool).await.map(drop),
                    }
                    .expect("the baseline insert succeeds");
                    latencies.push(start.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Outcome {
        ops: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn report(backend: &str, scenario: &str, mut outcome: Outcome) -> f64 {
    let (p50, p99) = (outcome.percentile(0.50), outcome.percentile(0.99));
    println!(
        "| {backend} | {scenario} | {} | {:.0} | {:.2} | {:.2} |",
        outcome.ops,
        outcome.per_second(),
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    );
    outcome.per_second()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let ops: usize = std::env::var("SABLIER_BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    println!("| backend | scenario | commands | per second | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    let mut databases = vec![TestDatabase::sqlite().await];
    databases.extend(TestDatabase::postgres().await);
    for db in databases {
        let backend = db.backend_name();
        match &db.database {
            Database::Sqlite(pool) => sqlx::query(BASELINE_TABLE_SQLITE)
                .execute(pool)
                .await
                .map(drop),
            Database::Postgres(pool) => sqlx::query(BASELINE_TABLE_POSTGRES)
                .execute(pool)
                .await
                .map(drop),
        }
        .unwrap();
        let log = EventLog::new(db.database.clone());
        let (bus, hot) = setup(&log).await;
        for clients in [1, 8] {
            let baseline = report(
                backend,
                &format!("baseline plain SQL, {clients} client(s), distinct"),
                run_baseline(&db.database, clients, ops, &format!("c{clients}")).await,
            );
            let distinct = report(
                backend,
                &format!("commands, {clients} client(s), distinct aggregates"),
                run_commands(bus.clone(), None, clients, ops).await,
            );
            println!(
                "| {backend} | ratio commands / baseline, {clients} client(s) | | {:.2} | | |",
                distinct / baseline
            );
        }
        report(
            backend,
            "commands, 1 client, one hot aggregate",
            run_commands(bus.clone(), Some(hot.clone()), 1, ops / 4).await,
        );
        report(
            backend,
            "commands, 8 clients, one hot aggregate",
            run_commands(bus.clone(), Some(hot), 8, ops / 4).await,
        );
        db.cleanup().await;
    }
}
