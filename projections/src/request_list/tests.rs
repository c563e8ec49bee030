//! Request-list tests: feed events, read pages, compare with expectations written by hand.
//! Every test runs on SQLite and, when `SABLIER_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod plans;

use chrono::{DateTime, Duration, Utc};
use sablier_domain::change::{ChangeEvent, ChangeForm, ChangeStatus};
use sablier_domain::incident::{IncidentEvent, PauseReason};
use sablier_domain::order::{OrderEvent, OrderStatus};
use sablier_domain::text::IncidentComment;
use sablier_sla::Priority;
use sablier_store::testing::TestDatabase;

use super::fixtures::*;
use super::*;
use crate::sql::{ViewReader, begin};
use crate::testing::{feed, feed_into};

const PROD: &str = "OCB0000124";
const PREPROD: &str = "OCB0000125";
const LAKE: &str = "OCB0000300";

fn inc(n: u32) -> String {
    request_id("INC", n)
}

fn chg(n: u32) -> String {
    request_id("CHG", n)
}

fn ord(n: u32) -> String {
    request_id("ORD", n)
}

/// Request `n` is created `n` hours after 2026-11-02 08:00.
fn created(n: u32) -> DateTime<Utc> {
    at(2, 8, 0) + Duration::hours(i64::from(n))
}

/// Step `step` of request `n`'s lifecycle, from 2026-11-10 on.
fn updated(n: u32, step: u32) -> DateTime<Utc> {
    at(10, 8, 0) + Duration::hours(i64::from(n)) + Duration::minutes(i64::from(step))
}

