//! The request list ("Demandes", DOMAIN.md "The request list"): one row per incident,
//! submitted change and order, with its portal status, read a page at a time by customers
//! (their contracts only) and staff (every contract).
//!
//! A page must cost the same with ten requests or ten million, whatever the filters, so
//! the view keeps, beside the rows, the indexes its reads seek:
//!
//! - `request_list`: the rows, by `request_id`.
//! - `request_list_facets(facet, created_at, request_id)`: one entry per filter combination
//!   a request satisfies, `scope|kind|status` with each part either `*` or a value (scope:
//!   the contract id; status: `p:<portal status>` or `d:<detailed status>`), so 2 × 2 × 3 = 12
//!   entries per request. Any combination of filters is one facet, and a page is one
//!   keyset seek on the facet's primary key in `(created_at, request_id)` order (forward
//!   or backward), then a primary-key lookup per row. A customer's page seeks once per
//!   contract they may see and merges the (bounded) results.
//! - `request_list_terms(term, request_id)` and `request_list_contract_terms(term,
//!   contract_id)`: prefix-searchable terms ([`search`]) of request ids, names and
//!   references, and of contract ids and names.
//! - `request_list_contracts(contract_id, name)`: this view's own copy of contract names
//!   (from `ContractCreated`), since a projection never reads another's tables.
//!
//! Search matches a request when a term of its id, name or reference, or of its contract's
//! id or name, starts with the search text. Requests of matching contracts come from facet
//! seeks (one per matching contract); requests matching by their own terms come from a
//! range scan of `request_list_terms` followed by a sort of those matches: that part costs
//! in proportion to the number of requests the text matches, not to the table.
//!
//! Instants are stored as RFC 3339 text in UTC with whole seconds (`2026-11-02T09:30:00Z`),
//! which sorts chronologically; PostgreSQL key columns use the `"C"` collation so both
//! backends (and the merge in Rust) order keys byte by byte.

mod query;
mod read;
mod search;
pub mod status;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use async_trait::async_trait;
use sablier_domain::change::ChangeEvent;
use sablier_domain::contract::ContractEvent;
use sablier_domain::incident::IncidentEvent;
use sablier_domain::order::OrderEvent;

pub use query::{
    InvalidRequestQuery, PageCursor, PageLimit, PortalStatus, RequestKind, RequestPage,
    RequestQuery, RequestRow, SearchText, SortOrder,
};

use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::projection::Projection;
use crate::sql::{Param, ViewTx, instant_text};
use status::{
    change_portal_status, incident_portal_status, incident_status_after, order_portal_status,
};

/// The request-list projection. Reads go through [`RequestList::page`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestList;

impl RequestList {
    pub const NAME: &'static str = "request_list";
}

#[async_trait]
impl Projection for RequestList {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn apply(&self, tx: &mut ViewTx, event: &FeedEvent) -> Result<(), ProjectionError> {
        match &event.event {
            DomainEvent::Contract(contract) => match contract {
                ContractEvent::ContractCreated {
                    contract_id, name, ..
                } => record_contract(tx, contract_id.as_str(), name.as_str()).await,
                _ => Ok(()),
            },
            DomainEvent::Incident(incident) => match incident {
                IncidentEvent::IncidentOpened {
                    contract_id,
                    contract_name,
                    title,
                    ..
                } => {
                    let request = NewRequest {
                        kind: RequestKind::Incident,
                        contract_id: contract_id.as_str(),
                        contract_name: Some(contract_name.to_string()),
                        name: title.as_str(),
                        reference: None,
                        detailed_status: "opened",
                        portal_status: PortalStatus::Transmitted,
                    };
                    insert_request(tx, event, request).await
                }
                other => {
                    let status = incident_status_after(other)
                        .map(|status| (status.as_str(), incident_portal_status(status)));
                    update_request(tx, event, status).await
                }
            },
            DomainEvent::Change(change) => match change {
                ChangeEvent::ChangeDraftSaved { .. } | ChangeEvent::ChangeDraftEdited { .. } => {
                    Ok(())
                }
                ChangeEvent::ChangeSubmitted {
                    contract,
                    article,
                    customer_reference,
                    ..
                } => {
                    let request = NewRequest {
                        kind: RequestKind::Change,
                        contract_id: contract.as_str(),
                        contract_name: contract_name(tx, contract.as_str()).await?,
                        name: article.article.as_str(),
                        reference: customer_reference
                            .as_ref()
                            .map(|reference| reference.as_str()),
                        detailed_status: "submitted",
                        portal_status: PortalStatus::Transmitted,
                    };
                    insert_request(tx, event, request).await
                }
                other => {
                    // A draft cancelled before submission has no row: the update finds none.
                    let status = other.status_after();
                    let status =
                        change_portal_status(status).map(|portal| (status.as_str(), portal));
                    update_request(tx, event, status).await
                }
            },
            DomainEvent::Order(order) => match order {
                OrderEvent::OrderPlaced {
                    contract,
                    reference,
                    item,
                    ..
                } => {
                    let request = NewRequest {
                        kind: RequestKind::Order,
                        contract_id: contract.as_str(),
                        contract_name: contract_name(tx, contract.as_str()).await?,
                        name: item.name.as_str(),
                        reference: Some(reference.as_str()),
                        detailed_status: "transmitted",
                        portal_status: PortalStatus::Transmitted,
                    };
                    insert_request(tx, event, request).await
                }
                other => {
                    let status = other
                        .status_after()
                        .map(|status| (status.as_str(), order_portal_status(status)));
                    update_request(tx, event, status).await
                }
            },
        }
    }

