//! The projector: applies the global feed to every projection, exactly once.
//!
//! Each round reads a batch after the lowest checkpoint, applies to each projection the
//! events past its own checkpoint, and moves every checkpoint in the same transaction. The
//! checkpoint moves only if it still holds the value this round read
//! (`UPDATE … WHERE position = $old`), so two projectors racing on one database can never
//! both apply a batch: the loser rolls back and reads again. A projection with no
//! checkpoint (added later, or renamed because its meaning changed) starts at 0 over
//! emptied tables and backfills while the others wait at their checkpoints: the process
//! whose insert creates the checkpoint empties the view's tables in the same transaction.
//! [`Projector::reset`] (and `sablier rebuild [VIEW…]`, which refuses an unknown name
//! before anything changes) sets views back to 0 over emptied tables.
//!
//! Catching up (a rebuild, a restart behind), a batch holds at most
//! [`DEFAULT_BATCH_SIZE`] events; following the log, it is what arrived since the last.
//! While a batch is applied, the next is read, decoded and prepared by each projection
//! ([`Projection::prepare`]) on a runtime worker beside the applying thread. Full batches
//! go on in one transaction for up to [`DEFAULT_TRANSACTION_SPAN`]; a batch that is not
//! full commits at once, and [`Projector::reached`] moves only on commit.
//!
//! Where a batch is applied, by backend:
//! - an SQLite file: a [`crate::sql::NativeTx`] (SQLite's own API) on a connection kept
//!   between batches ([`crate::sql::ConnectionSlot`]), run with [`crate::sql::off_runtime`]
//!   so the runtime's other tasks go on; the write turn is shared with command appends;
//! - in-memory SQLite and PostgreSQL: sqlx. On PostgreSQL a batch's rows of a table are
//!   one statement of arrays ([`crate::sql`]'s `columns`) and keyed reads bind one array
//!   (`= ANY($1)`), so each statement is prepared once;
//! - PostgreSQL, a catch-up that starts with a full batch: in `lanes`, one transaction
//!   and connection per projection. One that starts with less keeps one transaction for
//!   every view.
//!
//! Readers wait for views across processes by reading the checkpoints
//! ([`wait_for_position`]); [`views_position`] is the lowest of them.
//!
//! A view that cannot apply an event stops at that event, alone ([`Stall`]): each view
//! applies a batch inside a savepoint; when it fails for a reason of the event or the
//! view (an event that does not decode, a value its tables cannot hold), the projector
//! rolls that view back, finds the first event it cannot apply by halving the batch, keeps
//! what it applied before it, and records the stall on the view's checkpoint row, where
//! readers, `/readyz`, `/metrics` and the tools of every process see it. The other views
//! go on following the log. A stalled view is tried again once a minute (and at each
//! start), which is also how often the stall is logged; it goes on as soon as the event
//! applies. A failure of the database itself (full, unreachable, busy) stalls nothing:
//! the round fails and is tried again as it is.

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

/// Moves a projection's checkpoint ($2) to $1, only if it still holds $3; a view that
/// moves is no longer stalled.
const CHECKPOINT_MOVE: &str = "UPDATE projection_checkpoints SET position = $1, stalled_at = NULL, stall_reason = NULL, stalled_since = NULL WHERE name = $2 AND position = $3";

/// Moves a projection's checkpoint ($5) to $1 (if it still holds $6) and records that the
/// event at $2 stops it, with why ($3) and since when ($4). Placeholders appear in order:
/// SQLite binds them by order of appearance.
const CHECKPOINT_STALL: &str = "UPDATE projection_checkpoints SET position = $1, stalled_at = $2, stall_reason = $3, stalled_since = $4 WHERE name = $5 AND position = $6";

/// How often a stalled view is tried again (and its stall logged).
pub const STALL_RETRY: Duration = Duration::from_secs(60);

#[derive(sqlx::FromRow, serde::Deserialize)]
struct Checkpoint {
    name: String,
    position: i64,
}