/// Three contracts and eighteen listed requests, each left in a different status (one
/// more change stays a draft and is cancelled: never listed).
fn catalogue() -> Vec<Fed> {
    let no_clocks = Vec::new;
    let mut events = vec![
        contract_created(PROD, "SI_Prod", at(1, 8, 0)),
        contract_created(PREPROD, "SI_Preprod", at(1, 8, 0)),
        contract_created(LAKE, "Data Lake", at(1, 8, 0)),
    ];
    // Incidents.
    events.push(incident_opened(
        &inc(1),
        PROD,
        "SI_Prod",
        "Site web inaccessible",
        created(1),
    ));
    events.push(incident_opened(
        &inc(2),
        PROD,
        "SI_Prod",
        "VM lente",
        created(2),
    ));
    events.push(incident(
        &inc(2),
        IncidentEvent::InterventionStarted {
            at: updated(2, 1),
            clocks: no_clocks(),
        },
    ));
    events.push(incident_opened(
        &inc(3),
        PREPROD,
        "SI_Preprod",
        "Sauvegarde en échec",
        created(3),
    ));
    events.push(incident(
        &inc(3),
        IncidentEvent::InterventionStarted {
            at: updated(3, 1),
            clocks: no_clocks(),
        },
    ));
    events.push(incident(
        &inc(3),
        IncidentEvent::CustomerInputRequested {
            at: updated(3, 2),
            reason: PauseReason::awaiting_customer(),
            clocks: no_clocks(),
        },
    ));
    events.push(incident_opened(
        &inc(4),
        LAKE,
        "Data Lake",
        "Disque plein",
        created(4),
    ));
    events.extend([
        incident(
            &inc(4),
            IncidentEvent::InterventionStarted {
                at: updated(4, 1),
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(4),
            IncidentEvent::CustomerInputRequested {
                at: updated(4, 2),
                reason: PauseReason::awaiting_customer(),
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(4),
            IncidentEvent::CustomerResponded {
                at: updated(4, 3),
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(4),
            IncidentEvent::DiagnosisShared {
                at: updated(4, 4),
                diagnosis: text("Logs fill the disk."),
                first: true,
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(4),
            IncidentEvent::ServiceRestored {
                at: updated(4, 5),
                resolution: text("Logs rotated."),
                clocks: no_clocks(),
            },
        ),
    ]);
    events.push(incident_opened(
        &inc(5),
        PROD,
        "SI_Prod",
        "DNS ne répond plus",
        created(5),
    ));
    events.extend([
        incident(
            &inc(5),
            IncidentEvent::InterventionStarted {
                at: updated(5, 1),
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(5),
            IncidentEvent::ServiceRestored {
                at: updated(5, 2),
                resolution: text("Resolver restarted."),
                clocks: no_clocks(),
            },
        ),
        incident(&inc(5), IncidentEvent::IncidentClosed { at: updated(5, 3) }),
    ]);
    events.push(incident_opened(
        &inc(6),
        PREPROD,
        "SI_Preprod",
        "Portail lent",
        created(6),
    ));
    events.extend([
        incident(
            &inc(6),
            IncidentEvent::InterventionStarted {
                at: updated(6, 1),
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(6),
            IncidentEvent::ServiceRestored {
                at: updated(6, 2),
                resolution: text("Cache flushed."),
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(6),
            IncidentEvent::IncidentReopened {
                at: updated(6, 3),
                reason: text("Slow again."),
                restored_at: updated(6, 2),
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(6),
            IncidentEvent::PriorityChanged {
                at: updated(6, 4),
                from: Priority::P2,
                to: Priority::P1,
                reason: text("customer escalated"),
                clocks: no_clocks(),
            },
        ),
        incident(
            &inc(6),
            IncidentEvent::CommentAdded {
                at: updated(6, 5),
                text: IncidentComment::parse("Still slow at 10:00.").unwrap(),
            },
        ),
    ]);
    // Changes.
    let draft = ChangeForm {
        article: Some(article("Modifier mes quotas")),
        ..ChangeForm::default()
    };
    events.extend([
        change(
            &chg(7),
            ChangeEvent::ChangeDraftSaved {
                at: created(7) - Duration::minutes(30),
                change_id: sablier_domain::ChangeId::parse(chg(7)).unwrap(),
                contract: contract_id(PROD),
                form: ChangeForm::default(),
            },
        ),
        change(
            &chg(7),
            ChangeEvent::ChangeDraftEdited {
                at: created(7) - Duration::minutes(10),
                form: draft.clone(),
            },
        ),
        change_submitted(
            &chg(7),
            PROD,
            "Modifier mes quotas",
            Some("PRJ-42"),
            created(7),
        ),
        change_submitted(
            &chg(8),
            PREPROD,
            "Faire une autre demande",
            None,
            created(8),
        ),
        change(
            &chg(8),
            ChangeEvent::ChangeQuoted {
                at: updated(8, 1),
                amount_cents: 90_000,
                note: None,
            },
        ),
        change_submitted(&chg(9), PROD, "Ajouter des licences RDS", None, created(9)),
        change(
            &chg(9),
            ChangeEvent::ChangeQuoted {
                at: updated(9, 1),
                amount_cents: 90_000,
                note: None,
            },
        ),
        change(
            &chg(9),
            ChangeEvent::ChangeQuoteAccepted {
                at: updated(9, 2),
                amount_cents: 90_000,
            },
        ),
        change(&chg(9), ChangeEvent::ChangeStarted { at: updated(9, 3) }),
        change_submitted(
            &chg(10),
            LAKE,
            "Supprimer des licences RDS",
            None,
            created(10),
        ),
        change(&chg(10), ChangeEvent::ChangeStarted { at: updated(10, 1) }),
        change(
            &chg(10),
            ChangeEvent::ChangeCompleted {
                at: updated(10, 2),
                note: None,
                accepted_quote_cents: None,
            },
        ),
        change_submitted(&chg(11), PROD, "Modifier mes quotas", None, created(11)),
        change(
            &chg(11),
            ChangeEvent::ChangeQuoted {
                at: updated(11, 1),
                amount_cents: 50_000,
                note: None,
            },
        ),
        change(
            &chg(11),
            ChangeEvent::ChangeQuoteDeclined {
                at: updated(11, 2),
                amount_cents: 50_000,
                reason: None,
            },
        ),
        change_submitted(&chg(12), PREPROD, "Gérer mon accès GIN", None, created(12)),
        change(
            &chg(12),
            ChangeEvent::ChangeCancelled {
                at: updated(12, 1),
                previous_status: ChangeStatus::Submitted,
                reason: None,
            },
        ),
        change_submitted(
            &chg(13),
            PROD,
            "Faire une autre demande",
            Some("AUDIT-2026"),
            created(13),
        ),
        change(
            &chg(13),
            ChangeEvent::ChangeRejected {
                at: updated(13, 1),
                previous_status: ChangeStatus::Submitted,
                reason: text("Out of scope."),
            },
        ),
        change(
            &chg(14),
            ChangeEvent::ChangeDraftSaved {
                at: created(14),
                change_id: sablier_domain::ChangeId::parse(chg(14)).unwrap(),
                contract: contract_id(PROD),
                form: draft,
            },
        ),
        change(
            &chg(14),
            ChangeEvent::ChangeCancelled {
                at: updated(14, 1),
                previous_status: ChangeStatus::Draft,
                reason: None,
            },
        ),
    ]);
    // Orders.
    events.extend([
        order_placed(&ord(15), PROD, 1, "Pack Expert 4H", created(15)),
        order(
            &ord(15),
            OrderEvent::OrderConfirmationRecorded {
                at: updated(15, 1),
                reference: order_reference(PROD, 1),
                recipients: vec![email("paul.dupont@example.com")],
                item_name: title("Pack Expert 4H"),
            },
        ),
        order_placed(&ord(16), PREPROD, 1, "Prestation de migration", created(16)),
        order(
            &ord(16),
            OrderEvent::OrderQuoted {
                at: updated(16, 1),
                reference: order_reference(PREPROD, 1),
                amount_cents: 300_000,
                note: None,
            },
        ),
        order(
            &ord(16),
            OrderEvent::OrderQuoteAccepted {
                at: updated(16, 2),
                reference: order_reference(PREPROD, 1),
                amount_cents: 300_000,
            },
        ),
        order(
            &ord(16),
            OrderEvent::OrderStarted {
                at: updated(16, 3),
                reference: order_reference(PREPROD, 1),
            },
        ),
        order_placed(&ord(17), PROD, 2, "Pack logiciel WAMP", created(17)),
        order(
            &ord(17),
            OrderEvent::OrderStarted {
                at: updated(17, 1),
                reference: order_reference(PROD, 2),
            },
        ),
        order(
            &ord(17),
            OrderEvent::OrderCompleted {
                at: updated(17, 2),
                reference: order_reference(PROD, 2),
                amount_cents: 30_000,
                note: None,
            },
        ),
        order_placed(&ord(18), LAKE, 1, "Pack Expert 8H", created(18)),
        order(
            &ord(18),
            OrderEvent::OrderQuoted {
                at: updated(18, 1),
                reference: order_reference(LAKE, 1),
                amount_cents: 80_000,
                note: None,
            },
        ),
        order(
            &ord(18),
            OrderEvent::OrderQuoteDeclined {
                at: updated(18, 2),
                reference: order_reference(LAKE, 1),
                amount_cents: 80_000,
                reason: None,
            },
        ),
        order_placed(
            &ord(19),
            PROD,
            3,
            "Pack Formation vCloud Director",
            created(19),
        ),
        order(
            &ord(19),
            OrderEvent::OrderCancelled {
                at: updated(19, 1),
                reference: order_reference(PROD, 3),
                previous_status: OrderStatus::Transmitted,
                reason: text("Ordered twice."),
            },
        ),
    ]);
    events
}

/// Feeds `events` into a fresh database of each enabled backend and runs `check` on it.
async fn on_each_backend(events: Vec<Fed>, check: impl AsyncFn(&ViewReader, &'static str)) {
    for db in TestDatabase::all().await {
        feed_into(&db, &RequestList, events.clone()).await.unwrap();
        check(&ViewReader::new(db.database.clone()), db.backend_name()).await;
        db.cleanup().await;
    }
}

async fn page(reader: &ViewReader, query: &RequestQuery) -> RequestPage {
    RequestList::page(reader, query).await.unwrap()
}

fn ids(page: &RequestPage) -> Vec<String> {
    page.rows.iter().map(|row| row.request_id.clone()).collect()
}

/// Every row `query` selects, following the cursors page after page.
async fn every_page(reader: &ViewReader, query: &RequestQuery) -> Vec<Vec<String>> {
    let mut query = query.clone();
    let mut pages = Vec::new();
    loop {
        let page = page(reader, &query).await;
        pages.push(ids(&page));
        match page.next {
            Some(next) => query.after = Some(PageCursor::parse(next.to_string()).unwrap()),
            None => return pages,
        }
    }
}

/// Every id `query` selects, in order, over as many pages as it takes.
async fn all_ids(reader: &ViewReader, query: &RequestQuery) -> Vec<String> {
    every_page(reader, query).await.concat()
}

fn staff() -> RequestQuery {
    RequestQuery::for_staff()
}

fn search(text: &str) -> RequestQuery {
    RequestQuery {
        search: Some(SearchText::parse(text).unwrap()),
        ..staff()
    }
}

/// Ids oldest first, as numbered in [`catalogue`].
fn listed(numbers: &[u32]) -> Vec<String> {
    numbers
        .iter()
        .map(|&n| match n {
            1..=6 => inc(n),
            7..=14 => chg(n),
            _ => ord(n),
        })
        .collect()
}

/// Newest first.
fn newest_first(numbers: &[u32]) -> Vec<String> {
    let mut ids = listed(numbers);
    ids.reverse();
    ids
}

const EVERY_LISTED: [u32; 18] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19,
];

#[tokio::test]
async fn each_kind_is_listed_with_its_name_reference_creator_and_last_update() {
    let events = vec![
        contract_created(PROD, "SI_Prod", at(1, 8, 0)),
        incident_opened(
            &inc(1),
            PROD,
            "SI_Prod",
            "Site web inaccessible",
            at(2, 9, 0),
        ),
        change(
            &chg(2),
            ChangeEvent::ChangeDraftSaved {
                at: at(2, 10, 0),
                change_id: sablier_domain::ChangeId::parse(chg(2)).unwrap(),
                contract: contract_id(PROD),
                form: ChangeForm::default(),
            },
        ),
        change_submitted(
            &chg(2),
            PROD,
            "Modifier mes quotas",
            Some("PRJ-42"),
            at(2, 11, 0),
        ),
        order_placed(&ord(3), PROD, 1, "Pack Expert 4H", at(2, 12, 0)),
        order(
            &ord(3),
            OrderEvent::OrderConfirmationRecorded {
                at: at(2, 12, 1),
                reference: order_reference(PROD, 1),
                recipients: vec![email("paul.dupont@example.com")],
                item_name: title("Pack Expert 4H"),
            },
        ),
        incident(
            &inc(1),
            IncidentEvent::InterventionStarted {
                at: at(2, 13, 0),
                clocks: Vec::new(),
            },
        ),
        order_placed(&ord(4), "OCB0000999", 1, "Pack Expert 8H", at(2, 14, 0)),
    ];
    let row = |request_id: String, kind, contract: &str, contract_name: Option<&str>| RequestRow {
        request_id,
        kind,
        contract_id: contract_id(contract),
        contract_name: contract_name.map(str::to_owned),
        name: String::new(),
        reference: None,
        created_at: at(1, 0, 0),
        created_by: "jean.dupont".to_owned(),
        created_on_behalf_of: None,
        detailed_status: String::new(),
        portal_status: PortalStatus::Transmitted,
        last_update_at: at(1, 0, 0),
        last_position: 0,
    };
    let expected = vec![
        RequestRow {
            name: "Pack Expert 8H".to_owned(),
            reference: Some("FCA0999-2611-0001".to_owned()),
            created_at: at(2, 14, 0),
            detailed_status: "transmitted".to_owned(),
            last_update_at: at(2, 14, 0),
            last_position: 8,
            ..row(ord(4), RequestKind::Order, "OCB0000999", None)
        },
        RequestRow {
            name: "Pack Expert 4H".to_owned(),
            reference: Some("FCA0124-2611-0001".to_owned()),
            created_at: at(2, 12, 0),
            detailed_status: "transmitted".to_owned(),
            last_update_at: at(2, 12, 1),
            last_position: 6,
            ..row(ord(3), RequestKind::Order, PROD, Some("SI_Prod"))
        },
        RequestRow {
            name: "Modifier mes quotas".to_owned(),
            reference: Some("PRJ-42".to_owned()),
            created_at: at(2, 11, 0),
            detailed_status: "submitted".to_owned(),
            last_update_at: at(2, 11, 0),
            last_position: 4,
            ..row(chg(2), RequestKind::Change, PROD, Some("SI_Prod"))
        },
        RequestRow {
            name: "Site web inaccessible".to_owned(),
            created_at: at(2, 9, 0),
            detailed_status: "in_progress".to_owned(),
            portal_status: PortalStatus::InProgress,
            last_update_at: at(2, 13, 0),
            last_position: 7,
            ..row(inc(1), RequestKind::Incident, PROD, Some("SI_Prod"))
        },
    ];
    on_each_backend(events, async |reader, backend| {
        let page = page(reader, &staff()).await;
        assert_eq!(page.rows, expected, "{backend}");
        assert_eq!(page.next, None, "{backend}");
    })
    .await;
}

#[tokio::test]
async fn the_creator_is_the_actor_and_on_whose_behalf_is_kept() {
    let (db, reader) = feed(&RequestList, Vec::new()).await.unwrap();
    let mut tx = begin(&db.database).await.unwrap();
    let (id, event) = incident_opened(
        &inc(1),
        PROD,
        "SI_Prod",
        "Site web inaccessible",
        at(2, 9, 0),
    );
    let fed = FeedEvent {
        position: 1,
        aggregate_type: "Incident".to_owned(),
        aggregate_id: id,
        sequence: 1,
        event_type: "IncidentOpened".to_owned(),
        at: at(2, 9, 0),
        event,
        audit: crate::event::Audit {
            actor: "agent.smith".to_owned(),
            actor_role: "agent".to_owned(),
            on_behalf_of: Some("paul.dupont".to_owned()),
            channel: "phone".to_owned(),
            request_id: "req-1".to_owned(),
        },
    };
    RequestList.apply(&mut tx, &fed).await.unwrap();
    tx.commit().await.unwrap();
    let page = page(&reader, &staff()).await;
    assert_eq!(page.rows[0].created_by, "agent.smith");
    assert_eq!(
        page.rows[0].created_on_behalf_of.as_deref(),
        Some("paul.dupont")
    );
}

#[tokio::test]
async fn each_lifecycle_step_sets_the_detailed_and_portal_status_and_the_last_update() {
    use PortalStatus::*;
    let expected = [
        (inc(1), "opened", Transmitted, created(1)),
        (inc(2), "in_progress", InProgress, updated(2, 1)),
        (inc(3), "awaiting_customer", InProgress, updated(3, 2)),
        (inc(4), "restored", Completed, updated(4, 5)),
        (inc(5), "closed", Completed, updated(5, 3)),
        (inc(6), "in_progress", InProgress, updated(6, 5)),
        (chg(7), "submitted", Transmitted, created(7)),
        (chg(8), "quoted", Transmitted, updated(8, 1)),
        (chg(9), "in_progress", InProgress, updated(9, 3)),
        (chg(10), "completed", Completed, updated(10, 2)),
        (chg(11), "quote_declined", Completed, updated(11, 2)),
        (chg(12), "cancelled", Completed, updated(12, 1)),
        (chg(13), "rejected", Completed, updated(13, 1)),
        (ord(15), "transmitted", Transmitted, updated(15, 1)),
        (ord(16), "in_progress", InProgress, updated(16, 3)),
        (ord(17), "completed", Completed, updated(17, 2)),
        (ord(18), "quote_declined", Completed, updated(18, 2)),
        (ord(19), "cancelled", Completed, updated(19, 1)),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(id, detailed, portal, last_update)| (id, detailed.to_owned(), portal, last_update))
        .collect();
    on_each_backend(catalogue(), async |reader, backend| {
        let query = RequestQuery {
            sort: SortOrder::OldestFirst,
            limit: PageLimit::new(200).unwrap(),
            ..staff()
        };
        let page = page(reader, &query).await;
        let actual: Vec<_> = page
            .rows
            .into_iter()
            .map(|row| {
                (
                    row.request_id,
                    row.detailed_status,
                    row.portal_status,
                    row.last_update_at,
                )
            })
            .collect();
        assert_eq!(actual, expected, "{backend}");
    })
    .await;
}

#[tokio::test]
async fn a_change_enters_the_list_when_submitted_and_keeps_its_submission_as_creation() {
    on_each_backend(catalogue(), async |reader, backend| {
        let changes = all_ids(
            reader,
            &RequestQuery {
                kind: Some(RequestKind::Change),
                ..staff()
            },
        )
        .await;
        assert_eq!(
            changes,
            newest_first(&[7, 8, 9, 10, 11, 12, 13]),
            "{backend}: the draft CHG14 is not listed"
        );
        let draft_then_submitted = page(reader, &search(&chg(7))).await;
        assert_eq!(
            draft_then_submitted.rows[0].created_at,
            created(7),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn sorts_newest_or_oldest_first() {
    on_each_backend(catalogue(), async |reader, backend| {
        assert_eq!(
            all_ids(reader, &staff()).await,
            newest_first(&EVERY_LISTED),
            "{backend}"
        );
        let oldest_first = RequestQuery {
            sort: SortOrder::OldestFirst,
            ..staff()
        };
        assert_eq!(
            all_ids(reader, &oldest_first).await,
            listed(&EVERY_LISTED),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn filters_by_portal_status_detailed_status_kind_and_contract_alone_and_together() {
    use PortalStatus::*;
    let filtered =
        |kind, portal_status, detailed_status: Option<&str>, contract: Option<&str>| RequestQuery {
            kind,
            portal_status,
            detailed_status: detailed_status.map(str::to_owned),
            contract: contract.map(contract_id),
            ..staff()
        };
    let cases: Vec<(RequestQuery, Vec<u32>)> = vec![
        (
            filtered(None, Some(Transmitted), None, None),
            vec![1, 7, 8, 15],
        ),
        (
            filtered(None, Some(InProgress), None, None),
            vec![2, 3, 6, 9, 16],
        ),
        (
            filtered(None, Some(Completed), None, None),
            vec![4, 5, 10, 11, 12, 13, 17, 18, 19],
        ),
        (
            filtered(None, None, Some("in_progress"), None),
            vec![2, 6, 9, 16],
        ),
        (
            filtered(None, None, Some("awaiting_customer"), None),
            vec![3],
        ),
        (filtered(None, None, Some("cancelled"), None), vec![12, 19]),
        (filtered(None, None, Some("draft"), None), vec![]),
        (
            filtered(Some(RequestKind::Incident), None, None, None),
            vec![1, 2, 3, 4, 5, 6],
        ),
        (
            filtered(Some(RequestKind::Change), None, None, None),
            vec![7, 8, 9, 10, 11, 12, 13],
        ),
        (
            filtered(Some(RequestKind::Order), None, None, None),
            vec![15, 16, 17, 18, 19],
        ),
        (
            filtered(None, None, None, Some(PREPROD)),
            vec![3, 6, 8, 12, 16],
        ),
        (filtered(None, None, None, Some(LAKE)), vec![4, 10, 18]),
        (filtered(None, None, None, Some("OCB0000999")), vec![]),
        (
            filtered(Some(RequestKind::Change), Some(Completed), None, None),
            vec![10, 11, 12, 13],
        ),
        (
            filtered(Some(RequestKind::Change), None, Some("cancelled"), None),
            vec![12],
        ),
        (
            filtered(Some(RequestKind::Order), None, Some("quoted"), None),
            vec![],
        ),
        (
            filtered(None, Some(Completed), Some("cancelled"), None),
            vec![12, 19],
        ),
        (
            filtered(None, Some(Completed), Some("in_progress"), None),
            vec![],
        ),
        (
            filtered(None, Some(InProgress), None, Some(PROD)),
            vec![2, 9],
        ),
        (
            filtered(
                Some(RequestKind::Incident),
                Some(Completed),
                None,
                Some(PROD),
            ),
            vec![5],
        ),
        (
            filtered(
                Some(RequestKind::Order),
                None,
                Some("quote_declined"),
                Some(LAKE),
            ),
            vec![18],
        ),
    ];
    on_each_backend(catalogue(), async |reader, backend| {
        for (query, expected) in &cases {
            assert_eq!(
                all_ids(reader, query).await,
                newest_first(expected),
                "{backend}: {query:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn searches_contract_names_and_ids_request_ids_names_and_references() {
    let upper_case_incident_id = inc(3).to_uppercase();
    let cases: Vec<(&str, Vec<u32>)> = vec![
        // Contract name: prefix, and from a word start.
        ("si_prod", vec![1, 2, 5, 7, 9, 11, 13, 15, 17, 19]),
        ("SI_Pre", vec![3, 6, 8, 12, 16]),
        (
            "si_",
            vec![1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 19],
        ),
        ("prod", vec![1, 2, 5, 7, 9, 11, 13, 15, 17, 19]),
        ("lake", vec![4, 10, 18]),
        // Contract id: whole or prefix, any case.
        ("OCB0000125", vec![3, 6, 8, 12, 16]),
        ("ocb00003", vec![4, 10, 18]),
        // Request id: whole (any case) or prefix.
        (upper_case_incident_id.as_str(), vec![3]),
        ("ORD0000000000000000000000000000001", vec![16, 17, 18, 19]),
        // Request name: prefix, and from a word start.
        ("modifier", vec![7, 11]),
        ("licences rds", vec![9, 10]),
        ("rds", vec![9, 10]),
        ("pack", vec![15, 17, 18, 19]),
        ("expert", vec![15, 18]),
        ("  Sauvegarde   EN ", vec![3]),
        ("échec", vec![3]),
        // References: order references and customers' own.
        ("FCA0124-2611-0002", vec![17]),
        ("fca0124", vec![15, 17, 19]),
        ("prj-42", vec![7]),
        ("audit", vec![13]),
        // Contract and request terms together, each request once.
        ("d", vec![4, 5, 8, 9, 10, 13, 16, 18, 19]),
        ("nothing like this", vec![]),
    ];
    on_each_backend(catalogue(), async |reader, backend| {
        for (text, expected) in &cases {
            assert_eq!(
                all_ids(reader, &search(text)).await,
                newest_first(expected),
                "{backend}: '{text}'"
            );
        }
        let completed_packs = RequestQuery {
            portal_status: Some(PortalStatus::Completed),
            ..search("pack")
        };
        assert_eq!(
            all_ids(reader, &completed_packs).await,
            newest_first(&[17, 18, 19]),
            "{backend}"
        );
        let prod_changes_matching_d = RequestQuery {
            kind: Some(RequestKind::Change),
            contract: Some(contract_id(PROD)),
            ..search("d")
        };
        assert_eq!(
            all_ids(reader, &prod_changes_matching_d).await,
            newest_first(&[9, 13]),
            "{backend}"
        );
        let oldest_first = RequestQuery {
            sort: SortOrder::OldestFirst,
            ..search("d")
        };
        assert_eq!(
            all_ids(reader, &oldest_first).await,
            listed(&[4, 5, 8, 9, 10, 13, 16, 18, 19]),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_customer_sees_only_the_requests_of_their_contracts() {
    on_each_backend(catalogue(), async |reader, backend| {
        let prod = RequestQuery::for_customer(every_kind_on(&[PROD]));
        assert_eq!(
            all_ids(reader, &prod).await,
            newest_first(&[1, 2, 5, 7, 9, 11, 13, 15, 17, 19]),
            "{backend}"
        );
        let prod_and_lake = RequestQuery::for_customer(every_kind_on(&[LAKE, PROD]));
        assert_eq!(
            all_ids(reader, &prod_and_lake).await,
            newest_first(&[1, 2, 4, 5, 7, 9, 10, 11, 13, 15, 17, 18, 19]),
            "{backend}"
        );
        let nothing = RequestQuery::for_customer(Vec::new());
        assert_eq!(
            all_ids(reader, &nothing).await,
            Vec::<String>::new(),
            "{backend}"
        );
        let asking_for_another_contract = RequestQuery {
            contract: Some(contract_id(PREPROD)),
            ..prod.clone()
        };
        assert_eq!(
            all_ids(reader, &asking_for_another_contract).await,
            Vec::<String>::new(),
            "{backend}"
        );
        for text in [
            inc(3).as_str(),
            "si_preprod",
            "OCB0000125",
            "FCA0125",
            "sauvegarde",
        ] {
            let searching_another_contract = RequestQuery {
                search: Some(SearchText::parse(text).unwrap()),
                ..prod.clone()
            };
            assert_eq!(
                all_ids(reader, &searching_another_contract).await,
                Vec::<String>::new(),
                "{backend}: '{text}'"
            );
        }
        let searching_own = RequestQuery {
            search: Some(SearchText::parse("si_").unwrap()),
            portal_status: Some(PortalStatus::InProgress),
            ..prod.clone()
        };
        assert_eq!(
            all_ids(reader, &searching_own).await,
            newest_first(&[2, 9]),
            "{backend}"
        );
    })
    .await;
}

/// A customer sees on each contract only the kinds their sections let them read: the same
/// rows as staff asking the same, less the others, whatever the filters and the search.
#[tokio::test]
async fn a_customer_sees_only_the_kinds_their_sections_let_them_read() {
    let visible = vec![
        VisibleContract {
            contract: contract_id(PROD),
            kinds: vec![RequestKind::Incident],
        },
        VisibleContract {
            contract: contract_id(LAKE),
            kinds: vec![RequestKind::Change, RequestKind::Order],
        },
        VisibleContract {
            contract: contract_id(PREPROD),
            kinds: Vec::new(),
        },
    ];
    let readable = |row: &RequestRow| {
        visible
            .iter()
            .any(|seen| seen.contract == row.contract_id && seen.kinds.contains(&row.kind))
    };
    let filters: [fn(RequestQuery) -> RequestQuery; 6] = [
        |query| query,
        |query| RequestQuery {
            kind: Some(RequestKind::Order),
            ..query
        },
        |query| RequestQuery {
            portal_status: Some(PortalStatus::Completed),
            ..query
        },
        |query| RequestQuery {
            search: Some(SearchText::parse("d").unwrap()),
            ..query
        },
        |query| RequestQuery {
            search: Some(SearchText::parse("si_prod").unwrap()),
            ..query
        },
        |query| RequestQuery {
            contract: Some(contract_id(PROD)),
            sort: SortOrder::OldestFirst,
            ..query
        },
    ];
    let customer = RequestQuery {
        limit: PageLimit::new(2).unwrap(),
        ..RequestQuery::for_customer(visible.clone())
    };
    on_each_backend(catalogue(), async |reader, backend| {
        let mut seen_kinds = BTreeSet::new();
        for filter in filters {
            let everything = RequestQuery {
                limit: PageLimit::new(200).unwrap(),
                ..filter(staff())
            };
            let all = page(reader, &everything).await.rows;
            let expected: Vec<String> = all
                .iter()
                .filter(|row| readable(row))
                .map(|row| row.request_id.clone())
                .collect();
            assert!(
                expected.len() < all.len(),
                "{backend}: the filter must select something the customer may not read"
            );
            let query = filter(customer.clone());
            assert_eq!(
                all_ids(reader, &query).await,
                expected,
                "{backend}: {query:?}"
            );
            seen_kinds.extend(
                all.iter()
                    .filter(|row| readable(row))
                    .map(|row| (row.contract_id.to_string(), row.kind)),
            );
        }
        assert_eq!(
            seen_kinds.len(),
            3,
            "{backend}: PROD incidents, LAKE changes and orders"
        );
    })
    .await;
}

#[tokio::test]
async fn pages_follow_each_other_without_duplicates_or_omissions() {
    let limit = |n| PageLimit::new(n).unwrap();
    let queries = [
        RequestQuery {
            limit: limit(5),
            ..staff()
        },
        RequestQuery {
            limit: limit(4),
            sort: SortOrder::OldestFirst,
            ..staff()
        },
        RequestQuery {
            limit: limit(2),
            portal_status: Some(PortalStatus::Completed),
            ..staff()
        },
        RequestQuery {
            limit: limit(3),
            ..RequestQuery::for_customer(every_kind_on(&[PROD, PREPROD]))
        },
        RequestQuery {
            limit: limit(4),
            ..search("d")
        },
        RequestQuery {
            limit: limit(1),
            kind: Some(RequestKind::Order),
            sort: SortOrder::OldestFirst,
            ..RequestQuery::for_customer(every_kind_on(&[PROD, LAKE]))
        },
    ];
    on_each_backend(catalogue(), async |reader, backend| {
        for query in &queries {
            let pages = every_page(reader, query).await;
            let everything = RequestQuery {
                limit: limit(200),
                after: None,
                ..query.clone()
            };
            let expected = ids(&page(reader, &everything).await);
            let size = query.limit.get() as usize;
            let expected_pages: Vec<Vec<String>> =
                expected.chunks(size).map(<[String]>::to_vec).collect();
            assert_eq!(pages, expected_pages, "{backend}: {query:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn pages_are_stable_when_requests_arrive_between_them() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        feed_into(&db, &RequestList, catalogue()).await.unwrap();
        let reader = ViewReader::new(db.database.clone());
        let newest = RequestQuery {
            limit: PageLimit::new(6).unwrap(),
            ..staff()
        };
        let oldest = RequestQuery {
            sort: SortOrder::OldestFirst,
            ..newest.clone()
        };
        let first_newest = page(&reader, &newest).await;
        let first_oldest = page(&reader, &oldest).await;
        assert_eq!(
            ids(&first_newest),
            newest_first(&[13, 15, 16, 17, 18, 19]),
            "{backend}"
        );
        assert_eq!(ids(&first_oldest), listed(&[1, 2, 3, 4, 5, 6]), "{backend}");

        // Two requests arrive, and one already listed changes status.
        let arrivals = vec![
            incident_opened(&inc(30), PROD, "SI_Prod", "Nouvelle panne", at(20, 8, 0)),
            order_placed(&ord(31), PROD, 9, "Pack Expert 4H", at(20, 9, 0)),
            incident(
                &inc(1),
                IncidentEvent::InterventionStarted {
                    at: at(20, 10, 0),
                    clocks: Vec::new(),
                },
            ),
        ];
        feed_into(&db, &RequestList, arrivals).await.unwrap();

        let next = |query: &RequestQuery, page: &RequestPage| RequestQuery {
            after: page.next.clone(),
            ..query.clone()
        };
        let second_newest = page(&reader, &next(&newest, &first_newest)).await;
        assert_eq!(
            ids(&second_newest),
            newest_first(&[7, 8, 9, 10, 11, 12]),
            "{backend}"
        );
        let third_newest = page(&reader, &next(&newest, &second_newest)).await;
        assert_eq!(
            ids(&third_newest),
            newest_first(&[1, 2, 3, 4, 5, 6]),
            "{backend}: arrivals come first, before page one"
        );
        assert_eq!(third_newest.next, None, "{backend}");

        let second_oldest = page(&reader, &next(&oldest, &first_oldest)).await;
        assert_eq!(
            ids(&second_oldest),
            listed(&[7, 8, 9, 10, 11, 12]),
            "{backend}"
        );
        let third_oldest = page(&reader, &next(&oldest, &second_oldest)).await;
        assert_eq!(
            ids(&third_oldest),
            listed(&[13, 15, 16, 17, 18, 19]),
            "{backend}"
        );
        let fourth_oldest = page(&reader, &next(&oldest, &third_oldest)).await;
        assert_eq!(
            ids(&fourth_oldest),
            vec![inc(30), ord(31)],
            "{backend}: arrivals come last"
        );
        assert_eq!(fourth_oldest.next, None, "{backend}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn requests_created_in_the_same_second_are_paged_by_id() {
    let same_second = at(5, 9, 0);
    let mut events = vec![contract_created(PROD, "SI_Prod", at(1, 8, 0))];
    for n in [3, 1, 5, 2, 4] {
        events.push(incident_opened(
            &inc(n),
            PROD,
            "SI_Prod",
            "Panne",
            same_second,
        ));
    }
    on_each_backend(events, async |reader, backend| {
        let query = RequestQuery {
            limit: PageLimit::new(2).unwrap(),
            ..staff()
        };
        let pages = every_page(reader, &query).await;
        assert_eq!(
            pages,
            vec![vec![inc(5), inc(4)], vec![inc(3), inc(2)], vec![inc(1)]],
            "{backend}"
        );
        let customer = RequestQuery {
            sort: SortOrder::OldestFirst,
            ..RequestQuery::for_customer(every_kind_on(&[PROD]))
        };
        let query = RequestQuery {
            limit: PageLimit::new(2).unwrap(),
            ..customer
        };
        let pages = every_page(reader, &query).await;
        assert_eq!(
            pages,
            vec![vec![inc(1), inc(2)], vec![inc(3), inc(4)], vec![inc(5)]],
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn reset_empties_every_table_of_the_view() {
    for db in TestDatabase::all().await {
        let backend = db.backend_name();
        feed_into(&db, &RequestList, catalogue()).await.unwrap();
        let mut tx = begin(&db.database).await.unwrap();
        RequestList.reset(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let reader = ViewReader::new(db.database.clone());
        for table in [
            "request_list",
            "request_list_facets",
            "request_list_terms",
            "request_list_contracts",
            "request_list_contract_terms",
        ] {
            let count: Option<(i64,)> = reader
                .fetch_optional(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .await
                .unwrap();
            assert_eq!(count, Some((0,)), "{backend}: {table}");
        }
        assert_eq!(page(&reader, &staff()).await.rows, Vec::new(), "{backend}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_status_change_moves_the_request_between_filters() {
    let events = vec![
        contract_created(PROD, "SI_Prod", at(1, 8, 0)),
        incident_opened(&inc(1), PROD, "SI_Prod", "Panne", at(2, 8, 0)),
        incident(
            &inc(1),
            IncidentEvent::InterventionStarted {
                at: at(2, 9, 0),
                clocks: Vec::new(),
            },
        ),
        incident(
            &inc(1),
            IncidentEvent::ServiceRestored {
                at: at(2, 10, 0),
                resolution: text("Fixed."),
                clocks: Vec::new(),
            },
        ),
        incident(
            &inc(1),
            IncidentEvent::IncidentReopened {
                at: at(3, 10, 0),
                reason: text("Broken again."),
                restored_at: at(2, 10, 0),
                clocks: Vec::new(),
            },
        ),
    ];
    on_each_backend(events, async |reader, backend| {
        for (portal, detailed, expected) in [
            (PortalStatus::Transmitted, "opened", vec![]),
            (PortalStatus::Completed, "restored", vec![]),
            (PortalStatus::InProgress, "in_progress", vec![inc(1)]),
        ] {
            for contract in [None, Some(contract_id(PROD))] {
                for kind in [None, Some(RequestKind::Incident)] {
                    let by_portal = RequestQuery {
                        portal_status: Some(portal),
                        contract: contract.clone(),
                        kind,
                        ..staff()
                    };
                    assert_eq!(
                        all_ids(reader, &by_portal).await,
                        expected,
                        "{backend}: {by_portal:?}"
                    );
                    let by_detailed = RequestQuery {
                        detailed_status: Some(detailed.to_owned()),
                        contract: contract.clone(),
                        kind,
                        ..staff()
                    };
                    assert_eq!(
                        all_ids(reader, &by_detailed).await,
                        expected,
                        "{backend}: {by_detailed:?}"
                    );
                }
            }
        }
        let facets: Vec<(String,)> = reader
            .fetch_all("SELECT facet FROM request_list_facets ORDER BY facet", &[])
            .await
            .unwrap();
        let facets: Vec<String> = facets.into_iter().map(|(facet,)| facet).collect();
        assert_eq!(
            facets,
            [
                "*|*|*",
                "*|incident|d:in_progress",
                "OCB0000124|*|*",
                "OCB0000124|incident|d:in_progress"
            ],
            "{backend}: one request, four facets, the stale ones gone"
        );
    })
    .await;
}

#[test]
fn a_query_refuses_what_it_cannot_serve() {
    assert_eq!(PageLimit::new(200).unwrap().get(), 200);
    assert_eq!(PageLimit::new(0).unwrap_err().field, "limit");
    assert_eq!(PageLimit::new(201).unwrap_err().field, "limit");
    assert_eq!(PageLimit::default().get(), 50);

    assert_eq!(
        SearchText::parse("  Pack   EXPERT ").unwrap().as_str(),
        "pack expert"
    );
    assert_eq!(SearchText::parse("   ").unwrap_err().field, "search");
    assert!(SearchText::parse("a".repeat(64)).is_ok());
    assert_eq!(
        SearchText::parse("a".repeat(65)).unwrap_err().field,
        "search"
    );

    assert_eq!("order".parse::<RequestKind>(), Ok(RequestKind::Order));
    assert_eq!("orders".parse::<RequestKind>().unwrap_err().field, "kind");
    assert_eq!(
        "in_progress".parse::<PortalStatus>(),
        Ok(PortalStatus::InProgress)
    );
    assert_eq!(
        "en cours".parse::<PortalStatus>().unwrap_err().field,
        "portal_status"
    );
}

/// A cursor continues the list it was handed out for: the same sort and filters (any page
/// size), not another, where it would skip or repeat rows.
#[test]
fn a_cursor_continues_only_the_list_it_was_handed_out_for() {
    let newest = RequestQuery {
        kind: Some(RequestKind::Incident),
        ..staff()
    };
    let cursor = PageCursor::new(&newest, "2026-11-02T09:00:00Z".to_owned(), inc(1));
    let after = |query: RequestQuery| RequestQuery {
        after: Some(cursor.clone()),
        ..query
    };
    assert_eq!(after(newest.clone()).check_cursor(), Ok(()));
    assert_eq!(
        after(RequestQuery {
            limit: PageLimit::new(7).unwrap(),
            ..newest.clone()
        })
        .check_cursor(),
        Ok(())
    );
    for other in [
        RequestQuery {
            sort: SortOrder::OldestFirst,
            ..newest.clone()
        },
        RequestQuery {
            kind: Some(RequestKind::Order),
            ..newest.clone()
        },
        RequestQuery {
            search: Some(SearchText::parse("vm").unwrap()),
            ..newest.clone()
        },
        staff(),
    ] {
        assert_eq!(
            after(other.clone()).check_cursor().unwrap_err().field,
            "cursor",
            "{other:?}"
        );
    }
}

#[test]
fn a_cursor_reads_back_what_it_wrote_and_nothing_else() {
    let cursor = PageCursor::new(&staff(), "2026-11-02T09:00:00Z".to_owned(), inc(1));
    let text = cursor.to_string();
    assert!(text.chars().all(|c| c.is_ascii_hexdigit()), "{text}");
    assert_eq!(PageCursor::parse(&text), Ok(cursor));
    for garbage in ["", "zz", "abc", "31", &"32".repeat(10), "310a6e6f740a78"] {
        assert_eq!(
            PageCursor::parse(garbage).unwrap_err().field,
            "cursor",
            "{garbage}"
        );
    }
}

/// Issue 20: a saved draft reads back, and is listed only for its author and the Services
/// managers of its contract (docs/domain.md "Drafts"); a draft cancelled before submission
/// leaves the view; a search never lists a draft.
#[tokio::test]
async fn issue_20_a_draft_is_listed_for_its_author_and_the_services_managers_only() {
    let draft = chg(20);
    let mut events = catalogue();
    events.push(change(
        &draft,
        ChangeEvent::ChangeDraftSaved {
            at: at(2, 9, 0),
            change_id: sablier_domain::ChangeId::parse(&draft).unwrap(),
            contract: contract_id(PROD),
            form: ChangeForm {
                article: Some(article("Modifier mes quotas")),
                ..ChangeForm::default()
            },
        },
    ));
    on_each_backend(events, async |reader, backend| {
        let row = RequestList::get(reader, &draft)
            .await
            .unwrap()
            .expect("the draft reads back");
        assert_eq!(
            (
                row.detailed_status.as_str(),
                row.portal_status,
                row.created_by.as_str(),
                row.name.as_str()
            ),
            (
                "draft",
                PortalStatus::Draft,
                "jean.dupont",
                "Modifier mes quotas"
            ),
            "{backend}"
        );
        assert!(
            RequestList::get(reader, &chg(14)).await.unwrap().is_none(),
            "{backend}: the cancelled draft left the view"
        );
        let lists = async |query: &RequestQuery| all_ids(reader, query).await.contains(&draft);
        let on = |ids: &[&str]| ids.iter().map(|id| contract_id(id)).collect::<Vec<_>>();
        let customer = |ids: &[&str], drafts: VisibleDrafts| RequestQuery {
            drafts,
            ..RequestQuery::for_customer(every_kind_on(ids))
        };
        let manager_of = |ids: &[&str]| {
            customer(
                ids,
                VisibleDrafts {
                    every_draft_on: on(ids),
                    ..VisibleDrafts::default()
                },
            )
        };
        let author_on = |login: &str, ids: &[&str]| {
            customer(
                ids,
                VisibleDrafts {
                    author: Some(login.to_owned()),
                    own_on: Some(on(ids)),
                    ..VisibleDrafts::default()
                },
            )
        };
        // Without a right to drafts: not listed.
        assert!(!lists(&staff()).await, "{backend}");
        assert!(!lists(&RequestQuery::for_customer(every_kind_on(&[PROD]))).await);
        // The Services managers of its contract, and its author there.
        let manager = manager_of(&[PROD]);
        assert!(lists(&manager).await, "{backend}");
        assert!(lists(&author_on("jean.dupont", &[PROD])).await, "{backend}");
        // Not another contract's managers, nor another user, nor its author elsewhere.
        assert!(!lists(&manager_of(&[LAKE])).await, "{backend}");
        assert!(
            !lists(&author_on("marie.curie", &[PROD])).await,
            "{backend}"
        );
        assert!(
            !lists(&author_on("jean.dupont", &[LAKE])).await,
            "{backend}"
        );
        // Staff who saved it, on any contract.
        let staff_author = RequestQuery {
            drafts: VisibleDrafts {
                author: Some("jean.dupont".to_owned()),
                ..VisibleDrafts::default()
            },
            ..staff()
        };
        assert!(lists(&staff_author).await, "{backend}");
        assert!(
            !lists(&RequestQuery {
                contract: Some(contract_id(PREPROD)),
                ..staff_author.clone()
            })
            .await
        );
        // Filters: drafts only, and a draft is a change.
        for drafts_only in [
            RequestQuery {
                portal_status: Some(PortalStatus::Draft),
                ..manager.clone()
            },
            RequestQuery {
                detailed_status: Some("draft".to_owned()),
                kind: Some(RequestKind::Change),
                ..manager.clone()
            },
        ] {
            assert_eq!(
                all_ids(reader, &drafts_only).await,
                std::slice::from_ref(&draft),
                "{backend}"
            );
        }
        for elsewhere in [
            RequestQuery {
                kind: Some(RequestKind::Incident),
                ..manager.clone()
            },
            RequestQuery {
                portal_status: Some(PortalStatus::Transmitted),
                ..manager.clone()
            },
            RequestQuery {
                search: Some(SearchText::parse(&draft).unwrap()),
                ..manager.clone()
            },
        ] {
            assert!(!lists(&elsewhere).await, "{backend}: {elsewhere:?}");
        }
    })
    .await;
}
