//! The request list ("Demandes", docs/domain.md "The request list"): one row per incident,
//! change and order, with its portal status, read a page at a time by customers (their
//! contracts only) and staff (every contract). A change draft has a row too, kept apart:
//! only its author and the Services managers of its contract see it (docs/domain.md
//! "Drafts"), so its facets are its own (below), it has no search terms (drafts are listed,
//! not searched), and a draft cancelled before submission leaves the view. Once submitted,
//! a change is listed as created at its submission, by whoever submitted it.
//!
//! A page must cost the same with ten requests or ten million, whatever the filters, so
//! the view keeps, beside the rows, the indexes its reads seek:
//!
//! - `request_list`: the rows, by `request_id`.
//! - `request_list_facets(facet, created_at, request_id)`: 4 entries per request, for each
//!   scope (`*`, every contract, and the request's contract id) `scope|*|*` and
//!   `scope|kind|d:<detailed status>`. A page without filters is one keyset seek on the
//!   facet's primary key in `(created_at, request_id)` order (forward or backward); a
//!   filter by kind, portal status or detailed status seeks each `scope|kind|d:status`
//!   facet it covers (at most 20: a detailed status implies its portal status), the seeks
//!   united and cut to a page in SQL; then a primary-key lookup per row of the page. A customer's
//!   page does so for each contract they may see. A draft has instead 3 entries, one per
//!   reader it may be shown to: `draft@<contract>|*|*` (its contract's Services managers),
//!   `draft@<contract>@<author>|*|*` (its author, a customer declared there) and
//!   `draft-by@<author>|*|*` (its author, staff). Every page is a bounded number of seeks
//!   of at most a page each, whatever the size of the table; 4 entries per request instead
//!   of one per filter combination (12) is what a rebuild writes (docs/benchmarks.md).
//! - `request_list_terms(term, request_id)` and `request_list_contract_terms(term,
//!   contract_id)`: prefix-searchable terms (`search`) of request ids, names and
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

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use sablier_domain::change::{ChangeEvent, ChangeForm, ChangeStatus};
use sablier_domain::contract::ContractEvent;
use sablier_domain::incident::IncidentEvent;
use sablier_domain::order::OrderEvent;

pub use query::{
    InvalidRequestQuery, PageCursor, PageLimit, PortalStatus, RequestKind, RequestPage,
    RequestQuery, RequestRow, SearchText, SortOrder, VisibleContract, VisibleDrafts,
};

use crate::error::ProjectionError;
use crate::event::{DomainEvent, FeedEvent};
use crate::projection::{InMemoryBatch, Projection};
use crate::sql::{Param, ViewTx, instant_text};
use status::{
    change_portal_status, incident_portal_status, incident_status_after, order_portal_status,
};

/// The request-list projection. Reads go through [`RequestList::page`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestList;

impl RequestList {
    /// `_v2`: change drafts are listed (for their author and the Services managers of
    /// their contract); rebuilt from the log so that drafts saved before are listed too.
    pub const NAME: &'static str = "request_list_v2";
}

#[async_trait]
impl Projection for RequestList {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn apply_batch(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        Batch::apply_all(tx, events).await
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "request_list_facets",
            "request_list_terms",
            "request_list",
            "request_list_contract_terms",
            "request_list_contracts",
        ]
    }
}

/// A `request_list` row as stored; its `created_at` text is the cursor's key.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
struct ListedRow {
    request_id: String,
    kind: String,
    contract_id: String,
    contract_name: Option<String>,
    name: String,
    reference: Option<String>,
    created_at: String,
    created_by: String,
    created_on_behalf_of: Option<String>,
    detailed_status: String,
    portal_status: String,
    last_update_at: String,
    last_position: i64,
}

/// A request as a batch leaves it.
struct Listed {
    row: ListedRow,
    /// The row as stored before the batch; `None` when the batch lists it.
    stored: Option<ListedRow>,
    /// A draft cancelled before submission: its row goes.
    removed: bool,
    changed: bool,
}

/// What a batch of events does to the request list, gathered in memory: the rows it
/// touches are read once ([`Batch::load`]) and written once ([`Batch::write`]).
#[derive(Default)]
struct Batch {
    /// Contract names this batch needs: those it creates and those its new requests name.
    contract_names: HashMap<String, String>,
    new_contracts: Vec<(String, String)>,
    requests: HashMap<String, Listed>,
}

