//! Reading a page of the request list: which keyset seeks a query needs, the SQL for them,
//! and the merge of their (bounded) results into one page.

use super::ListedRow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sablier_domain::ContractId;

use crate::error::ProjectionError;
use crate::request_list::RequestList;
use crate::request_list::facets;
use crate::request_list::query::{
    PageCursor, RequestKind, RequestPage, RequestQuery, RequestRow, SearchText, SortOrder,
};
use crate::sql::{Param, ViewReader};

/// A statement holds at most this many seeks (SQLite allows 500 terms in a compound select).
const SEEKS_PER_STATEMENT: usize = 100;

const COLUMNS: &str = "r.request_id, r.kind, r.contract_id, r.contract_name, r.name, r.reference, \
     r.created_at, r.created_by, r.created_on_behalf_of, r.detailed_status, r.portal_status, \
     r.last_update_at, r.last_position";

impl RequestList {
    /// One request by id, whatever its kind; `None` when the view has not seen it.
    pub async fn get(
        reader: &ViewReader,
        request_id: &str,
    ) -> Result<Option<RequestRow>, ProjectionError> {
        let sql = format!("SELECT {COLUMNS} FROM request_list r WHERE r.request_id = $1");
        reader
            .fetch_optional::<ListedRow>(&sql, &[request_id.into()])
            .await?
            .map(RequestRow::try_from)
            .transpose()
    }

    /// One page of the requests `query` selects, in its sort order.
    pub async fn page(
        reader: &ViewReader,
        query: &RequestQuery,
    ) -> Result<RequestPage, ProjectionError> {
        let mut rows = Vec::new();
        for statement in plan(reader, query).await? {
            rows.extend(
                reader
                    .fetch_all::<ListedRow>(&statement.sql, &statement.params)
                    .await?,
            );
        }
        rows.sort_by(|a, b| {
            let order = (&a.created_at, &a.request_id).cmp(&(&b.created_at, &b.request_id));
            match query.sort {
                SortOrder::NewestFirst => order.reverse(),
                SortOrder::OldestFirst => order,
            }
        });
        rows.dedup_by(|a, b| a.request_id == b.request_id);
        let limit = query.limit.get() as usize;
        let next = (rows.len() > limit).then(|| {
            let last = &rows[limit - 1];
            PageCursor::new(query, last.created_at.clone(), last.request_id.clone())
        });
        rows.truncate(limit);
        let rows = rows
            .into_iter()
            .map(RequestRow::try_from)
            .collect::<Result<_, _>>()?;
        Ok(RequestPage { rows, next })
    }
}

/// A statement and its parameters, numbered as they are bound.
#[derive(Debug, Default)]
pub(crate) struct Statement {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
}

impl Statement {
    fn bind(&mut self, param: impl Into<Param>) -> String {
        self.params.push(param.into());
        format!("${}", self.params.len())
    }
}

/// Which contracts a query may return requests of, and of which kinds on each.
enum Scope {
    Every,
    Only(BTreeMap<String, Vec<RequestKind>>),
}

impl Scope {
    fn of(query: &RequestQuery) -> Self {
        let visible = query.visible_contracts.as_ref().map(|contracts| {
            contracts
                .iter()
                .filter(|visible| !visible.kinds.is_empty())
                .map(|visible| (visible.contract.as_str().to_owned(), visible.kinds.clone()))
                .collect::<BTreeMap<_, _>>()
        });
        match (visible, &query.contract) {
            (None, None) => Scope::Every,
            (None, Some(contract)) => Scope::Only(BTreeMap::from([(
                contract.as_str().to_owned(),
                RequestKind::ALL.to_vec(),
            )])),
            (Some(visible), None) => Scope::Only(visible),
            (Some(mut visible), Some(contract)) => {
                visible.retain(|id, _| id == contract.as_str());
                Scope::Only(visible)
            }
        }
    }

    /// The kinds this scope lets a query return on `contract` (every kind for staff).
    fn kinds_on(&self, contract: &str) -> &[RequestKind] {
        match self {
            Scope::Every => &RequestKind::ALL,
            Scope::Only(contracts) => contracts.get(contract).map_or(&[], Vec::as_slice),
        }
    }
}