    async fn reset(&self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        for table in [
            "request_list_facets",
            "request_list_terms",
            "request_list",
            "request_list_contract_terms",
            "request_list_contracts",
        ] {
            tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
        }
        Ok(())
    }
}

struct NewRequest<'a> {
    kind: RequestKind,
    contract_id: &'a str,
    contract_name: Option<String>,
    name: &'a str,
    reference: Option<&'a str>,
    detailed_status: &'static str,
    portal_status: PortalStatus,
}

async fn insert_request(
    tx: &mut ViewTx,
    event: &FeedEvent,
    request: NewRequest<'_>,
) -> Result<(), ProjectionError> {
    let request_id = event.aggregate_id.as_str();
    let created_at = instant_text(event.at);
    tx.execute(
        "INSERT INTO request_list (request_id, kind, contract_id, contract_name, name, reference, \
         created_at, created_by, created_on_behalf_of, detailed_status, portal_status, \
         last_update_at, last_position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $7, $12)",
        &[
            request_id.into(),
            request.kind.as_str().into(),
            request.contract_id.into(),
            request.contract_name.into(),
            request.name.into(),
            request.reference.map(str::to_owned).into(),
            created_at.clone().into(),
            event.audit.actor.clone().into(),
            event.audit.on_behalf_of.clone().into(),
            request.detailed_status.into(),
            request.portal_status.as_str().into(),
            event.position.into(),
        ],
    )
    .await?;

    let facets = facets::all(
        request.contract_id,
        request.kind.as_str(),
        request.detailed_status,
        request.portal_status,
    );
    insert_facets(tx, &facets, &created_at, request_id).await?;

    let mut terms = BTreeSet::new();
    search::add_terms(request_id, &mut terms);
    search::add_terms(request.name, &mut terms);
    if let Some(reference) = request.reference {
        search::add_terms(reference, &mut terms);
    }
    insert_pairs(
        tx,
        "request_list_terms (term, request_id)",
        terms,
        request_id,
    )
    .await
}

#[derive(sqlx::FromRow)]
struct CurrentState {
    kind: String,
    contract_id: String,
    created_at: String,
    detailed_status: String,
    portal_status: String,
}

