//! Feeding events to one projection and reading back its view: the one helper every
//! projection test goes through.

use sablier_store::testing::TestDatabase;

use crate::error::ProjectionError;
use crate::event::{Audit, DomainEvent, FeedEvent};
use crate::projection::Projection;
use crate::sql::{ViewReader, begin};

/// A fresh migrated SQLite database with `events` applied to `projection`, positions 1, 2…
/// in the order given. Keep the returned [`TestDatabase`] alive while reading.
pub async fn feed(
    projection: &dyn Projection,
    events: Vec<(String, DomainEvent)>,
) -> Result<(TestDatabase, ViewReader), ProjectionError> {
    let db = TestDatabase::sqlite().await;
    feed_into(&db, projection, events).await?;
    let reader = ViewReader::new(db.database.clone());
    Ok((db, reader))
}

/// Applies `(aggregate_id, event)` pairs to `projection` on an existing test database.
pub async fn feed_into(
    db: &TestDatabase,
    projection: &dyn Projection,
    events: Vec<(String, DomainEvent)>,
) -> Result<(), ProjectionError> {
    let mut sequences = std::collections::HashMap::<String, i64>::new();
    let mut tx = begin(&db.database).await?;
    for (index, (aggregate_id, event)) in events.into_iter().enumerate() {
        let sequence = sequences.entry(aggregate_id.clone()).or_default();
        *sequence += 1;
        let feed_event = FeedEvent {
            position: index as i64 + 1,
            aggregate_type: aggregate_type(&event).to_owned(),
            sequence: *sequence,
            event_type: event_type(&event),
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
        };
        projection.apply(&mut tx, &feed_event).await?;
    }
    tx.commit().await
}

fn aggregate_type(event: &DomainEvent) -> &'static str {
    match event {
        DomainEvent::Contract(_) => "Contract",
        DomainEvent::Incident(_) => "Incident",
        DomainEvent::Change(_) => "Change",
        DomainEvent::Order(_) => "Order",
    }
}

fn event_type(event: &DomainEvent) -> String {
    use cqrs_es::DomainEvent as _;
    match event {
        DomainEvent::Contract(event) => event.event_type(),
        DomainEvent::Incident(event) => event.event_type(),
        DomainEvent::Change(event) => event.event_type(),
        DomainEvent::Order(event) => event.event_type(),
    }
}