#[async_trait]
impl InMemoryBatch for Batch {
    /// Reads the rows the events will change and the names of the contracts they name.
    async fn load(tx: &mut ViewTx, events: &[FeedEvent]) -> Result<Self, ProjectionError> {
        let mut request_ids = BTreeSet::new();
        let mut contract_ids = BTreeSet::new();
        for event in events {
            match &event.event {
                DomainEvent::Contract(_)
                | DomainEvent::Incident(IncidentEvent::IncidentOpened { .. }) => {}
                DomainEvent::Change(ChangeEvent::ChangeDraftSaved { contract, .. }) => {
                    contract_ids.insert(contract.to_string());
                }
                // A submitted draft is listed already.
                DomainEvent::Change(ChangeEvent::ChangeSubmitted { contract, .. }) => {
                    contract_ids.insert(contract.to_string());
                    request_ids.insert(event.aggregate_id.clone());
                }
                DomainEvent::Order(OrderEvent::OrderPlaced { contract, .. }) => {
                    contract_ids.insert(contract.to_string());
                }
                DomainEvent::Incident(_) | DomainEvent::Change(_) | DomainEvent::Order(_) => {
                    request_ids.insert(event.aggregate_id.clone());
                }
            }
        }
        let mut batch = Batch::default();
        if !contract_ids.is_empty() {
            let keys: Vec<String> = contract_ids.into_iter().collect();
            let names: Vec<(String, String)> = tx
                .fetch_by_keys(
                    "SELECT contract_id, name FROM request_list_contracts WHERE contract_id",
                    &keys,
                )
                .await?;
            batch.contract_names.extend(names);
        }
        if !request_ids.is_empty() {
            let keys: Vec<String> = request_ids.into_iter().collect();
            let rows: Vec<ListedRow> = tx
                .fetch_by_keys("SELECT * FROM request_list WHERE request_id", &keys)
                .await?;
            for row in rows {
                batch.requests.insert(
                    row.request_id.clone(),
                    Listed {
                        stored: Some(row.clone()),
                        row,
                        removed: false,
                        changed: false,
                    },
                );
            }
        }
        Ok(batch)
    }

    fn apply(&mut self, event: &FeedEvent) -> Result<(), ProjectionError> {
        match &event.event {
            DomainEvent::Contract(contract) => {
                self.apply_contract(contract);
                Ok(())
            }
            DomainEvent::Incident(incident) => self.apply_incident(event, incident),
            DomainEvent::Change(change) => self.apply_change(event, change),
            DomainEvent::Order(order) => self.apply_order(event, order),
        }
    }

    /// Writes what changed: a few multi-row statements per table.
    async fn write(self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        let mut statements = Statements::default();
        for (contract_id, name) in self.new_contracts {
            statements.add_contract(contract_id, name);
        }
        // Rows go in key order: each index is then written page after page.
        let mut changed: Vec<Listed> = self
            .requests
            .into_values()
            .filter(|listed| listed.changed)
            .collect();
        changed.sort_unstable_by(|a, b| a.row.request_id.cmp(&b.row.request_id));
        for listed in changed {
            statements.add_request(listed);
        }
        statements.execute(tx).await
    }
}

impl Batch {
    /// A contract created: its name, for the requests that will name it.
    fn apply_contract(&mut self, event: &ContractEvent) {
        if let ContractEvent::ContractCreated {
            contract_id, name, ..
        } = event
        {
            self.contract_names
                .insert(contract_id.to_string(), name.to_string());
            self.new_contracts
                .push((contract_id.to_string(), name.to_string()));
        }
    }

    fn apply_incident(
        &mut self,
        event: &FeedEvent,
        incident: &IncidentEvent,
    ) -> Result<(), ProjectionError> {
        match incident {
            IncidentEvent::IncidentOpened {
                contract_id,
                contract_name,
                title,
                ..
            } => self.insert(
                event,
                NewRequest {
                    kind: RequestKind::Incident,
                    contract_id: contract_id.as_str(),
                    contract_name: Some(contract_name.to_string()),
                    name: title.as_str(),
                    reference: None,
                    detailed_status: "opened",
                    portal_status: PortalStatus::Transmitted,
                },
            ),
            other => {
                let status = incident_status_after(other)
                    .map(|status| (status.as_str(), incident_portal_status(status)));
                self.update(event, status);
                Ok(())
            }
        }
    }

