//! The bodies the API answers reads with. They are the API's own types (events and views
//! may grow without changing them), built from the projections' rows.

use chrono::{DateTime, Utc};
use sablier_projections::audit_trail::AuditEntry;
use sablier_projections::billing::BilledChange;
use sablier_projections::request_list::RequestRow;
use sablier_projections::sla_clocks::ClockRow;
use sablier_sla::ClockEvaluation;
use sablier_sla::clock::ExplainedInterval;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::problem::Problem;
use crate::http::schema;

/// One request (incident, change or order) as the request list shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RequestView {
    pub request_id: String,
    /// `incident`, `change` or `order`.
    pub kind: String,
    pub contract_id: String,
    pub contract_name: Option<String>,
    pub name: String,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub created_on_behalf_of: Option<String>,
    /// The object's own status (`opened`, `awaiting_customer`, `quoted`…).
    pub detailed_status: String,
    /// `draft` (a change not submitted yet), `transmitted`, `in_progress` or `completed`.
    pub portal_status: String,
    pub last_update_at: DateTime<Utc>,
}

impl From<RequestRow> for RequestView {
    fn from(row: RequestRow) -> Self {
        Self {
            request_id: row.request_id,
            kind: row.kind.as_str().to_owned(),
            contract_id: row.contract_id.to_string(),
            contract_name: row.contract_name,
            name: row.name,
            reference: row.reference,
            created_at: row.created_at,
            created_by: row.created_by,
            created_on_behalf_of: row.created_on_behalf_of,
            detailed_status: row.detailed_status,
            portal_status: row.portal_status.as_str().to_owned(),
            last_update_at: row.last_update_at,
        }
    }
}

/// One SLA clock as of an instant.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClockView {
    /// `GTI`, `GTD`, `GTR` or `delivery`.
    pub metric: String,
    /// `running`, `paused` or `stopped`.
    pub state: String,
    /// `met`, `breached`, `on_track`, `at_risk`, `no_commitment`…
    pub verdict: String,
    pub counted_seconds: i64,
    pub target_seconds: Option<i64>,
    pub remaining_seconds: Option<i64>,
    pub deadline: Option<DateTime<Utc>>,
    pub at_risk: bool,
    pub breached: bool,
    pub breached_at: Option<DateTime<Utc>>,
    /// The tier and policy version the request was pinned to when it was opened.
    pub tier: Option<String>,
    pub policy_version: Option<String>,
    pub priority: Option<String>,
    /// The calendar the clock counts on at `as_of`: the one it started on, or the one a
    /// priority change moved it onto since.
    pub calendar: String,
    pub time_zone: String,
}

impl ClockView {
    pub fn new(row: &ClockRow, evaluation: &ClockEvaluation) -> Self {
        Self {
            metric: row.metric.clone(),
            state: evaluation.state.as_str().to_owned(),
            verdict: evaluation.verdict.as_str().to_owned(),
            counted_seconds: evaluation.counted_seconds,
            target_seconds: evaluation.target_seconds,
            remaining_seconds: evaluation.remaining_seconds,
            deadline: evaluation.deadline,
            at_risk: evaluation.at_risk,
            breached: evaluation.breached,
            breached_at: evaluation.breached_at,
            tier: row.tier.clone(),
            policy_version: row.policy_version.clone(),
            priority: row.priority.clone(),
            calendar: evaluation.calendar.clone(),
            time_zone: row.time_zone.clone(),
        }
    }

    /// The clocks of a request that had started by `as_of`, as of then.
    pub fn all(rows: &[ClockRow], as_of: DateTime<Utc>) -> Result<Vec<Self>, Problem> {
        let mut clocks = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(evaluation) = row.figures(as_of)? {
                clocks.push(Self::new(row, &evaluation));
            }
        }
        Ok(clocks)
    }
}

/// A request with its live SLA clocks.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub request: RequestView,
    /// The instant the clocks were evaluated at.
    pub as_of: DateTime<Utc>,
    pub clocks: Vec<ClockView>,
    /// A submitted change: whether it is billable, decided at its submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<ChangeBilling>,
}

/// Whether a submitted change is billable (docs/domain.md "Submission": each contract has
/// free changes per calendar month; one submitted beyond them is billable, with its
/// catalogue price).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeBilling {
    pub billable: bool,
    /// What a billable change is billed once completed, in euro cents excluding tax: its
    /// catalogue price; absent for an article sold on study (billed at the quote the
    /// customer accepts) and for a free change.
    pub price_cents: Option<i64>,
    /// The month of the submission, `YYYY-MM` in the contract's time zone.
    #[schema(value_type = schema::YearMonth)]
    pub month: String,
    /// Its rank among the contract's changes submitted that month, from 1.
    pub rank_in_month: i64,
}

impl ChangeBilling {
    /// From what the billing view recorded of the change.
    pub fn new(billed: BilledChange) -> Self {
        Self {
            billable: billed.billable,
            price_cents: billed.catalogue_price_cents.filter(|_| billed.billable),
            month: billed.submitted_month,
            rank_in_month: billed.rank_in_month,
        }
    }
}

/// One interval of an explanation.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct IntervalView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[schema(value_type = schema::IntervalKind)]
    pub kind: String,
    /// A holiday's name, or a pause's reason.
    pub detail: Option<String>,
    /// Who paused the clock (a pause's interval), when the log says.
    pub actor: Option<String>,
}

impl From<&ExplainedInterval> for IntervalView {
    fn from(interval: &ExplainedInterval) -> Self {
        Self {
            from: interval.from,
            to: interval.to,
            kind: interval.kind.as_str().to_owned(),
            detail: interval.detail.clone(),
            actor: interval.actor.clone(),
        }
    }
}

/// One clock explained: its figures, the target changes, and every interval.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClockExplanation {
    pub request_id: String,
    pub as_of: DateTime<Utc>,
    #[serde(flatten)]
    pub clock: ClockView,
    pub initial_target_seconds: Option<i64>,
    /// The clock's transitions as the events stated them (start, pause with its reason,
    /// resume, target change with its calendar, stop, reopen).
    #[schema(value_type = Vec<Object>)]
    pub transitions: serde_json::Value,
    pub intervals: Vec<IntervalView>,
}

/// One event of a request's (or contract's) history.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub sequence: i64,
    pub position: i64,
    pub at: DateTime<Utc>,
    pub event_type: String,
    pub actor: String,
    pub actor_role: String,
    pub on_behalf_of: Option<String>,
    pub channel: String,
    pub request_id: String,
    pub summary: String,
}

impl From<AuditEntry> for HistoryEntry {
    fn from(entry: AuditEntry) -> Self {
        Self {
            sequence: entry.sequence,
            position: entry.position,
            at: entry.at,
            event_type: entry.event_type,
            actor: entry.actor,
            actor_role: entry.actor_role,
            on_behalf_of: entry.on_behalf_of,
            channel: entry.channel,
            request_id: entry.request_id,
            summary: entry.summary,
        }
    }
}
