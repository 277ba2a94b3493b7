//! Requests to the server and what they answer: [`Reply`], and helpers
//! for the calls every test makes (create a workflow, start a run, send a
//! message, read a run and its events).

use super::{Server, until};
use serde_json::Value;
use std::time::Duration;

/// An answer of the server.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Its headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub text: String,
    /// The body as JSON (null when it is not).
    pub json: Value,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status (the whole answer shown otherwise) and gives the JSON.
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        &self.json
    }

    /// Asserts a problem answer: the status, `application/problem+json`, its `code`.
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        self.expect(status);
        let kind = self.header("content-type").unwrap_or("");
        assert!(
            kind.starts_with("application/problem+json"),
            "content-type {kind}: {}",
            self.text
        );
        assert_eq!(self.json["code"], code, "{}", self.text);
        assert_eq!(self.json["status"], status, "{}", self.text);
        assert!(
            self.json["title"].is_string() && self.json["type"].is_string(),
            "{}",
            self.text
        );
        assert!(
            self.json["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
        &self.json
    }
}

impl Server {
    /// The url of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}\n{}", self.log()));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// A request of `method` to `path`, with `key` if any and a raw body if any.
    pub async fn call(&self, method: &str, path: &str, key: Option<&str>, body: Option<&str>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.http.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        self.send(request).await
    }

    /// `GET path` with a key.
    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call("GET", path, Some(key), None).await
    }

    /// `POST path` with a key and a JSON body.
    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call("POST", path, Some(key), Some(&body.to_string())).await
    }

    /// Creates a workflow from a source (201 asserted): the answer's JSON.
    pub async fn create(&self, key: &str, source: &str) -> Value {
        let reply = self
            .post("/v1/workflows", key, serde_json::json!({ "source": source }))
            .await;
        reply.expect(201).clone()
    }

    /// Starts a live run of the active revision (201 asserted): `{run, messages}`.
    pub async fn start_run(&self, key: &str, workflow: &str, body: Value) -> Value {
        let reply = self.post(&format!("/v1/workflows/{workflow}/runs"), key, body).await;
        reply.expect(201).clone()
    }

    /// Sends a user message (200 asserted): `{run, messages}`.
    pub async fn say(&self, key: &str, run: &str, text: &str) -> Value {
        let reply = self
            .post(
                &format!("/v1/runs/{run}/messages"),
                key,
                serde_json::json!({ "text": text }),
            )
            .await;
        reply.expect(200).clone()
    }

    /// A run.
    pub async fn run(&self, key: &str, id: &str) -> Value {
        self.get(&format!("/v1/runs/{id}"), key).await.expect(200).clone()
    }

    /// A run's events (one page of up to 500).
    pub async fn events(&self, key: &str, id: &str) -> Vec<Value> {
        let reply = self.get(&format!("/v1/runs/{id}/events?limit=500"), key).await;
        items(reply.expect(200))
    }

    /// Polls a run until its status is `status` (at most 5 s).
    pub async fn wait_status(&self, key: &str, id: &str, status: &str) -> Value {
        until(&format!("run {id} to be {status}"), Duration::from_secs(5), || async {
            let run = self.run(key, id).await;
            (run["status"] == status).then_some(run)
        })
        .await
    }
}

/// A list's `items`.
pub fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().cloned().unwrap_or_default()
}

/// Events of one type.
pub fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// The texts of a turn's `messages`.
pub fn texts(turn: &Value) -> Vec<String> {
    turn["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// An RFC 3339 time of the server's.
pub fn time(value: &Value) -> jiff::Timestamp {
    value
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("not an RFC 3339 time: {value}"))
}
