//! Feeding events to one projection and reading back its view: the one helper every
//! projection test goes through.

use sablier_store::testing::TestDatabase;

use crate::error::ProjectionError;
use crate::event::{Audit, DomainEvent, FeedEvent};
use crate::projection::Projection;
use crate::snapshot::view_rows;
use crate::sql::{ViewReader, begin};

/// A fresh migrated SQLite database with `events` applied to `projection` one by one,
/// positions 1, 2… in the order given. Keep the returned [`TestDatabase`] alive while
/// reading.
///
/// Every projection test that feeds this way also checks batch application: the same
/// events applied as one batch, and in batches of two and three, must leave every view
/// table exactly as applying them one by one did (else this panics, naming the batching).
pub async fn feed(
    projection: &dyn Projection,
    events: Vec<(String, DomainEvent)>,
) -> Result<(TestDatabase, ViewReader), ProjectionError> {
    let db = TestDatabase::sqlite().await;
    let events = feed_events(events);
    apply_in_batches(&db, projection, events.clone(), &|_| 1).await?;
    assert_batches_match_one_by_one(projection, events).await?;
    let reader = ViewReader::new(db.database.clone());
    Ok((db, reader))
}

/// Panics unless `events` applied to `projection` as one batch, and in batches of two and
/// three, leave every view table of a fresh SQLite database exactly as applying them one
/// by one does. [`feed`] runs it; a test that makes its own feed events runs it itself.
pub async fn assert_batches_match_one_by_one(
    projection: &dyn Projection,
    events: Vec<FeedEvent>,
) -> Result<(), ProjectionError> {
    let reference = TestDatabase::sqlite().await;
    apply_in_batches(&reference, projection, events.clone(), &|_| 1).await?;
    let one_by_one = view_rows(&reference.database).await?;
    let count = events.len().max(1);
    let schedules: [(&str, &dyn Fn(usize) -> usize); 2] = [
        ("one batch", &|_| count),
        ("batches of 2 and 3", &|index| 2 + index % 2),
    ];
    for (name, sizes) in schedules {
        let shadow = TestDatabase::sqlite().await;
        apply_in_batches(&shadow, projection, events.clone(), sizes).await?;
        assert_eq!(
            view_rows(&shadow.database).await?,
            one_by_one,
            "{}: applying the events in {name} differs from one by one",
            projection.name()
        );
    }
    Ok(())
}

/// Applies `(aggregate_id, event)` pairs to `projection` one by one, in one transaction,
/// on an existing test database.
pub async fn feed_into(
    db: &TestDatabase,
    projection: &dyn Projection,
    events: Vec<(String, DomainEvent)>,
) -> Result<(), ProjectionError> {
    apply_in_batches(db, projection, feed_events(events), &|_| 1).await
}

async fn apply_in_batches(
    db: &TestDatabase,
    projection: &dyn Projection,
    events: Vec<FeedEvent>,
    size_of_batch: &dyn Fn(usize) -> usize,
) -> Result<(), ProjectionError> {
    let mut tx = begin(&db.database).await?;
    let mut rest = events.as_slice();
    let mut index = 0;
    while !rest.is_empty() {
        let (batch, after) = rest.split_at(size_of_batch(index).clamp(1, rest.len()));
        // As the projector does: prepared beside, then applied.
        let prepared = projection.prepare(batch);
        projection.apply_prepared(&mut tx, batch, prepared).await?;
        rest = after;
        index += 1;
    }
    tx.commit().await
}

/// Feed events with positions 1, 2… and per-aggregate sequences.
pub(crate) fn feed_events(events: Vec<(String, DomainEvent)>) -> Vec<FeedEvent> {
    let mut sequences = std::collections::HashMap::<String, i64>::new();
    let mut feed = Vec::with_capacity(events.len());
    for (index, (aggregate_id, event)) in events.into_iter().enumerate() {
        let sequence = sequences.entry(aggregate_id.clone()).or_default();
        *sequence += 1;
        feed.push(FeedEvent {
            position: index as i64 + 1,
            aggregate_type: event.aggregate_type().to_owned(),
            sequence: *sequence,
            event_type: event.event_type(),
            at: event.at(),
            aggregate_id,
            event,
            audit: Audit {
                actor: "jean.dupont".to_owned(),
                actor_role: "customer".to_owned(),
                on_behalf_of: None,
                channel: "portal".to_owned(),
                request_id: format!("request-{}", index + 1),
            },
        });
    }
    feed
}
