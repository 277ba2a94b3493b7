//! What each kind of node does when it is entered (LANGUAGE.md §4).

use super::exits::Phase;
use super::{Answer, AnswerError, Failure, FailureKind, Run, RunError, SpentExit, StepFailure};
use crate::eval::{Scope, eval, render};
use crate::event::EventBody;
use crate::model::CallError;
use crate::program::EdgeIx;
use crate::state::{ChatMessage, Position, RunStatus};
use flow_graph::{EdgeKind, Node, Text};
use serde_json::{Map, Value};
use std::time::Instant;

impl Run {
    /// Enters a node: counts the step, starts its companions and runs it.
    pub(super) async fn enter(&mut self, id: &str) -> Result<(), Failure> {
        let program = std::sync::Arc::clone(&self.program);
        let node = program.node_at(self.at);
        let max = program.graph.workflow.max_steps;
        if self.state.steps >= max {
            return Err(FailureKind::MaxSteps {
                max,
                before: id.to_string(),
            });
        }
        self.state.steps += 1;
        self.emit(EventBody::NodeEntered {
            node: id.to_string(),
            kind: node.kind().into(),
        });
        for &edge in program.companions_at(self.at) {
            self.start_companion(id, edge);
        }
        self.work(id).await
    }

    /// What a node does once entered (a retry after an outage starts here).
    pub(super) async fn work(&mut self, id: &str) -> Result<(), Failure> {
        let program = std::sync::Arc::clone(&self.program);
        match program.node_at(self.at) {
            Node::Agent(_) => self.enter_agent(id).await,
            Node::Action(a) => self.run_action(id, a).await,
            Node::Route(_) => self.go_on(id, Phase::Go, None).await,
            Node::Say(s) => {
                let text = self.fill(&s.message)?;
                self.say(id, text);
                self.go_on(id, Phase::Go, None).await
            }
            Node::Handoff(h) => {
                self.join_companions().await;
                let message = match &h.handoff_message {
                    Some(t) => Value::String(self.fill(t)?),
                    None => Value::Null,
                };
                self.wait(id, RunStatus::WaitingForHuman, None);
                self.emit(EventBody::Paused {
                    node: id.to_string(),
                    state: RunStatus::WaitingForHuman.as_str().into(),
                    queue: Some(h.queue_id.clone()),
                    message: Some(message),
                    prompt: None,
                    deadline: None,
                });
                Ok(())
            }
            Node::Approval(a) => {
                self.join_companions().await;
                let prompt = self.fill(&a.approval_prompt)?;
                let deadline = a.timeout_hours.and_then(|h| {
                    #[allow(clippy::cast_possible_truncation)]
                    let ms = (h * 3_600_000.0).round() as i64;
                    let span = jiff::Span::new().try_milliseconds(ms).ok()?;
                    self.clock.now().checked_add(span).ok().map(|t| t.to_string())
                });
                self.wait(id, RunStatus::WaitingForApproval, deadline.clone());
                self.emit(EventBody::Paused {
                    node: id.to_string(),
                    state: RunStatus::WaitingForApproval.as_str().into(),
                    queue: None,
                    message: None,
                    prompt: Some(prompt),
                    deadline: Some(deadline.map_or(Value::Null, Value::String)),
                });
                Ok(())
            }
            Node::End(e) => {
                self.join_companions().await;
                if let Some(t) = &e.say {
                    let text = self.fill(t)?;
                    self.say(id, text);
                }
                self.complete(id, e.outcome.clone());
                Ok(())
            }
        }
    }

    async fn enter_agent(&mut self, id: &str) -> Result<(), Failure> {
        if let Some(edge) = self.try_exits(id, Phase::Entry, None).await? {
            self.take(id, edge);
            return Ok(());
        }
        self.reply(id).await?;
        let program = std::sync::Arc::clone(&self.program);
        let waits = program.exits_at(self.at).iter().map(|&e| program.edge_at(e)).any(|e| {
            matches!(e.kind, EdgeKind::TurnLimit | EdgeKind::Silence)
                || matches!(e.condition, Some(flow_graph::Condition::Llm(_)))
        });
        if !waits && let Some(edge) = self.try_exits(id, Phase::AfterReply, None).await? {
            self.take(id, edge);
            return Ok(());
        }
        let deadline = self.silence_deadline();
        self.wait(id, RunStatus::WaitingForUser, deadline);
        Ok(())
    }

