//! Durability: a run killed with SIGKILL at any point resumes from its last
//! checkpoint with nothing lost, and its events keep one `seq` each, in order.

mod common;

use common::{flow, stored_run, temp_dir};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `flow`; its stdout is appended to `stdout.txt` (what the user saw over all commands).
fn spawn(dir: &Path, args: &[&str]) -> Child {
    let stdout = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("stdout.txt"))
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(args)
        .current_dir(dir)
        .env_remove("FLOW_STORE")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("start flow")
}

#[test]
fn a_run_killed_again_and_again_loses_nothing() {
    let dir = temp_dir("kill-resume");
    let counter = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/durability/counter.flow");
    let counter = counter.to_str().unwrap();
    // Delays spread over the whole run (about 500 ms in a debug build).
    let delays = [3u64, 40, 7, 90, 15, 60, 25, 5, 120, 35, 10, 75, 20, 50, 30];
    let mut killed_mid_run = 0;
    let mut finished = None;
    for delay in delays {
        let mut child = match stored_run(&dir) {
            None => spawn(&dir, &["run", counter, "--events", "events.jsonl"]),
            // A kill can land after the last commit, before the process exits.
            Some((_, state)) if state == "completed" => break,
            Some((id, _)) => spawn(&dir, &["resume", &id, "--events", "events.jsonl"]),
        };
        std::thread::sleep(Duration::from_millis(delay));
        match child.try_wait().expect("poll flow") {
            Some(status) => {
                finished = Some(status);
                break;
            }
            None => {
                child.kill().expect("SIGKILL");
                let _ = child.wait();
                killed_mid_run += 1;
            }
        }
    }
    let (id, state) = stored_run(&dir).expect("a stored run");
    let status = match finished {
        Some(status) => status.code(),
        None if state == "completed" => {
            // Its last events may not have reached the file: a resume writes them.
            let out = flow(&["resume", &id, "--events", "events.jsonl"], &dir);
            assert_eq!(out.status.code(), Some(2), "a completed run is not resumed");
            let mut seen = std::fs::OpenOptions::new()
                .append(true)
                .open(dir.join("stdout.txt"))
                .unwrap();
            std::io::Write::write_all(&mut seen, &out.stdout).unwrap();
            Some(0)
        }
        None => spawn(&dir, &["resume", &id, "--events", "events.jsonl"])
            .wait()
            .expect("flow ran")
            .code(),
    };
    assert!(killed_mid_run >= 3, "only {killed_mid_run} kills landed mid-run");
    assert_eq!(status, Some(0), "the run completes after {killed_mid_run} kills");

    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let parsed: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line of the events file is whole JSON"))
        .collect();
    let seqs: Vec<u64> = parsed.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "no seq repeated or skipped");
    assert!(parsed.iter().all(|e| e["run_id"] == id.as_str()));

    // Every step applied exactly once: the counter is exact.
    let sets = parsed
        .iter()
        .filter(|e| e["type"] == "variable_set" && e["variable"] == "n")
        .count();
    assert_eq!(sets, 3000);
    let last = parsed.last().unwrap();
    assert_eq!(last["type"], "run_completed");
    assert_eq!(last["outcome"], "counted");
    let message = parsed.iter().rev().find(|e| e["type"] == "message").unwrap();
    assert_eq!(message["text"], "counted to 3000");
    let node_entries = parsed.iter().filter(|e| e["type"] == "node_entered").count();
    assert_eq!(node_entries, 9001, "3,000 ticks, reports and checks, and the end");

    // Stdout showed every committed agent message, in order, none lost. A
    // kill that lands between printing a message and marking it shown (two
    // adjacent system calls, src/shown.rs) prints it once more on resume:
    // that is the one repeat allowed, right after itself, at most once a kill.
    let seen = std::fs::read_to_string(dir.join("stdout.txt")).unwrap();
    let mut seen: Vec<&str> = seen.lines().collect();
    let printed = seen.len();
    seen.dedup();
    let repeats = printed - seen.len();
    let mut said: Vec<String> = (1..=3000).map(|n| format!("round {n}")).collect();
    said.push("counted to 3000".into());
    assert_eq!(
        seen.len(),
        said.len(),
        "{printed} lines on stdout after {killed_mid_run} kills"
    );
    assert!(seen.iter().zip(&said).all(|(a, b)| a == b), "stdout out of order");
    assert!(
        repeats <= killed_mid_run,
        "{repeats} messages printed twice after {killed_mid_run} kills"
    );

    // The store holds the same events as the file.
    let shown = flow(&["runs", "show", &id], &dir);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("state     completed"), "{shown}");
    assert!(shown.contains("  n = 3000"), "{shown}");
    let history = shown.lines().filter(|l| l.starts_with("  [")).count();
    assert_eq!(history, seqs.len());
}

