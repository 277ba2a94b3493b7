//! The mock model (OpenAI-compatible `/chat/completions`) and the mock order
//! and carrier APIs, on one local HTTP server. Every answer waits the same
//! latency; the time each call spent in the mock is recorded by
//! conversation (named in the request: the store name in the system message,
//! the order or tracking number in a tool's url), so a turn's latency can be
//! split into the mock's time and the service's.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The store name of conversation `n`: the mock finds `n` in the system message.
pub fn store_name(n: u64) -> String {
    format!("Brightlane Home (conversation {n})")
}

/// The order number conversation `n` gives.
pub fn order_number(n: u64) -> String {
    format!("BL-{n:08}")
}

/// What the mock records and how slowly it answers.
#[derive(Default)]
pub struct Mock {
    latency_ms: AtomicU64,
    calls: AtomicU64,
    spans: Mutex<HashMap<u64, Vec<(Instant, Instant)>>>,
}

impl Mock {
    /// Sets the latency of every later answer.
    pub fn set_latency(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Model calls answered so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The times conversation `n`'s calls spent in the mock.
    pub fn spans(&self, n: u64) -> Vec<(Instant, Instant)> {
        let spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        spans.get(&n).cloned().unwrap_or_default()
    }

    async fn wait_and_record(&self, conversation: Option<u64>, since: Instant) {
        let latency = self.latency_ms.load(Ordering::Relaxed);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if let Some(n) = conversation {
            let mut spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
            spans.entry(n).or_default().push((since, Instant::now()));
        }
    }
}

/// Serves the mock on a free port of 127.0.0.1; its address.
pub async fn start(mock: Arc<Mock>) -> std::io::Result<SocketAddr> {
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/commerce/v2/orders/{number}", get(order))
        .route("/tracking/v1/{carrier}/{number}", get(tracking))
        .with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("the mock stopped: {e}");
        }
    });
    Ok(address)
}

async fn chat(State(mock): State<Arc<Mock>>, body: axum::body::Bytes) -> Json<Value> {
    // The mock's time starts before it reads the request, as a model's would.
    let since = Instant::now();
    mock.calls.fetch_add(1, Ordering::Relaxed);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let system = body
        .pointer("/messages/0/content")
        .and_then(Value::as_str)
        .unwrap_or("");
    let conversation = number_after(system, "(conversation ");
    let reply = answer(&body);
    mock.wait_and_record(conversation, since).await;
    Json(reply)
}

async fn order(State(mock): State<Arc<Mock>>, Path(number): Path<String>) -> Json<Value> {
    let since = Instant::now();
    let n = number_after(&number, "BL-");
    mock.wait_and_record(n, since).await;
    Json(json!({
        "order_number": number, "email": "customer@example.com", "status": "shipped",
        "placed_on": "2026-11-20",
        "items": [{"sku": "LMP-01", "name": "Arc floor lamp", "quantity": 1, "unit_price": 89.0}],
        "total": 89.0, "days_since_delivery": null,
        "tracking_number": format!("1Z{:08}", n.unwrap_or(0)), "carrier": "ups"
    }))
}

async fn tracking(State(mock): State<Arc<Mock>>, Path((_, number)): Path<(String, String)>) -> Json<Value> {
    let since = Instant::now();
    mock.wait_and_record(number_after(&number, "1Z"), since).await;
    Json(json!({"status_text": "In transit, departed Memphis hub", "estimated_delivery": "2026-12-03"}))
}

/// The digits right after the first `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<u64> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// What the model answers. A forced `choose_exit` picks the exit the last
/// user message asks for (`none` otherwise); a forced `extract` finds the
/// order number and email in it; anything else is a short reply.
pub fn answer(body: &Value) -> Value {
    let said = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let forced = body.pointer("/tool_choice/function/name").and_then(Value::as_str);
    let call = |name: &str, arguments: Value| {
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}]})
    };
    let message = match forced {
        Some("choose_exit") => {
            let options = body
                .pointer("/tools/0/function/parameters/properties/exit/enum")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let wanted: &[&str] = if said.contains("BL-") {
                &["both an order number"]
            } else if said.contains("Where is") {
                &["where the package"]
            } else if said.contains("That's all") {
                &["no more questions", "finished"]
            } else {
                &[]
            };
            let exit = options
                .iter()
                .filter_map(Value::as_str)
                .find(|o| wanted.iter().any(|w| o.contains(w)))
                .unwrap_or("none");
            call("choose_exit", json!({ "exit": exit }))
        }
        Some("extract") => {
            let mut found = serde_json::Map::new();
            let words = said.split(|c: char| c.is_whitespace() || c == ',');
            for word in words.map(|w| w.trim_end_matches('.')) {
                if word.starts_with("BL-") {
                    found.insert("order_number".into(), json!(word));
                } else if word.contains('@') {
                    found.insert("email".into(), json!(word));
                }
            }
            call("extract", Value::Object(found))
        }
        Some(other) => call(other, json!({})),
        None => json!({"role": "assistant", "content": "Happy to help with that. Here is what I found."}),
    };
    json!({
        "id": "chatcmpl-bench", "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 420, "completion_tokens": 24, "total_tokens": 444}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(said: &str, forced: Option<&str>, exits: &[&str]) -> Value {
        let mut body = json!({"messages": [
            {"role": "system", "content": format!("for {}", store_name(7))},
            {"role": "user", "content": said}]});
        if let Some(name) = forced {
            body["tool_choice"] = json!({"type": "function", "function": {"name": name}});
            body["tools"] = json!([{"type": "function", "function": {"name": name, "parameters":
                {"properties": {"exit": {"type": "string", "enum": exits}}}}}]);
        }
        body
    }

    fn arguments(reply: &Value) -> Value {
        let raw = reply
            .pointer("/choices/0/message/tool_calls/0/function/arguments")
            .unwrap();
        serde_json::from_str(raw.as_str().unwrap()).unwrap()
    }

    #[test]
    fn exits_follow_what_the_user_asked() {
        let exits = [
            "the customer wants to know where the package is",
            "the customer says they have no more questions",
            "none",
        ];
        let reply = answer(&request("Where is my package?", Some("choose_exit"), &exits));
        assert_eq!(arguments(&reply)["exit"], exits[0]);
        let reply = answer(&request("That's all, thanks.", Some("choose_exit"), &exits));
        assert_eq!(arguments(&reply)["exit"], exits[1]);
        let reply = answer(&request("Is the lamp dimmable?", Some("choose_exit"), &exits));
        assert_eq!(arguments(&reply)["exit"], "none");
    }

    #[test]
    fn extract_finds_the_order_and_the_email() {
        let said = format!("Hi, my order is {} and my email is c7@example.com.", order_number(7));
        let reply = answer(&request(&said, Some("extract"), &[]));
        assert_eq!(
            arguments(&reply),
            json!({"order_number": "BL-00000007", "email": "c7@example.com"})
        );
        let reply = answer(&request("hello", None, &[]));
        assert!(reply.pointer("/choices/0/message/content").unwrap().is_string());
    }

    #[test]
    fn conversations_are_found_by_their_marker() {
        assert_eq!(number_after(&store_name(1234), "(conversation "), Some(1234));
        assert_eq!(number_after(&order_number(42), "BL-"), Some(42));
        assert_eq!(number_after("no marker", "BL-"), None);
    }
}