    fn apply_change(
        &mut self,
        event: &FeedEvent,
        change: &ChangeEvent,
    ) -> Result<(), ProjectionError> {
        match change {
            ChangeEvent::ChangeDraftSaved { contract, form, .. } => self.insert(
                event,
                NewRequest {
                    kind: RequestKind::Change,
                    contract_id: contract.as_str(),
                    contract_name: self.contract_name(contract.as_str()),
                    name: draft_name(form),
                    reference: form
                        .customer_reference
                        .as_ref()
                        .map(|reference| reference.as_str()),
                    detailed_status: DRAFT,
                    portal_status: PortalStatus::Draft,
                },
            ),
            ChangeEvent::ChangeDraftEdited { form, .. } => {
                self.edit_draft(event, form);
                Ok(())
            }
            ChangeEvent::ChangeSubmitted {
                contract,
                article,
                customer_reference,
                ..
            } => self.submit(
                event,
                NewRequest {
                    kind: RequestKind::Change,
                    contract_id: contract.as_str(),
                    contract_name: self.contract_name(contract.as_str()),
                    name: article.article.as_str(),
                    reference: customer_reference
                        .as_ref()
                        .map(|reference| reference.as_str()),
                    detailed_status: "submitted",
                    portal_status: PortalStatus::Transmitted,
                },
            ),
            ChangeEvent::ChangeCancelled {
                previous_status: ChangeStatus::Draft,
                ..
            } => {
                self.remove_draft(event);
                Ok(())
            }
            other => {
                let status = other.status_after();
                self.update(event, Some((status.as_str(), change_portal_status(status))));
                Ok(())
            }
        }
    }

    fn apply_order(
        &mut self,
        event: &FeedEvent,
        order: &OrderEvent,
    ) -> Result<(), ProjectionError> {
        match order {
            OrderEvent::OrderPlaced {
                contract,
                reference,
                item,
                ..
            } => self.insert(
                event,
                NewRequest {
                    kind: RequestKind::Order,
                    contract_id: contract.as_str(),
                    contract_name: self.contract_name(contract.as_str()),
                    name: item.name.as_str(),
                    reference: Some(reference.as_str()),
                    detailed_status: "transmitted",
                    portal_status: PortalStatus::Transmitted,
                },
            ),
            other => {
                let status = other
                    .status_after()
                    .map(|status| (status.as_str(), order_portal_status(status)));
                self.update(event, status);
                Ok(())
            }
        }
    }

    /// The name of a contract, if this view knows it.
    fn contract_name(&self, contract_id: &str) -> Option<String> {
        self.contract_names.get(contract_id).cloned()
    }

    /// A draft's row takes the article and reference of its edited form.
    fn edit_draft(&mut self, event: &FeedEvent, form: &ChangeForm) {
        if let Some(listed) = self.requests.get_mut(event.aggregate_id.as_str()) {
            listed.row.name = draft_name(form).to_owned();
            listed.row.reference = form
                .customer_reference
                .as_ref()
                .map(|reference| reference.as_str().to_owned());
        }
        self.update(event, None);
    }

    /// A change submitted is listed from now on as created now, by whoever submitted it:
    /// the row of its draft, if it had one, takes the submission's facts; else it is new.
    fn submit(
        &mut self,
        event: &FeedEvent,
        request: NewRequest<'_>,
    ) -> Result<(), ProjectionError> {
        let Some(listed) = self.requests.get_mut(event.aggregate_id.as_str()) else {
            return self.insert(event, request);
        };
        let row = &mut listed.row;
        row.contract_name = request.contract_name.or(row.contract_name.take());
        row.name = request.name.to_owned();
        row.reference = request.reference.map(str::to_owned);
        row.created_at = instant_text(event.at);
        row.created_by = event.audit.actor.clone();
        row.created_on_behalf_of = event.audit.on_behalf_of.clone();
        row.detailed_status = request.detailed_status.to_owned();
        row.portal_status = request.portal_status.as_str().to_owned();
        self.update(event, None);
        Ok(())
    }

