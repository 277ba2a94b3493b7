//! Asking the model: the group's models in order (fallback), one `llm_call`
//! event per attempt; replies with tool rounds; extraction with type checks.

use super::exits::forced_arguments;
use super::start::Connected;
use super::{Activity, Failure, FailureKind, Run};
use crate::event::{EventBody, Rejected};
use crate::model::breaker::Admission;
use crate::model::prompt::{extract_function, system_text, tool_functions};
use crate::model::{CallError, FunctionSpec, ModelAnswer, ModelRequest, Purpose};
use crate::state::ChatMessage;
use flow_graph::Node;
use serde_json::{Value, json};
use std::time::Instant;

/// The most rounds of tool calls one reply may take.
const MAX_TOOL_ROUNDS: usize = 8;

/// The most tool calls carried out of one model answer, unless `FLOW_MAX_TOOL_CALLS` says otherwise.
const MAX_TOOL_CALLS: u64 = 16;

impl Run {
    /// The model group that answers at a node.
    fn group_of(&self, id: &str) -> Result<String, Failure> {
        let own = match self.program.node_at(self.at) {
            Node::Agent(a) => a.model.clone(),
            Node::Route(r) => r.model.clone(),
            _ => None,
        };
        own.or_else(|| self.program.graph.workflow.default_model.clone())
            .ok_or_else(|| FailureKind::NoModel { node: id.to_string() })
    }

    /// Asks the node's model group; returns the answer and the index of its `llm_call` event.
    pub(super) async fn ask(
        &mut self,
        id: &str,
        purpose: Purpose,
        system: &str,
        functions: Vec<FunctionSpec>,
        forced: Option<&str>,
        note: Option<String>,
    ) -> Result<(ModelAnswer, usize), Failure> {
        let group = self.group_of(id)?;
        let models = self.models.get(&group).cloned().unwrap_or_default();
        if models.is_empty() {
            return Err(FailureKind::EmptyModelGroup { group });
        }
        let key = format!("{id}/{}", purpose.as_str());
        let counter = self.state.llm_calls.entry(key).or_insert(0);
        let call_index = *counter;
        *counter += 1;
        let mut system = system.to_string();
        if let Some(note) = &note {
            system.push_str("\n\n");
            system.push_str(note);
        }
        let request = ModelRequest {
            purpose,
            node: id,
            system,
            messages: &self.conversation,
            functions,
            forced: forced.map(str::to_string),
            note,
            call_index,
        };
        let mut attempts = Vec::new();
        let mut answer = None;
        for Connected { model, breaker } in &models {
            let started = Instant::now();
            self.report(Some(&Activity::Model {
                group: group.clone(),
                model: format!("{}:{}", model.provider(), model.name()),
                node: id.to_string(),
                purpose: purpose.as_str().to_string(),
            }));
            let admission = breaker.admit(started);
            let skipped = matches!(admission, Admission::Skip(_));
            let outcome = match admission {
                Admission::Skip(left) => Err(CallError {
                    message: format!(
                        "skipped: {}:{} failed {} times in a row; its circuit breaker is open for {} ms more",
                        model.provider(),
                        model.name(),
                        breaker.failures(),
                        left.as_millis()
                    ),
                    retryable: true,
                }),
                Admission::Call | Admission::Trial => {
                    let outcome = model.complete(&request).await;
                    breaker.record(Instant::now(), outcome.as_ref().is_err_and(|e| e.retryable));
                    outcome
                }
            };
            self.report(None);
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let ok = outcome.is_ok();
            attempts.push((
                model.provider().to_string(),
                model.name().to_string(),
                ms,
                outcome,
                skipped,
            ));
            if ok {
                break;
            }
        }
        drop(request);
        // Every model failed, and at least one was down: a retry may succeed later.
        let outage =
            attempts.iter().all(|a| a.3.is_err()) && attempts.iter().any(|a| a.3.as_ref().is_err_and(|e| e.retryable));
        let mut last = (0, String::new());
        for (provider, model, ms, outcome, skipped) in attempts {
            let (tokens_in, tokens_out, error) = match &outcome {
                Ok(a) => (a.input_tokens, a.output_tokens, None),
                Err(e) => (None, None, Some(self.redact(&e.message))),
            };
            let index = self.emit(EventBody::LlmCall {
                node: id.to_string(),
                purpose: purpose.as_str().into(),
                provider,
                model,
                latency_ms: ms,
                input_tokens: tokens_in,
                output_tokens: tokens_out,
                error: error.clone(),
                rejected: Vec::new(),
                skipped,
            });
            match outcome {
                Ok(a) => answer = Some((a, index)),
                Err(_) => last = (index, error.unwrap_or_default()),
            }
        }
        answer.ok_or(FailureKind::ModelFailed {
            group,
            message: last.1,
            retryable: outage,
        })
    }