    /// A user message at an agent: extract, try the exits, else reply and wait.
    pub(super) async fn on_message(&mut self, id: &str, text: String) -> Result<(), Failure> {
        if let Position::Waiting { paused: true, .. } = self.state.position {
            self.emit(EventBody::Resumed {
                node: id.to_string(),
                with: "message".into(),
                note: None,
            });
        }
        let position = Position::Waiting {
            node: id.to_string(),
            paused: false,
            deadline: None,
        };
        self.move_to(RunStatus::Running, position, None);
        self.emit(EventBody::Message {
            node: id.to_string(),
            role: "user".into(),
            text: text.clone(),
        });
        self.conversation.push(ChatMessage {
            role: "user".into(),
            text,
            tool_calls: Vec::new(),
            tool_call_id: None,
            node: id.to_string(),
        });
        self.state.turns += 1;
        self.answer_message(id).await
    }

    /// What an agent does with the user message just recorded: extract, try the
    /// exits, else reply and wait (a retry after an outage starts here).
    pub(super) async fn answer_message(&mut self, id: &str) -> Result<(), Failure> {
        let has_extract = matches!(self.program.node_at(self.at), Node::Agent(a) if !a.extract.is_empty());
        if has_extract {
            self.extract(id).await?;
        }
        if let Some(edge) = self.try_exits(id, Phase::Message, None).await? {
            self.take(id, edge);
            return Ok(());
        }
        self.reply(id).await?;
        let deadline = self.silence_deadline();
        self.wait(id, RunStatus::WaitingForUser, deadline);
        Ok(())
    }

    async fn run_action(&mut self, id: &str, action: &flow_graph::ActionNode) -> Result<(), Failure> {
        let mut result = None;
        if let Some(tool) = &action.tool_id {
            let outcome = match self.mapped_input(&action.input_mapping) {
                Ok(input) => self.call_tool_classified(id, tool, input, false).await,
                Err(e) => Err(CallError::fatal(e.to_string())),
            };
            match outcome {
                Ok(value) => result = Some(value),
                Err(error) => {
                    return match self.program.event_exit(self.at, EdgeKind::Error) {
                        Some(edge) => match self.spent_event_exit(id, edge) {
                            Some(spent) => Err(FailureKind::ToolFailed {
                                tool: tool.clone(),
                                message: error.message,
                                retryable: error.retryable,
                                spent: Some(Box::new(spent)),
                            }),
                            None => {
                                self.take(id, edge);
                                Ok(())
                            }
                        },
                        None => Err(FailureKind::ToolFailed {
                            tool: tool.clone(),
                            message: error.message,
                            retryable: error.retryable,
                            spent: None,
                        }),
                    };
                }
            }
        }
        let mut values = Vec::with_capacity(action.output_mapping.len());
        for (var, expr) in &action.output_mapping {
            let scope = Scope {
                vars: &self.state.vars,
                result: result.as_ref(),
                params: None,
                secrets: None,
                clock: &*self.clock,
            };
            let value = eval(&self.program, expr, scope).map_err(|error| FailureKind::Expression {
                context: format!("set {var}"),
                error,
            })?;
            values.push((var.clone(), value));
        }
        for (var, value) in values {
            self.set_var(id, var, value);
        }
        self.go_on(id, Phase::Go, result.as_ref()).await
    }

    /// Evaluates a call's arguments against the variables.
    pub(super) fn mapped_input(
        &self,
        mapping: &indexmap::IndexMap<String, flow_graph::Expr>,
    ) -> Result<Value, FailureKind> {
        let mut input = Map::with_capacity(mapping.len());
        for (param, expr) in mapping {
            let value = eval(&self.program, expr, Scope::vars(&self.state.vars, &*self.clock)).map_err(|error| {
                FailureKind::Expression {
                    context: param.clone(),
                    error,
                }
            })?;
            input.insert(param.clone(), value);
        }
        Ok(Value::Object(input))
    }

