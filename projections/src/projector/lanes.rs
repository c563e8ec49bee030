//! Catching up on PostgreSQL, one lane per projection: each projection applies the feed in
//! transactions of its own, on a connection of its own, beside the others.
//!
//! Each projection's rows and its checkpoint still move together in one transaction, so
//! each event still takes effect exactly once per view; what lanes give up is only that
//! all views stand at the same position between commits, which nothing relies on (readers
//! wait for every checkpoint, `Projector::reached` reports the lowest). What they gain:
//! while one view's statements run on the server, the others compute theirs, so a rebuild
//! keeps both the client and the server busy instead of taking turns.
//!
//! One reader task reads and decodes the feed once and hands each lane the batch with
//! what that projection prepared of it, through a short queue, so a slow lane holds the
//! reader (and the memory it may use) back. SQLite has one writer per database, so there
//! the projector keeps one transaction for every view.
//!
//! A lane commits before it waits for the reader, so it never holds locks that another
//! projector may wait for while it waits itself (a cycle PostgreSQL cannot see).
//!
//! A lane whose view cannot apply an event stalls it there (`apply_or_stall`), commits
//! what it applied before it, and ends; the reader goes on feeding the other lanes. A
//! batch ending before an event no view can read goes to the projector's own loop instead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sablier_store::Database;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Batch, Stall, ViewOutcome, apply_or_stall, read_batch};
use crate::error::ProjectionError;
use crate::event::FeedEvent;
use crate::projection::{Prepared, Projection};
use crate::sql::{ViewTx, begin};

/// Batches waiting for a lane, at most: enough for the reader to stay one ahead.
const QUEUED_BATCHES: usize = 2;

/// How a lane ended.
pub(super) enum LaneEnd {
    /// Applied and committed everything it was given.
    Finished,
    /// Another projector moved the checkpoint first; what was not committed is dropped.
    Lost,
    /// Its view cannot apply an event; what it applied before it is committed.
    Stalled(Stall),
}

/// What a lane's progress looks like to the projector: (lane, committed position).
pub(super) type Progress = mpsc::UnboundedSender<(usize, i64)>;

/// Where a lane takes its batches from: the events and what its projection prepared.
type LaneQueue = mpsc::Sender<(Arc<Vec<FeedEvent>>, Prepared)>;

/// The settings every lane shares.
#[derive(Clone)]
pub(super) struct LaneSettings {
    pub database: Database,
    pub batch_size: i64,
    pub transaction_span: Duration,
}

/// The tasks of one catch-up in lanes.
pub(super) struct Lanes {
    /// One per projection, in the projections' order.
    pub lanes: Vec<JoinHandle<Result<LaneEnd, ProjectionError>>>,
    pub reader: JoinHandle<Result<(), ProjectionError>>,
}

/// Starts the reader at `first` (the batch after the lowest checkpoint, already read) and
/// one lane per `active` projection at its checkpoint. Each lane reports every commit to
/// `progress`, under the projection's index.
pub(super) fn start(
    log: sablier_store::EventLog,
    projections: &[Arc<dyn Projection>],
    active: &[bool],
    checkpoints: Vec<i64>,
    first: Batch,
    settings: LaneSettings,
    progress: Progress,
) -> Lanes {
    let mut queues = Vec::with_capacity(projections.len());
    let mut lanes = Vec::with_capacity(projections.len());
    for (index, (projection, checkpoint)) in projections.iter().zip(checkpoints).enumerate() {
        let (queue, batches) = mpsc::channel(QUEUED_BATCHES);
        if !active[index] {
            continue;
        }
        queues.push(Some(queue));
        lanes.push(tokio::spawn(run_lane(
            index,
            projection.clone(),
            checkpoint,
            batches,
            settings.clone(),
            progress.clone(),
        )));
    }
    let prepares: Vec<bool> = active.to_vec();
    let reader = tokio::spawn(read_into_lanes(
        log,
        projections.to_vec(),
        prepares,
        first,
        settings.batch_size,
        queues,
    ));
    Lanes { lanes, reader }
}

/// Hands `first`, then every batch after it, to every lane (one queue per active
/// projection, in order), until the feed runs out, a batch stops before an unreadable
/// event (the projector's loop stalls the views on it), or a lane stops taking them
/// because it lost its checkpoint (the others then finish what they have). A lane that
/// stalled stops taking batches and the others go on. On a read error the lanes end too,
/// each committing what it applied, and the error is the reader's outcome.
async fn read_into_lanes(
    log: sablier_store::EventLog,
    projections: Vec<Arc<dyn Projection>>,
    active: Vec<bool>,
    first: Batch,
    batch_size: i64,
    mut queues: Vec<Option<LaneQueue>>,
) -> Result<(), ProjectionError> {
    let mut batch = first;
    loop {
        let Some(last) = batch.last() else {
            return Ok(());
        };
        let stops = batch.unreadable.is_some();
        let events = Arc::new(batch.events);
        let prepared = batch
            .prepared
            .into_iter()
            .zip(&active)
            .filter(|(_, active)| **active)
            .map(|(prepared, _)| prepared);
        for (queue, prepared) in queues.iter_mut().zip(prepared) {
            if let Some(sender) = queue
                && sender.send((events.clone(), prepared)).await.is_err()
            {
                *queue = None;
            }
        }
        if stops || queues.iter().all(Option::is_none) {
            return Ok(());
        }
        batch = read_batch(log.clone(), projections.clone(), last, batch_size).await?;
    }
}

/// Applies each batch it is given to `projection` past `checkpoint`, moving the checkpoint
/// in the same transaction; full batches share a transaction for up to the span.
async fn run_lane(
    index: usize,
    projection: Arc<dyn Projection>,
    mut checkpoint: i64,
    mut batches: mpsc::Receiver<(Arc<Vec<FeedEvent>>, Prepared)>,
    settings: LaneSettings,
    progress: Progress,
) -> Result<LaneEnd, ProjectionError> {
    let mut open: Option<(ViewTx, Instant)> = None;
    loop {
        // A lane never waits for the reader with its transaction open: the reader may be
        // waiting for another lane, held up by a lock of another projector that in turn
        // waits for this transaction's locks, a cycle PostgreSQL cannot see.
        let next = match batches.try_recv() {
            Ok(next) => Some(next),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                if let Some((tx, _)) = open.take() {
                    tx.commit().await?;
                    let _ = progress.send((index, checkpoint));
                }
                batches.recv().await
            }
        };
        let Some((events, prepared)) = next else {
            break;
        };
        if events.is_empty() {
            continue;
        }
        let (mut tx, started) = match open.take() {
            Some(open) => open,
            None => (begin(&settings.database).await?, Instant::now()),
        };
        match apply_or_stall(
            &mut tx,
            projection.as_ref(),
            &events,
            prepared,
            checkpoint,
            None,
        )
        .await?
        {
            ViewOutcome::Moved(position) => checkpoint = position,
            ViewOutcome::Lost => return Ok(LaneEnd::Lost),
            ViewOutcome::Stalled(stall) => {
                tx.commit().await?;
                let _ = progress.send((index, stall.position));
                return Ok(LaneEnd::Stalled(stall));
            }
        }
        let full = i64::try_from(events.len()).is_ok_and(|len| len >= settings.batch_size);
        if full && started.elapsed() < settings.transaction_span {
            open = Some((tx, started));
        } else {
            tx.commit().await?;
            let _ = progress.send((index, checkpoint));
        }
    }
    if let Some((tx, _)) = open {
        tx.commit().await?;
        let _ = progress.send((index, checkpoint));
    }
    Ok(LaneEnd::Finished)
}
