//! The `anthropic` provider: the Messages API at `$ANTHROPIC_BASE_URL`
//! (default `https://api.anthropic.com`; `/v1/messages` is appended) with
//! `$ANTHROPIC_API_KEY`, tool use for the node's tools and for the forced
//! `choose_exit` / `extract` functions.

use super::openai::Settings;
use super::{AnswerFuture, CallError, ConnectError, MalformedReply, Model, ModelAnswer, ModelRequest};
use crate::http::{client, env_u64, send_json, with_retries};
use crate::secrets::{Redactor, shown_url};
use crate::state::{ChatMessage, ToolCallRequest};
use serde_json::{Value, json};

/// The public endpoint, used when `ANTHROPIC_BASE_URL` is not set.
pub const DEFAULT_BASE: &str = "https://api.anthropic.com";

/// A model behind the Anthropic Messages API.
pub struct Anthropic {
    model: String,
    base: String,
    key: String,
    max_tokens: u64,
    settings: Settings,
}

impl Anthropic {
    /// Connects from the environment.
    pub fn from_env(model: &str) -> Result<Anthropic, ConnectError> {
        let key = std::env::var("ANTHROPIC_API_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ConnectError::MissingKey {
                variable: "ANTHROPIC_API_KEY".into(),
                otherwise: None,
            })?;
        let base = std::env::var("ANTHROPIC_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE.to_string());
        Ok(Anthropic {
            model: model.to_string(),
            base: base.trim_end_matches('/').to_string(),
            key,
            max_tokens: env_u64("FLOW_ANTHROPIC_MAX_TOKENS", 1024),
            settings: Settings::from_env(),
        })
    }

    /// The request body for one request.
    pub fn body(&self, req: &ModelRequest<'_>) -> Value {
        let mut body = json!({
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": req.system,
            "messages": messages(req.messages),
        });
        if !req.functions.is_empty() {
            body["tools"] = req
                .functions
                .iter()
                .map(|f| json!({ "name": f.name, "description": f.description.clone().unwrap_or_default(), "input_schema": f.parameters }))
                .collect();
        }
        if let Some(name) = &req.forced {
            body["tool_choice"] = json!({ "type": "tool", "name": name });
        }
        body
    }

    async fn ask(&self, req: &ModelRequest<'_>) -> Result<ModelAnswer, CallError> {
        let body = self.body(req);
        let url = format!("{}/v1/messages", self.base);
        let client = client()?;
        // A server may echo the key in an error reply; it never reaches an event.
        let redactions = Redactor::new([(self.key.clone(), "[ANTHROPIC_API_KEY]".to_string())]);
        let reply = with_retries(self.settings.retries, self.settings.backoff, |_| {
            let request = client
                .post(&url)
                .header("x-api-key", &self.key)
                .header("anthropic-version", "2023-06-01")
                .json(&body);
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

/// The conversation as Messages API turns: tool results are user turns of
/// `tool_result` blocks, turns of one role are merged, and the first turn is the user's.
fn messages(conversation: &[ChatMessage]) -> Vec<Value> {
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for m in conversation {
        let (role, blocks) = match m.role.as_str() {
            "tool" => (
                "user",
                vec![json!({ "type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.text })],
            ),
            "assistant" => {
                let mut blocks = Vec::new();
                if !m.text.is_empty() {
                    blocks.push(json!({ "type": "text", "text": m.text }));
                }
                for c in &m.tool_calls {
                    blocks.push(json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments }));
                }
                ("assistant", blocks)
            }
            _ => ("user", vec![json!({ "type": "text", "text": m.text })]),
        };
        match out.last_mut() {
            Some((last, existing)) if last == role => existing.extend(blocks),
            _ => out.push((role.to_string(), blocks)),
        }
    }
    if out.first().is_none_or(|(role, _)| role != "user") {
        out.insert(
            0,
            (
                "user".into(),
                vec![json!({ "type": "text", "text": "(The conversation begins.)" })],
            ),
        );
    }
    out.into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect()
}

/// Reads a Messages API reply.
pub fn parse(reply: &Value) -> Result<ModelAnswer, MalformedReply> {
    let blocks = reply
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| MalformedReply("it has no content".into()))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or_default()),
            Some("tool_use") => tool_calls.push(ToolCallRequest {
                id: block.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                name: block
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| MalformedReply("a tool_use block has no name".into()))?
                    .to_string(),
                arguments: block.get("input").cloned().unwrap_or(json!({})),
            }),
            _ => {}
        }
    }
    Ok(ModelAnswer {
        text: if text.is_empty() { None } else { Some(text) },
        tool_calls,
        input_tokens: reply.pointer("/usage/input_tokens").and_then(Value::as_u64),
        output_tokens: reply.pointer("/usage/output_tokens").and_then(Value::as_u64),
    })
}

impl Model for Anthropic {
    fn provider(&self) -> &str {
        "anthropic"
    }

    fn name(&self) -> &str {
        &self.model
    }

    fn complete<'a>(&'a self, request: &'a ModelRequest<'a>) -> AnswerFuture<'a> {
        Box::pin(self.ask(request))
    }
}
