//! Run stores: where checkpoints and events live. A checkpoint (the state, the
//! new events, the new conversation messages) is committed in one transaction.
//! [`SqliteStore`] is the embedded default; [`MemoryStore`] keeps runs in
//! memory for hosts and benchmarks that need no durability.

mod memory;
mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use crate::event::Event;
use crate::state::{ChatMessage, RunState};
use serde_json::Value;
use std::fmt;

/// What a store could not do.
#[derive(Debug)]
pub enum StoreError {
    /// Another process (or task) is running this run.
    Busy(String),
    /// The store failed (file, database or data).
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Busy(id) => write!(f, "run {id} is being run by another process"),
            StoreError::Failed(why) => write!(f, "run store: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// What is written once, when a run is created.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The run's id.
    pub run_id: String,
    /// The workflow's name.
    pub workflow: String,
    /// The hash naming its compiled graph.
    pub graph_hash: String,
    /// The run's options (model replacements, tool stubs) as JSON.
    pub options: Value,
}

/// One step's changes, committed together.
pub struct Checkpoint<'a> {
    /// The state after the step.
    pub state: &'a RunState,
    /// The step's events, in `seq` order.
    pub events: &'a [Event],
    /// Conversation messages added by the step.
    pub messages: &'a [ChatMessage],
    /// The index of the first of `messages` in the conversation.
    pub first_message: usize,
    /// On the first checkpoint of a run: its record and its graph's JSON.
    pub create: Option<(&'a RunRecord, &'a str)>,
}

/// A run as loaded from a store.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// Its record.
    pub record: RunRecord,
    /// Its last checkpointed state.
    pub state: RunState,
    /// Its conversation.
    pub messages: Vec<ChatMessage>,
}

/// One line of `flow runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: String,
    /// The workflow's name.
    pub workflow: String,
    /// Its state.
    pub status: String,
    /// The node it is at.
    pub node: String,
    /// When it last changed.
    pub updated: String,
}

/// Held while a run is being run; dropping it lets another process take the run.
pub struct RunLock {
    _held: Box<dyn Send + Sync>,
}

impl RunLock {
    pub(crate) fn new(held: impl Send + Sync + 'static) -> RunLock {
        RunLock { _held: Box::new(held) }
    }
}

/// A place to keep runs.
pub trait Store: Send + Sync {
    /// Commits one step: the state, its events and its messages, all or nothing.
    fn commit(&self, checkpoint: &Checkpoint<'_>) -> Result<(), StoreError>;
    /// Loads a run's last checkpoint, or `None` for an unknown id.
    fn load(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError>;
    /// A compiled graph's JSON by hash.
    fn graph(&self, hash: &str) -> Result<Option<String>, StoreError>;
    /// A run's events after `seq`, as JSON lines, in order.
    fn events_after(&self, run_id: &str, seq: u64) -> Result<Vec<String>, StoreError>;
    /// Every run, the most recently changed first.
    fn list(&self) -> Result<Vec<RunSummary>, StoreError>;
    /// Takes the run for this process; [`StoreError::Busy`] when someone else has it.
    fn lock(&self, run_id: &str) -> Result<RunLock, StoreError>;
}

pub(crate) fn failed(e: impl fmt::Display) -> StoreError {
    StoreError::Failed(e.to_string())
}
