//! Read routes over the views: the request list, one request with its live clocks, its
//! history, one clock explained, and the breach watch. Every read first waits for the
//! views to show the writes this server acknowledged (read-your-writes).
//!
//! A query parameter a route cannot honour is refused as a problem naming it (422): an
//! unknown detailed status, a cursor it did not hand out or handed out for another sort
//! or other filters (a cursor carries their fingerprint, `RequestQuery::check_cursor`),
//! an `as_of` more than a year ahead (`AS_OF_HORIZON_DAYS`).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use sablier_domain::ContractId;
use sablier_projections::audit_trail::AuditTrail;
use sablier_projections::request_list::{
    InvalidRequestQuery, PageCursor, PageLimit, PortalStatus, RequestKind, RequestList,
    RequestQuery, SearchText, SortOrder, VisibleContract, status,
};
use sablier_projections::sla_clocks::SlaClocks;
use sablier_sla::Metric;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::{Caller, Need};
use crate::http::extract::{Path, Query};
use crate::http::fields;
use crate::http::problem::Problem;
use crate::http::schema;
use crate::http::state::AppState;
use crate::http::views::{
    ClockExplanation, ClockView, HistoryEntry, IntervalView, RequestDetail, RequestView,
};

/// The instant to evaluate clocks at (RFC 3339); now when absent.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    #[param(format = DateTime)]
    pub as_of: Option<String>,
}

/// How far past now a clock may be read: far enough for any deadline the portal shows,
/// and a bound on the work (an explanation lists about two intervals per business day).
const AS_OF_HORIZON_DAYS: i64 = 366;

