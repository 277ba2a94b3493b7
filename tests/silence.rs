//! A silence exit fired by `flow run` itself: stdin stays open with nothing
//! typed, the one-second deadline passes, and the run takes the exit without
//! pausing; a line typed afterwards still reaches the agent.

mod common;

use common::temp_dir;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SCRIPT: &str = "\
[chat]
reply: Hi! How can I help you today?
reply: I'm here whenever you're ready.
choose: the customer is done
";

#[test]
fn flow_run_fires_silence_while_stdin_is_open() {
    let dir = temp_dir("silence-live");
    std::fs::write(dir.join("scenario.script"), SCRIPT).unwrap();
    let flow_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/run/flows/silence.flow");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow"))
        .arg("run")
        .arg(&flow_file)
        .args(["--model", "*=scripted:scenario.script", "--events", "events.jsonl"])
        .current_dir(&dir)
        .env_remove("FLOW_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flow");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let mut seen = Vec::new();
    let wait_for = |seen: &mut Vec<String>, text: &str| {
        while !seen.iter().any(|l| l == text) {
            match lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => seen.push(line),
                Err(e) => panic!("no `{text}` on stdout ({e}); saw {seen:?}"),
            }
        }
    };
    wait_for(&mut seen, "I'm here whenever you're ready.");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the nudge came before the one-second silence had passed"
    );
    assert!(
        child.try_wait().expect("child status").is_none(),
        "the run ended instead of waiting for the user again"
    );
    writeln!(stdin, "That's all, thanks.").expect("write stdin");
    drop(stdin);
    let status = child.wait().expect("flow ran");
    wait_for(&mut seen, "Thanks for visiting. Bye!");
    assert_eq!(status.code(), Some(0), "stdout: {seen:?}");
    assert_eq!(
        seen,
        [
            "Hi! How can I help you today?",
            "Are you still there?",
            "I'm here whenever you're ready.",
            "Thanks for visiting. Bye!"
        ]
    );
    let events: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(
        !kinds.contains(&"paused") && !kinds.contains(&"resumed"),
        "a wait that never ended its stdin is not a pause: {kinds:?}"
    );
    let silence: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["type"] == "edge_taken" && e["kind"] == "silence")
        .collect();
    assert_eq!(silence.len(), 1, "one silence edge taken: {events:?}");
    assert_eq!(silence[0]["edge"], "chat.1");
}