#[test]
fn a_run_held_by_another_process_is_not_resumed() {
    let dir = temp_dir("held-run");
    std::fs::write(
        dir.join("chat.flow"),
        "workflow chat {\n  start talk\n  model m\n}\n\nmodel m = \"openai:gpt-4o-mini\"\n\nagent talk {\n  \"Chat.\"\n  when \"the user says bye\" -> end\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("chat.script"), "[talk]\nreply: Hello!\n").unwrap();
    // The first process waits on its stdin, holding the run.
    let mut holder = Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(["run", "chat.flow", "--model", "m=scripted:chat.script"])
        .current_dir(&dir)
        .env_remove("FLOW_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut id = None;
    for _ in 0..200 {
        if let Some((run, _)) = stored_run(&dir) {
            id = Some(run);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let id = id.expect("the run is stored");
    let out = flow(&["resume", &id], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is being run by another process"), "{stderr}");

    // Once the holder is killed, its lock dies with it.
    holder.kill().unwrap();
    let _ = holder.wait();
    let out = flow(&["resume", &id], &dir);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn two_processes_answering_one_approval_at_once_give_one_outcome() {
    let dir = temp_dir("racing-answers");
    std::fs::write(
        dir.join("refund.flow"),
        "workflow refund {\n  start check\n}\n\napproval check {\n  prompt \"Refund it?\"\n  on approved -> done\n  on rejected -> done\n}\n\nend done {\n  outcome decided\n}\n",
    )
    .unwrap();
    let out = flow(&["run", "refund.flow"], &dir);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let (id, _) = stored_run(&dir).expect("the run is stored");
    for round in 0..3 {
        // Each round starts from a paused run: the first answer wins, the
        // other is refused (the run is held, or already decided), never both.
        let racers: Vec<Child> = ["--approve", "--reject"]
            .iter()
            .map(|answer| {
                Command::new(env!("CARGO_BIN_EXE_flow"))
                    .args(["resume", &id, answer])
                    .current_dir(&dir)
                    .env_remove("FLOW_STORE")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<_> = racers.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
        let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
        let winners = codes.iter().filter(|c| **c == Some(0)).count();
        let stderr: Vec<String> = outs.iter().map(|o| String::from_utf8_lossy(&o.stderr).into()).collect();
        // The first round decides; later ones find the run completed (or held
        // for a moment by the other loser, which reads it and refuses).
        assert_eq!(winners, usize::from(round == 0), "{codes:?} {stderr:?}");
        for (err, code) in stderr.iter().zip(&codes) {
            if *code != Some(0) {
                assert_eq!(*code, Some(2), "{err}");
                assert!(
                    err.contains("is being run by another process") || err.contains("has already completed"),
                    "{err}"
                );
            }
        }
        let shown = flow(&["runs", "show", &id], &dir);
        let shown = String::from_utf8_lossy(&shown.stdout);
        let resumed = shown.lines().filter(|l| l.contains("resumed")).count();
        assert_eq!(resumed, 1, "{shown}");
    }
}
