//! The event store against real databases: SQLite always, PostgreSQL when enabled.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use chrono_tz::Europe::Paris;
use cqrs_es::persist::SerializedEvent;
use futures::TryStreamExt;
use sablier_domain::contract::{Contract, ContractCommand, DeclaredUser, Offer};
use sablier_domain::incident::{Incident, IncidentCommand, IncidentError, IncidentEvent};
use sablier_domain::services::{DomainSettings, StaticPolicyBook};
use sablier_domain::text::{Email, FreeText, IncidentComment, Login, Name, Title};
use sablier_domain::{
    Actor, ActorRole, Authored, Channel, CommandContext, ContractId, FixedClock, IncidentId,
    Services,
};
use sablier_sla::{Priority, Tier};
use sablier_store::read_set::StreamRead;
use sablier_store::seal::{GENESIS_HASH, chain_hash};
use sablier_store::testing::TestDatabase;
use sablier_store::{
    CommandBus, CommandError, EventLog, FeedFilter, RetryPolicy, StoreError, ports,
};

fn event(aggregate_type: &str, aggregate_id: &str, sequence: usize) -> SerializedEvent {
    SerializedEvent::new(
        aggregate_id.to_owned(),
        sequence,
        aggregate_type.to_owned(),
        "Happened".to_owned(),
        "1".to_owned(),
        serde_json::json!({ "Happened": { "n": sequence, "note": "Société Démo — 1 µs ✓" } }),
        serde_json::json!({ "actor": "tester01" }),
    )
}

fn services(log: &EventLog) -> Services {
    ports::services(
        log,
        Arc::new(FixedClock::at(Utc::now())),
        Arc::new(StaticPolicyBook::default()),
        DomainSettings::default(),
    )
}

fn context(role: ActorRole) -> CommandContext {
    let login = match role {
        ActorRole::Customer => "jean.dupont",
        _ => "agent.martin",
    };
    CommandContext::new(
        Actor::new(Login::parse(login).unwrap(), role),
        Channel::Api,
        "test-request",
    )
}

async fn gold_contract(log: &EventLog) -> ContractId {
    contract_on(log, Tier::Gold, services(log)).await
}

async fn contract_on(log: &EventLog, tier: Tier, services: Services) -> ContractId {
    let id = ContractId::parse("OCB0000124").unwrap();
    let create = ContractCommand::CreateContract {
        contract_id: id.clone(),
        name: Title::parse("SI_Prod").unwrap(),
        offer: Offer::FlexibleComputingAdvanced,
        company: Name::parse("ACME").unwrap(),
        time_zone: Paris,
        tier,
        referent: DeclaredUser {
            login: Login::parse("jean.dupont").unwrap(),
            email: Email::parse("jean.dupont@example.fr").unwrap(),
            first_name: Name::parse("Jean").unwrap(),
            last_name: Name::parse("Dupont").unwrap(),
        },
    };
    let admin = context(ActorRole::Admin);
    CommandBus::<Contract>::new(log.clone(), services)
        .execute(
            id.as_str(),
            Authored::new(admin.actor.clone(), create),
            &admin,
        )
        .await
        .expect("the contract is created");
    id
}

async fn opened_incident(log: &EventLog, bus: &CommandBus<Incident>) -> IncidentId {
    let contract_id = gold_contract(log).await;
    let id = IncidentId::generate();
    let customer = context(ActorRole::Customer);
    let open = IncidentCommand::Open {
        incident_id: id.clone(),
        contract_id,
        priority: Priority::P2,
        title: Title::parse("Slow disks").unwrap(),
        description: FreeText::parse("IOPS dropped").unwrap(),
    };
    bus.execute(
        id.as_str(),
        Authored::new(customer.actor.clone(), open),
        &customer,
    )
    .await
    .expect("the incident opens");
    id
}

#[tokio::test]
async fn appends_get_dense_positions_and_a_verifiable_hash_chain() {
    for db in TestDatabase::all().await {
        let log = EventLog::new(db.database.clone());
        assert_eq!(
            log.append(&[event("A", "a1", 1), event("A", "a1", 2)])
                .await
                .unwrap(),
            vec![1, 2]
        );
        assert_eq!(log.append(&[event("B", "b1", 1)]).await.unwrap(), vec![3]);
        assert_eq!(log.append(&[event("A", "a2", 1)]).await.unwrap(), vec![4]);

        assert_eq!(
            assert_chain_holds(&log, db.backend_name()).await,
            vec![1, 2, 3, 4]
        );

        let only_a = log
            .read_after(1, &FeedFilter::aggregate_types(&["A"]), 100)
            .await
            .unwrap();
        assert_eq!(
            only_a.iter().map(|e| e.position).collect::<Vec<_>>(),
            vec![2, 4]
        );
        assert_eq!(log.load_stream("A", "a1").await.unwrap().len(), 2);
        db.cleanup().await;
    }
}

