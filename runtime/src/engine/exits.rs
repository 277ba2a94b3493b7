//! Trying a node's exits in source order (LANGUAGE.md §4): the first that holds
//! is taken; all `when` conditions are judged together by one model call, made
//! only when the first `when` exit is reached; spent `max N` edges count as false.

use super::{Failure, FailureKind, Run};
use crate::eval::{Scope, eval_bool};
use crate::event::EventBody;
use crate::model::Purpose;
use crate::model::prompt::{choose_exit_function, exit_options, system_text};
use crate::program::EdgeIx;
use flow_graph::{Condition, EdgeKind, Node};
use serde_json::Value;

/// When a node's exits are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// An agent just entered: only its `if` exits.
    Entry,
    /// An agent with no `when` and no `after` exit just replied: `if` and `->`.
    AfterReply,
    /// An agent got a user message: every exit, the global ones after its last `if`/`when`.
    Message,
    /// Any other node: every exit.
    Go,
}

impl Run {
    /// The first exit of `id` (the node the run is at) that holds now, if any.
    pub(super) async fn try_exits(
        &mut self,
        id: &str,
        phase: Phase,
        result: Option<&Value>,
    ) -> Result<Option<EdgeIx>, Failure> {
        let program = std::sync::Arc::clone(&self.program);
        let node = program.node_at(self.at);
        let mut order: Vec<EdgeIx> = program
            .exits_at(self.at)
            .iter()
            .copied()
            .filter(|&e| {
                matches!(
                    program.edge_at(e).kind,
                    EdgeKind::Direct | EdgeKind::Conditional | EdgeKind::TurnLimit
                )
            })
            .collect();
        if phase == Phase::Message && matches!(node, Node::Agent(_)) && !program.global_exits_ix().is_empty() {
            let after = order
                .iter()
                .rposition(|&e| {
                    matches!(
                        program.edge_at(e).condition,
                        Some(Condition::Llm(_) | Condition::Expr(_))
                    )
                })
                .map_or(0, |i| i + 1);
            order.splice(after..after, program.global_exits_ix().iter().copied());
        }
        let mut chosen: Option<Option<String>> = None;
        for ix in order {
            let edge = program.edge_at(ix);
            let edge_id = &edge.id;
            let spent = self.spent(ix);
            let holds = match (&edge.condition, edge.kind) {
                (Some(Condition::Expr(e)), _) => {
                    if spent {
                        self.bound_spent(id, edge_id);
                        continue;
                    }
                    let scope = Scope {
                        vars: &self.state.vars,
                        result,
                        params: None,
                        secrets: None,
                        clock: &*self.clock,
                    };
                    eval_bool(&program, e, scope).map_err(|error| FailureKind::Expression {
                        context: format!("exit `{edge_id}`"),
                        error,
                    })?
                }
                (_, _) if phase == Phase::Entry => false,
                (Some(Condition::Llm(_)), _) => {
                    // One model call judges every `when` exit; it also reports the spent ones.
                    if chosen.is_none() {
                        chosen = Some(self.choose_exit(id, node, phase).await?);
                    }
                    !spent && chosen.as_ref().is_some_and(|c| c.as_deref() == Some(edge_id.as_str()))
                }
                _ if spent => {
                    if edge.kind != EdgeKind::TurnLimit || phase == Phase::Message {
                        self.bound_spent(id, edge_id);
                    }
                    continue;
                }
                (Some(Condition::Else(_)), _) => true,
                (None, EdgeKind::TurnLimit) => {
                    phase == Phase::Message && edge.turns.is_some_and(|n| self.state.turns >= n)
                }
                (None, _) => true,
            };
            if holds {
                return Ok(Some(ix));
            }
        }
        Ok(None)
    }

    /// Records that an exit would have been tried but its `max N` is used up.
    pub(super) fn bound_spent(&mut self, node: &str, edge_id: &str) {
        self.emit(EventBody::BoundSpent {
            node: node.to_string(),
            edge: edge_id.to_string(),
        });
    }

