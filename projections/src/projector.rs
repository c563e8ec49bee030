//! The projector: applies the global feed to every projection, exactly once.
//!
//! Each round reads a batch after the lowest checkpoint, applies to each projection the
//! events past its own checkpoint, and moves every checkpoint in the same transaction. The
//! checkpoint moves only if it still holds the value this round read
//! (`UPDATE … WHERE position = $old`), so two projectors racing on one database can never
//! both apply a batch: the loser rolls back and reads again. A projection added later
//! starts at 0 and backfills while the others wait at their checkpoints.

mod lanes;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sablier_store::{Database, EventLog, FeedFilter};
use tokio::sync::{Notify, mpsc, watch};
use tracing::{debug, info, warn};

use crate::error::ProjectionError;
use crate::event::FeedEvent;
use crate::projection::{Prepared, Projection};
use crate::sql::{ConnectionSlot, Param, ViewReader, ViewTx, begin, begin_kept, off_runtime};
use lanes::{LaneEnd, LaneSettings, Lanes};

/// Events per batch, at most. Following the log, a batch is what arrived since the last
/// one; catching up (a rebuild, a restart behind), each batch holds this many, and a
/// transaction several ([`DEFAULT_TRANSACTION_SPAN`]). Larger batches rebuild faster (each
/// view reads and writes the rows a batch touches once) and hold more in memory: 10,000
/// events take about half a second to apply (docs/benchmarks.md, "Projections").
pub const DEFAULT_BATCH_SIZE: i64 = 10_000;

/// How long one transaction may go on applying full batches while catching up (a
/// rebuild, a restart far behind). Each commit writes out every page the views changed
/// since the last one, and the next batches change most of the same pages again (the
/// tails of the same index ranges): fewer, longer transactions write each page fewer
/// times. The bound is how long command appends on SQLite may wait for the write lock
/// meanwhile. Following the log, a batch that is not full commits at once.
pub const DEFAULT_TRANSACTION_SPAN: Duration = Duration::from_secs(1);

/// Moves a projection's checkpoint ($2) to $1, only if it still holds $3.
const CHECKPOINT_MOVE: &str =
    "UPDATE projection_checkpoints SET position = $1 WHERE name = $2 AND position = $3";

#[derive(sqlx::FromRow, serde::Deserialize)]
struct Checkpoint {
    name: String,
    position: i64,
}

pub struct Projector {
    log: EventLog,
    projections: Vec<Arc<dyn Projection>>,
    batch_size: i64,
    transaction_span: Duration,
    reached: watch::Sender<i64>,
    wake: Arc<Notify>,
    /// On an SQLite file, the connection batches are applied on, kept warm between them.
    connection: ConnectionSlot,
}

/// The outcome of one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// Applied events up to this position.
    Applied(i64),
    /// Nothing new after this position.
    UpToDate(i64),
    /// Another projector moved a checkpoint first; nothing was applied.
    Lost,
}

/// A view transaction, which may span several batches while catching up, with the
/// process's SQLite write turn held.
struct Span<'a> {
    tx: ViewTx,
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
    started: Instant,
}

impl Projector {
    pub fn new(log: EventLog, projections: Vec<Arc<dyn Projection>>) -> Self {
        let (reached, _) = watch::channel(0);
        Self {
            log,
            projections,
            batch_size: DEFAULT_BATCH_SIZE,
            transaction_span: DEFAULT_TRANSACTION_SPAN,
            reached,
            wake: Arc::new(Notify::new()),
            connection: ConnectionSlot::default(),
        }
    }

    pub fn with_batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets [`DEFAULT_TRANSACTION_SPAN`]; zero commits every batch.
    pub fn with_transaction_span(mut self, span: Duration) -> Self {
        self.transaction_span = span;
        self
    }

    fn database(&self) -> &Database {
        self.log.database()
    }

    /// The position every projection has reached, as this process last saw it.
    pub fn reached(&self) -> watch::Receiver<i64> {
        self.reached.subscribe()
    }

    /// Forgets the position reported so far (to 0): this process stops projecting (it
    /// stands by), so its report would only grow stale while another process projects,
    /// or rebuilds.
    pub fn stand_by(&self) {
        self.reached.send_replace(0);
    }

