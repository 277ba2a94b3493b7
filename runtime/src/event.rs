//! The events of a run, exactly as RUNTIME.md lists them. Each is one JSON
//! object with `type`, `run_id`, `seq` and `ts`, then its own fields.

use serde::Serialize;
use serde_json::{Map, Value};

/// What happened, by type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// The run began.
    RunStarted {
        /// The workflow's name.
        workflow: String,
        /// The inputs' values (never secrets).
        inputs: Value,
    },
    /// A node was entered.
    NodeEntered {
        /// Its id.
        node: String,
        /// Its kind (`agent`, `action`, ...).
        kind: String,
    },
    /// A message from the agent or the user.
    Message {
        /// The node it belongs to.
        node: String,
        /// `agent` or `user`.
        role: String,
        /// What was said.
        text: String,
    },
    /// One request to a model.
    LlmCall {
        /// The node asking.
        node: String,
        /// `reply`, `choose_exit` or `extract`.
        purpose: String,
        /// The provider asked.
        provider: String,
        /// The model asked.
        model: String,
        /// How long the call took.
        latency_ms: u64,
        /// Tokens sent, when the provider says.
        input_tokens: Option<u64>,
        /// Tokens received, when the provider says.
        output_tokens: Option<u64>,
        /// Why the call failed, or null.
        error: Option<String>,
        /// Extracted values dropped for failing their type.
        rejected: Vec<Rejected>,
        /// The model was not asked: its circuit breaker is open (written only when true).
        #[serde(default, skip_serializing_if = "is_false")]
        skipped: bool,
    },
    /// A tool is called.
    ToolCall {
        /// The node calling it.
        node: String,
        /// The tool's id.
        tool: String,
        /// Its arguments.
        input: Value,
    },
    /// A tool answered or failed.
    ToolResult {
        /// The node that called it.
        node: String,
        /// The tool's id.
        tool: String,
        /// Its return value (absent on error).
        #[serde(skip_serializing_if = "Option::is_none")]
        output: Option<Value>,
        /// Why it failed (absent on success).
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// How long it took.
        latency_ms: u64,
        /// Whether it ran in a companion (`also`) node.
        companion: bool,
    },
    /// A variable got a value.
    VariableSet {
        /// The node setting it.
        node: String,
        /// The variable.
        variable: String,
        /// Its new value.
        value: Value,
    },
    /// An edge was taken.
    EdgeTaken {
        /// The edge id.
        edge: String,
        /// Its source node.
        from: String,
        /// Its target node.
        to: String,
        /// Its kind.
        kind: String,
    },
    /// An exit would have been tried but its `max N` is spent (LANGUAGE-2.md).
    BoundSpent {
        /// The node whose exit it is.
        node: String,
        /// The spent edge.
        edge: String,
    },
    /// The run stopped to wait.
    Paused {
        /// Where it waits.
        node: String,
        /// `waiting_for_user`, `waiting_for_human` or `waiting_for_approval`.
        state: String,
        /// At a handoff: the queue.
        #[serde(skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// At a handoff: the message for the human (null when none).
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<Value>,
        /// At an approval: what the reviewer is asked.
        #[serde(skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
        /// At an approval: the deadline (RFC 3339) or null.
        #[serde(skip_serializing_if = "Option::is_none")]
        deadline: Option<Value>,
    },
    /// The run went on after a pause.
    Resumed {
        /// Where it was waiting.
        node: String,
        /// `message`, `approve`, `reject`, `return`, `timeout` or `retry`.
        with: String,
        /// The reviewer's or human's note with an approval's decision or a handoff's return.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The run completed.
    RunCompleted {
        /// Its outcome.
        outcome: String,
    },
    /// The run failed.
    RunFailed {
        /// Where.
        node: String,
        /// Why.
        error: String,
        /// The failure was an outage (of a model or an HTTP tool) that `flow resume
        /// --retry` may cure (written only when true).
        #[serde(default, skip_serializing_if = "is_false")]
        retryable: bool,
    },
    /// The run was cancelled (SERVER.md).
    RunCancelled {
        /// Where it was.
        node: String,
        /// Who cancelled it.
        by: String,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// An extracted value dropped because it does not fit its variable's type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// The variable.
    pub variable: String,
    /// The value the model gave.
    pub value: Value,
    /// Why it was dropped.
    pub reason: String,
}

/// An event with its envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The run.
    pub run_id: String,
    /// Its number within the run, from 1, without gaps.
    pub seq: u64,
    /// When it happened (RFC 3339).
    pub ts: String,
    /// What happened.
    pub body: EventBody,
}

impl Event {
    /// The event's `type`.
    pub fn kind(&self) -> &'static str {
        match &self.body {
            EventBody::RunStarted { .. } => "run_started",
            EventBody::NodeEntered { .. } => "node_entered",
            EventBody::Message { .. } => "message",
            EventBody::LlmCall { .. } => "llm_call",
            EventBody::ToolCall { .. } => "tool_call",
            EventBody::ToolResult { .. } => "tool_result",
            EventBody::VariableSet { .. } => "variable_set",
            EventBody::EdgeTaken { .. } => "edge_taken",
            EventBody::BoundSpent { .. } => "bound_spent",
            EventBody::Paused { .. } => "paused",
            EventBody::Resumed { .. } => "resumed",
            EventBody::RunCompleted { .. } => "run_completed",
            EventBody::RunFailed { .. } => "run_failed",
            EventBody::RunCancelled { .. } => "run_cancelled",
        }
    }

    /// The event as one JSON object: `type`, `run_id`, `seq`, `ts`, then its fields.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), Value::String(self.kind().into()));
        out.insert("run_id".into(), Value::String(self.run_id.clone()));
        out.insert("seq".into(), Value::from(self.seq));
        out.insert("ts".into(), Value::String(self.ts.clone()));
        if let Ok(Value::Object(fields)) = serde_json::to_value(&self.body) {
            for (k, v) in fields {
                if k != "type" {
                    out.insert(k, v);
                }
            }
        }
        Value::Object(out)
    }

    /// The event as one line of JSON (no line break).
    pub fn to_line(&self) -> String {
        self.to_json().to_string()
    }
}

/// The system's current time in RFC 3339 (UTC, milliseconds). The engine
/// does not use it: a run reads the time from its runtime's
/// [`Clock`](crate::Clock).
pub fn now_rfc3339() -> String {
    crate::clock::rfc3339(jiff::Timestamp::now())
}
