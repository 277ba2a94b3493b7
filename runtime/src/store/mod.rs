//! Run stores: where checkpoints, events, timers and deliveries live.
//!
//! A run is written by one holder at a time, by lease: [`Store::acquire`] gives
//! a [`Lease`] with a fencing `epoch`, and every [`Store::commit`] names its
//! lease and the version of the run it follows. A commit under a lease that
//! someone has since taken, or one that does not follow the stored version, is
//! refused with [`StoreError::Conflict`] and changes nothing. A checkpoint (the
//! state, the new events, the new conversation messages, the run's timer and
//! the deliveries it consumed) is committed in one transaction.
//!
//! [`SqliteStore`] is the embedded default; [`MemoryStore`] keeps runs in
//! memory for hosts and benchmarks that need no durability. Both pass one
//! conformance suite (`runtime/tests/conformance.rs`); a new backend joins it.

mod error;
mod memory;
mod sqlite;
mod sqlite_writer;

pub use error::StoreError;
pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use crate::event::Event;
use crate::state::{ChatMessage, RunState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

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
    /// Where it came from and how it counts.
    pub origin: Origin,
}

/// Whether a run counts: `live` runs are the product's, `test` runs are
/// playground sessions, left out of live lists and metrics (SERVER.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// A real conversation.
    #[default]
    Live,
    /// A playground session.
    Test,
}

impl RunMode {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Live => "live",
            RunMode::Test => "test",
        }
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// `flow run` (the default).
    #[default]
    Cli,
    /// The service's API.
    Api,
    /// A schedule.
    Schedule,
    /// An inbound hook.
    Hook,
}

impl TriggerKind {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Cli => "cli",
            TriggerKind::Api => "api",
            TriggerKind::Schedule => "schedule",
            TriggerKind::Hook => "hook",
        }
    }

    /// The kind of a name.
    pub fn parse(name: &str) -> Option<TriggerKind> {
        match name {
            "cli" => Some(TriggerKind::Cli),
            "api" => Some(TriggerKind::Api),
            "schedule" => Some(TriggerKind::Schedule),
            "hook" => Some(TriggerKind::Hook),
            _ => None,
        }
    }
}

/// Where a run came from: written once, with the run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// Live or test.
    pub mode: RunMode,
    /// What started it.
    pub trigger: TriggerKind,
    /// The schedule's or hook's id (or the API key's name), if any.
    pub trigger_id: Option<String>,
    /// The service's revision of the workflow it runs, if it was started from one.
    pub revision: Option<u64>,
}

/// The right to write one run, until `expires` (milliseconds since the Unix
/// epoch, by the store's wall clock). `epoch` grows each time the run changes
/// hands, so a commit under an older lease is told apart and refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The run.
    pub run_id: String,
    /// Who holds it (a process or instance name).
    pub owner: String,
    /// The fencing number.
    pub epoch: u64,
    /// When it lapses unless renewed.
    pub expires_ms: i64,
}

impl Lease {
    /// The lease of a run that is not stored yet: its creator holds it from
    /// epoch 1. Its first commit creates the run with this lease.
    pub fn new_run(run_id: &str, owner: &str, ttl: Duration) -> Lease {
        Lease {
            run_id: run_id.to_string(),
            owner: owner.to_string(),
            epoch: 1,
            expires_ms: expiry(ttl),
        }
    }
}

/// The wall-clock time, in milliseconds since the Unix epoch, leases are measured in.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// When a lease taken now for `ttl` lapses.
pub fn expiry(ttl: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

/// A run's pending deadline: an approval's `timeout` or an agent's silence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// The run.
    pub run_id: String,
    /// The node that waits.
    pub node: String,
    /// The `seq` of the `paused` event of the pause it ends (0 when the pause wrote none).
    pub pause: u64,
    /// When it is due, in milliseconds since the Unix epoch.
    pub due_ms: i64,
}