    /// A draft cancelled before submission was never a request: its row goes.
    fn remove_draft(&mut self, event: &FeedEvent) {
        if let Some(listed) = self.requests.get_mut(event.aggregate_id.as_str()) {
            listed.removed = true;
            listed.changed = true;
        }
    }

    fn insert(
        &mut self,
        event: &FeedEvent,
        request: NewRequest<'_>,
    ) -> Result<(), ProjectionError> {
        let request_id = event.aggregate_id.as_str();
        if self.requests.contains_key(request_id) {
            return Err(ProjectionError::Malformed(format!(
                "request {request_id} is listed twice (position {})",
                event.position
            )));
        }
        let created_at = instant_text(event.at);
        let row = ListedRow {
            request_id: request_id.to_owned(),
            kind: request.kind.as_str().to_owned(),
            contract_id: request.contract_id.to_owned(),
            contract_name: request.contract_name,
            name: request.name.to_owned(),
            reference: request.reference.map(str::to_owned),
            last_update_at: created_at.clone(),
            created_at,
            created_by: event.audit.actor.clone(),
            created_on_behalf_of: event.audit.on_behalf_of.clone(),
            detailed_status: request.detailed_status.to_owned(),
            portal_status: request.portal_status.as_str().to_owned(),
            last_position: event.position,
        };
        self.requests.insert(
            request_id.to_owned(),
            Listed {
                row,
                stored: None,
                removed: false,
                changed: true,
            },
        );
        Ok(())
    }

    /// Moves a listed request's last update to `event` and, when `status` differs from its
    /// current one, its status. Events of requests not listed are ignored.
    fn update(&mut self, event: &FeedEvent, status: Option<(&'static str, PortalStatus)>) {
        let Some(listed) = self.requests.get_mut(event.aggregate_id.as_str()) else {
            return;
        };
        if let Some((detailed_status, portal_status)) = status
            && listed.row.detailed_status != detailed_status
        {
            listed.row.detailed_status = detailed_status.to_owned();
            listed.row.portal_status = portal_status.as_str().to_owned();
        }
        listed.row.last_update_at = instant_text(event.at);
        listed.row.last_position = event.position;
        listed.changed = true;
    }
}

/// The rows of each statement [`Batch::write`] runs, gathered from the batch's contracts
/// and requests; a statement with no rows is not run.
#[derive(Default)]
struct Statements {
    contracts: Vec<Param>,
    contract_terms: Vec<(String, String)>,
    stale_facets: Vec<(String, String, String)>,
    new_facets: Vec<(String, String, String)>,
    terms: Vec<(String, String)>,
    /// The ids of stored rows that go.
    gone: Vec<Param>,
    rows: Vec<Param>,
}

impl Statements {
    /// A new contract: its name and its search terms.
    fn add_contract(&mut self, contract_id: String, name: String) {
        for term in terms_of([contract_id.as_str(), name.as_str()]) {
            self.contract_terms.push((term, contract_id.clone()));
        }
        self.contracts.extend([contract_id.into(), name.into()]);
    }

    /// A request the batch changed: its index entries, its search terms and its row (or
    /// the removal of its row).
    fn add_request(&mut self, listed: Listed) {
        let row = listed.row;
        // Each index entry is (facet, created_at): those the row had as stored and those
        // it has now; a removed row has none.
        let had = facet_entries(listed.stored.as_ref());
        let has = facet_entries((!listed.removed).then_some(&row));
        for (facet, created_at) in had.difference(&has) {
            self.stale_facets
                .push((facet.clone(), created_at.clone(), row.request_id.clone()));
        }
        for (facet, created_at) in has.difference(&had) {
            self.new_facets
                .push((facet.clone(), created_at.clone(), row.request_id.clone()));
        }
        if listed.removed {
            if listed.stored.is_some() {
                self.gone.push(Param::Text(row.request_id));
            }
            return;
        }
        // Search terms from the submission on (a draft is not searched).
        let searched_before = listed
            .stored
            .as_ref()
            .is_some_and(|stored| stored.detailed_status != DRAFT);
        if row.detailed_status != DRAFT && !searched_before {
            let texts = [row.request_id.as_str(), row.name.as_str()];
            for term in terms_of(texts.into_iter().chain(row.reference.as_deref())) {
                self.terms.push((term, row.request_id.clone()));
            }
        }
        self.rows.extend(row.into_params());
    }