/// Two processes appending in turn: each finds the head moved by the other since its own
/// last append (on PostgreSQL its sealed append is refused and the server seals), groups
/// of both interleave, and the chain still holds over dense positions.
#[tokio::test]
async fn two_processes_appending_in_turn_keep_one_chain() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let logs = [
            EventLog::new(db.database.clone()),
            EventLog::new(db.database.clone()),
        ];
        for round in 0..4 {
            for (n, log) in logs.iter().enumerate() {
                let appends = (0..8).map(|k| {
                    let id = format!("p{n}-r{round}-{k}");
                    async move { log.append(&[event("A", &id, 1), event("A", &id, 2)]).await }
                });
                for outcome in futures::future::join_all(appends).await {
                    outcome.unwrap_or_else(|error| panic!("{backend}: {error}"));
                }
            }
        }
        assert_eq!(
            assert_chain_holds(&logs[0], backend).await,
            (1..=128).collect::<Vec<i64>>(),
            "{backend}"
        );
        db.cleanup().await;
    }
}

/// PostgreSQL groups commit without waiting for the WAL flush: each append is answered
/// only once the WAL is on disk past its commit record (read back with pg_walinspect).
#[tokio::test]
async fn an_append_is_answered_only_once_its_commit_is_on_disk() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let sablier_store::Database::Postgres(pool) = &db.database else {
        unreachable!("a PostgreSQL test database")
    };
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        .execute(pool)
        .await
        .expect("pg_walinspect (PostgreSQL contrib, superuser) is available");
    let start: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
        .fetch_one(pool)
        .await
        .unwrap();
    let log = EventLog::new(db.database.clone());
    // Many at once, so that most are written in groups rather than alone.
    let appends = (0..64).map(|k| {
        let (log, pool) = (log.clone(), pool.clone());
        async move {
            let positions = log
                .append(&[event("A", &format!("a{k}"), 1)])
                .await
                .unwrap();
            let flushed: String = sqlx::query_scalar("SELECT pg_current_wal_flush_lsn()::text")
                .fetch_one(&pool)
                .await
                .unwrap();
            (positions[0], flushed)
        }
    });
    let answered = futures::future::join_all(appends).await;
    for (position, flushed_when_answered) in answered {
        let commit_end: String = sqlx::query_scalar(
            "SELECT w.end_lsn::text FROM events e, \
                    pg_get_wal_records_info_till_end_of_wal($1::pg_lsn) w \
              WHERE e.position = $2 AND w.record_type = 'COMMIT' \
                AND w.xid::text = e.xmin::text",
        )
        .bind(&start)
        .bind(position)
        .fetch_one(pool)
        .await
        .expect("the commit record of the append");
        let on_disk: bool = sqlx::query_scalar("SELECT $1::pg_lsn <= $2::pg_lsn")
            .bind(&commit_end)
            .bind(&flushed_when_answered)
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(
            on_disk,
            "position {position}: committed up to {commit_end}, answered with the WAL \
             flushed to {flushed_when_answered}"
        );
    }
    db.cleanup().await;
}

/// Recomputes the hash chain over the whole log and checks it against the stored hashes
/// and the head; returns the positions read.
async fn assert_chain_holds(log: &EventLog, backend: &str) -> Vec<i64> {
    let all = log
        .read_after(0, &FeedFilter::all(), 100_000)
        .await
        .unwrap();
    let mut previous = GENESIS_HASH.to_owned();
    for stored in &all {
        let expected = chain_hash(&previous, stored.sealed());
        assert_eq!(
            stored.hash, expected,
            "{backend}: the chain holds at {}",
            stored.position
        );
        previous = expected;
    }
    let positions: Vec<i64> = all.iter().map(|e| e.position).collect();
    assert_eq!(
        log.head().await.unwrap(),
        (positions.last().copied().unwrap_or(0), previous),
        "{backend}: the head is the last event and its hash"
    );
    positions
}