/// What a step did to its run's timer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimerChange {
    /// Left as it was.
    #[default]
    Keep,
    /// Set (or replaced) to this one.
    Set(Timer),
    /// Removed: the run no longer waits with a deadline.
    Clear,
}

/// An answer to a run, posted to its inbox and taken by its holder in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// A user message for an agent that waits for one.
    Message {
        /// The text.
        text: String,
    },
    /// A decision on an approval.
    Approval {
        /// The `seq` of the `paused` event it answers (`None`: the current pause).
        pause: Option<u64>,
        /// Approve or reject.
        approve: bool,
        /// The reviewer's note, recorded in the `resumed` event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A human hands a handoff back, optionally setting variables.
    Return {
        /// The `seq` of the `paused` event it answers (`None`: the current pause).
        pause: Option<u64>,
        /// Variables to set first.
        #[serde(default)]
        set: serde_json::Map<String, Value>,
        /// The human's note, recorded in the `resumed` event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A pause's deadline passed (posted by its timer).
    Timeout {
        /// The `seq` of the `paused` event of the pause whose deadline passed.
        pause: u64,
    },
    /// End the run as cancelled.
    Cancel {
        /// Who cancelled it.
        by: String,
    },
}

/// A delivery as it waits in a run's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    /// Its place in the inbox (grows with every post).
    pub seq: u64,
    /// What it says.
    pub delivery: Delivery,
}

/// One step's changes, committed together.
pub struct Checkpoint<'a> {
    /// The state after the step.
    pub state: &'a RunState,
    /// The version of the run this commit follows (0 when it creates the run).
    pub follows: u64,
    /// The step's events, in `seq` order.
    pub events: &'a [Event],
    /// Conversation messages added by the step.
    pub messages: &'a [ChatMessage],
    /// The index of the first of `messages` in the conversation.
    pub first_message: usize,
    /// The run's timer.
    pub timer: TimerChange,
    /// Deliveries of the inbox this step took, up to and including this `seq`.
    pub consumed: Option<u64>,
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
    /// The version of its last commit (the next commit follows it).
    pub version: u64,
    /// What it waits for at a handoff or an approval: its `paused` event, as JSON.
    pub pending: Option<Value>,
}

/// A run as listed by [`Store::query`]: its record and last state, without its conversation.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Its place in the store's order of creation (a cursor: later runs have larger ones).
    pub position: u64,
    /// Its record.
    pub record: RunRecord,
    /// Its last checkpointed state.
    pub state: RunState,
    /// What it waits for at a handoff or an approval: its `paused` event, as JSON.
    pub pending: Option<Value>,
}

/// Which runs [`Store::query`] lists, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunQuery {
    /// Only this workflow's.
    pub workflow: Option<String>,
    /// Only runs in one of these states (empty: any).
    pub statuses: Vec<crate::state::RunStatus>,
    /// Only this mode's.
    pub mode: Option<RunMode>,
    /// Only runs started by something other than this.
    pub not_trigger: Option<TriggerKind>,
    /// Only runs created before the one at this position.
    pub before: Option<u64>,
    /// At most this many.
    pub limit: usize,
}

impl RunQuery {
    /// Whether a run is listed (the memory store's filter; SQL backends say the same in SQL).
    pub fn admits(&self, record: &RunRecord, state: &RunState, position: u64) -> bool {
        self.workflow.as_ref().is_none_or(|w| *w == record.workflow)
            && (self.statuses.is_empty() || self.statuses.contains(&state.status))
            && self.mode.is_none_or(|m| m == record.origin.mode)
            && self.not_trigger.is_none_or(|t| t != record.origin.trigger)
            && self.before.is_none_or(|b| position < b)
    }
}

/// What a step did to the pause a run waits at (for [`RunRow::pending`]).
#[derive(Debug, Clone, PartialEq)]
pub enum PendingChange {
    /// Left as it was.
    Keep,
    /// The run paused at a handoff or approval: its `paused` event.
    Set(Value),
    /// The run no longer waits at one.
    Clear,
}