    /// A handle that wakes the projector at once (call it after a commit).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    async fn checkpoints(&self) -> Result<HashMap<String, i64>, ProjectionError> {
        let reader = ViewReader::new(self.database().clone());
        let rows: Vec<Checkpoint> = reader
            .fetch_all("SELECT name, position FROM projection_checkpoints", &[])
            .await?;
        let mut checkpoints: HashMap<String, i64> = rows
            .into_iter()
            .map(|row| (row.name, row.position))
            .collect();
        for projection in &self.projections {
            if !checkpoints.contains_key(projection.name()) {
                let position = off_runtime(self.start_new(projection.as_ref())).await?;
                checkpoints.insert(projection.name().to_owned(), position);
            }
        }
        Ok(checkpoints)
    }

    /// Gives a projection that has no checkpoint yet one at 0, over emptied tables: its
    /// tables may hold the rows of an earlier meaning of the view (the projection was
    /// renamed to be rebuilt, [`Projection::name`]). Only the process whose insert creates
    /// the checkpoint empties them, in the same transaction; another that raced it finds
    /// the checkpoint there and leaves the rows alone. Returns the checkpoint's position.
    async fn start_new(&self, projection: &dyn Projection) -> Result<i64, ProjectionError> {
        let mut tx = begin(self.database()).await?;
        let created = tx
            .execute(
                "INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
                &[projection.name().into()],
            )
            .await?;
        if created == 0 {
            let row: Option<Checkpoint> = tx
                .fetch_optional(
                    "SELECT name, position FROM projection_checkpoints WHERE name = $1",
                    &[projection.name().into()],
                )
                .await?;
            tx.commit().await?;
            return Ok(row.map_or(0, |row| row.position));
        }
        projection.reset(&mut tx).await?;
        tx.commit().await?;
        info!(
            projection = projection.name(),
            "new projection: backfilling from position 0"
        );
        Ok(0)
    }

    /// One round: at most one batch, in one transaction.
    pub async fn round(&self) -> Result<Round, ProjectionError> {
        let checkpoints = self.checkpoints().await?;
        let lowest = lowest(&self.projections, &checkpoints);
        let batch = read_batch(
            self.log.clone(),
            self.projections.clone(),
            lowest,
            self.batch_size,
        )
        .await?;
        let Some(last) = batch.last() else {
            self.reached.send_replace(lowest);
            return Ok(Round::UpToDate(lowest));
        };
        let mut span = self.begin().await?;
        if !off_runtime(self.apply(&mut span.tx, &checkpoints, batch)).await? {
            return Ok(Round::Lost);
        }
        self.commit(span, last).await?;
        Ok(Round::Applied(last))
    }

    /// Applies `events` in `tx` to each projection past its checkpoint and moves every
    /// checkpoint to the last event. False when another projector moved a checkpoint
    /// first: nothing of `tx` may then be committed.
    async fn apply(
        &self,
        tx: &mut ViewTx,
        checkpoints: &HashMap<String, i64>,
        batch: Batch,
    ) -> Result<bool, ProjectionError> {
        let Batch { events, prepared } = batch;
        for (projection, prepared) in self.projections.iter().zip(prepared) {
            let checkpoint = checkpoints[projection.name()];
            if !apply_past_checkpoint(tx, projection.as_ref(), &events, prepared, checkpoint)
                .await?
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Applies everything in the log now; returns the position reached.
    ///
    /// While one batch is applied, the next is read and decoded beside it (the log is
    /// append-only, so what follows a batch does not depend on applying it). Full batches
    /// go on in the same transaction for up to the transaction span
    /// ([`DEFAULT_TRANSACTION_SPAN`]); the transaction commits when the span has passed or
    /// the log runs out, and only then does [`Projector::reached`] move.
    ///
    /// On PostgreSQL, a catch-up that starts with a full batch (a rebuild, a restart far
    /// behind) goes on in lanes, one transaction per projection ([`lanes`]).
    pub async fn catch_up(&self) -> Result<i64, ProjectionError> {
        let mut checkpoints = self.checkpoints().await?;
        let mut lowest = lowest(&self.projections, &checkpoints);
        // What the checkpoints say now, lower than reported if another process reset views.
        self.reached.send_replace(lowest);
        let mut next = self.prefetch(lowest);
        let mut open: Option<Span<'_>> = None;
        loop {
            let batch = next.await.map_err(|error| {
                ProjectionError::Malformed(format!("the feed reader stopped: {error}"))
            })??;
            let Some(last) = batch.last() else {
                match open.take() {
                    Some(span) => self.commit(span, lowest).await?,
                    None => {
                        self.reached.send_replace(lowest);
                    }
                }
                return Ok(lowest);
            };
            if open.is_none() && self.fits_lanes(&batch) {
                if let Some(reached) = self.catch_up_in_lanes(&checkpoints, batch).await? {
                    return Ok(reached);
                }
                checkpoints = self.checkpoints().await?;
                lowest = self::lowest(&self.projections, &checkpoints);
                next = self.prefetch(lowest);
                continue;
            }
            next = self.prefetch(last);
            let mut span = match open.take() {
                Some(span) => span,
                None => self.begin().await?,
            };
            let full = i64::try_from(batch.events.len()).is_ok_and(|len| len >= self.batch_size);
            if off_runtime(self.apply(&mut span.tx, &checkpoints, batch)).await? {
                for position in checkpoints.values_mut() {
                    *position = (*position).max(last);
                }
                lowest = last;
                if full && span.started.elapsed() < self.transaction_span {
                    open = Some(span);
                } else {
                    self.commit(span, last).await?;
                }
            } else {
                drop(span);
                next.abort();
                checkpoints = self.checkpoints().await?;
                lowest = self::lowest(&self.projections, &checkpoints);
                next = self.prefetch(lowest);
            }
        }
    }

    /// Whether a catch-up that starts with `batch` goes on in lanes: on PostgreSQL, with
    /// more than one projection, when the batch is full (at least a batch behind the
    /// log). A round that finds less keeps one transaction for every view.
    fn fits_lanes(&self, batch: &Batch) -> bool {
        matches!(self.database(), Database::Postgres(_))
            && self.projections.len() > 1
            && i64::try_from(batch.events.len()).is_ok_and(|len| len >= self.batch_size)
    }

    /// Applies the log from `first` on in lanes ([`lanes`]) until it runs out; returns the
    /// position every projection reached, or `None` when another projector moved a
    /// checkpoint first (what each lane had committed stays; the caller reads the
    /// checkpoints again).
    async fn catch_up_in_lanes(
        &self,
        checkpoints: &HashMap<String, i64>,
        first: Batch,
    ) -> Result<Option<i64>, ProjectionError> {
        let mut committed: Vec<i64> = self
            .projections
            .iter()
            .map(|projection| checkpoints[projection.name()])
            .collect();
        let settings = LaneSettings {
            database: self.database().clone(),
            batch_size: self.batch_size,
            transaction_span: self.transaction_span,
        };
        let (progress, mut reports) = mpsc::unbounded_channel();
        let Lanes { lanes, reader } = lanes::start(
            self.log.clone(),
            &self.projections,
            committed.clone(),
            first,
            settings,
            progress,
        );
        while let Some((lane, position)) = reports.recv().await {
            committed[lane] = position;
            if let Some(lowest) = committed.iter().min() {
                self.reached.send_replace(*lowest);
            }
        }
        let stopped = |error: tokio::task::JoinError| {
            ProjectionError::Malformed(format!("a projector task stopped: {error}"))
        };
        let mut lost = false;
        let mut failures = Vec::new();
        for lane in lanes {
            match lane.await {
                Ok(Ok(LaneEnd::Finished)) => {}
                Ok(Ok(LaneEnd::Lost)) => lost = true,
                Ok(Err(error)) => failures.push(error),
                Err(error) => failures.push(stopped(error)),
            }
        }
        match reader.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => failures.push(error),
            Err(error) => failures.push(stopped(error)),
        }
        if !failures.is_empty() {
            let first = failures.remove(0);
            for other in failures {
                warn!(error = %other, "a lane of the same catch-up failed too");
            }
            return Err(first);
        }
        Ok((!lost).then(|| committed.into_iter().min().unwrap_or(0)))
    }

    /// Takes the write turn and begins a view transaction on the kept connection.
    async fn begin(&self) -> Result<Span<'_>, ProjectionError> {
        let turn = self.log.write_turn().await;
        let tx = off_runtime(begin_kept(self.database(), Some(&self.connection))).await?;
        Ok(Span {
            tx,
            _turn: turn,
            started: Instant::now(),
        })
    }

    /// Commits `span`, whose batches reach `reached`, and reports that position.
    async fn commit(&self, span: Span<'_>, reached: i64) -> Result<(), ProjectionError> {
        off_runtime(span.tx.commit()).await?;
        self.reached.send_replace(reached);
        Ok(())
    }

    fn prefetch(&self, after: i64) -> tokio::task::JoinHandle<Result<Batch, ProjectionError>> {
        tokio::spawn(read_batch(
            self.log.clone(),
            self.projections.clone(),
            after,
            self.batch_size,
        ))
    }

    /// Follows the feed until `shutdown` turns true: catches up, then waits for a wake-up
    /// or `poll` to pass. Errors are logged and retried after a pause.
    pub async fn follow(&self, poll: Duration, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.catch_up().await {
                Ok(_) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(error) => {
                    warn!(error = %error, cause = ?std::error::Error::source(&error), "projector round failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    /// Empties the named projections (all when `names` is empty) and sets their checkpoints
    /// to 0, in one transaction; the next rounds rebuild them from the whole log.
    pub async fn reset(&self, names: &[&str]) -> Result<(), ProjectionError> {
        let unknown: Vec<&str> = names
            .iter()
            .filter(|name| {
                !self
                    .projections
                    .iter()
                    .any(|projection| projection.name() == **name)
            })
            .copied()
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = self
                .projections
                .iter()
                .map(|projection| projection.name())
                .collect();
            return Err(ProjectionError::UnknownView {
                unknown: unknown.join(", "),
                known: known.join(", "),
            });
        }
        self.checkpoints().await?;
        off_runtime(async {
            let mut tx = begin(self.database()).await?;
            for projection in &self.projections {
                if names.is_empty() || names.contains(&projection.name()) {
                    projection.reset(&mut tx).await?;
                    tx.execute(
                        "UPDATE projection_checkpoints SET position = 0 WHERE name = $1",
                        &[projection.name().into()],
                    )
                    .await?;
                }
            }
            tx.commit().await
        })
        .await
    }
}

/// Applies to `projection` the events of `events` past its `checkpoint` (with what it
/// prepared of them, when that is all of them) and moves the checkpoint to the last event,
/// in `tx`. False when another projector moved the checkpoint first: nothing of `tx` may
/// then be committed.
async fn apply_past_checkpoint(
    tx: &mut ViewTx,
    projection: &dyn Projection,
    events: &[FeedEvent],
    prepared: Prepared,
    checkpoint: i64,
) -> Result<bool, ProjectionError> {
    let Some(last) = events.last().map(|event| event.position) else {
        return Ok(true);
    };
    match events.partition_point(|event| event.position <= checkpoint) {
        0 => projection.apply_prepared(tx, events, prepared).await?,
        pending if pending < events.len() => {
            projection.apply_batch(tx, &events[pending..]).await?;
        }
        _ => {}
    }
    let moved = tx
        .execute(
            CHECKPOINT_MOVE,
            &[
                Param::Int(last.max(checkpoint)),
                projection.name().into(),
                Param::Int(checkpoint),
            ],
        )
        .await?;
    if moved != 1 {
        debug!(
            projection = projection.name(),
            "checkpoint moved by another projector; reading the checkpoints again"
        );
    }
    Ok(moved == 1)
}

/// The lowest checkpoint of `projections`: where the next batch starts.
fn lowest(projections: &[Arc<dyn Projection>], checkpoints: &HashMap<String, i64>) -> i64 {
    projections
        .iter()
        .map(|projection| checkpoints[projection.name()])
        .min()
        .unwrap_or(0)
}

/// Events read from the feed, decoded, with what each projection prepared of them.
struct Batch {
    events: Vec<FeedEvent>,
    /// One per projection, in the projector's order.
    prepared: Vec<Prepared>,
}

impl Batch {
    fn last(&self) -> Option<i64> {
        self.events.last().map(|event| event.position)
    }
}

/// Up to `limit` events after `after`, decoded and prepared by each of `projections`.
async fn read_batch(
    log: EventLog,
    projections: Vec<Arc<dyn Projection>>,
    after: i64,
    limit: i64,
) -> Result<Batch, ProjectionError> {
    let events = log
        .read_after(after, &FeedFilter::all(), limit)
        .await?
        .iter()
        .map(FeedEvent::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let prepared = projections
        .iter()
        .map(|projection| projection.prepare(&events))
        .collect();
    Ok(Batch { events, prepared })
}

/// The lowest checkpoint of the named projections (0 when one has none yet). Works across
/// processes (reads the checkpoints).
pub async fn views_position(
    reader: &ViewReader,
    projection_names: &[&str],
) -> Result<i64, ProjectionError> {
    let rows: Vec<Checkpoint> = reader
        .fetch_all("SELECT name, position FROM projection_checkpoints", &[])
        .await?;
    Ok(projection_names
        .iter()
        .map(|name| {
            rows.iter()
                .find(|row| row.name == *name)
                .map_or(0, |row| row.position)
        })
        .min()
        .unwrap_or(0))
}

/// Waits until every projection's checkpoint has reached `position`, or `timeout` passes.
/// Returns whether it was reached. Works across processes (reads the checkpoints).
pub async fn wait_for_position(
    reader: &ViewReader,
    projection_names: &[&str],
    position: i64,
    timeout: Duration,
) -> Result<bool, ProjectionError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if views_position(reader, projection_names).await? >= position {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