    /// One multi-row statement per table, in the order the indexes expect: contracts
    /// and their terms, stale index entries out and new ones in, then the rows.
    async fn execute(self, tx: &mut ViewTx) -> Result<(), ProjectionError> {
        tx.execute_rows(
            "INSERT INTO request_list_contracts (contract_id, name) VALUES",
            "",
            2,
            self.contracts,
        )
        .await?;
        tx.execute_rows(
            "INSERT INTO request_list_contract_terms (term, contract_id) VALUES",
            "",
            2,
            pairs(self.contract_terms),
        )
        .await?;
        tx.delete_rows(
            "request_list_facets",
            &["facet", "created_at", "request_id"],
            triples(self.stale_facets),
        )
        .await?;
        tx.execute_rows(
            "INSERT INTO request_list_facets (facet, created_at, request_id) VALUES",
            "",
            3,
            triples(self.new_facets),
        )
        .await?;
        tx.execute_rows(
            "INSERT INTO request_list_terms (term, request_id) VALUES",
            "",
            2,
            pairs(self.terms),
        )
        .await?;
        tx.delete_rows("request_list", &["request_id"], self.gone)
            .await?;
        tx.execute_rows(
            "INSERT INTO request_list (request_id, kind, contract_id, contract_name, name, reference, \
             created_at, created_by, created_on_behalf_of, detailed_status, portal_status, \
             last_update_at, last_position) VALUES",
            "ON CONFLICT (request_id) DO UPDATE SET contract_name = excluded.contract_name, \
             name = excluded.name, reference = excluded.reference, created_at = excluded.created_at, \
             created_by = excluded.created_by, created_on_behalf_of = excluded.created_on_behalf_of, \
             detailed_status = excluded.detailed_status, \
             portal_status = excluded.portal_status, last_update_at = excluded.last_update_at, \
             last_position = excluded.last_position",
            13,
            self.rows,
        )
        .await?;
        Ok(())
    }
}

impl ListedRow {
    /// Its row of `request_list`, in the insert's column order.
    fn into_params(self) -> [Param; 13] {
        [
            self.request_id.into(),
            self.kind.into(),
            self.contract_id.into(),
            self.contract_name.into(),
            self.name.into(),
            self.reference.into(),
            self.created_at.into(),
            self.created_by.into(),
            self.created_on_behalf_of.into(),
            self.detailed_status.into(),
            self.portal_status.into(),
            self.last_update_at.into(),
            Param::Int(self.last_position),
        ]
    }
}

/// The index entries `(facet, created_at)` of a row; none without a row.
fn facet_entries(row: Option<&ListedRow>) -> BTreeSet<(String, String)> {
    row.map_or_else(BTreeSet::new, |row| {
        facets::of_row(row)
            .into_iter()
            .map(|facet| (facet, row.created_at.clone()))
            .collect()
    })
}

/// The search terms of `texts`, together.
fn terms_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    for text in texts {
        search::add_terms(text, &mut terms);
    }
    terms
}

/// The detailed status of a change draft.
const DRAFT: &str = "draft";

/// What a draft is listed as: the article chosen so far, or nothing yet.
fn draft_name(form: &ChangeForm) -> &str {
    form.article
        .as_ref()
        .map_or("", |article| article.article.as_str())
}

/// `(a, b, c)` rows in key order, as placeholder values.
fn triples(mut rows: Vec<(String, String, String)>) -> Vec<Param> {
    rows.sort_unstable();
    rows.into_iter()
        .flat_map(|(a, b, c)| [Param::Text(a), Param::Text(b), Param::Text(c)])
        .collect()
}