#[tokio::test]
async fn appends_arriving_together_commit_together_and_a_conflict_leaves_the_others_in() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let log = EventLog::new(db.database.clone());
        // 150 commands on distinct aggregates (2 events each) and 50 racing for sequence 1
        // of one aggregate, all at once: they reach the queue while groups are written.
        let mut tasks = Vec::new();
        for n in 0..200 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                let events = if n % 4 == 0 {
                    vec![event("Hot", "hot", 1)]
                } else {
                    let id = format!("a{n}");
                    vec![event("A", &id, 1), event("A", &id, 2)]
                };
                (n, log.append(&events).await)
            }));
        }
        let mut won_hot = 0;
        let mut all_positions = Vec::new();
        for task in tasks {
            let (n, outcome) = task.await.unwrap();
            match outcome {
                Ok(positions) => {
                    let expected = if n % 4 == 0 { 1 } else { 2 };
                    assert_eq!(positions.len(), expected, "{backend}: command {n}");
                    assert!(
                        positions.windows(2).all(|pair| pair[1] == pair[0] + 1),
                        "{backend}: a command's events are consecutive: {positions:?}"
                    );
                    won_hot += usize::from(n % 4 == 0);
                    all_positions.extend(positions);
                }
                Err(StoreError::Conflict {
                    aggregate_id,
                    sequence,
                    ..
                }) => {
                    assert_eq!(
                        (n % 4, aggregate_id.as_str(), sequence),
                        (0, "hot", 1),
                        "{backend}"
                    );
                }
                Err(other) => panic!("{backend}: command {n} failed: {other}"),
            }
        }
        assert_eq!(won_hot, 1, "{backend}: exactly one racer for hot #1 wins");
        all_positions.sort_unstable();
        let stored = assert_chain_holds(&log, backend).await;
        assert_eq!(
            stored,
            (1..=301).collect::<Vec<i64>>(),
            "{backend}: dense positions"
        );
        assert_eq!(
            all_positions, stored,
            "{backend}: every answer names what was stored"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_taken_sequence_is_a_conflict_and_writes_nothing() {
    for db in TestDatabase::all().await {
        let log = EventLog::new(db.database.clone());
        log.append(&[event("A", "a1", 1)]).await.unwrap();
        let head = log.head().await.unwrap();
        let error = log
            .append(&[event("A", "a1", 2), event("A", "a1", 1)])
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Conflict { aggregate_id, sequence: 1, .. } if aggregate_id == "a1"),
            "{}: {error}",
            db.backend_name()
        );
        assert_eq!(
            log.head().await.unwrap(),
            head,
            "{}: the head did not move",
            db.backend_name()
        );
        assert_eq!(
            log.read_after(0, &FeedFilter::all(), 100)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            log.append(&[event("A", "a1", 2)]).await.unwrap(),
            vec![2],
            "no gap after a rollback"
        );
        db.cleanup().await;
    }
}

fn read(aggregate_id: &str, sequence: i64) -> StreamRead {
    StreamRead {
        aggregate_type: "A".to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        sequence,
    }
}

/// An append conditioned on a read set is written only while every stream read still ends
/// where it was read; otherwise it is stale, names the stream, and writes nothing, alone
/// or among others committed together.
#[tokio::test]
async fn an_append_whose_read_set_has_grown_is_stale_and_writes_nothing() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let log = EventLog::new(db.database.clone());
        log.append(&[event("A", "c1", 1)]).await.unwrap();
        let fresh = [read("c1", 1), read("none", 0)];
        assert_eq!(
            log.append_checked(&[event("B", "b1", 1)], &fresh)
                .await
                .unwrap(),
            vec![2],
            "{backend}"
        );
        log.append(&[event("A", "c1", 2)]).await.unwrap();
        let head = log.head().await.unwrap();
        let outdated = [read("none", 0), read("c1", 1)];
        let error = log
            .append_checked(&[event("B", "b1", 2)], &outdated)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Stale { aggregate_id, sequence_read: 1, .. } if aggregate_id == "c1"),
            "{backend}: {error}"
        );
        assert_eq!(
            log.head().await.unwrap(),
            head,
            "{backend}: nothing written"
        );

        // 100 appends at once, committed in groups: those that read c1 as it stands are
        // written, those that read it one event short are stale.
        let tasks: Vec<_> = (0..100)
            .map(|n| {
                let log = log.clone();
                tokio::spawn(async move {
                    let read_set = [read("c1", if n % 2 == 0 { 2 } else { 1 })];
                    let events = [event("B", &format!("g{n}"), 1)];
                    (n, log.append_checked(&events, &read_set).await)
                })
            })
            .collect();
        for task in tasks {
            match task.await.unwrap() {
                (n, Ok(positions)) => assert!(n % 2 == 0 && positions.len() == 1, "{backend}: {n}"),
                (n, Err(StoreError::Stale { aggregate_id, .. })) => {
                    assert!(n % 2 == 1 && aggregate_id == "c1", "{backend}: {n}")
                }
                (n, Err(other)) => panic!("{backend}: append {n} failed: {other}"),
            }
        }
        let stored = assert_chain_holds(&log, backend).await;
        assert_eq!(
            stored,
            (1..=53).collect::<Vec<i64>>(),
            "{backend}: dense positions"
        );
        db.cleanup().await;
    }
}

