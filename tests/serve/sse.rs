//! A Server-Sent Events reader over a live reqwest response: messages are
//! read as their bytes arrive, each with the field lines it had, so a test
//! can check the framing (`id:`, `event:`, `data:`) and not only the data.

use serde_json::Value;
use std::time::Duration;

/// One SSE message.
#[derive(Debug, Clone)]
pub struct Message {
    /// `id:`.
    pub id: Option<String>,
    /// `event:`.
    pub event: Option<String>,
    /// `data:` lines, joined.
    pub data: Option<String>,
    /// Comment lines (`: ping`), without the colon.
    pub comments: Vec<String>,
}

impl Message {
    /// The data as JSON.
    pub fn json(&self) -> Value {
        self.data
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null)
    }

    /// The `id:` as a seq.
    pub fn seq(&self) -> u64 {
        self.id
            .as_deref()
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("an `id:` that is a seq: {self:?}"))
    }
}

/// An open stream.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
    ended: bool,
}

/// What reading the next message gave.
#[derive(Debug)]
pub enum Next {
    /// A message with at least one field.
    Message(Message),
    /// The server closed the stream.
    End,
    /// Nothing within the time given.
    Quiet,
}

impl Stream {
    /// Wraps a response that answered `text/event-stream` (asserted).
    pub fn new(response: reqwest::Response) -> Stream {
        assert_eq!(response.status().as_u16(), 200, "a stream answers 200");
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(kind.starts_with("text/event-stream"), "content-type {kind}");
        Stream {
            response,
            buffer: String::new(),
            ended: false,
        }
    }

    /// The next message with fields (comments alone are skipped), waiting at most `limit`.
    pub async fn next(&mut self, limit: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            while let Some(at) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..at + 2).collect();
                let message = parse(&block);
                if message.id.is_some() || message.event.is_some() || message.data.is_some() {
                    return Next::Message(message);
                }
            }
            if self.ended {
                return Next::End;
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return Next::Quiet,
                Ok(Ok(Some(bytes))) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                Ok(Ok(None)) | Ok(Err(_)) => self.ended = true,
            }
        }
    }

    /// The next message, which must come within `limit`.
    pub async fn expect(&mut self, limit: Duration) -> Message {
        match self.next(limit).await {
            Next::Message(m) => m,
            other => panic!("expected an event within {limit:?}, got {other:?}"),
        }
    }

    /// Reads messages until one of `event` type (inclusive), each within `limit`.
    pub async fn through(&mut self, event: &str, limit: Duration) -> Vec<Message> {
        let mut got = Vec::new();
        loop {
            let m = self.expect(limit).await;
            let last = m.event.as_deref() == Some(event);
            got.push(m);
            if last {
                return got;
            }
        }
    }
}

fn parse(block: &str) -> Message {
    let mut message = Message {
        id: None,
        event: None,
        data: None,
        comments: Vec::new(),
    };
    for line in block.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix(':') {
            message.comments.push(comment.trim().to_string());
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_string();
        match field {
            "id" => message.id = Some(value),
            "event" => message.event = Some(value),
            "data" => {
                message.data = Some(match message.data.take() {
                    Some(before) => format!("{before}\n{value}"),
                    None => value,
                })
            }
            other => panic!("an SSE field that is not id, event or data: {other:?} in {block:?}"),
        }
    }
    message
}
