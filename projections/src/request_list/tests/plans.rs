//! A page must cost the same with ten requests or ten million: the statements a page runs
//! must be index seeks, never a scan of a table or a sort of more than a page. Checked on
//! the plans the databases choose (`EXPLAIN QUERY PLAN` on SQLite, which plans from the
//! schema alone; `EXPLAIN` on PostgreSQL over 20 000 generated requests, analyzed).

use super::*;
use crate::request_list::read::{Statement, plan};

/// 20 001 requests spread over the three contracts of [`catalogue`], one a minute from
/// 2020-01-01, a third of them `opened`, the rest `closed`; with their facets and name
/// terms. (With a few rows per facet, PostgreSQL rightly prefers a bitmap scan of the
/// facet's range and a sort of those few rows.)
const GENERATE_ON_POSTGRES: [&str; 4] = [
    "INSERT INTO request_list (request_id, kind, contract_id, contract_name, name, reference, created_at, \
     created_by, created_on_behalf_of, detailed_status, portal_status, last_update_at, last_position) \
     SELECT 'INC' || lpad(to_hex(n), 32, '0'), 'incident', (ARRAY['OCB0000124', 'OCB0000125', 'OCB0000300'])[n % 3 + 1], 'C', \
     'Name ' || n, NULL, to_char(timestamp '2020-01-01' + n * interval '1 minute', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     'generated', NULL, CASE WHEN n / 3 % 3 = 0 THEN 'opened' ELSE 'closed' END, \
     CASE WHEN n / 3 % 3 = 0 THEN 'transmitted' ELSE 'completed' END, 'x', 1 \
     FROM generate_series(1000, 21000) AS n",
    "INSERT INTO request_list_facets (facet, created_at, request_id) \
     SELECT s.scope || '|' || f.facet, r.created_at, r.request_id FROM request_list r \
     CROSS JOIN LATERAL (VALUES ('*'), (r.contract_id)) AS s(scope) \
     CROSS JOIN LATERAL (VALUES ('*|*'), (r.kind || '|d:' || r.detailed_status)) AS f(facet) \
     WHERE r.created_by = 'generated'",
    "INSERT INTO request_list_terms (term, request_id) \
     SELECT lower(name), request_id FROM request_list WHERE created_by = 'generated'",
    "ANALYZE",
];

fn cursor() -> PageCursor {
    PageCursor::new(&staff(), "2020-01-10T00:00:00Z".to_owned(), inc(5))
}

/// Pages that only seek facets, each with whether it is a single seek. A portal status
/// covers several detailed statuses and a customer's page covers each of its contracts:
/// those pages seek once per facet key and sort only the seeks' few rows.
fn facet_pages() -> Vec<(RequestQuery, bool)> {
    vec![
        (staff(), true),
        (
            RequestQuery {
                portal_status: Some(PortalStatus::Transmitted),
                after: Some(cursor()),
                ..staff()
            },
            false,
        ),
        (
            RequestQuery {
                kind: Some(RequestKind::Incident),
                detailed_status: Some("opened".to_owned()),
                sort: SortOrder::OldestFirst,
                after: Some(cursor()),
                ..staff()
            },
            true,
        ),
        (
            RequestQuery {
                contract: Some(contract_id("OCB0000124")),
                portal_status: Some(PortalStatus::Completed),
                after: Some(cursor()),
                ..staff()
            },
            false,
        ),
        (
            RequestQuery {
                after: Some(cursor()),
                ..RequestQuery::for_customer(every_kind_on(&["OCB0000124", "OCB0000300"]))
            },
            false,
        ),
    ]
}

async fn statements(reader: &ViewReader, query: &RequestQuery) -> Vec<Statement> {
    let statements = plan(reader, query).await.unwrap();
    assert_eq!(statements.len(), 1, "{query:?}");
    statements
}

async fn sqlite_plan(reader: &ViewReader, statement: &Statement) -> Vec<String> {
    let rows: Vec<(i64, i64, i64, String)> = reader
        .fetch_all(
            &format!("EXPLAIN QUERY PLAN {}", statement.sql),
            &statement.params,
        )
        .await
        .unwrap();
    rows.into_iter().map(|(_, _, _, detail)| detail).collect()
}