/// Opening an incident pins the contract's tier. The contract is kept in memory between
/// commands; when another process upgrades it meanwhile, the stale copy is caught at the
/// append and the incident pins the new tier, with no retry allowed.
#[tokio::test]
async fn a_contract_changed_by_another_process_is_read_afresh() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let now = Utc::now();
        let services_at = |log: &EventLog| {
            ports::services(
                log,
                Arc::new(FixedClock::at(now)),
                Arc::new(StaticPolicyBook::default()),
                DomainSettings::default(),
            )
        };
        let here = EventLog::new(db.database.clone());
        let elsewhere = EventLog::new(db.database.clone());
        let contract_id = contract_on(&here, Tier::Silver, services_at(&here)).await;
        let incidents =
            CommandBus::<Incident>::new(here.clone(), services_at(&here)).with_retry(RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            });
        let customer = context(ActorRole::Customer);
        let open = |contract_id: &ContractId| {
            let id = IncidentId::generate();
            let command = IncidentCommand::Open {
                incident_id: id.clone(),
                contract_id: contract_id.clone(),
                priority: Priority::P2,
                title: Title::parse("Slow disks").unwrap(),
                description: FreeText::parse("IOPS dropped").unwrap(),
            };
            (id, Authored::new(customer.actor.clone(), command))
        };
        let pinned = |committed: &[IncidentEvent]| match committed {
            [IncidentEvent::IncidentOpened { tier, .. }] => *tier,
            other => panic!("{backend}: unexpected events {other:?}"),
        };

        let (id, command) = open(&contract_id);
        let first = incidents
            .execute(id.as_str(), command, &customer)
            .await
            .unwrap();
        assert_eq!(pinned(&first.events), Tier::Silver, "{backend}");

        let admin = context(ActorRole::Admin);
        let upgrade = ContractCommand::UpgradeSupportTier { to: Tier::Gold };
        CommandBus::<Contract>::new(elsewhere.clone(), services_at(&elsewhere))
            .execute(
                contract_id.as_str(),
                Authored::new(admin.actor.clone(), upgrade),
                &admin,
            )
            .await
            .expect("the other process upgrades the contract");

        let (id, command) = open(&contract_id);
        let second = incidents
            .execute(id.as_str(), command, &customer)
            .await
            .unwrap();
        assert_eq!(
            pinned(&second.events),
            Tier::Gold,
            "{backend}: the upgrade is seen"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_stream_reads_past_many_batches_in_order() {
    for db in TestDatabase::all().await {
        let log = EventLog::new(db.database.clone());
        for chunk in 0..25 {
            let events: Vec<_> = (1..=100)
                .map(|n| event("A", &format!("a{chunk}"), n))
                .collect();
            log.append(&events).await.unwrap();
        }
        let positions: Vec<i64> = log
            .stream_after(7, FeedFilter::all())
            .map_ok(|e| e.position)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            positions,
            (8..=2500).collect::<Vec<_>>(),
            "{}",
            db.backend_name()
        );
        db.cleanup().await;
    }
}

