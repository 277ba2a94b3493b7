//! Companions (`also -> target`): an action or `say` that runs alongside the
//! main path on its own tokio task. Its failure is reported as a `tool_result`
//! with `companion: true` and never fails the run. Its result is recorded when
//! the run next waits or finishes (not as soon as it lands, which would make
//! the order of events depend on the store's speed). A companion still running at
//! a checkpoint is listed in the state and started again on resume (tool calls
//! are at least once across a crash).

use super::Run;
use crate::eval::{Scope, eval};
use crate::event::EventBody;
use crate::model::CallError;
use crate::program::{EdgeIx, NodeIx};
use flow_graph::Node;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// A companion's finished tool call.
pub(super) struct CompanionDone {
    edge: String,
    node: String,
    at: NodeIx,
    tool: String,
    outcome: Result<Value, CallError>,
    ms: u128,
}

impl Run {
    /// Starts the companion at the end of `edge_id`, leaving `from`.
    pub(super) fn start_companion(&mut self, from: &str, ix: EdgeIx) {
        let program = Arc::clone(&self.program);
        let edge = program.edge_at(ix);
        let edge_id = &edge.id;
        let target = edge.to.clone();
        self.count_edge(ix);
        self.emit(EventBody::EdgeTaken {
            edge: edge_id.to_string(),
            from: from.to_string(),
            to: target.clone(),
            kind: "companion".into(),
        });
        let node = program.node_at(program.target(ix));
        self.emit(EventBody::NodeEntered {
            node: target.clone(),
            kind: node.kind().into(),
        });
        match node {
            Node::Say(s) => {
                if let Ok(text) = self.fill(&s.message) {
                    self.say(&target, text);
                }
            }
            Node::Action(a) if a.tool_id.is_none() => {
                for (var, expr) in &a.output_mapping {
                    if let Ok(value) = eval(&program, expr, Scope::vars(&self.state.vars, &*self.clock)) {
                        self.set_var(&target, var.clone(), value);
                    }
                }
            }
            Node::Action(_) => {
                self.state.companions.push(edge_id.to_string());
                self.spawn_companion(ix);
            }
            _ => {}
        }
    }

    fn spawn_companion(&mut self, ix: EdgeIx) {
        let program = Arc::clone(&self.program);
        let edge_id = program.edge_at(ix).id.as_str();
        let at = program.target(ix);
        let target = program.node_at(at).id().to_string();
        let Node::Action(action) = program.node_at(at) else {
            return;
        };
        let Some(tool) = action.tool_id.clone() else { return };
        let input = match self.mapped_input(&action.input_mapping) {
            Ok(input) => input,
            Err(e) => {
                self.tool_result(&target, &tool, &Err(CallError::fatal(e.to_string())), 0, true);
                self.state.companions.retain(|c| c != edge_id);
                return;
            }
        };
        self.emit(EventBody::ToolCall {
            node: target.clone(),
            tool: tool.clone(),
            input: input.clone(),
        });
        let index = self.count_tool_call(&tool);
        let toolbox = self.toolbox.clone();
        let edge = edge_id.to_string();
        // A call with effects waits until the steps before it are durable.
        let gate = toolbox
            .has_effects(&program, &tool)
            .then(|| (self.confirmed.subscribe(), self.version));
        self.companions.spawn(async move {
            if let Some((mut confirmed, need)) = gate
                && confirmed.wait_for(|v| *v >= need).await.is_err()
            {
                return CompanionDone {
                    edge,
                    node: target,
                    at,
                    tool,
                    outcome: Err(CallError::fatal(
                        "not called: the run stopped before its step was committed",
                    )),
                    ms: 0,
                };
            }
            let started = Instant::now();
            let outcome = toolbox.call(&program, &tool, input, index).await;
            CompanionDone {
                edge,
                node: target,
                at,
                tool,
                outcome,
                ms: started.elapsed().as_millis(),
            }
        });
    }

    /// Starts again the companions a crashed or paused process left unfinished.
    pub(super) fn restart_companions(&mut self) {
        if self.companions.is_empty() && !self.state.companions.is_empty() {
            let program = Arc::clone(&self.program);
            // Admitted when the run was loaded: each names a companion edge of the graph.
            for ix in self
                .state
                .companions
                .iter()
                .filter_map(|e| program.edge_ix(e))
                .collect::<Vec<_>>()
            {
                self.spawn_companion(ix);
            }
        }
    }

    /// Waits for every running companion and records it (the steps before
    /// are confirmed first: a companion with effects waits for them).
    pub(super) async fn join_companions(&mut self) {
        if self.companions.is_empty() {
            return;
        }
        let _ = self.confirm().await;
        while let Some(done) = self.companions.join_next().await {
            self.apply_companion(done);
        }
    }

    fn apply_companion(&mut self, done: Result<CompanionDone, tokio::task::JoinError>) {
        let Ok(done) = done else { return };
        let outcome = done.outcome.map(|v| self.redact_value(v)).map_err(|e| CallError {
            message: self.redact(&e.message),
            retryable: e.retryable,
        });
        self.tool_result(&done.node, &done.tool, &outcome, done.ms, true);
        if let Some(pos) = self.state.companions.iter().position(|c| *c == done.edge) {
            self.state.companions.remove(pos);
        }
        let Ok(result) = outcome else { return };
        let program = Arc::clone(&self.program);
        if let Node::Action(action) = program.node_at(done.at) {
            let mut values = Vec::new();
            for (var, expr) in &action.output_mapping {
                let scope = Scope {
                    vars: &self.state.vars,
                    result: Some(&result),
                    params: None,
                    secrets: None,
                    clock: &*self.clock,
                };
                if let Ok(value) = eval(&program, expr, scope) {
                    values.push((var.clone(), value));
                }
            }
            for (var, value) in values {
                self.set_var(&done.node, var, value);
            }
        }
    }
}
