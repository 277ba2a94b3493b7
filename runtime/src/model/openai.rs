//! The `openai` provider: OpenAI-compatible chat completions at
//! `$OPENAI_BASE_URL` (default `https://api.openai.com/v1`, the version
//! included) with `$OPENAI_API_KEY`, so Ollama, vLLM and llama.cpp servers
//! work unchanged. Requests are built as RUNTIME.md says: the system message,
//! the conversation, the node's tools as function tools, and `tool_choice`
//! forcing `choose_exit` or `extract` when the engine asks for one.

use super::{AnswerFuture, CallError, ConnectError, FunctionSpec, MalformedReply, Model, ModelAnswer, ModelRequest};
use crate::http::{Backoff, client, env_u64, send_json, with_retries};
use crate::secrets::{Redactor, shown_url};
use crate::state::{ChatMessage, ToolCallRequest};
use serde_json::{Value, json};
use std::time::Duration;

/// The public endpoint, used when `OPENAI_BASE_URL` is not set.
pub const DEFAULT_BASE: &str = "https://api.openai.com/v1";

/// A model behind an OpenAI-compatible endpoint.
pub struct OpenAi {
    model: String,
    base: String,
    key: Option<String>,
    settings: Settings,
}

/// Per-call time-out and retries of a model provider.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `FLOW_MODEL_TIMEOUT_MS` (default 60 s).
    pub timeout: Duration,
    /// `FLOW_MODEL_RETRIES` (default 2: three attempts).
    pub retries: u32,
    /// Back-off between attempts.
    pub backoff: Backoff,
}

impl Settings {
    /// The settings from the environment.
    pub fn from_env() -> Settings {
        Settings {
            timeout: Duration::from_millis(env_u64("FLOW_MODEL_TIMEOUT_MS", 60_000)),
            retries: u32::try_from(env_u64("FLOW_MODEL_RETRIES", 2)).unwrap_or(2),
            backoff: Backoff::from_env(),
        }
    }
}

impl OpenAi {
    /// Connects from the environment; the key may be absent only for a local base url.
    pub fn from_env(model: &str) -> Result<OpenAi, ConnectError> {
        let base = std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE.to_string());
        let key = std::env::var("OPENAI_API_KEY").ok().filter(|k| !k.is_empty());
        if key.is_none() && base == DEFAULT_BASE {
            return Err(ConnectError::MissingKey {
                variable: "OPENAI_API_KEY".into(),
                otherwise: Some("set OPENAI_BASE_URL to a local server".into()),
            });
        }
        Ok(OpenAi {
            model: model.to_string(),
            base: base.trim_end_matches('/').to_string(),
            key,
            settings: Settings::from_env(),
        })
    }

    /// The request body for one request.
    pub fn body(&self, req: &ModelRequest<'_>) -> Value {
        let mut messages = vec![json!({ "role": "system", "content": req.system })];
        messages.extend(req.messages.iter().map(message));
        let mut body = json!({ "model": self.model, "messages": messages });
        if !req.functions.is_empty() {
            body["tools"] = req.functions.iter().map(function).collect();
        }
        if let Some(name) = &req.forced {
            body["tool_choice"] = json!({ "type": "function", "function": { "name": name } });
        }
        body
    }

    async fn ask(&self, req: &ModelRequest<'_>) -> Result<ModelAnswer, CallError> {
        let body = self.body(req);
        let url = format!("{}/chat/completions", self.base);
        let client = client()?;
        // A server may echo the key in an error reply; it never reaches an event.
        let redactions = Redactor::new(self.key.iter().map(|k| (k.clone(), "[OPENAI_API_KEY]".to_string())));
        let reply = with_retries(self.settings.retries, self.settings.backoff, |_| {
            let mut request = client.post(&url).json(&body);
            if let Some(key) = &self.key {
                request = request.bearer_auth(key);
            }
            send_json(request, self.settings.timeout, &redactions)
        })
        .await
        .map_err(|e| {
            let mut e = CallError::from(e);
            e.message = redactions.redact(&e.message);
            e
        })?;
        parse(&reply).map_err(|why| CallError::fatal(format!("malformed reply from {}: {why}", shown_url(&self.base))))
    }
}

fn function(f: &FunctionSpec) -> Value {
    let mut function = json!({ "name": f.name, "parameters": f.parameters });
    if let Some(d) = &f.description {
        function["description"] = json!(d);
    }
    json!({ "type": "function", "function": function })
}

fn message(m: &ChatMessage) -> Value {
    match m.role.as_str() {
        "tool" => json!({ "role": "tool", "tool_call_id": m.tool_call_id, "content": m.text }),
        "assistant" if !m.tool_calls.is_empty() => {
            let calls: Vec<Value> = m
                .tool_calls
                .iter()
                .map(|c| {
                    json!({ "id": c.id, "type": "function",
                            "function": { "name": c.name, "arguments": c.arguments.to_string() } })
                })
                .collect();
            let content = if m.text.is_empty() { Value::Null } else { json!(m.text) };
            json!({ "role": "assistant", "content": content, "tool_calls": calls })
        }
        role => json!({ "role": role, "content": m.text }),
    }
}

/// Reads a chat-completions reply.
pub fn parse(reply: &Value) -> Result<ModelAnswer, MalformedReply> {
    let message = reply
        .pointer("/choices/0/message")
        .ok_or_else(|| MalformedReply("it has no choices[0].message".into()))?;
    let text = message.get("content").and_then(Value::as_str).map(str::to_string);
    let mut tool_calls = Vec::new();
    for (i, call) in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .ok_or_else(|| MalformedReply("a tool call has no function name".into()))?;
        let arguments = match call.pointer("/function/arguments") {
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
            Some(v) => v.clone(),
            None => json!({}),
        };
        tool_calls.push(ToolCallRequest {
            id: call
                .get("id")
                .and_then(Value::as_str)
                .map_or_else(|| format!("call_{i}"), str::to_string),
            name: name.to_string(),
            arguments,
        });
    }
    Ok(ModelAnswer {
        text,
        tool_calls,
        input_tokens: reply.pointer("/usage/prompt_tokens").and_then(Value::as_u64),
        output_tokens: reply.pointer("/usage/completion_tokens").and_then(Value::as_u64),
    })
}

impl Model for OpenAi {
    fn provider(&self) -> &str {
        "openai"
    }

    fn name(&self) -> &str {
        &self.model
    }

    fn complete<'a>(&'a self, request: &'a ModelRequest<'a>) -> AnswerFuture<'a> {
        Box::pin(self.ask(request))
    }
}