impl AsOf {
    pub fn instant(&self, state: &AppState) -> Result<DateTime<Utc>, Problem> {
        let now = state.now();
        let Some(text) = &self.as_of else {
            return Ok(now);
        };
        let as_of = fields::instant("as_of", text)?;
        if as_of > now + chrono::Duration::days(AS_OF_HORIZON_DAYS) {
            return Err(Problem::invalid_field(
                "as_of",
                format!(
                    "must be at most {AS_OF_HORIZON_DAYS} days after now ({})",
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ));
        }
        Ok(as_of)
    }
}

/// A request of `kind` with its clocks as of `as_of`; 404 when it does not exist, is of
/// another kind, or belongs to a contract the caller does not see.
pub async fn detail(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
    kind: RequestKind,
    as_of: AsOf,
) -> Result<RequestDetail, Problem> {
    let as_of = as_of.instant(state)?;
    state
        .views_caught_up(&[RequestList::NAME, SlaClocks::NAME])
        .await?;
    // Both reads at once; the clocks are dropped unread if the caller may not see them.
    let (row, clocks) = tokio::try_join!(
        RequestList::get(&state.reader, request_id),
        SlaClocks::for_request(&state.reader, request_id),
    )?;
    let row = row
        .filter(|row| row.kind == kind)
        .ok_or_else(|| Problem::not_found(kind.as_str()))?;
    caller.authorize_request(&row, kind.as_str())?;
    Ok(RequestDetail {
        request: row.into(),
        as_of,
        clocks: ClockView::all(&clocks, as_of)?,
        billing: None,
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this contract's requests.
    #[param(value_type = Option<schema::ContractId>)]
    pub contract_id: Option<String>,
    /// `incident`, `change` or `order`.
    #[param(value_type = Option<schema::RequestKind>)]
    pub kind: Option<String>,
    /// `draft` (a change draft, listed for its author and the contract's Services
    /// managers), `transmitted`, `in_progress` or `completed`.
    #[param(value_type = Option<schema::PortalStatus>)]
    pub status: Option<String>,
    /// The object's own status (`awaiting_customer`, `quoted`…).
    pub detailed_status: Option<String>,
    /// Searches contract names and ids, request ids, names and references.
    #[param(value_type = Option<schema::SearchText>)]
    pub search: Option<String>,
    /// `newest_first` (default) or `oldest_first`.
    #[param(value_type = Option<schema::SortOrder>)]
    pub sort: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequestListPage {
    pub requests: Vec<RequestView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

fn query_problem(error: InvalidRequestQuery) -> Problem {
    Problem::invalid_field(error.field, error.reason)
}

/// A cursor's error names it as the list knows it (`cursor`); the query calls it `after`.
fn after_problem(error: InvalidRequestQuery) -> Problem {
    Problem::invalid_field("after", error.reason)
}

/// The request list: incidents, changes and orders of the contracts the caller sees.
#[utoipa::path(get, path = "/v1/requests", tag = "requests", params(ListQuery),
    responses((status = 200, body = RequestListPage), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<RequestListPage>, Problem> {
    let mut request = match caller.readable_requests() {
        Some(contracts) => RequestQuery::for_customer(contracts),
        None => RequestQuery::for_staff(),
    };
    request.drafts = caller.visible_drafts();
    if let Some(contract) = &query.contract_id {
        request.contract = Some(fields::parse("contract_id", contract, ContractId::parse)?);
    }
    if let Some(kind) = &query.kind {
        request.kind = Some(
            RequestKind::ALL
                .into_iter()
                .find(|candidate| candidate.as_str() == kind)
                .ok_or_else(|| {
                    Problem::invalid_field("kind", "must be incident, change or order")
                })?,
        );
    }
    if let Some(status) = &query.status {
        request.portal_status = Some(
            PortalStatus::ALL
                .into_iter()
                .find(|candidate| candidate.as_str() == status)
                .ok_or_else(|| {
                    Problem::invalid_field(
                        "status",
                        "must be draft, transmitted, in_progress or completed",
                    )
                })?,
        );
    }
    if let Some(detailed) = &query.detailed_status {
        if status::portal_status_of(detailed).is_none() {
            return Err(Problem::invalid_field(
                "detailed_status",
                format!("must be one of {}", status::detailed_statuses().join(", ")),
            ));
        }
        request.detailed_status = Some(detailed.clone());
    }
    if let Some(search) = &query.search {
        request.search = Some(SearchText::parse(search).map_err(query_problem)?);
    }
    request.sort = match query.sort.as_deref() {
        None | Some("newest_first") => SortOrder::NewestFirst,
        Some("oldest_first") => SortOrder::OldestFirst,
        Some(_) => {
            return Err(Problem::invalid_field(
                "sort",
                "must be newest_first or oldest_first",
            ));
        }
    };
    if let Some(after) = &query.after {
        request.after = Some(PageCursor::parse(after).map_err(after_problem)?);
    }
    if let Some(limit) = query.limit {
        request.limit = PageLimit::new(limit).map_err(query_problem)?;
    }
    request.check_cursor().map_err(after_problem)?;
    state.views_caught_up(&[RequestList::NAME]).await?;
    let page = RequestList::page(&state.reader, &request).await?;
    Ok(Json(RequestListPage {
        requests: page.rows.into_iter().map(RequestView::from).collect(),
        next: page.next.map(|cursor| cursor.to_string()),
    }))
}

/// Finds a request the caller may read, whatever its kind.
async fn readable(
    state: &AppState,
    caller: &Caller,
    request_id: &str,
) -> Result<RequestView, Problem> {
    state.views_caught_up(&[RequestList::NAME]).await?;
    let row = RequestList::get(&state.reader, request_id)
        .await?
        .ok_or_else(|| Problem::not_found("request"))?;
    caller.authorize_request(&row, "request")?;
    Ok(row.into())
}

/// Every event of a request, in order, with instant, actor, role, channel and request id.
#[utoipa::path(get, path = "/v1/requests/{request_id}/history", tag = "requests",
    params(("request_id" = String, Path)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(request_id): Path<String>,
) -> Result<Json<Vec<HistoryEntry>>, Problem> {
    readable(&state, &caller, &request_id).await?;
    state.views_caught_up(&[AuditTrail::NAME]).await?;
    let entries = AuditTrail::history(&state.reader, &request_id).await?;
    Ok(Json(entries.into_iter().map(HistoryEntry::from).collect()))
}

/// One clock of a request explained as of now (or `as_of`): figures, pinned tier and
/// policy, transitions and every interval counted or excluded.
#[utoipa::path(get, path = "/v1/requests/{request_id}/clocks/{metric}", tag = "requests",
    params(("request_id" = String, Path), ("metric" = schema::Metric, Path, description = "GTI, GTD, GTR or delivery"), AsOf),
    responses((status = 200, body = ClockExplanation), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn explain(
    State(state): State<AppState>,
    caller: Caller,
    Path((request_id, metric)): Path<(String, String)>,
    Query(as_of): Query<AsOf>,
) -> Result<Json<ClockExplanation>, Problem> {
    let metric: Metric = fields::term("metric", &metric)?;
    let as_of = as_of.instant(&state)?;
    readable(&state, &caller, &request_id).await?;
    let row = SlaClocks::for_request(&state.reader, &request_id)
        .await?
        .into_iter()
        .find(|row| row.metric == metric.as_str())
        .ok_or_else(|| Problem::not_found(format!("{metric} clock")))?;
    match row.started_at()? {
        Some(started_at) if started_at <= as_of => {}
        Some(started_at) => {
            return Err(Problem::invalid_field(
                "as_of",
                format!("the {metric} clock started at {started_at}, after this instant"),
            ));
        }
        None => return Err(Problem::not_found(format!("{metric} clock"))),
    }
    let evaluation = row.evaluate(as_of)?;
    Ok(Json(ClockExplanation {
        request_id,
        as_of,
        clock: ClockView::new(&row, &evaluation),
        initial_target_seconds: row.initial_target_seconds,
        transitions: serde_json::from_str(&row.transitions)
            .map_err(|error| Problem::internal(&error))?,
        intervals: evaluation
            .intervals
            .iter()
            .map(IntervalView::from)
            .collect(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BreachWatchQuery {
    /// Only this contract's clocks.
    #[param(value_type = Option<schema::ContractId>)]
    pub contract_id: Option<String>,
    /// 1 to 500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BreachWatchEntry {
    pub request_id: String,
    #[schema(value_type = schema::ContractId)]
    pub contract_id: String,
    pub metric: String,
    #[schema(value_type = Option<schema::Priority>)]
    pub priority: Option<String>,
    pub deadline: Option<String>,
    pub at_risk_from: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BreachWatchView {
    pub as_of: DateTime<Utc>,
    /// Running clocks by deadline, overdue first.
    pub next_breaches: Vec<BreachWatchEntry>,
    /// Running clocks past their at-risk threshold, not yet breached.
    pub at_risk: Vec<BreachWatchEntry>,
}

/// The breach watch: running clocks by deadline, and those at risk.
#[utoipa::path(get, path = "/v1/breach-watch", tag = "requests", params(BreachWatchQuery),
    responses((status = 200, body = BreachWatchView), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn breach_watch(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<BreachWatchQuery>,
) -> Result<Json<BreachWatchView>, Problem> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(Problem::invalid_field("limit", "must be between 1 and 500"));
    }
    // A customer watches the clocks of the requests they may read: incidents where they
    // read Support, changes where they read Services.
    let readable = caller.readable_requests();
    let contracts: Option<Vec<VisibleContract>> = match (&query.contract_id, readable) {
        (Some(contract), readable) => {
            let id = fields::parse("contract_id", contract, ContractId::parse)?;
            caller.require(contract, Need::Declared, "contract")?;
            match readable {
                None => Some(vec![VisibleContract::every_kind(id)]),
                Some(readable) => {
                    let on = readable.into_iter().find(|visible| visible.contract == id);
                    Some(vec![on.ok_or_else(|| {
                        Problem::forbidden(format!(
                            "the breach watch of contract {contract} needs the role visitor or \
                             manager on its Support or Services section"
                        ))
                    })?])
                }
            }
        }
        (None, readable) => readable,
    };
    state.views_caught_up(&[SlaClocks::NAME]).await?;
    let now = state.now();
    let watch =
        SlaClocks::breach_watch(&state.reader, now, contracts.as_deref(), i64::from(limit)).await?;
    let entry = |row: sablier_projections::sla_clocks::ClockRow| BreachWatchEntry {
        request_id: row.request_id,
        contract_id: row.contract_id,
        metric: row.metric,
        priority: row.priority,
        deadline: row.deadline,
        at_risk_from: row.at_risk_from,
    };
    Ok(Json(BreachWatchView {
        as_of: now,
        next_breaches: watch.next_breaches.into_iter().map(entry).collect(),
        at_risk: watch.at_risk.into_iter().map(entry).collect(),
    }))
}
