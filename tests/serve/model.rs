//! A scripted OpenAI-compatible model on 127.0.0.1 (wiremock). Its answers
//! follow from the request alone, so a conversation is deterministic:
//!
//! - a reply says `Hello! What is your name?` before any user message, else
//!   `You said: LAST` (the last user message);
//! - `choose_exit` picks the offered condition that the last user message
//!   contains word for word, else `none`;
//! - `extract` fills each offered variable `NAME` from a `NAME=VALUE` word of
//!   the last user message (numbers as numbers);
//! - the reply to a last user message containing `[slow]` comes after [`SLOW`].

use serde_json::{Map, Value, json};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// How long the reply to a `[slow]` message takes.
pub const SLOW: Duration = Duration::from_millis(1500);

/// The mock model.
pub struct Model {
    /// The wiremock server.
    pub server: MockServer,
}

impl Model {
    /// Starts it.
    pub async fn start() -> Model {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Scripted)
            .mount(&server)
            .await;
        Model { server }
    }

    /// `OPENAI_BASE_URL` for it.
    pub fn base(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    /// How many model requests it received.
    pub async fn calls(&self) -> usize {
        self.server.received_requests().await.map_or(0, |r| r.len())
    }
}

struct Scripted;

impl Respond for Scripted {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = req.body_json().unwrap_or(Value::Null);
        let last = last_user(&body);
        let forced = body
            .pointer("/tool_choice/function/name")
            .and_then(Value::as_str)
            .unwrap_or("reply");
        let answer = match forced {
            "choose_exit" => {
                let options = parameters(&body, "choose_exit")
                    .pointer("/properties/exit/enum")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let chosen = options
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|o| *o != "none" && last.contains(o))
                    .unwrap_or("none");
                call("choose_exit", json!({ "exit": chosen }))
            }
            "extract" => {
                let wanted = parameters(&body, "extract");
                let mut args = Map::new();
                if let Some(props) = wanted["properties"].as_object() {
                    for name in props.keys() {
                        if let Some(value) = word_value(&last, name) {
                            args.insert(name.clone(), value);
                        }
                    }
                }
                call("extract", Value::Object(args))
            }
            _ if last.is_empty() => text("Hello! What is your name?"),
            _ => text(&format!("You said: {last}")),
        };
        if forced == "reply" && last.contains("[slow]") {
            answer.set_delay(SLOW)
        } else {
            answer
        }
    }
}

fn last_user(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string()
}

fn parameters(body: &Value, function: &str) -> Value {
    body["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|t| t["function"]["name"] == function))
        .map(|t| t["function"]["parameters"].clone())
        .unwrap_or(Value::Null)
}

/// `NAME=VALUE` in `text`: the value up to the next space or punctuation.
fn word_value(text: &str, name: &str) -> Option<Value> {
    let at = text.find(&format!("{name}="))? + name.len() + 1;
    let value: String = text[at..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Some(match value.parse::<i64>() {
        Ok(n) => json!(n),
        Err(_) => json!(value),
    })
}

fn text(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-serve", "object": "chat.completion", "model": "gpt-test",
        "choices": [{ "index": 0, "finish_reason": "stop",
                      "message": { "role": "assistant", "content": content } }],
        "usage": { "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15 }
    }))
}

fn call(name: &str, args: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-serve", "object": "chat.completion", "model": "gpt-test",
        "choices": [{ "index": 0, "finish_reason": "tool_calls",
                      "message": { "role": "assistant", "content": null, "tool_calls": [
                          { "id": "call_1", "type": "function",
                            "function": { "name": name, "arguments": args.to_string() } }
                      ] } }],
        "usage": { "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15 }
    }))
}
