//! The HTTP API as a client sees it, and the scripted conversation: a start
//! and four messages through `examples/order_support.flow` (the order is
//! looked up, a product question answered, the package tracked, goodbye).

use crate::mock;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The workflow's name in the source.
pub const WORKFLOW: &str = "order_support";

/// How many messages a conversation sends after its start.
pub const MESSAGES: usize = 4;

/// What conversation `n` says, message by message.
pub fn message(n: u64, i: usize) -> String {
    match i {
        0 => format!(
            "Hi, my order is {} and my email is c{n}@example.com.",
            mock::order_number(n)
        ),
        1 => "Is the lamp dimmable?".to_string(),
        2 => "Where is my package?".to_string(),
        _ => "That's all, thanks.".to_string(),
    }
}

/// The example with its tools' hosts replaced by the mock's (same graph
/// otherwise); an error if a tool url was left pointing elsewhere.
pub fn bench_source(mock: std::net::SocketAddr) -> Result<String, String> {
    let source = include_str!("../../../examples/order_support.flow")
        .replace(
            "https://api.brightlane.example.com/",
            &format!("http://{mock}/commerce/"),
        )
        .replace("https://tracking.example.com/", &format!("http://{mock}/tracking/"));
    match source.lines().find(|l| l.contains("https://")) {
        Some(line) => Err(format!("a tool url still leaves the machine: {}", line.trim())),
        None => Ok(source),
    }
}

/// One turn as the client timed it.
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    /// The conversation.
    pub conversation: u64,
    /// When the request was sent.
    pub from: Instant,
    /// When its whole answer had arrived.
    pub to: Instant,
}

/// A client of one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Api {
    /// A client with a connection pool as large as the load needs.
    pub fn new(base: &str) -> Result<Api, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .pool_idle_timeout(Duration::from_secs(300))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Api {
            http,
            base: base.to_string(),
        })
    }

    /// POSTs JSON; the answer's status and JSON body, or why there is none.
    pub async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.map_err(|e| format!("POST {path}: {e}"))?;
        Ok((status, body))
    }

    /// A GET for a stream: the response, not yet read.
    pub async fn stream(&self, path: &str) -> Result<reqwest::Response, String> {
        self.http
            .get(format!("{}{path}", self.base))
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))
    }

    /// Creates the workflow; an error unless it compiled and is active.
    pub async fn create_workflow(&self, source: &str) -> Result<(), String> {
        let (status, body) = self.post("/v1/workflows", &json!({ "source": source })).await?;
        if status != 201 || body["active_revision"] != json!(1) {
            return Err(format!("creating the workflow answered {status}: {body}"));
        }
        Ok(())
    }

    /// Starts conversation `n`: its run id, and the turn.
    pub async fn start(&self, n: u64) -> Result<(String, Turn), String> {
        let from = Instant::now();
        let path = format!("/v1/workflows/{WORKFLOW}/runs");
        let inputs = json!({"inputs": {"store_name": mock::store_name(n)}});
        let (status, body) = self.post(&path, &inputs).await?;
        let to = Instant::now();
        let id = body.pointer("/run/id").and_then(Value::as_str);
        match (status, id, body.pointer("/run/status")) {
            (201, Some(id), Some(s)) if s == "waiting_for_user" => Ok((
                id.to_string(),
                Turn {
                    conversation: n,
                    from,
                    to,
                },
            )),
            _ => Err(format!("start answered {status}: {body}")),
        }
    }

    /// Sends message `i` of conversation `n`: the run's status after it, and the turn.
    pub async fn say(&self, n: u64, run: &str, i: usize) -> Result<(String, Turn), String> {
        let from = Instant::now();
        let (status, body) = self
            .post(&format!("/v1/runs/{run}/messages"), &json!({ "text": message(n, i) }))
            .await?;
        let to = Instant::now();
        match (status, body.pointer("/run/status").and_then(Value::as_str)) {
            (200, Some(s)) => Ok((
                s.to_string(),
                Turn {
                    conversation: n,
                    from,
                    to,
                },
            )),
            _ => Err(format!("message {i} answered {status}: {body}")),
        }
    }
}

/// What one conversation did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Its turns, timed.
    pub turns: Vec<Turn>,
    /// Its run's status at the end.
    pub status: String,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// Conversation `n`: waits `delay`, starts, then sends each message after
/// `think` (the user's typing); or, when `run` is given, only the messages.
pub async fn converse(api: Api, n: u64, delay: Duration, think: Duration, run: Option<String>) -> Outcome {
    tokio::time::sleep(delay).await;
    let mut out = Outcome::default();
    let run = match run {
        Some(run) => run,
        None => match api.start(n).await {
            Ok((run, turn)) => {
                out.turns.push(turn);
                run
            }
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        },
    };
    for i in 0..MESSAGES {
        tokio::time::sleep(think).await;
        match api.say(n, &run, i).await {
            Ok((status, turn)) => {
                out.turns.push(turn);
                out.status = status;
            }
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_copy_calls_only_the_mock() {
        let mock: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        let source = bench_source(mock).unwrap();
        assert!(source.contains("http GET \"http://127.0.0.1:9/commerce/v2/orders/{{order_number}}\""));
        assert!(source.contains("http GET \"http://127.0.0.1:9/tracking/v1/{{carrier}}/{{tracking_number}}\""));
        assert_eq!(source.matches("http://127.0.0.1:9/").count(), 5, "every tool");
    }
}