/// Many writers and one tailing reader: the reader sees every committed event exactly
/// once, in one increasing order, whatever the interleaving of commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tailing_reader_sees_every_committed_event_exactly_once() {
    const WRITERS: usize = 8;
    const APPENDS_PER_WRITER: usize = 40;
    for db in TestDatabase::all().await {
        let log = EventLog::new(db.database.clone());
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (log, done) = (log.clone(), done.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut after = 0;
                loop {
                    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                    let batch = log.read_after(after, &FeedFilter::all(), 57).await.unwrap();
                    if let Some(last) = batch.last() {
                        after = last.position;
                    }
                    let empty = batch.is_empty();
                    seen.extend(
                        batch
                            .into_iter()
                            .map(|e| (e.position, e.aggregate_id, e.sequence)),
                    );
                    if finished && empty {
                        return seen;
                    }
                    if empty {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            })
        };
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut committed = Vec::new();
                    for n in 1..=APPENDS_PER_WRITER {
                        // Half the writers share one hot aggregate, the rest write their own.
                        let id = if writer % 2 == 0 {
                            "hot".to_owned()
                        } else {
                            format!("w{writer}")
                        };
                        loop {
                            let next = log.load_stream("A", &id).await.unwrap().len() + 1;
                            let events = vec![event("A", &id, next), event("A", &id, next + 1)];
                            match log.append(&events).await {
                                Ok(positions) => {
                                    committed.extend(
                                        positions
                                            .into_iter()
                                            .zip([next, next + 1])
                                            .map(|(p, s)| (p, id.clone(), s as i64)),
                                    );
                                    break;
                                }
                                Err(error) if error.is_conflict() => continue,
                                Err(error) => panic!("append failed: {error}"),
                            }
                        }
                        let _ = n;
                    }
                    committed
                })
            })
            .collect();
        let mut committed = Vec::new();
        for writer in writers {
            committed.extend(writer.await.unwrap());
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let seen = reader.await.unwrap();

        let positions: Vec<i64> = seen.iter().map(|(p, _, _)| *p).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{}: one increasing order",
            db.backend_name()
        );
        let seen_set: BTreeSet<_> = seen.into_iter().collect();
        let committed_set: BTreeSet<_> = committed.into_iter().collect();
        assert_eq!(
            seen_set.len(),
            WRITERS * APPENDS_PER_WRITER * 2,
            "{}: nothing seen twice",
            db.backend_name()
        );
        assert_eq!(
            seen_set,
            committed_set,
            "{}: exactly the committed events",
            db.backend_name()
        );
        db.cleanup().await;
    }
}

/// 32 concurrent valid commands on one incident all succeed, each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_commands_on_one_incident_all_succeed_once() {
    for db in TestDatabase::all().await {
        let log = EventLog::new(db.database.clone());
        let bus = CommandBus::<Incident>::new(log.clone(), services(&log));
        let id = opened_incident(&log, &bus).await;
        // One bus per command, as if each came from its own process: they race for real
        // (a shared bus would queue them on its per-aggregate lock).
        let tasks: Vec<_> = (0..32)
            .map(|n| {
                let (bus, id) = (
                    CommandBus::<Incident>::new(log.clone(), services(&log)),
                    id.clone(),
                );
                tokio::spawn(async move {
                    let agent = context(ActorRole::Agent);
                    let text = IncidentComment::parse(format!("comment {n}")).unwrap();
                    bus.execute(
                        id.as_str(),
                        Authored::new(agent.actor.clone(), IncidentCommand::AddComment { text }),
                        &agent,
                    )
                    .await
                })
            })
            .collect();
        for task in tasks {
            task.await
                .unwrap()
                .unwrap_or_else(|error| panic!("{}: {error}", db.backend_name()));
        }
        let stream = log.load_stream("Incident", id.as_str()).await.unwrap();
        assert_eq!(stream.len(), 33, "{}", db.backend_name());
        let comments: HashSet<String> = stream
            .iter()
            .skip(1)
            .map(
                |e| match serde_json::from_str::<IncidentEvent>(&e.payload).unwrap() {
                    IncidentEvent::CommentAdded { text, .. } => text.to_string(),
                    other => panic!("unexpected {other:?}"),
                },
            )
            .collect();
        assert_eq!(
            comments,
            (0..32)
                .map(|n| format!("comment {n}"))
                .collect::<HashSet<_>>()
        );
        db.cleanup().await;
    }
}