impl Checkpoint<'_> {
    /// What this step did to the run's pending handoff or approval.
    pub fn pending(&self) -> PendingChange {
        use crate::state::RunStatus;
        if !matches!(
            self.state.status,
            RunStatus::WaitingForHuman | RunStatus::WaitingForApproval
        ) {
            return PendingChange::Clear;
        }
        match self
            .events
            .iter()
            .rev()
            .find(|e| matches!(e.body, crate::event::EventBody::Paused { .. }))
        {
            Some(paused) => PendingChange::Set(paused.to_json()),
            None => PendingChange::Keep,
        }
    }
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

/// A commit handed to a store: it resolves once the commit is durable, or
/// refused. Holding one does not keep the store busy.
pub type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StoreError>> + Send + 'static>>;

/// A place to keep runs. Every method may be called from any task; none
/// blocks a tokio worker thread.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Hands one step's commit to the store now and returns what resolves when
    /// it is durable, so the caller may go on (with work that has no effect
    /// outside the run) while it is written. Commits submitted one after the
    /// other are applied in that order; each is checked as [`Store::commit`] says.
    fn submit(&self, lease: &Lease, checkpoint: &Checkpoint<'_>) -> Pending;
    /// Takes a stored run for `owner` until `ttl` from now: a new lease whose
    /// epoch follows the last one. [`StoreError::Busy`] while another owner's
    /// lease holds; [`StoreError::NotFound`] for an unknown run. An owner that
    /// already holds the run gets its lease again, renewed.
    async fn acquire(&self, run_id: &str, owner: &str, ttl: std::time::Duration) -> Result<Lease, StoreError>;
    /// Extends a lease; [`StoreError::Conflict`] when it is no longer held.
    async fn renew(&self, lease: &Lease, ttl: std::time::Duration) -> Result<Lease, StoreError>;
    /// Gives the run back (nothing happens when the lease was already lost).
    async fn release(&self, lease: &Lease) -> Result<(), StoreError>;
    /// Commits one step under `lease`, all or nothing: [`StoreError::Conflict`]
    /// when the lease is not the run's current one or the run's version is not
    /// `checkpoint.follows`, and then nothing changes.
    async fn commit(&self, lease: &Lease, checkpoint: &Checkpoint<'_>) -> Result<(), StoreError> {
        self.submit(lease, checkpoint).await
    }
    /// Loads a run's last checkpoint, or `None` for an unknown id.
    async fn load(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError>;
    /// A compiled graph's JSON by hash.
    async fn graph(&self, hash: &str) -> Result<Option<String>, StoreError>;
    /// A run's events after `seq`, as JSON lines, in order.
    async fn events_after(&self, run_id: &str, seq: u64) -> Result<Vec<String>, StoreError>;
    /// Every run, the most recently changed first.
    async fn list(&self) -> Result<Vec<RunSummary>, StoreError>;
    /// The timers due at `now_ms` (milliseconds since the Unix epoch), earliest first.
    async fn due_timers(&self, now_ms: i64) -> Result<Vec<Timer>, StoreError>;
    /// Appends a delivery to a run's inbox; its `seq` in the inbox.
    /// [`StoreError::NotFound`] for an unknown run.
    async fn post(&self, run_id: &str, delivery: &Delivery) -> Result<u64, StoreError>;
    /// A run's deliveries not yet taken, in the order they were posted.
    async fn inbox(&self, run_id: &str) -> Result<Vec<Posted>, StoreError>;
    /// Runs matching a query, the most recently created first.
    async fn query(&self, query: &RunQuery) -> Result<Vec<RunRow>, StoreError>;
    /// Deletes a finished run with its events, messages and inbox: false
    /// (and nothing deleted) when it has not finished;
    /// [`StoreError::NotFound`] for an unknown run.
    async fn delete_finished(&self, run_id: &str) -> Result<bool, StoreError>;
}
