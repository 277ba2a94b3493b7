//! One event stream (`Accept: text/event-stream`) read as a browser would:
//! messages split on blank lines, `id`/`event`/`data` fields, `: ping`
//! comments skipped. Each event after the replay of what was stored is timed
//! from its `ts` to its receipt.

use crate::client::Api;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One SSE message's fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Message {
    /// `id:`.
    pub id: String,
    /// `event:`.
    pub event: String,
    /// `data:` (lines joined by `\n`).
    pub data: String,
}

/// Takes the complete messages off the front of `buffer` (comments and
/// blank messages skipped); what is left is an incomplete one.
pub fn take_messages(buffer: &mut String) -> Vec<Message> {
    let mut out = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let mut message = Message {
            id: String::new(),
            event: String::new(),
            data: String::new(),
        };
        for line in block.lines() {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => message.id = value.to_string(),
                "event" => message.event = value.to_string(),
                "data" if message.data.is_empty() => message.data = value.to_string(),
                "data" => {
                    message.data.push('\n');
                    message.data.push_str(value);
                }
                _ => {}
            }
        }
        if !message.data.is_empty() || !message.event.is_empty() {
            out.push(message);
        }
    }
    out
}

/// What one stream saw.
#[derive(Debug, Default)]
pub struct Followed {
    /// Live events (after the replay): their delay from `ts` to receipt.
    pub delays: Vec<Duration>,
    /// When the last one arrived.
    pub last: Option<Instant>,
    /// Whether it ended after `run_completed` (or another last event).
    pub ended: bool,
    /// Whether the seqs came one by one, with no gap or repeat.
    pub in_order: bool,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// Follows run `run` from its first event. The events up to its first
/// `paused` are the replay of what was stored; `replayed` counts the
/// streams past theirs. Returns when the stream ends.
pub async fn follow(api: Api, run: String, replayed: Arc<AtomicUsize>) -> Followed {
    let mut out = Followed {
        in_order: true,
        ..Followed::default()
    };
    let mut response = match api.stream(&format!("/v1/runs/{run}/events")).await {
        Ok(r) if r.status().as_u16() == 200 => r,
        Ok(r) => {
            out.error = Some(format!("the stream answered {}", r.status()));
            return out;
        }
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let mut buffer = String::new();
    let mut live = false;
    let mut seq = 0u64;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return out,
            Err(e) => {
                out.error = Some(format!("reading the stream: {e}"));
                return out;
            }
        };
        let now = jiff::Timestamp::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        for message in take_messages(&mut buffer) {
            let id: u64 = message.id.parse().unwrap_or(0);
            out.in_order &= id == seq + 1;
            seq = id;
            if live {
                if let Some(ts) = ts_of(&message.data) {
                    let micros = (now.as_microsecond() - ts.as_microsecond()).max(0);
                    out.delays.push(Duration::from_micros(micros as u64));
                }
                out.last = Some(Instant::now());
            } else if message.event == "paused" {
                live = true;
                replayed.fetch_add(1, Ordering::Relaxed);
            }
            if matches!(message.event.as_str(), "run_completed" | "run_failed" | "run_cancelled") {
                out.ended = true;
            }
        }
    }
}

fn ts_of(data: &str) -> Option<jiff::Timestamp> {
    let event: serde_json::Value = serde_json::from_str(data).ok()?;
    event["ts"].as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_split_on_blank_lines_and_pings_skipped() {
        let mut buffer = String::from(
            "id: 1\nevent: run_started\ndata: {\"seq\":1}\n\n: ping\n\nid: 2\nevent: message\ndata: a\ndata: b\n\nid: 3\nev",
        );
        let got = take_messages(&mut buffer);
        assert_eq!(
            got,
            vec![
                Message {
                    id: "1".into(),
                    event: "run_started".into(),
                    data: "{\"seq\":1}".into()
                },
                Message {
                    id: "2".into(),
                    event: "message".into(),
                    data: "a\nb".into()
                },
            ]
        );
        assert_eq!(buffer, "id: 3\nev");
    }

    #[test]
    fn an_events_ts_is_read_from_its_data() {
        let ts = ts_of(r#"{"type":"message","ts":"2026-12-01T10:00:00.250Z"}"#).unwrap();
        assert_eq!(ts.as_millisecond() % 1000, 250);
        assert!(ts_of("not json").is_none());
    }
}