/// A view stopped at an event it cannot apply; the others go on (see the module comment).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Deserialize, serde::Serialize)]
pub struct Stall {
    /// The view's name.
    pub view: String,
    /// Its checkpoint: the last position it applied.
    pub position: i64,
    /// The position of the event it cannot apply.
    pub event_position: i64,
    /// The event and why it cannot be applied.
    pub reason: String,
    /// When the projector first found it (RFC 3339 UTC).
    pub since: String,
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "view {} is stalled at position {}: it cannot apply the event at position {} ({}); stalled since {}",
            self.view, self.position, self.event_position, self.reason, self.since
        )
    }
}

/// Every stalled view, in name order (any process).
pub async fn stalled_views(reader: &ViewReader) -> Result<Vec<Stall>, ProjectionError> {
    Ok(Checkpoints::read(reader).await?.stalls().cloned().collect())
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
    /// The views this process found stalled, with when it last tried them.
    stalled: std::sync::Mutex<HashMap<&'static str, Instant>>,
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
            stalled: std::sync::Mutex::new(HashMap::new()),
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
        let mut checkpoints = self.checkpoints().await?;
        let active = self.active();
        let Some(lowest) = lowest(&self.projections, &checkpoints, &active) else {
            let reached = lowest_of_all(&self.projections, &checkpoints);
            self.reached.send_replace(reached);
            return Ok(Round::UpToDate(reached));
        };
        let batch = read_batch(
            self.log.clone(),
            self.projections.clone(),
            lowest,
            self.batch_size,
        )
        .await?;
        if batch.is_empty() {
            self.reached
                .send_replace(lowest_of_all(&self.projections, &checkpoints));
            return Ok(Round::UpToDate(lowest));
        }
        let mut span = self.begin().await?;
        let Some(stalls) =
            off_runtime(self.apply(&mut span.tx, &mut checkpoints, batch, &active)).await?
        else {
            return Ok(Round::Lost);
        };
        let reached = self::lowest(&self.projections, &checkpoints, &active).unwrap_or(lowest);
        self.commit(span, lowest_of_all(&self.projections, &checkpoints))
            .await?;
        self.note_stalls(&stalls);
        Ok(Round::Applied(reached))
    }

    /// Applies `batch` in `tx` to each `active` projection past its checkpoint and moves
    /// their checkpoints in `checkpoints` as in the database; a projection that cannot
    /// apply an event of it stops there (see the module comment). Returns the views that
    /// stalled, or `None` when another projector moved a checkpoint first: nothing of `tx`
    /// may then be committed.
    async fn apply(
        &self,
        tx: &mut ViewTx,
        checkpoints: &mut HashMap<String, i64>,
        batch: Batch,
        active: &[bool],
    ) -> Result<Option<Vec<Stall>>, ProjectionError> {
        let Batch {
            events,
            prepared,
            unreadable,
        } = batch;
        let mut stalls = Vec::new();
        for ((projection, prepared), active) in self.projections.iter().zip(prepared).zip(active) {
            if !active {
                continue;
            }
            let checkpoint = checkpoints[projection.name()];
            let outcome = apply_or_stall(
                tx,
                projection.as_ref(),
                &events,
                prepared,
                checkpoint,
                unreadable.as_ref(),
            )
            .await?;
            match outcome {
                ViewOutcome::Lost => return Ok(None),
                ViewOutcome::Moved(position) => {
                    checkpoints.insert(projection.name().to_owned(), position);
                    self.stalled
                        .lock()
                        .expect("stalled views poisoned")
                        .remove(projection.name());
                }
                ViewOutcome::Stalled(stall) => {
                    checkpoints.insert(projection.name().to_owned(), stall.position);
                    stalls.push(stall);
                }
            }
        }
        Ok(Some(stalls))
    }

    /// Which projections a round applies: all but those found stalled less than
    /// [`STALL_RETRY`] ago.
    fn active(&self) -> Vec<bool> {
        let stalled = self.stalled.lock().expect("stalled views poisoned");
        self.projections
            .iter()
            .map(|projection| {
                stalled
                    .get(projection.name())
                    .is_none_or(|tried| tried.elapsed() >= STALL_RETRY)
            })
            .collect()
    }

    /// Remembers (and logs, once per try) the views that stalled.
    fn note_stalls(&self, stalls: &[Stall]) {
        let mut stalled = self.stalled.lock().expect("stalled views poisoned");
        for stall in stalls {
            warn!(
                view = %stall.view,
                position = stall.position,
                event_position = stall.event_position,
                reason = %stall.reason,
                "a view cannot apply an event and stays stalled; the other views go on (tried again in {} s)",
                STALL_RETRY.as_secs()
            );
            if let Some(projection) = self
                .projections
                .iter()
                .find(|projection| projection.name() == stall.view)
            {
                stalled.insert(projection.name(), Instant::now());
            }
        }
    }

    /// The views this process's projector found stalled, by name.
    pub fn stalled(&self) -> Vec<&'static str> {
        let stalled = self.stalled.lock().expect("stalled views poisoned");
        let mut names: Vec<&'static str> = stalled.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// Reads the checkpoints and the active views again, after lanes or a failed round:
    /// where the next batch starts, or where every view stands when no active view is
    /// left to follow.
    async fn resume(&self) -> Result<Resume, ProjectionError> {
        let checkpoints = self.checkpoints().await?;
        let active = self.active();
        Ok(match lowest(&self.projections, &checkpoints, &active) {
            Some(from) => Resume::From((checkpoints, active, from)),
            None => Resume::Done(lowest_of_all(&self.projections, &checkpoints)),
        })
    }

    /// Takes the views that just stalled out of this round.
    fn set_aside(&self, active: &mut [bool], stalls: &[Stall]) {
        for stall in stalls {
            if let Some(index) = self
                .projections
                .iter()
                .position(|projection| projection.name() == stall.view)
            {
                active[index] = false;
            }
        }
    }

    /// Applies everything in the log now; returns the position every view reached (a
    /// stalled view holds it back: see [`Projector::stalled`]).
    ///
    /// While one batch is applied, the next is read and decoded beside it (the log is
    /// append-only, so what follows a batch does not depend on applying it). Full batches
    /// go on in the same transaction for up to the transaction span
    /// ([`DEFAULT_TRANSACTION_SPAN`]); the transaction commits when the span has passed or
    /// the log runs out, and only then does [`Projector::reached`] move.
    ///
    /// On PostgreSQL, a catch-up that starts with a full batch (a rebuild, a restart far
    /// behind) goes on in lanes, one transaction per projection (`lanes`).
    pub async fn catch_up(&self) -> Result<i64, ProjectionError> {
        let mut checkpoints = self.checkpoints().await?;
        let mut active = self.active();
        // What the checkpoints say now, lower than reported if another process reset views.
        self.reached
            .send_replace(lowest_of_all(&self.projections, &checkpoints));
        let Some(mut lowest) = lowest(&self.projections, &checkpoints, &active) else {
            return Ok(lowest_of_all(&self.projections, &checkpoints));
        };
        let mut next = self.prefetch(lowest);
        let mut open: Option<Span<'_>> = None;
        loop {
            let batch = next.await.map_err(|error| {
                ProjectionError::Malformed(format!("the feed reader stopped: {error}"))
            })??;
            if batch.is_empty() {
                let reached = lowest_of_all(&self.projections, &checkpoints);
                match open.take() {
                    Some(span) => self.commit(span, reached).await?,
                    None => {
                        self.reached.send_replace(reached);
                    }
                }
                return Ok(reached);
            }
            if open.is_none() && batch.unreadable.is_none() && self.fits_lanes(&batch) {
                self.catch_up_in_lanes(&checkpoints, &active, batch).await?;
                match self.resume().await? {
                    Resume::From(read) => (checkpoints, active, lowest) = read,
                    Resume::Done(reached) => return Ok(reached),
                }
                next = self.prefetch(lowest);
                continue;
            }
            let full = i64::try_from(batch.events.len()).is_ok_and(|len| len >= self.batch_size)
                && batch.unreadable.is_none();
            next = self.prefetch(batch.last().unwrap_or(lowest));
            let mut span = match open.take() {
                Some(span) => span,
                None => self.begin().await?,
            };
            let applied =
                off_runtime(self.apply(&mut span.tx, &mut checkpoints, batch, &active)).await?;
            let Some(stalls) = applied else {
                drop(span);
                next.abort();
                match self.resume().await? {
                    Resume::From(read) => (checkpoints, active, lowest) = read,
                    Resume::Done(reached) => return Ok(reached),
                }
                next = self.prefetch(lowest);
                continue;
            };
            self.set_aside(&mut active, &stalls);
            let following = self::lowest(&self.projections, &checkpoints, &active);
            if stalls.is_empty()
                && following.is_some()
                && full
                && span.started.elapsed() < self.transaction_span
            {
                open = Some(span);
            } else {
                self.commit(span, lowest_of_all(&self.projections, &checkpoints))
                    .await?;
                self.note_stalls(&stalls);
            }
            match following {
                // The active views all stand at the batch's end, where the next one starts.
                Some(following) => lowest = following,
                None => {
                    next.abort();
                    if let Some(span) = open.take() {
                        self.commit(span, lowest_of_all(&self.projections, &checkpoints))
                            .await?;
                    }
                    return Ok(lowest_of_all(&self.projections, &checkpoints));
                }
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

    /// Applies the log from `first` on in lanes ([`lanes`]), for the `active` projections,
    /// until it runs out, a lane stalls, or another projector moves a checkpoint first
    /// (what each lane had committed stays; the caller reads the checkpoints again).
    async fn catch_up_in_lanes(
        &self,
        checkpoints: &HashMap<String, i64>,
        active: &[bool],
        first: Batch,
    ) -> Result<(), ProjectionError> {
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
            active,
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
        let mut failures = Vec::new();
        let mut stalls = Vec::new();
        for lane in lanes {
            match lane.await {
                Ok(Ok(LaneEnd::Finished | LaneEnd::Lost)) => {}
                Ok(Ok(LaneEnd::Stalled(stall))) => stalls.push(stall),
                Ok(Err(error)) => failures.push(error),
                Err(error) => failures.push(stopped(error)),
            }
        }
        self.note_stalls(&stalls);
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
        Ok(())
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

    /// Commits `span`, after which every view stands at `reached` or beyond, and reports
    /// that position.
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

/// What applying a batch did to one view.
pub(super) enum ViewOutcome {
    /// Applied; its checkpoint is now here.
    Moved(i64),
    /// Another projector moved its checkpoint first: nothing of the transaction may be
    /// committed.
    Lost,
    /// It cannot apply an event; what it applied before that event stays.
    Stalled(Stall),
}

/// Applies `events` (and what `projection` prepared of them) past `checkpoint`, in a
/// savepoint of `tx`. When the view cannot apply them, it is rolled back to the
/// savepoint, applies the events before the first one it cannot apply, and stops there;
/// when the batch stops before an `unreadable` event, the view stops at that event. A
/// failure of the database itself is returned as it is.
pub(super) async fn apply_or_stall(
    tx: &mut ViewTx,
    projection: &dyn Projection,
    events: &[FeedEvent],
    prepared: Prepared,
    checkpoint: i64,
    unreadable: Option<&Unreadable>,
) -> Result<ViewOutcome, ProjectionError> {
    let end = events
        .last()
        .map_or(checkpoint, |event| event.position.max(checkpoint));
    tx.execute("SAVEPOINT view_batch", &[]).await?;
    let failure = match apply_past_checkpoint(tx, projection, events, prepared, checkpoint).await {
        Ok(true) => {
            tx.execute("RELEASE SAVEPOINT view_batch", &[]).await?;
            return match unreadable {
                Some(unreadable) if unreadable.position > end => {
                    stall(
                        tx,
                        projection,
                        end,
                        end,
                        unreadable.position,
                        &unreadable.reason,
                    )
                    .await
                }
                _ => Ok(ViewOutcome::Moved(end)),
            };
        }
        Ok(false) => return Ok(ViewOutcome::Lost),
        Err(error) if error.is_environmental() => return Err(error),
        Err(error) => error,
    };
    tx.execute("ROLLBACK TO SAVEPOINT view_batch", &[]).await?;
    tx.execute("RELEASE SAVEPOINT view_batch", &[]).await?;
    let pending = &events[events.partition_point(|event| event.position <= checkpoint)..];
    let (applied, failed) = first_failure(tx, projection, pending, failure).await?;
    let applied = applied.unwrap_or(checkpoint);
    match failed {
        Some((event, error)) => {
            let reason = format!("{}: {}", describe(event), cause_chain(&error));
            stall(tx, projection, checkpoint, applied, event.position, &reason).await
        }
        // Applied in parts, the batch went through after all.
        None => {
            let moved = tx
                .execute(
                    CHECKPOINT_MOVE,
                    &[
                        Param::Int(applied),
                        projection.name().into(),
                        Param::Int(checkpoint),
                    ],
                )
                .await?;
            Ok(if moved == 1 {
                ViewOutcome::Moved(applied)
            } else {
                ViewOutcome::Lost
            })
        }
    }
}

/// Finds, in `events` that fail as a whole with `failure`, the first event `projection`
/// cannot apply, by halving: applies (and keeps) what comes before it. Returns the last
/// position applied and the event with its error (none when the parts all applied).
async fn first_failure<'a>(
    tx: &mut ViewTx,
    projection: &dyn Projection,
    events: &'a [FeedEvent],
    failure: ProjectionError,
) -> Result<(Option<i64>, Option<(&'a FeedEvent, ProjectionError)>), ProjectionError> {
    let mut failing = events;
    let mut error = failure;
    let mut applied = None;
    loop {
        if failing.len() <= 1 {
            return Ok((applied, failing.first().map(|event| (event, error))));
        }
        let (left, right) = failing.split_at(failing.len() / 2);
        match apply_in_savepoint(tx, projection, left).await? {
            Ok(()) => {
                applied = left.last().map(|event| event.position);
                match apply_in_savepoint(tx, projection, right).await? {
                    Ok(()) => return Ok((right.last().map(|event| event.position), None)),
                    Err(right_error) => {
                        failing = right;
                        error = right_error;
                    }
                }
            }
            Err(left_error) => {
                failing = left;
                error = left_error;
            }
        }
    }
}

/// Applies `events` in a savepoint: kept when they apply, rolled back when the view cannot
/// apply them (the inner error); a failure of the database itself is the outer error.
async fn apply_in_savepoint(
    tx: &mut ViewTx,
    projection: &dyn Projection,
    events: &[FeedEvent],
) -> Result<Result<(), ProjectionError>, ProjectionError> {
    tx.execute("SAVEPOINT view_part", &[]).await?;
    match projection.apply_batch(tx, events).await {
        Ok(()) => {
            tx.execute("RELEASE SAVEPOINT view_part", &[]).await?;
            Ok(Ok(()))
        }
        Err(error) if error.is_environmental() => Err(error),
        Err(error) => {
            tx.execute("ROLLBACK TO SAVEPOINT view_part", &[]).await?;
            tx.execute("RELEASE SAVEPOINT view_part", &[]).await?;
            Ok(Err(error))
        }
    }
}

/// Moves the checkpoint of `projection` from `checkpoint` to `applied` and records that the
/// event at `event_position` stops it.
async fn stall(
    tx: &mut ViewTx,
    projection: &dyn Projection,
    checkpoint: i64,
    applied: i64,
    event_position: i64,
    reason: &str,
) -> Result<ViewOutcome, ProjectionError> {
    let since = crate::sql::instant_text(chrono::Utc::now());
    let moved = tx
        .execute(
            CHECKPOINT_STALL,
            &[
                Param::Int(applied),
                Param::Int(event_position),
                reason.into(),
                since.as_str().into(),
                projection.name().into(),
                Param::Int(checkpoint),
            ],
        )
        .await?;
    if moved != 1 {
        return Ok(ViewOutcome::Lost);
    }
    Ok(ViewOutcome::Stalled(Stall {
        view: projection.name().to_owned(),
        position: applied,
        event_position,
        reason: reason.to_owned(),
        since,
    }))
}

/// An event as the log names it: `Contract OCB0000124 #3 ExpertTimeRecorded`.
fn describe(event: &FeedEvent) -> String {
    format!(
        "{} {} #{} {}",
        event.aggregate_type, event.aggregate_id, event.sequence, event.event_type
    )
}

/// An error with its causes, `outer: inner: …`.
fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Where a catch-up goes on after reading the checkpoints again.
enum Resume {
    /// The checkpoints, the active views, and the lowest position among them.
    From((HashMap<String, i64>, Vec<bool>, i64)),
    /// No active view is left: every view's lowest position.
    Done(i64),
}

/// The lowest checkpoint of the `active` projections: where the next batch starts (none
/// when every view is stalled).
fn lowest(
    projections: &[Arc<dyn Projection>],
    checkpoints: &HashMap<String, i64>,
    active: &[bool],
) -> Option<i64> {
    projections
        .iter()
        .zip(active)
        .filter(|(_, active)| **active)
        .map(|(projection, _)| checkpoints[projection.name()])
        .min()
}

/// The lowest checkpoint of all `projections`, stalled or not: the position every view has
/// reached.
fn lowest_of_all(projections: &[Arc<dyn Projection>], checkpoints: &HashMap<String, i64>) -> i64 {
    projections
        .iter()
        .map(|projection| checkpoints[projection.name()])
        .min()
        .unwrap_or(0)
}

/// A stored event no view can read, where a batch stops.
pub(super) struct Unreadable {
    pub position: i64,
    pub reason: String,
}

/// Events read from the feed, decoded, with what each projection prepared of them.
struct Batch {
    events: Vec<FeedEvent>,
    /// One per projection, in the projector's order.
    prepared: Vec<Prepared>,
    /// The event that follows `events` and cannot be read: the batch stops before it.
    unreadable: Option<Unreadable>,
}

impl Batch {
    fn last(&self) -> Option<i64> {
        self.events.last().map(|event| event.position)
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.unreadable.is_none()
    }
}

/// Up to `limit` events after `after`, decoded and prepared by each of `projections`.
async fn read_batch(
    log: EventLog,
    projections: Vec<Arc<dyn Projection>>,
    after: i64,
    limit: i64,
) -> Result<Batch, ProjectionError> {
    let stored = log.read_after(after, &FeedFilter::all(), limit).await?;
    let mut events = Vec::with_capacity(stored.len());
    let mut unreadable = None;
    for stored in &stored {
        match FeedEvent::decode(stored) {
            Ok(event) => events.push(event),
            Err(error) => {
                unreadable = Some(Unreadable {
                    position: stored.position,
                    reason: format!(
                        "{} {} #{} {}: {error}",
                        stored.aggregate_type,
                        stored.aggregate_id,
                        stored.sequence,
                        stored.event_type
                    ),
                });
                break;
            }
        }
    }
    let prepared = projections
        .iter()
        .map(|projection| projection.prepare(&events))
        .collect();
    Ok(Batch {
        events,
        prepared,
        unreadable,
    })
}

/// The lowest checkpoint of the named projections (0 when one has none yet). Works across
/// processes (reads the checkpoints).
pub async fn views_position(
    reader: &ViewReader,
    projection_names: &[&str],
) -> Result<i64, ProjectionError> {
    Ok(Checkpoints::read(reader).await?.lowest(projection_names))
}

/// How a wait for the views ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewsWait {
    /// Every view named has reached the position.
    Reached,
    /// A view named is stalled below the position: it will not reach it by waiting.
    Stalled(Stall),
    /// The timeout passed first.
    TimedOut,
}

/// Waits until every projection's checkpoint has reached `position`, or `timeout` passes.
/// Returns whether it was reached. Works across processes (reads the checkpoints).
pub async fn wait_for_position(
    reader: &ViewReader,
    projection_names: &[&str],
    position: i64,
    timeout: Duration,
) -> Result<bool, ProjectionError> {
    Ok(wait_for_views(reader, projection_names, position, timeout).await? == ViewsWait::Reached)
}

/// Waits until every named view's checkpoint has reached `position`; ends at once when one
/// of them is stalled below it, and when `timeout` passes. Works across processes (reads
/// the checkpoints).
pub async fn wait_for_views(
    reader: &ViewReader,
    projection_names: &[&str],
    position: i64,
    timeout: Duration,
) -> Result<ViewsWait, ProjectionError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let checkpoints = Checkpoints::read(reader).await?;
        if checkpoints.lowest(projection_names) >= position {
            return Ok(ViewsWait::Reached);
        }
        let stalled_below = checkpoints.stalls().find(|stall| {
            stall.position < position && projection_names.contains(&stall.view.as_str())
        });
        if let Some(stall) = stalled_below {
            return Ok(ViewsWait::Stalled(stall.clone()));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(ViewsWait::TimedOut);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A checkpoint row with its stall, if any.
#[derive(sqlx::FromRow, serde::Deserialize)]
struct CheckpointRow {
    name: String,
    position: i64,
    stalled_at: Option<i64>,
    stall_reason: Option<String>,
    stalled_since: Option<String>,
}

impl CheckpointRow {
    fn stall(&self) -> Option<Stall> {
        Some(Stall {
            view: self.name.clone(),
            position: self.position,
            event_position: self.stalled_at?,
            reason: self.stall_reason.clone().unwrap_or_default(),
            since: self.stalled_since.clone().unwrap_or_default(),
        })
    }
}

/// Every view's checkpoint with its stall, read at once, in name order (any process).
#[derive(Clone, Debug, Default)]
pub struct Checkpoints(Vec<ViewCheckpoint>);

/// One view's checkpoint: the last position it applied, and its stall if it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewCheckpoint {
    pub view: String,
    pub position: i64,
    pub stall: Option<Stall>,
}

impl Checkpoints {
    pub async fn read(reader: &ViewReader) -> Result<Self, ProjectionError> {
        let mut rows: Vec<CheckpointRow> = reader
            .fetch_all(
                "SELECT name, position, stalled_at, stall_reason, stalled_since FROM projection_checkpoints",
                &[],
            )
            .await?;
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self(
            rows.into_iter()
                .map(|row| {
                    let stall = row.stall();
                    ViewCheckpoint {
                        view: row.name,
                        position: row.position,
                        stall,
                    }
                })
                .collect(),
        ))
    }

    /// The lowest position among the named views; 0 when one of them never ran.
    pub fn lowest(&self, names: &[&str]) -> i64 {
        names
            .iter()
            .map(|name| self.position_of(name))
            .min()
            .unwrap_or(0)
    }

    /// The view's position; 0 when it never ran.
    pub fn position_of(&self, view: &str) -> i64 {
        self.0
            .iter()
            .find(|checkpoint| checkpoint.view == view)
            .map_or(0, |checkpoint| checkpoint.position)
    }

    pub fn stalls(&self) -> impl Iterator<Item = &Stall> {
        self.0
            .iter()
            .filter_map(|checkpoint| checkpoint.stall.as_ref())
    }

    pub fn iter(&self) -> impl Iterator<Item = &ViewCheckpoint> {
        self.0.iter()
    }
}
