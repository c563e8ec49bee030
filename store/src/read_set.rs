//! A command's read set: the other aggregates' streams its decision read through the
//! domain's ports (a contract, when an incident opens), each with the last sequence seen.
//!
//! The command's append is conditioned on its read set: the log refuses it as stale when
//! one of those streams has grown since ([`StoreError::Stale`]), checked under the append
//! lock (in the write transaction on SQLite, by `sablier_append_checked` or
//! `sablier_append_sealed` on PostgreSQL), so no decision is ever committed on outdated facts, and the ports may answer
//! from a cache of those streams (saving a database read per command) without changing
//! any answer. The command bus then decides again with every stream read afresh.
//!
//! The read set travels with the command's task (a task-local): the domain calls its ports
//! through `Services`, which knows nothing of storage, and must not.
//!
//! [`StoreError::Stale`]: crate::StoreError::Stale

use std::cell::RefCell;
use std::future::Future;

/// One stream a decision read: its aggregate and the last sequence seen (0: no stream).
/// Its JSON form is a read-set entry of `sablier_append_checked` (migration 0007).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StreamRead {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
}

/// What a decision read, once it is made.
#[derive(Debug, Default)]
pub(crate) struct ReadSet {
    pub reads: Vec<StreamRead>,
    /// Whether any of `reads` was answered from a cache rather than from the log.
    pub from_cache: bool,
}

struct Recording {
    /// Read every stream from the log: the decision must not rest on a cache.
    fresh: bool,
    read_set: ReadSet,
}

tokio::task_local! {
    static RECORDING: RefCell<Recording>;
}

/// Runs `decide` and returns its output with the streams the ports read meanwhile. With
/// `fresh`, the ports read every stream from the log rather than from their caches.
pub(crate) async fn recording<F: Future>(fresh: bool, decide: F) -> (F::Output, ReadSet) {
    let recording = RefCell::new(Recording {
        fresh,
        read_set: ReadSet::default(),
    });
    RECORDING
        .scope(recording, async {
            let output = decide.await;
            let read_set =
                RECORDING.with(|recording| std::mem::take(&mut recording.borrow_mut().read_set));
            (output, read_set)
        })
        .await
}

/// Whether a port may answer from its cache: only while a command decides (its append
/// then checks what was read) and when the command did not ask for fresh reads.
pub(crate) fn cache_allowed() -> bool {
    RECORDING
        .try_with(|recording| !recording.borrow().fresh)
        .unwrap_or(false)
}

/// Notes that the deciding command read `read` (nothing outside a command's decision).
pub(crate) fn record(read: StreamRead, from_cache: bool) {
    let _outside_a_decision = RECORDING.try_with(|recording| {
        let read_set = &mut recording.borrow_mut().read_set;
        read_set.from_cache |= from_cache;
        if !read_set.reads.contains(&read) {
            read_set.reads.push(read);
        }
    });
}
