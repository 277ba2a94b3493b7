//! The `--events` file across crashes. A crash can cut the last event line
//! short; on resume that line is dropped (the store holds the event, and the
//! catch-up writes it again) — but only when it is recognisably the start of an
//! event of the run being resumed, so a user's file keeps its own last line.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

/// The event types of RUNTIME.md: an event line starts with one of them.
const KINDS: [&str; 12] = [
    "run_started",
    "node_entered",
    "message",
    "llm_call",
    "tool_call",
    "tool_result",
    "variable_set",
    "edge_taken",
    "paused",
    "resumed",
    "run_completed",
    "run_failed",
];

/// How every event line begins.
const OPEN: &str = "{\"type\":\"";

/// Whether `fragment`, an unterminated last line, is a cut event line of run
/// `run_id`. Event lines begin `{"type":"KIND","run_id":"ID",` (the envelope's
/// order is fixed); the fragment must begin with `{"type":"` and agree with that
/// head for some event type and this run's id as far as either goes: a short
/// fragment is a prefix of the head, a long one starts with the whole head.
/// Anything else (a note, another run's event, a fragment shorter than
/// `{"type":"`) is not ours and is kept.
pub fn is_partial_event(fragment: &str, run_id: &str) -> bool {
    if !fragment.starts_with(OPEN) {
        return false;
    }
    let id = serde_json::Value::String(run_id.to_string()).to_string();
    KINDS.iter().any(|kind| {
        let head = format!("{OPEN}{kind}\",\"run_id\":{id},");
        head.starts_with(fragment) || fragment.starts_with(&head)
    })
}

/// Makes sure the file ends with a line break, so the next event starts a line
/// of its own even after a file whose last line has none.
pub fn end_last_line(mut file: &File) -> std::io::Result<()> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] != b'\n' {
        file.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_partial_event;

    const ID: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn cut_events_of_this_run_are_recognised() {
        let line = format!("{{\"type\":\"message\",\"run_id\":\"{ID}\",\"seq\":7,\"ts\":\"2025-01-01T00:00:00Z\"}}");
        for cut in [9, 12, 20, 30, 60, line.len() - 1, line.len()] {
            assert!(is_partial_event(&line[..cut], ID), "{}", &line[..cut]);
        }
    }

    #[test]
    fn anything_else_is_kept() {
        let other = "0190a1b2-c3d4-7e5f-8a9b-ffffffffffff";
        let theirs = format!("{{\"type\":\"message\",\"run_id\":\"{other}\",\"seq\":7");
        for kept in [
            "my notes, last line",
            "",
            "{",
            "{\"ty",
            "{\"type\":\"note\",\"run_id\":\"x\"}",
            "{\"run_id\":\"0190a1b2\"",
            "{\"type\":\"message\",\"run\":\"me\"",
            theirs.as_str(),
        ] {
            assert!(!is_partial_event(kept, ID), "{kept}");
        }
    }
}
