//! `flow resume` and what it leaves in the `--events` file and on stdout: a
//! user's last line is kept, a cut event of the run is written again, and every
//! committed agent message reaches stdout.

mod common;

use common::{flow, stored_run, temp_dir};
use serde_json::Value;
use std::path::Path;

const CHAT: &str = "workflow chat {\n  start talk\n  model m\n}\n\nmodel m = \"openai:gpt-4o-mini\"\n\nagent talk {\n  \"Chat.\"\n  when \"the user says bye\" -> end\n}\n";
const SCRIPT: &str = "[talk]\nreply: Hello!\nreply: Still here.\nchoose: none\n";

fn chat_dir(name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("chat.flow"), CHAT).unwrap();
    std::fs::write(dir.join("chat.script"), SCRIPT).unwrap();
    dir
}

fn events_of(text: &str) -> Vec<Value> {
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().filter_map(|e| e["seq"].as_u64()).collect()
}

fn run_paused(dir: &Path, events: &str) -> String {
    let out = flow(
        &[
            "run",
            "chat.flow",
            "--model",
            "m=scripted:chat.script",
            "--events",
            events,
        ],
        dir,
    );
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    stored_run(dir).expect("a stored run").0
}

#[test]
fn a_notes_file_keeps_its_unterminated_last_line() {
    let dir = chat_dir("resume-notes");
    std::fs::write(dir.join("notes.txt"), "my notes\nthe last line, no newline").unwrap();
    let id = run_paused(&dir, "notes.txt");
    let text = std::fs::read_to_string(dir.join("notes.txt")).unwrap();
    assert!(text.starts_with("my notes\nthe last line, no newline\n{"), "{text}");

    // A hand-written line without a newline, then a resume: the line stays.
    let mut text = text;
    text.push_str("{\"type\":\"note\",\"run_id\":\"mine\"");
    std::fs::write(dir.join("notes.txt"), &text).unwrap();
    let out = flow(&["resume", &id, "--events", "notes.txt"], &dir);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let after = std::fs::read_to_string(dir.join("notes.txt")).unwrap();
    assert!(after.starts_with(&format!("{text}\n")), "{after}");
    assert!(after.ends_with('\n'));
}

#[test]
fn a_cut_event_of_the_run_is_written_again() {
    let dir = chat_dir("resume-cut");
    let id = run_paused(&dir, "events.jsonl");
    let whole = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let before = events_of(&whole);
    // A crash cut the last event short.
    let cut = &whole[..whole.len() - 15];
    std::fs::write(dir.join("events.jsonl"), cut).unwrap();
    let out = flow(&["resume", &id, "--events", "events.jsonl"], &dir);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    for line in text.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let after = events_of(&text);
    assert_eq!(&after[..before.len()], &before[..], "the cut event is restored whole");
    let expected: Vec<u64> = (1..=after.len() as u64).collect();
    assert_eq!(seqs(&after), expected);
}

#[test]
fn a_bad_model_on_resume_names_the_argument_and_changes_nothing() {
    let dir = chat_dir("resume-bad-model");
    let id = run_paused(&dir, "events.jsonl");
    let before = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let out = flow(&["resume", &id, "--model", "slow=openai:gpt-4o"], &dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: --model slow=openai:gpt-4o: the workflow has no model group `slow` (it has: m)"),
        "{stderr}"
    );
    let out = flow(&["resume", &id, "--model", "m=scripted:missing.script"], &dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: --model m=scripted:missing.script: no script file missing.script"),
        "{stderr}"
    );
    let after = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert_eq!(before, after, "nothing ran");
}