    /// Calls a tool with its events; errors are redacted of secrets and say
    /// whether they were an outage.
    pub(super) async fn call_tool_classified(
        &mut self,
        node: &str,
        tool: &str,
        input: Value,
        companion: bool,
    ) -> Result<Value, CallError> {
        self.emit(EventBody::ToolCall {
            node: node.to_string(),
            tool: tool.to_string(),
            input: input.clone(),
        });
        let index = self.count_tool_call(tool);
        // A call with effects outside the run waits until the steps before it are durable.
        if self.toolbox.has_effects(&self.program, tool)
            && let Err(e) = self.confirm().await
        {
            return Err(CallError::fatal(format!("`{tool}` was not called: {e}")));
        }
        let started = Instant::now();
        self.report(Some(&super::Activity::Tool {
            tool: tool.to_string(),
            node: node.to_string(),
        }));
        let outcome = self.toolbox.call_classified(&self.program, tool, input, index).await;
        self.report(None);
        let outcome = outcome.map(|v| self.redact_value(v)).map_err(|e| CallError {
            message: self.redact(&e.message),
            retryable: e.retryable,
        });
        self.tool_result(node, tool, &outcome, started.elapsed().as_millis(), companion);
        outcome
    }

    pub(super) fn count_tool_call(&mut self, tool: &str) -> u32 {
        let counter = self.state.tool_calls.entry(tool.to_string()).or_insert(0);
        *counter += 1;
        *counter - 1
    }

    pub(super) fn tool_result(
        &mut self,
        node: &str,
        tool: &str,
        outcome: &Result<Value, CallError>,
        ms: u128,
        companion: bool,
    ) {
        self.emit(EventBody::ToolResult {
            node: node.to_string(),
            tool: tool.to_string(),
            output: outcome.as_ref().ok().cloned(),
            error: outcome.as_ref().err().map(|e| e.message.clone()),
            latency_ms: u64::try_from(ms).unwrap_or(u64::MAX),
            companion,
        });
    }

    pub(super) fn set_var(&mut self, node: &str, var: String, value: Value) {
        if let Value::Object(vars) = &mut self.state.vars {
            vars.insert(var.clone(), value.clone());
        }
        self.emit(EventBody::VariableSet {
            node: node.to_string(),
            variable: var,
            value,
        });
    }

    /// Tries the exits of a node that must go on; none holding fails the run.
    async fn go_on(&mut self, id: &str, phase: Phase, result: Option<&Value>) -> Result<(), Failure> {
        match self.try_exits(id, phase, result).await? {
            Some(edge) => {
                self.take(id, edge);
                Ok(())
            }
            None => {
                let program = std::sync::Arc::clone(&self.program);
                let spent: Vec<String> = program
                    .exits_at(self.at)
                    .iter()
                    .filter(|&&e| self.spent(e))
                    .map(|&e| program.edge_at(e).id.clone())
                    .collect();
                Err(FailureKind::NoExit {
                    node: id.to_string(),
                    spent,
                })
            }
        }
    }

    /// Whether an event exit (`on error`, `on approved`, `on rejected`,
    /// `on timeout`, `on return`) is spent: a spent one counts as absent, so
    /// the event has no exit. Emits `bound_spent` and says why, naming the edge.
    pub(super) fn spent_event_exit(&mut self, from: &str, edge: EdgeIx) -> Option<SpentExit> {
        if !self.spent(edge) {
            return None;
        }
        let program = std::sync::Arc::clone(&self.program);
        let edge = program.edge_at(edge);
        let edge_id = &edge.id;
        self.bound_spent(from, edge_id);
        let event = match edge.kind {
            EdgeKind::Error => "on error",
            EdgeKind::Approved => "on approved",
            EdgeKind::Rejected => "on rejected",
            EdgeKind::Timeout => "on timeout",
            EdgeKind::Return => "on return",
            _ => "the",
        };
        let max = edge.max_traversals.unwrap_or(0);
        Some(SpentExit {
            event: event.to_string(),
            edge: edge_id.to_string(),
            to: edge.to.clone(),
            max,
        })
    }

    /// Takes an edge: counts it, records it and moves to its target.
    pub(super) fn take(&mut self, from: &str, ix: EdgeIx) {
        let program = std::sync::Arc::clone(&self.program);
        let edge = program.edge_at(ix);
        let (to, kind) = (edge.to.clone(), edge.kind);
        self.count_edge(ix);
        self.at = program.target(ix);
        let taken = EventBody::EdgeTaken {
            edge: edge.id.clone(),
            from: from.to_string(),
            to: to.clone(),
            kind: kind.as_str().into(),
        };
        self.state.turns = 0;
        self.move_to(self.state.status, Position::Enter { node: to }, Some(taken));
    }

