//! The audit trail (docs/domain.md "The audit trail"): the history of any request (and of any
//! contract, for contract events), every event in order with when it happened, who did it
//! (login, role, on whose behalf), through what, for which HTTP request, and what it did in
//! one line of English.
//!
//! One row per event in `audit_trail`, keyed by `(aggregate_id, sequence)` (aggregate ids
//! never collide across kinds: `OCB…`, `INC…`, `CHG…`, `ORD…`), so a history is one index
//! range read whatever the log's size. The summary is written when the event is applied,
//! from the event alone: a wording change needs a rebuild (bump [`AuditTrail::NAME`]).

mod summary;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::ProjectionError;
use crate::event::FeedEvent;
use crate::projection::{Prepared, Projection};
use crate::sql::{Param, ViewReader, ViewTx};

pub use summary::summary;

/// Values per row of `audit_trail`.
const COLUMNS: usize = 12;

/// A batch's rows of `audit_trail`, [`COLUMNS`] values each.
struct Rows(Vec<Param>);

/// The audit-trail projection. Reads go through [`AuditTrail::history`].
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditTrail;

/// One event of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub position: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_role: String,
    pub on_behalf_of: Option<String>,
    pub channel: String,
    /// The HTTP request the command came with.
    pub request_id: String,
    pub event_type: String,
    pub summary: String,
}

impl AuditTrail {
    pub const NAME: &'static str = "audit_trail";

    /// Every event of the aggregate (request or contract) `aggregate_id`, by sequence.
    /// Empty when the aggregate is unknown.
    pub async fn history(
        reader: &ViewReader,
        aggregate_id: &str,
    ) -> Result<Vec<AuditEntry>, ProjectionError> {
        let rows: Vec<StoredEntry> = reader
            .fetch_all(
                "SELECT aggregate_type, aggregate_id, sequence, position, at, actor, actor_role, \
                 on_behalf_of, channel, request_id, event_type, summary \
                 FROM audit_trail WHERE aggregate_id = $1 ORDER BY sequence",
                &[aggregate_id.into()],
            )
            .await?;
        rows.into_iter().map(AuditEntry::try_from).collect()
    }
}

#[async_trait]
impl Projection for AuditTrail {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn apply_batch(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        insert(tx, rows(events)).await
    }

    fn prepare(&self, events: &[FeedEvent]) -> Prepared {
        Prepared::new(rows(events))
    }

    async fn apply_prepared(
        &self,
        tx: &mut ViewTx,
        events: &[FeedEvent],
        prepared: Prepared,
    ) -> Result<(), ProjectionError> {
        let rows = prepared.take::<Rows>().unwrap_or_else(|| rows(events));
        insert(tx, rows).await
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audit_trail"]
    }
}

/// The batch's rows, summaries written, in key order: the index is then written page
/// after page.
fn rows(events: &[FeedEvent]) -> Rows {
    let mut ordered: Vec<&FeedEvent> = events.iter().collect();
    ordered
        .sort_unstable_by(|a, b| (&a.aggregate_id, a.sequence).cmp(&(&b.aggregate_id, b.sequence)));
    let mut values: Vec<Param> = Vec::with_capacity(events.len() * COLUMNS);
    for event in ordered {
        values.extend([
            event.aggregate_id.clone().into(),
            event.sequence.into(),
            event.aggregate_type.clone().into(),
            event.position.into(),
            crate::sql::instant_text(event.at).into(),
            event.audit.actor.clone().into(),
            event.audit.actor_role.clone().into(),
            event.audit.on_behalf_of.clone().into(),
            event.audit.channel.clone().into(),
            event.audit.request_id.clone().into(),
            event.event_type.clone().into(),
            summary(&event.event).into(),
        ]);
    }
    Rows(values)
}

async fn insert(tx: &mut ViewTx, Rows(values): Rows) -> Result<(), ProjectionError> {
    tx.execute_rows(
        "INSERT INTO audit_trail (aggregate_id, sequence, aggregate_type, position, at, actor, \
         actor_role, on_behalf_of, channel, request_id, event_type, summary) VALUES",
        "",
        COLUMNS,
        values,
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct StoredEntry {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    position: i64,
    at: String,
    actor: String,
    actor_role: String,
    on_behalf_of: Option<String>,
    channel: String,
    request_id: String,
    event_type: String,
    summary: String,
}

impl TryFrom<StoredEntry> for AuditEntry {
    type Error = ProjectionError;

    fn try_from(row: StoredEntry) -> Result<Self, Self::Error> {
        let at = DateTime::parse_from_rfc3339(&row.at)
            .map_err(|_| {
                ProjectionError::Malformed(format!(
                    "audit entry {} #{}: instant '{}'",
                    row.aggregate_id, row.sequence, row.at
                ))
            })?
            .with_timezone(&Utc);
        Ok(AuditEntry {
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            position: row.position,
            at,
            actor: row.actor,
            actor_role: row.actor_role,
            on_behalf_of: row.on_behalf_of,
            channel: row.channel,
            request_id: row.request_id,
            event_type: row.event_type,
            summary: row.summary,
        })
    }
}