/// The statements that together yield the first `limit + 1` rows after the cursor.
pub(crate) async fn plan(
    reader: &ViewReader,
    query: &RequestQuery,
) -> Result<Vec<Statement>, ProjectionError> {
    let scope = Scope::of(query);
    // Drafts are listed, not searched.
    let drafts = match &query.search {
        None => draft_seeks(query),
        Some(_) => Vec::new(),
    };
    if matches!(&scope, Scope::Only(contracts) if contracts.is_empty()) {
        return Ok(statements(query, &drafts));
    }
    // The facets of `contract` covering the filters, among the kinds the scope lets the
    // query see there: with every kind, those of the filters alone; otherwise those of each
    // kind it may see (at most 8 each).
    let seeks = |contract: &str, kinds: &[RequestKind]| -> Vec<Arm> {
        let facets = |kind| {
            facets::covering(
                contract,
                kind,
                query.portal_status,
                query.detailed_status.as_deref(),
            )
        };
        let keys = if kinds.len() == RequestKind::ALL.len() {
            facets(query.kind)
        } else {
            kinds
                .iter()
                .filter(|kind| query.kind.is_none_or(|wanted| wanted == **kind))
                .flat_map(|kind| facets(Some(*kind)))
                .collect()
        };
        keys.into_iter().map(Arm::Facet).collect()
    };
    let every = seeks(facets::ANY, &RequestKind::ALL);
    if every.is_empty() {
        // The filters select no request but drafts, or contradict each other.
        return Ok(statements(query, &drafts));
    }
    let mut arms: Vec<Arm> = match (&query.search, &scope) {
        (None, Scope::Every) => every,
        (None, Scope::Only(contracts)) => contracts
            .iter()
            .flat_map(|(contract, kinds)| seeks(contract, kinds))
            .collect(),
        (Some(search), scope) => {
            let mut contracts = matching_contracts(reader, search).await?;
            if let Scope::Only(visible) = scope {
                contracts.retain(|contract| visible.contains_key(contract));
            }
            let mut arms: Vec<Arm> = contracts
                .iter()
                .flat_map(|contract| seeks(contract, scope.kinds_on(contract)))
                .collect();
            arms.push(Arm::Terms(search, scope));
            arms
        }
    };
    arms.extend(drafts);
    Ok(statements(query, &arms))
}

/// The facet seeks of the drafts the reader may see ([`RequestQuery::drafts`]) that the
/// filters let through.
fn draft_seeks(query: &RequestQuery) -> Vec<Arm<'static>> {
    let drafts = &query.drafts;
    let filtered_in =
        |contract: &ContractId| query.contract.as_ref().is_none_or(|only| only == contract);
    let mut scopes: Vec<String> = drafts
        .every_draft_on
        .iter()
        .filter(|contract| filtered_in(contract))
        .map(|contract| facets::drafts_of_contract(contract.as_str()))
        .collect();
    if let Some(author) = &drafts.author {
        let own_on = |contract: &ContractId| {
            (filtered_in(contract) && !drafts.every_draft_on.contains(contract))
                .then(|| facets::drafts_of_author_on(contract.as_str(), author))
        };
        match (&drafts.own_on, &query.contract) {
            (Some(contracts), _) => scopes.extend(contracts.iter().filter_map(own_on)),
            (None, Some(contract)) => scopes.extend(own_on(contract)),
            (None, None) => scopes.push(facets::drafts_of_author(author)),
        }
    }
    scopes
        .iter()
        .filter_map(|scope| {
            facets::covering_drafts(
                scope,
                query.kind,
                query.portal_status,
                query.detailed_status.as_deref(),
            )
        })
        .map(Arm::Facet)
        .collect()
}

async fn matching_contracts(
    reader: &ViewReader,
    search: &SearchText,
) -> Result<BTreeSet<String>, ProjectionError> {
    let rows: Vec<(String,)> = reader
        .fetch_all(
            "SELECT DISTINCT contract_id FROM request_list_contract_terms WHERE term >= $1 AND term < $2",
            &[search.as_str().into(), search.upper_bound().into()],
        )
        .await?;
    Ok(rows.into_iter().map(|(contract,)| contract).collect())
}

fn direction(query: &RequestQuery) -> (&'static str, &'static str) {
    match query.sort {
        SortOrder::NewestFirst => ("DESC", "<"),
        SortOrder::OldestFirst => ("ASC", ">"),
    }
}

/// One facet seek: the keys of `facet` after the cursor, in order, `limit + 1` at most.
fn facet_seek(statement: &mut Statement, query: &RequestQuery, facet: &str) -> String {
    let (order, after) = direction(query);
    let facet = statement.bind(facet);
    let mut sql = format!(
        "SELECT f.created_at, f.request_id FROM request_list_facets f WHERE f.facet = {facet}"
    );
    if let Some(cursor) = &query.after {
        let created_at = statement.bind(cursor.created_at.clone());
        let request_id = statement.bind(cursor.request_id.clone());
        sql.push_str(&format!(
            " AND (f.created_at, f.request_id) {after} ({created_at}, {request_id})"
        ));
    }
    let limit = statement.bind(i64::from(query.limit.get()) + 1);
    sql.push_str(&format!(
        " ORDER BY f.created_at {order}, f.request_id {order} LIMIT {limit}"
    ));
    sql
}