/// Moves an existing request's last update to `event` and, when `status` differs from its
/// current one, its status and status facets. Events of requests not listed are ignored.
async fn update_request(
    tx: &mut ViewTx,
    event: &FeedEvent,
    status: Option<(&'static str, PortalStatus)>,
) -> Result<(), ProjectionError> {
    let request_id = event.aggregate_id.as_str();
    if let Some((detailed_status, portal_status)) = status {
        let current: Option<CurrentState> = tx
            .fetch_optional(
                "SELECT kind, contract_id, created_at, detailed_status, portal_status \
                 FROM request_list WHERE request_id = $1",
                &[request_id.into()],
            )
            .await?;
        if let Some(current) = current.filter(|current| current.detailed_status != detailed_status)
        {
            let old_portal_status =
                current.portal_status.parse::<PortalStatus>().map_err(|_| {
                    ProjectionError::Malformed(format!(
                        "request {request_id} has portal status '{}'",
                        current.portal_status
                    ))
                })?;
            let old = facets::status_dependent(
                &current.contract_id,
                &current.kind,
                &current.detailed_status,
                old_portal_status,
            );
            let mut sql = String::from(
                "DELETE FROM request_list_facets WHERE request_id = $1 AND created_at = $2 AND facet IN (",
            );
            let mut params: Vec<Param> = vec![request_id.into(), current.created_at.clone().into()];
            for (index, facet) in old.into_iter().enumerate() {
                if index > 0 {
                    sql.push_str(", ");
                }
                params.push(facet.into());
                sql.push_str(&format!("${}", params.len()));
            }
            sql.push(')');
            tx.execute(&sql, &params).await?;
            let new = facets::status_dependent(
                &current.contract_id,
                &current.kind,
                detailed_status,
                portal_status,
            );
            insert_facets(tx, &new, &current.created_at, request_id).await?;
            tx.execute(
                "UPDATE request_list SET detailed_status = $2, portal_status = $3, \
                 last_update_at = $4, last_position = $5 WHERE request_id = $1",
                &[
                    request_id.into(),
                    detailed_status.into(),
                    portal_status.as_str().into(),
                    instant_text(event.at).into(),
                    event.position.into(),
                ],
            )
            .await?;
            return Ok(());
        }
    }
    tx.execute(
        "UPDATE request_list SET last_update_at = $2, last_position = $3 WHERE request_id = $1",
        &[
            request_id.into(),
            instant_text(event.at).into(),
            event.position.into(),
        ],
    )
    .await?;
    Ok(())
}

async fn insert_facets(
    tx: &mut ViewTx,
    facets: &[String],
    created_at: &str,
    request_id: &str,
) -> Result<(), ProjectionError> {
    let mut sql =
        String::from("INSERT INTO request_list_facets (facet, created_at, request_id) VALUES ");
    let mut params: Vec<Param> = vec![created_at.into(), request_id.into()];
    for (index, facet) in facets.iter().enumerate() {
        if index > 0 {
            sql.push_str(", ");
        }
        params.push(facet.as_str().into());
        sql.push_str(&format!("(${}, $1, $2)", params.len()));
    }
    tx.execute(&sql, &params).await?;
    Ok(())
}

/// Inserts `(term, owner)` for each term into `table_and_columns`.
async fn insert_pairs(
    tx: &mut ViewTx,
    table_and_columns: &str,
    terms: BTreeSet<String>,
    owner: &str,
) -> Result<(), ProjectionError> {
    if terms.is_empty() {
        return Ok(());
    }
    let mut sql = format!("INSERT INTO {table_and_columns} VALUES ");
    let mut params: Vec<Param> = vec![owner.into()];
    for (index, term) in terms.into_iter().enumerate() {
        if index > 0 {
            sql.push_str(", ");
        }
        params.push(term.into());
        sql.push_str(&format!("(${}, $1)", params.len()));
    }
    tx.execute(&sql, &params).await?;
    Ok(())
}

async fn record_contract(
    tx: &mut ViewTx,
    contract_id: &str,
    name: &str,
) -> Result<(), ProjectionError> {
    tx.execute(
        "INSERT INTO request_list_contracts (contract_id, name) VALUES ($1, $2)",
        &[contract_id.into(), name.into()],
    )
    .await?;
    let mut terms = BTreeSet::new();
    search::add_terms(contract_id, &mut terms);
    search::add_terms(name, &mut terms);
    insert_pairs(
        tx,
        "request_list_contract_terms (term, contract_id)",
        terms,
        contract_id,
    )
    .await
}

async fn contract_name(
    tx: &mut ViewTx,
    contract_id: &str,
) -> Result<Option<String>, ProjectionError> {
    let name: Option<(String,)> = tx
        .fetch_optional(
            "SELECT name FROM request_list_contracts WHERE contract_id = $1",
            &[contract_id.into()],
        )
        .await?;
    Ok(name.map(|(name,)| name))
}

/// Facet keys: `scope|kind|status`, each part `*` (any) or a value.
mod facets {
    use super::PortalStatus;

    pub(crate) const ANY: &str = "*";

    pub(crate) fn key(scope: &str, kind: &str, status: &str) -> String {
        format!("{scope}|{kind}|{status}")
    }

    pub(crate) fn portal(status: PortalStatus) -> String {
        format!("p:{status}")
    }

    pub(crate) fn detailed(status: &str) -> String {
        format!("d:{status}")
    }

    /// The 12 facets of a request.
    pub(crate) fn all(
        contract_id: &str,
        kind: &str,
        detailed_status: &str,
        portal_status: PortalStatus,
    ) -> Vec<String> {
        let mut keys = status_dependent(contract_id, kind, detailed_status, portal_status);
        for scope in [ANY, contract_id] {
            for kind in [ANY, kind] {
                keys.push(key(scope, kind, ANY));
            }
        }
        keys
    }

    /// The 8 facets that name a status: those a status change replaces.
    pub(crate) fn status_dependent(
        contract_id: &str,
        kind: &str,
        detailed_status: &str,
        portal_status: PortalStatus,
    ) -> Vec<String> {
        let statuses = [portal(portal_status), detailed(detailed_status)];
        let mut keys = Vec::with_capacity(8);
        for scope in [ANY, contract_id] {
            for kind in [ANY, kind] {
                for status in &statuses {
                    keys.push(key(scope, kind, status));
                }
            }
        }
        keys
    }
}