/// A command that keeps losing the race fails with a clear, retryable error and writes
/// nothing of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_command_that_still_conflicts_fails_cleanly() {
    for db in TestDatabase::all().await {
        let log = EventLog::new(db.database.clone());
        let patient = CommandBus::<Incident>::new(log.clone(), services(&log));
        let id = opened_incident(&log, &patient).await;
        let impatient = || {
            CommandBus::<Incident>::new(log.clone(), services(&log)).with_retry(RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            })
        };
        let tasks: Vec<_> = (0..16)
            .map(|n| {
                let (bus, id) = (impatient(), id.clone());
                tokio::spawn(async move {
                    let agent = context(ActorRole::Agent);
                    let text = IncidentComment::parse(format!("comment {n}")).unwrap();
                    bus.execute(
                        id.as_str(),
                        Authored::new(agent.actor.clone(), IncidentCommand::AddComment { text }),
                        &agent,
                    )
                    .await
                })
            })
            .collect();
        let mut succeeded = 0;
        let mut conflicted = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => succeeded += 1,
                Err(CommandError::Conflict {
                    attempts: 1,
                    aggregate_type: "Incident",
                    ..
                }) => conflicted += 1,
                Err(other) => panic!("{}: unexpected {other}", db.backend_name()),
            }
        }
        assert_eq!(succeeded + conflicted, 16);
        assert!(
            succeeded >= 1,
            "{}: someone wins each race",
            db.backend_name()
        );
        let stream = log.load_stream("Incident", id.as_str()).await.unwrap();
        assert_eq!(
            stream.len(),
            1 + succeeded,
            "{}: only the winners wrote",
            db.backend_name()
        );
        let message = CommandError::<std::io::Error>::Conflict {
            aggregate_type: "Incident",
            aggregate_id: "INC1".into(),
            attempts: 64,
        }
        .to_string();
        assert_eq!(
            message,
            "Incident INC1 is busy: the command conflicted 64 times; retry later"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn executing_reports_the_positions_written() {
    for db in TestDatabase::all().await {
        let log = EventLog::new(db.database.clone());
        let bus = CommandBus::<Incident>::new(log.clone(), services(&log));
        let id = opened_incident(&log, &bus).await;
        let agent = context(ActorRole::Agent);
        let committed = bus
            .execute(
                id.as_str(),
                Authored::new(agent.actor.clone(), IncidentCommand::StartIntervention),
                &agent,
            )
            .await
            .unwrap();
        let (head, _) = log.head().await.unwrap();
        assert_eq!(committed.last_position(), Some(head));
        let stored = log
            .read_after(head - 1, &FeedFilter::all(), 1)
            .await
            .unwrap();
        let metadata = stored[0].metadata_map().unwrap();
        assert_eq!(metadata["actor"], "agent.martin");
        assert_eq!(metadata["actor_role"], "agent");
        assert_eq!(metadata["channel"], "api");
        assert_eq!(metadata["request_id"], "test-request");

        let rejected = bus
            .execute(
                id.as_str(),
                Authored::new(agent.actor.clone(), IncidentCommand::StartIntervention),
                &agent,
            )
            .await
            .unwrap_err();
        assert!(matches!(rejected, CommandError::Rejected(_)), "{rejected}");
        assert_eq!(
            log.head().await.unwrap().0,
            head,
            "a rejected command appends nothing"
        );
        db.cleanup().await;
    }
}

/// The API checks a caller's right on the aggregate the bus loads for the decision, not on
/// a load of its own: `prepare` sees that state, and its refusal writes nothing.
#[tokio::test]
async fn issue_21_a_command_prepared_on_the_loaded_aggregate_writes_nothing_when_refused() {
    for db in TestDatabase::all().await {
        let log = EventLog::new(db.database.clone());
        let bus = CommandBus::<Incident>::new(log.clone(), services(&log));
        let id = opened_incident(&log, &bus).await;
        let agent = context(ActorRole::Agent);
        let (head, _) = log.head().await.unwrap();
        let refused = bus
            .execute_on(
                id.as_str(),
                |incident: &Incident| {
                    let contract = incident.contract_id().map(|id| id.as_str().to_owned());
                    std::future::ready(Err::<Authored<IncidentCommand>, _>(contract))
                },
                &agent,
            )
            .await
            .unwrap();
        assert!(
            matches!(&refused, Err(Some(_))),
            "{}: prepare sees the loaded incident: {refused:?}",
            db.backend_name()
        );
        assert_eq!(
            log.head().await.unwrap().0,
            head,
            "a refusal appends nothing"
        );
        let committed = bus
            .execute_on(
                id.as_str(),
                |_: &Incident| {
                    let command =
                        Authored::new(agent.actor.clone(), IncidentCommand::StartIntervention);
                    std::future::ready(Ok::<_, ()>(command))
                },
                &agent,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(committed.last_position(), Some(head + 1));
        db.cleanup().await;
    }
}

/// Opening an incident is decided without reading its stream (it should have none); when
/// the stream exists after all, the answer is the stored stream's, as without the shortcut:
/// no conflict even with no retry allowed, no event appended, whatever else is wrong.
#[tokio::test]
async fn a_creating_command_on_an_existing_stream_is_answered_from_the_stream() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        let log = EventLog::new(db.database.clone());
        let bus =
            CommandBus::<Incident>::new(log.clone(), services(&log)).with_retry(RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            });
        let id = opened_incident(&log, &bus).await;
        let (head, _) = log.head().await.unwrap();
        let customer = context(ActorRole::Customer);
        for contract in ["OCB0000124", "OCB0009999"] {
            let open_again = IncidentCommand::Open {
                incident_id: id.clone(),
                contract_id: ContractId::parse(contract).unwrap(),
                priority: Priority::P1,
                title: Title::parse("Again").unwrap(),
                description: FreeText::parse("Same id").unwrap(),
            };
            let refused = bus
                .execute(
                    id.as_str(),
                    Authored::new(customer.actor.clone(), open_again),
                    &customer,
                )
                .await
                .unwrap_err();
            assert!(
                matches!(
                    refused,
                    CommandError::Rejected(IncidentError::AlreadyExists)
                ),
                "{backend}, contract {contract}: {refused}"
            );
        }
        assert_eq!(
            log.head().await.unwrap().0,
            head,
            "{backend}: nothing appended"
        );
        db.cleanup().await;
    }
}

