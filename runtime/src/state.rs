//! A run's state: everything a checkpoint holds. The engine changes it in one
//! place (`engine::Run`), which also records the events of the change.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Taking steps.
    Running,
    /// An agent waits for a user message.
    WaitingForUser,
    /// A handoff waits for a human to hand back.
    WaitingForHuman,
    /// An approval waits for a decision.
    WaitingForApproval,
    /// Finished with an outcome.
    Completed,
    /// Finished by an error.
    Failed,
    /// Ended by a cancel (SERVER.md).
    Cancelled,
}

impl RunStatus {
    /// The state's name, as in events and `flow runs`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::WaitingForUser => "waiting_for_user",
            RunStatus::WaitingForHuman => "waiting_for_human",
            RunStatus::WaitingForApproval => "waiting_for_approval",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the run has finished.
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled)
    }

    /// Whether the run waits for an answer.
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            RunStatus::WaitingForUser | RunStatus::WaitingForHuman | RunStatus::WaitingForApproval
        )
    }
}

/// What the run does next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum Position {
    /// Enter this node (its `node_entered` is not written yet).
    Enter {
        /// The node.
        node: String,
    },
    /// Wait at this node for an answer.
    Waiting {
        /// The node.
        node: String,
        /// Whether a `paused` event was written for this wait (so an answer writes `resumed`).
        paused: bool,
        /// An approval's deadline, or when an agent's silence exit fires (RFC 3339), if any.
        deadline: Option<String>,
    },
    /// The run has finished, at this node.
    Finished {
        /// The last node.
        node: String,
    },
}

/// The kind of step a retry takes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryStep {
    /// The node's work after it was entered (not the entry itself: it is not
    /// counted or reported again, and its companions are not started again).
    Enter,
    /// The handling of the user message last recorded at the node (extraction,
    /// exits, the reply); the message is not recorded again.
    Message,
}

/// One message of the conversation the model sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `user`, `assistant` or `tool`.
    pub role: String,
    /// The text (for a tool message, the result as JSON text).
    pub text: String,
    /// The tool calls an assistant message made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallRequest>,
    /// For a tool message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The node it was said at.
    pub node: String,
}

/// A model's request to call a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRequest {
    /// The provider's id of the call.
    pub id: String,
    /// The tool asked for.
    pub name: String,
    /// Its arguments.
    pub arguments: Value,
}

/// The checkpointed state of a run (the conversation is stored beside it, a message at a time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The run's id.
    pub run_id: String,
    /// The workflow's name.
    pub workflow: String,
    /// Its state.
    pub status: RunStatus,
    /// What it does next.
    pub position: Position,
    /// Inputs and variables (an object).
    pub vars: Value,
    /// How often each bounded edge (one with `max N`) was taken; no other
    /// edge is counted, so the state does not grow with the run's length (a
    /// checkpoint of an older version that counts others still loads: those
    /// counts are dropped when the run is loaded).
    pub edge_counts: BTreeMap<String, u32>,
    /// Node entries so far (bounded by `max_steps`).
    pub steps: u64,
    /// User messages at the current agent since it was entered.
    pub turns: u32,
    /// Model requests so far by `node/purpose` (scripted answers are picked by it).
    pub llm_calls: BTreeMap<String, u32>,
    /// Tool calls so far by tool (stubbed results are picked by it).
    pub tool_calls: BTreeMap<String, u32>,
    /// Companion edges started and not yet finished (started again on resume).
    pub companions: Vec<String>,
    /// The `seq` of the next event.
    pub next_seq: u64,
    /// The outcome, once completed.
    pub outcome: Option<String>,
    /// The error, once failed.
    pub error: Option<String>,
    /// Once failed on an outage (of a model or an HTTP tool): the step that
    /// [`crate::Run::retry`] takes again. `None` for any other failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryStep>,
    /// The `seq` of the `paused` event of the pause the run waits at (what an
    /// answer names as its `pending_id`), while it waits at one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<u64>,
    /// When the run was created (RFC 3339).
    pub created: String,
    /// When it last changed.
    pub updated: String,
}

impl RunState {
    /// The node the run is at (for a finished run, its last node).
    pub fn node(&self) -> &str {
        match &self.position {
            Position::Enter { node } | Position::Waiting { node, .. } | Position::Finished { node } => node,
        }
    }
}