    fn wait(&mut self, id: &str, status: RunStatus, deadline: Option<String>) {
        let paused = status != RunStatus::WaitingForUser;
        let position = Position::Waiting {
            node: id.to_string(),
            paused,
            deadline,
        };
        self.move_to(status, position, None);
    }

    /// A message from the agent to the user (a reply, a `say`, an `end` message).
    pub(super) fn say(&mut self, id: &str, text: String) {
        self.emit(EventBody::Message {
            node: id.to_string(),
            role: "agent".into(),
            text: text.clone(),
        });
        self.conversation.push(ChatMessage {
            role: "assistant".into(),
            text,
            tool_calls: Vec::new(),
            tool_call_id: None,
            node: id.to_string(),
        });
    }

    fn complete(&mut self, id: &str, outcome: String) {
        let completed = EventBody::RunCompleted {
            outcome: outcome.clone(),
        };
        self.state.outcome = Some(outcome);
        self.move_to(
            RunStatus::Completed,
            Position::Finished { node: id.to_string() },
            Some(completed),
        );
    }

    /// Fills a text's templates from the variables.
    pub(super) fn fill(&self, text: &Text) -> Result<String, Failure> {
        render(&self.program, text, Scope::vars(&self.state.vars, &*self.clock)).map_err(FailureKind::Template)
    }

    /// Applies an answer (or, with `None`, an expired deadline) to the current pause.
    pub(super) fn answer_pause(&mut self, answer: Option<Answer>, note: Option<String>) -> Result<(), RunError> {
        let Position::Waiting { node: id, .. } = self.state.position.clone() else {
            return Err(AnswerError::NotPaused {
                run_id: self.state.run_id.clone(),
            }
            .into());
        };
        let program = std::sync::Arc::clone(&self.program);
        let node = program.node_at(self.at);
        let mut returned = serde_json::Map::new();
        let (with, edge) = match (node, answer) {
            (Node::Handoff(_), Some(answer @ (Answer::Return | Answer::ReturnWith(_)))) => {
                if let Answer::ReturnWith(values) = answer {
                    self.check_returned(&values)?;
                    returned = values;
                }
                ("return", program.event_exit(self.at, EdgeKind::Return))
            }
            (Node::Approval(_), answer) => {
                if self.deadline_passed() {
                    ("timeout", program.event_exit(self.at, EdgeKind::Timeout))
                } else {
                    match answer {
                        Some(Answer::Approve) => ("approve", program.event_exit(self.at, EdgeKind::Approved)),
                        Some(Answer::Reject) => ("reject", program.event_exit(self.at, EdgeKind::Rejected)),
                        _ => {
                            return Err(AnswerError::WaitsForApproval {
                                run_id: self.state.run_id.clone(),
                                node: id,
                            }
                            .into());
                        }
                    }
                }
            }
            (Node::Handoff(_), _) => {
                return Err(AnswerError::WaitsForHuman {
                    run_id: self.state.run_id.clone(),
                    node: id,
                }
                .into());
            }
            _ => {
                return Err(AnswerError::WaitsForMessage {
                    run_id: self.state.run_id.clone(),
                    node: id,
                }
                .into());
            }
        };
        let resumed = EventBody::Resumed {
            node: id.clone(),
            with: with.into(),
            note: note.map(|n| self.toolbox.redactor.redact(&n)),
        };
        self.move_to(RunStatus::Running, self.here(), Some(resumed));
        self.set_returned(&id, returned);
        let spent = edge.and_then(|e| self.spent_event_exit(&id, e));
        match (edge, spent) {
            (Some(_), Some(exit)) => {
                let kind = FailureKind::EdgeSpent {
                    node: id.clone(),
                    after: with.to_string(),
                    exit: Box::new(exit),
                };
                self.fail(&StepFailure { node: id, kind }, crate::state::RetryStep::Enter);
            }
            (Some(edge), None) => self.take(&id, edge),
            (None, _) if with == "return" => self.complete(&id, "handed_off".into()),
            (None, _) => {
                let kind = FailureKind::NoEventExit {
                    node: id.clone(),
                    event: with.to_string(),
                };
                self.fail(&StepFailure { node: id, kind }, crate::state::RetryStep::Enter);
            }
        }
        Ok(())
    }
}