async fn postgres_plan(reader: &ViewReader, statement: &Statement) -> String {
    let rows: Vec<(String,)> = reader
        .fetch_all(
            &format!("EXPLAIN (COSTS OFF) {}", statement.sql),
            &statement.params,
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|(line,)| line)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn on_sqlite_a_page_is_a_primary_key_seek_per_facet() {
    let (_db, reader) = feed(&RequestList, catalogue()).await.unwrap();
    for (query, single_seek) in facet_pages() {
        for statement in statements(&reader, &query).await {
            let plan = sqlite_plan(&reader, &statement).await;
            let seek = match (&query.after, query.sort) {
                (None, _) => "SEARCH f USING PRIMARY KEY (facet=?)",
                (Some(_), SortOrder::NewestFirst) => {
                    "SEARCH f USING PRIMARY KEY (facet=? AND (created_at,request_id)<(?,?))"
                }
                (Some(_), SortOrder::OldestFirst) => {
                    "SEARCH f USING PRIMARY KEY (facet=? AND (created_at,request_id)>(?,?))"
                }
            };
            assert!(plan.iter().any(|line| line == seek), "{query:?}\n{plan:#?}");
            assert!(
                plan.iter()
                    .all(|line| !line.starts_with("SCAN f") && !line.starts_with("SCAN r")),
                "{query:?}\n{plan:#?}"
            );
            assert!(
                plan.iter()
                    .filter(|line| line.starts_with("SEARCH r"))
                    .all(|line| line.contains("(request_id=?)")),
                "{query:?}\n{plan:#?}"
            );
            if single_seek {
                assert!(
                    plan.iter().all(|line| !line.contains("TEMP B-TREE")),
                    "{query:?}\n{plan:#?}"
                );
            } else {
                // Only the union's rows (at most limit + 1 per seek) are sorted.
                for (index, line) in plan.iter().enumerate() {
                    if line.contains("TEMP B-TREE") {
                        assert!(
                            plan[index - 1].starts_with("SCAN arm"),
                            "{query:?}\n{plan:#?}"
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn on_sqlite_a_search_ranges_over_its_terms() {
    let (_db, reader) = feed(&RequestList, catalogue()).await.unwrap();
    let query = RequestQuery {
        after: Some(cursor()),
        ..search("si_")
    };
    let statement = statements(&reader, &query).await.remove(0);
    let plan = sqlite_plan(&reader, &statement).await;
    assert!(
        plan.iter()
            .any(|line| line == "SEARCH t USING PRIMARY KEY (term>? AND term<?)"),
        "{plan:#?}"
    );
    assert!(
        plan.iter().all(|line| !line.starts_with("SCAN f")
            && !line.starts_with("SCAN r")
            && !line.starts_with("SCAN t")),
        "{plan:#?}"
    );
}

#[tokio::test]
async fn on_postgres_a_page_is_an_index_range_scan_per_facet() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    feed_into(&db, &RequestList, catalogue()).await.unwrap();
    let mut tx = begin(&db.database).await.unwrap();
    for sql in GENERATE_ON_POSTGRES {
        tx.execute(sql, &[]).await.unwrap();
    }
    tx.commit().await.unwrap();
    let reader = ViewReader::new(db.database.clone());
    for (query, single_seek) in facet_pages() {
        for statement in statements(&reader, &query).await {
            let plan = postgres_plan(&reader, &statement).await;
            assert!(
                plan.contains("Index Only Scan Backward using request_list_facets_pkey")
                    || plan.contains("Index Only Scan using request_list_facets_pkey"),
                "{query:?}\n{plan}"
            );
            if query.after.is_some() {
                assert!(
                    plan.contains("ROW(created_at, request_id)"),
                    "{query:?}\n{plan}"
                );
            }
            assert!(!plan.contains("Seq Scan"), "{query:?}\n{plan}");
            assert!(
                plan.contains("Index Scan using request_list_pkey"),
                "{query:?}\n{plan}"
            );
            if single_seek {
                assert!(!plan.contains("Sort"), "{query:?}\n{plan}");
            }
        }
    }
    let selective = RequestQuery {
        after: Some(cursor()),
        ..search("name 12345")
    };
    let statement = statements(&reader, &selective).await.remove(0);
    let plan = postgres_plan(&reader, &statement).await;
    assert!(plan.contains("using request_list_terms_pkey"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
    db.cleanup().await;
}