    /// The agent replies: tool rounds until it says something.
    pub(super) async fn reply(&mut self, id: &str) -> Result<(), Failure> {
        let program = std::sync::Arc::clone(&self.program);
        let Node::Agent(agent) = program.node_at(self.at) else {
            return Err(FailureKind::NotAnAgent { node: id.to_string() });
        };
        let system = system_text(&program, Some(&agent.instructions), &mut |t| self.fill(t))?;
        let functions = tool_functions(&program, &agent.tool_refs);
        let mut note = None;
        let mut retried = false;
        for _ in 0..MAX_TOOL_ROUNDS {
            let (answer, _) = self
                .ask(id, Purpose::Reply, &system, functions.clone(), None, note.take())
                .await?;
            if !answer.tool_calls.is_empty() {
                let unknown: Vec<&str> = answer
                    .tool_calls
                    .iter()
                    .filter(|c| !agent.tool_refs.contains(&c.name))
                    .map(|c| c.name.as_str())
                    .collect();
                if !unknown.is_empty() {
                    let why = format!("the model called unknown tool `{}`", unknown.join("`, `"));
                    if retried {
                        return Err(FailureKind::ModelAnswer {
                            message: format!("{why} again; the reply failed"),
                        });
                    }
                    retried = true;
                    let offered: Vec<&str> = agent.tool_refs.iter().map(String::as_str).collect();
                    note = Some(format!(
                        "{why}. Only these tools exist: {}.",
                        if offered.is_empty() {
                            "none".to_string()
                        } else {
                            offered.join(", ")
                        }
                    ));
                    continue;
                }
                self.conversation.push(ChatMessage {
                    role: "assistant".into(),
                    text: answer.text.clone().unwrap_or_default(),
                    tool_calls: answer.tool_calls.clone(),
                    tool_call_id: None,
                    node: id.to_string(),
                });
                let cap =
                    usize::try_from(crate::http::env_u64("FLOW_MAX_TOOL_CALLS", MAX_TOOL_CALLS)).unwrap_or(usize::MAX);
                for (n, call) in answer.tool_calls.into_iter().enumerate() {
                    let outcome = if n >= cap {
                        self.refuse_tool_call(id, &call.name, &call.arguments, cap)
                    } else {
                        match program.check_input(&call.name, &call.arguments) {
                            Ok(()) => {
                                self.call_tool_classified(id, &call.name, call.arguments.clone(), false)
                                    .await
                            }
                            Err(why) => Err(CallError::fatal(format!("the arguments do not fit the tool: {why}"))),
                        }
                    };
                    let text = match outcome {
                        Ok(v) => v.to_string(),
                        Err(e) => json!({ "error": e.message }).to_string(),
                    };
                    self.conversation.push(ChatMessage {
                        role: "tool".into(),
                        text,
                        tool_calls: Vec::new(),
                        tool_call_id: Some(call.id),
                        node: id.to_string(),
                    });
                }
                continue;
            }
            match answer.text.filter(|t| !t.trim().is_empty()) {
                Some(text) => {
                    self.say(id, text);
                    return Ok(());
                }
                None if !retried => {
                    retried = true;
                    note = Some("Your answer was empty. Reply to the user.".into());
                }
                None => {
                    return Err(FailureKind::ModelAnswer {
                        message: "the model gave an empty reply twice".into(),
                    });
                }
            }
        }
        Err(FailureKind::ModelAnswer {
            message: format!("the model called tools for {MAX_TOOL_ROUNDS} rounds without replying"),
        })
    }

    /// A tool call over the cap of one answer: shown in the events, not carried out.
    fn refuse_tool_call(&mut self, id: &str, tool: &str, input: &Value, cap: usize) -> Result<Value, CallError> {
        self.emit(EventBody::ToolCall {
            node: id.to_string(),
            tool: tool.to_string(),
            input: input.clone(),
        });
        let outcome = Err(CallError::fatal(format!("too many tool calls (cap {cap})")));
        self.tool_result(id, tool, &outcome, 0, false);
        outcome
    }

    /// Fills the agent's `extract` variables from the conversation.
    pub(super) async fn extract(&mut self, id: &str) -> Result<(), Failure> {
        let program = std::sync::Arc::clone(&self.program);
        let Node::Agent(agent) = program.node_at(self.at) else {
            return Ok(());
        };
        let system = system_text(&program, Some(&agent.instructions), &mut |t| self.fill(t))?;
        let function = extract_function(&program, &agent.extract);
        let mut note = None;
        for attempt in 0..2 {
            let (answer, event) = self
                .ask(
                    id,
                    Purpose::Extract,
                    &system,
                    vec![function.clone()],
                    Some("extract"),
                    note.take(),
                )
                .await?;
            let Some(Value::Object(values)) = forced_arguments(&answer, "extract") else {
                if attempt == 0 {
                    note = Some("Answer by calling the extract function with a JSON object of the values.".into());
                    continue;
                }
                return Ok(());
            };
            let mut rejected = Vec::new();
            for (name, value) in values {
                if value.is_null() {
                    continue;
                }
                if !agent.extract.iter().any(|x| x.variable == name) {
                    rejected.push(Rejected {
                        variable: name,
                        value,
                        reason: "not one of the values asked for".into(),
                    });
                    continue;
                }
                match program
                    .check_variable(&name, &value)
                    .and_then(|()| super::limits::check_extracted(&program, &name, &value))
                {
                    Ok(()) => self.set_var(id, name, value),
                    Err(reason) => rejected.push(Rejected {
                        variable: name,
                        value,
                        reason: reason.to_string(),
                    }),
                }
            }
            if let Some(EventBody::LlmCall { rejected: slot, .. }) = self.buffer.get_mut(event).map(|e| &mut e.body) {
                *slot = rejected;
            }
            return Ok(());
        }
        Ok(())
    }
}