    /// Counts a traversal of an edge, if it has a `max N` (nothing else reads
    /// the counts, so the checkpoint does not grow with the run's length).
    pub(super) fn count_edge(&mut self, edge: EdgeIx) {
        let edge = self.program.edge_at(edge);
        if edge.max_traversals.is_some() {
            *self.state.edge_counts.entry(edge.id.clone()).or_insert(0) += 1;
        }
    }

    /// Whether an edge's `max N` is used up in this run.
    pub(super) fn spent(&self, edge: EdgeIx) -> bool {
        let edge = self.program.edge_at(edge);
        let Some(max) = edge.max_traversals else {
            return false;
        };
        self.state.edge_counts.get(&edge.id).copied().unwrap_or(0) >= max
    }

    /// [`Run::spent`] of an edge named by a `when` option (an exit of the graph).
    fn spent_named(&self, edge_id: &str) -> bool {
        self.program.edge_ix(edge_id).is_some_and(|e| self.spent(e))
    }

    /// Asks the model which `when` condition holds; the edge id, or `None` for none.
    async fn choose_exit(&mut self, id: &str, node: &Node, phase: Phase) -> Result<Option<String>, Failure> {
        let program = std::sync::Arc::clone(&self.program);
        let mut options = exit_options(&program, node, &|_| false);
        if phase != Phase::Message {
            options.retain(|(edge, _)| !program.graph.global_exits.contains(edge));
        }
        let spent: Vec<String> = options
            .iter()
            .filter(|(edge, _)| self.spent_named(edge))
            .map(|(edge, _)| edge.clone())
            .collect();
        for edge in &spent {
            self.bound_spent(id, edge);
        }
        options.retain(|(edge, _)| !spent.contains(edge));
        if options.is_empty() {
            return Ok(None);
        }
        let texts: Vec<String> = options.iter().map(|(_, t)| t.clone()).collect();
        let instructions = match node {
            Node::Agent(a) => Some(&a.instructions),
            _ => None,
        };
        let system = system_text(&program, instructions, &mut |t| self.fill(t))?;
        let function = choose_exit_function(&texts);
        let mut note = None;
        for attempt in 0..2 {
            let answer = self
                .ask(
                    id,
                    Purpose::ChooseExit,
                    &system,
                    vec![function.clone()],
                    Some("choose_exit"),
                    note.take(),
                )
                .await?;
            let picked = forced_arguments(&answer.0, "choose_exit")
                .and_then(|args| args.get("exit").and_then(Value::as_str).map(str::to_string));
            match picked {
                Some(p) if p == "none" => return Ok(None),
                Some(p) => {
                    if let Some((edge, _)) = options.iter().find(|(_, t)| *t == p) {
                        return Ok(Some(edge.clone()));
                    }
                    note = Some(format!(
                        "`{p}` is not one of the options. Call choose_exit with exit set to exactly one of: {}, none.",
                        texts.join("; ")
                    ));
                }
                None => {
                    note = Some("Answer by calling the choose_exit function with an `exit` argument.".to_string());
                }
            }
            if attempt == 1 {
                break;
            }
        }
        Ok(None)
    }
}

/// The arguments of a forced function call: from the call itself, or from a JSON
/// object in the text (some servers ignore `tool_choice`).
pub(super) fn forced_arguments(answer: &crate::model::ModelAnswer, name: &str) -> Option<Value> {
    if let Some(call) = answer.tool_calls.iter().find(|c| c.name == name) {
        return match &call.arguments {
            Value::String(s) => serde_json::from_str(s).ok(),
            v @ Value::Object(_) => Some(v.clone()),
            _ => None,
        };
    }
    let text = answer.text.as_deref()?.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(text)
        .trim();
    match serde_json::from_str::<Value>(text).ok()? {
        v @ Value::Object(_) => Some(v.get("arguments").filter(|a| a.is_object()).cloned().unwrap_or(v)),
        _ => None,
    }
}