/// Within one process, commands on one aggregate queue instead of racing: even with no
/// retries allowed, none conflicts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_bus_queues_commands_on_the_same_aggregate() {
    let db = TestDatabase::sqlite().await;
    let log = EventLog::new(db.database.clone());
    let bus = Arc::new(
        CommandBus::<Incident>::new(log.clone(), services(&log)).with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }),
    );
    let id = opened_incident(&log, &bus).await;
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let (bus, id) = (bus.clone(), id.clone());
            tokio::spawn(async move {
                let agent = context(ActorRole::Agent);
                let text = IncidentComment::parse(format!("comment {n}")).unwrap();
                bus.execute(
                    id.as_str(),
                    Authored::new(agent.actor.clone(), IncidentCommand::AddComment { text }),
                    &agent,
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("no conflict within one bus");
    }
    assert_eq!(
        log.load_stream("Incident", id.as_str())
            .await
            .unwrap()
            .len(),
        17
    );
    db.cleanup().await;
}

/// In memory there is no file for SQLite's own API: groups go through sqlx, the same
/// algorithm over the other driver (savepoints, conflicts, one head move per group).
#[tokio::test]
async fn issue_21_an_in_memory_sqlite_log_commits_groups_as_a_file_does() {
    let database = sablier_store::Database::connect_and_migrate("sqlite::memory:")
        .await
        .expect("an in-memory SQLite database");
    let log = EventLog::new(database);
    let tasks: Vec<_> = (0..40)
        .map(|n| {
            let log = log.clone();
            tokio::spawn(async move {
                let events = if n % 4 == 0 {
                    vec![event("Hot", "hot", 1)]
                } else {
                    let id = format!("a{n}");
                    vec![event("A", &id, 1), event("A", &id, 2)]
                };
                log.append(&events).await
            })
        })
        .collect();
    let mut won_hot = 0;
    let mut all_positions = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(positions) => {
                won_hot += usize::from(positions.len() == 1);
                all_positions.extend(positions);
            }
            Err(StoreError::Conflict { aggregate_id, .. }) => assert_eq!(aggregate_id, "hot"),
            Err(other) => panic!("in memory: {other}"),
        }
    }
    assert_eq!(won_hot, 1, "exactly one racer for hot #1 wins");
    all_positions.sort_unstable();
    let stored = assert_chain_holds(&log, "sqlite in memory").await;
    assert_eq!(stored, (1..=61).collect::<Vec<i64>>(), "dense positions");
    assert_eq!(all_positions, stored, "every answer names what was stored");
}