/// `(a, b)` rows in key order, as placeholder values.
fn pairs(mut rows: Vec<(String, String)>) -> Vec<Param> {
    rows.sort_unstable();
    rows.into_iter()
        .flat_map(|(a, b)| [Param::Text(a), Param::Text(b)])
        .collect()
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

/// Facet keys: `scope|*|*` (every request of the scope) and `scope|kind|d:status` (its kind
/// and detailed status), for the scopes `*` (every contract) and the request's contract.
/// Any other filter is the union of the `scope|kind|d:status` facets it covers (a kind
/// has at most 8 listed statuses, and a detailed status implies its portal status).
mod facets {
    use super::status::listed_statuses;
    use super::{PortalStatus, RequestKind};

    pub(crate) const ANY: &str = "*";

    pub(crate) fn key(scope: &str, kind: &str, status: &str) -> String {
        format!("{scope}|{kind}|{status}")
    }

    fn detailed(status: &str) -> String {
        format!("d:{status}")
    }

    /// The 4 facets of a request.
    pub(crate) fn all(contract_id: &str, kind: &str, detailed_status: &str) -> Vec<String> {
        let mut keys = status_dependent(contract_id, kind, detailed_status);
        for scope in [ANY, contract_id] {
            keys.push(key(scope, ANY, ANY));
        }
        keys
    }

    /// The facets of a row: a draft's 3 (one per kind of reader who may see it), or any
    /// other request's 4.
    pub(crate) fn of_row(row: &super::ListedRow) -> Vec<String> {
        if row.detailed_status == super::DRAFT {
            [
                drafts_of_contract(&row.contract_id),
                drafts_of_author_on(&row.contract_id, &row.created_by),
                drafts_of_author(&row.created_by),
            ]
            .into_iter()
            .map(|scope| key(&scope, ANY, ANY))
            .collect()
        } else {
            all(&row.contract_id, &row.kind, &row.detailed_status)
        }
    }

    /// The scope of every draft of a contract (its Services managers read it).
    pub(crate) fn drafts_of_contract(contract_id: &str) -> String {
        format!("draft@{contract_id}")
    }

    /// The scope of the drafts `author` saved on a contract.
    pub(crate) fn drafts_of_author_on(contract_id: &str, author: &str) -> String {
        format!("draft@{contract_id}@{author}")
    }

    /// The scope of the drafts `author` saved, on any contract.
    pub(crate) fn drafts_of_author(author: &str) -> String {
        format!("draft-by@{author}")
    }

    /// The facet of a draft scope, if these filters let drafts through (a draft is a
    /// change, its portal status and detailed status `draft`).
    pub(crate) fn covering_drafts(
        scope: &str,
        kind: Option<RequestKind>,
        portal_status: Option<PortalStatus>,
        detailed_status: Option<&str>,
    ) -> Option<String> {
        let admitted = kind.is_none_or(|kind| kind == RequestKind::Change)
            && portal_status.is_none_or(|portal| portal == PortalStatus::Draft)
            && detailed_status.is_none_or(|status| status == super::DRAFT);
        admitted.then(|| key(scope, ANY, ANY))
    }

    /// The 2 facets that name a status: those a status change replaces.
    pub(crate) fn status_dependent(
        contract_id: &str,
        kind: &str,
        detailed_status: &str,
    ) -> Vec<String> {
        [ANY, contract_id]
            .into_iter()
            .map(|scope| key(scope, kind, &detailed(detailed_status)))
            .collect()
    }

    /// The facets of `scope` whose union is exactly the requests these filters select
    /// (none when they contradict each other or name no listed status).
    pub(crate) fn covering(
        scope: &str,
        kind: Option<RequestKind>,
        portal_status: Option<PortalStatus>,
        detailed_status: Option<&str>,
    ) -> Vec<String> {
        if kind.is_none() && portal_status.is_none() && detailed_status.is_none() {
            return vec![key(scope, ANY, ANY)];
        }
        let kinds = kind.map_or(RequestKind::ALL.to_vec(), |kind| vec![kind]);
        let mut keys = Vec::new();
        for kind in kinds {
            // Drafts have facets of their own ([`covering_drafts`]).
            for (status, portal) in listed_statuses(kind)
                .into_iter()
                .filter(|(status, _)| *status != super::DRAFT)
            {
                if detailed_status.is_none_or(|wanted| wanted == status)
                    && portal_status.is_none_or(|wanted| wanted == portal)
                {
                    keys.push(key(scope, kind.as_str(), &detailed(status)));
                }
            }
        }
        keys
    }
}
