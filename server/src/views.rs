//! What the API answers: workflows, revisions, runs, messages and lists, as
//! SERVER.md names their fields. One function per object, so every route
//! shows an object the same way.

use crate::catalog::{RevisionRow, RevisionStatus, WorkflowRow};
use flow_runtime::RunStatus;
use flow_runtime::state::RunState;
use flow_runtime::store::RunRecord;
use serde_json::{Value, json};

/// `{"items", "next_cursor"}`.
pub fn list(items: Vec<Value>, next_cursor: Option<String>) -> Value {
    json!({"items": items, "next_cursor": next_cursor})
}

/// A workflow.
pub fn workflow(w: &WorkflowRow) -> Value {
    json!({
        "name": w.name,
        "title": w.title,
        "active_revision": w.active_revision,
        "latest_revision": w.latest_revision,
        "max_concurrent_runs": w.max_concurrent_runs,
        "idle_timeout": w.idle_timeout,
        "created": w.created,
        "updated": w.updated,
    })
}

/// A revision; `active` is whether it is its workflow's active one.
pub fn revision(r: &RevisionRow, active: bool) -> Value {
    json!({
        "workflow": r.workflow,
        "revision": r.revision,
        "status": match r.status {
            RevisionStatus::Compiled => "compiled",
            RevisionStatus::Failed => "failed",
        },
        "active": active,
        "title": r.title,
        "source": r.source,
        "diagnostics": r.diagnostics,
        "graph_hash": r.graph_hash,
        "created": r.created,
    })
}

/// A run: SERVER.md's `<run>`. `pending` is the `paused` event of a handoff
/// or approval it waits at, as the store keeps it.
pub fn run(record: &RunRecord, state: &RunState, pending: Option<&Value>) -> Value {
    let origin = &record.origin;
    json!({
        "id": record.run_id,
        "workflow": record.workflow,
        "revision": origin.revision,
        "graph_hash": record.graph_hash,
        "mode": origin.mode.as_str(),
        "status": state.status.as_str(),
        "node": state.node(),
        "vars": state.vars,
        "outcome": state.outcome,
        "error": state.error,
        "trigger": {"kind": origin.trigger.as_str(), "id": origin.trigger_id},
        "created": state.created,
        "updated": state.updated,
        "pending": pending.and_then(|p| pending_of(state.status, p)),
    })
}

/// What a run waits for, from its `paused` event.
fn pending_of(status: RunStatus, paused: &Value) -> Option<Value> {
    let kind = match status {
        RunStatus::WaitingForApproval => "approval",
        RunStatus::WaitingForHuman => "handoff",
        _ => return None,
    };
    Some(json!({
        "id": paused["seq"],
        "kind": kind,
        "node": paused["node"],
        "prompt": paused.get("prompt").cloned().unwrap_or(Value::Null),
        "queue": paused.get("queue").cloned().unwrap_or(Value::Null),
        "message": paused.get("message").cloned().unwrap_or(Value::Null),
        "deadline": paused.get("deadline").cloned().unwrap_or(Value::Null),
    }))
}

/// An approval waiting, across runs.
pub fn approval(record: &RunRecord, paused: &Value) -> Value {
    json!({
        "run_id": record.run_id,
        "workflow": record.workflow,
        "mode": record.origin.mode.as_str(),
        "pending_id": paused["seq"],
        "node": paused["node"],
        "prompt": paused.get("prompt").cloned().unwrap_or(Value::Null),
        "deadline": paused.get("deadline").cloned().unwrap_or(Value::Null),
        "since": paused["ts"],
    })
}

/// A handoff waiting, across runs.
pub fn handoff(record: &RunRecord, paused: &Value) -> Value {
    json!({
        "run_id": record.run_id,
        "workflow": record.workflow,
        "mode": record.origin.mode.as_str(),
        "pending_id": paused["seq"],
        "node": paused["node"],
        "queue": paused.get("queue").cloned().unwrap_or(Value::Null),
        "message": paused.get("message").cloned().unwrap_or(Value::Null),
        "since": paused["ts"],
    })
}

/// A conversation message from its `message` event: `{role, node, text, seq}`.
pub fn message(event: &Value) -> Option<Value> {
    (event["type"] == "message").then(|| {
        json!({
            "role": event["role"],
            "node": event["node"],
            "text": event["text"],
            "seq": event["seq"],
        })
    })
}