/// The keys of the requests whose own terms (id, name, reference) match `search`,
/// filtered, after the cursor, in order, `limit + 1` at most.
fn term_matches(
    statement: &mut Statement,
    query: &RequestQuery,
    search: &SearchText,
    scope: &Scope,
) -> String {
    let (order, after) = direction(query);
    let from = statement.bind(search.as_str());
    let to = statement.bind(search.upper_bound());
    let mut sql = format!(
        "SELECT r.created_at, r.request_id FROM request_list r WHERE r.request_id IN \
         (SELECT t.request_id FROM request_list_terms t WHERE t.term >= {from} AND t.term < {to})"
    );
    if let Scope::Only(contracts) = scope {
        // Per kind, the contracts where the query may see it.
        let mut alternatives = Vec::new();
        for kind in RequestKind::ALL {
            let placeholders: Vec<String> = contracts
                .iter()
                .filter(|(_, kinds)| kinds.contains(&kind))
                .map(|(id, _)| statement.bind(id.as_str()))
                .collect();
            if !placeholders.is_empty() {
                alternatives.push(format!(
                    "(r.kind = {} AND r.contract_id IN ({}))",
                    statement.bind(kind.as_str()),
                    placeholders.join(", ")
                ));
            }
        }
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    if let Some(kind) = query.kind {
        sql.push_str(&format!(" AND r.kind = {}", statement.bind(kind.as_str())));
    }
    if let Some(portal) = query.portal_status {
        sql.push_str(&format!(
            " AND r.portal_status = {}",
            statement.bind(portal.as_str())
        ));
    }
    if let Some(detailed) = &query.detailed_status {
        sql.push_str(&format!(
            " AND r.detailed_status = {}",
            statement.bind(detailed.as_str())
        ));
    }
    if let Some(cursor) = &query.after {
        let created_at = statement.bind(cursor.created_at.clone());
        let request_id = statement.bind(cursor.request_id.clone());
        sql.push_str(&format!(
            " AND (r.created_at, r.request_id) {after} ({created_at}, {request_id})"
        ));
    }
    let limit = statement.bind(i64::from(query.limit.get()) + 1);
    sql.push_str(&format!(
        " ORDER BY r.created_at {order}, r.request_id {order} LIMIT {limit}"
    ));
    sql
}

/// One part of a page's rows.
enum Arm<'a> {
    /// The rows of one facet: a keyset seek.
    Facet(String),
    /// The rows whose own terms match a search.
    Terms(&'a SearchText, &'a Scope),
}

/// Statements of at most [`SEEKS_PER_STATEMENT`] arms each: the arms' keys united and cut
/// to `limit + 1` in SQL, then those requests' rows.
fn statements(query: &RequestQuery, arms: &[Arm<'_>]) -> Vec<Statement> {
    let arm_sql = |statement: &mut Statement, arm: &Arm<'_>| match arm {
        Arm::Facet(facet) => facet_seek(statement, query, facet),
        Arm::Terms(search, scope) => term_matches(statement, query, search, scope),
    };
    let (order, _) = direction(query);
    arms.chunks(SEEKS_PER_STATEMENT)
        .map(|chunk| {
            let mut statement = Statement::default();
            let keys = if let [only] = chunk {
                arm_sql(&mut statement, only)
            } else {
                let united: Vec<String> = chunk
                    .iter()
                    .enumerate()
                    .map(|(index, arm)| {
                        format!(
                            "SELECT * FROM ({}) AS arm{index}",
                            arm_sql(&mut statement, arm)
                        )
                    })
                    .collect();
                let limit = statement.bind(i64::from(query.limit.get()) + 1);
                format!(
                    "{} ORDER BY created_at {order}, request_id {order} LIMIT {limit}",
                    united.join(" UNION ")
                )
            };
            statement.sql = format!(
                "SELECT {COLUMNS} FROM ({keys}) AS page JOIN request_list r ON r.request_id = page.request_id"
            );
            statement
        })
        .collect()
}

impl TryFrom<ListedRow> for RequestRow {
    type Error = ProjectionError;

    fn try_from(row: ListedRow) -> Result<Self, Self::Error> {
        let request_id = row.request_id;
        let malformed = |what: &str, value: &str| {
            ProjectionError::Malformed(format!("request {request_id}: {what} '{value}'"))
        };
        let instant = |value: &str| {
            DateTime::parse_from_rfc3339(value)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| malformed("instant", value))
        };
        let kind = row.kind.parse().map_err(|_| malformed("kind", &row.kind))?;
        let contract_id = ContractId::parse(&row.contract_id)
            .map_err(|_| malformed("contract id", &row.contract_id))?;
        let portal_status = row
            .portal_status
            .parse()
            .map_err(|_| malformed("portal status", &row.portal_status))?;
        let created_at = instant(&row.created_at)?;
        let last_update_at = instant(&row.last_update_at)?;
        Ok(RequestRow {
            request_id,
            kind,
            contract_id,
            contract_name: row.contract_name,
            name: row.name,
            reference: row.reference,
            created_at,
            created_by: row.created_by,
            created_on_behalf_of: row.created_on_behalf_of,
            detailed_status: row.detailed_status,
            portal_status,
            last_update_at,
            last_position: row.last_position,
        })
    }
}
