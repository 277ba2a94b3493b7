//! `FLOW_CLOCK` through the `flow` binary: the process's clock stands at the
//! instant it names (event times, deadlines, how far a deadline is), and a
//! value that is not an instant is refused before anything runs (exit 2).

mod common;

use common::{stored_run, temp_dir};
use std::path::Path;
use std::process::{Command, Output};

fn flow_at(clock: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(args)
        .current_dir(dir)
        .env_remove("FLOW_STORE")
        .env("FLOW_CLOCK", clock)
        .output()
        .expect("run flow")
}

/// Starts `tests/run/flows/approval_timeout.flow` (an approval with `timeout 1s`) at `clock`.
fn start_approval(dir: &Path, clock: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let flow = root.join("tests/run/flows/approval_timeout.flow");
    let script = root.join("tests/run/rt_approval_timeout.script");
    let model = format!("*=scripted:{}", script.display());
    let args = [
        "run",
        flow.to_str().unwrap(),
        "--model",
        &model,
        "--events",
        "events.jsonl",
    ];
    let out = flow_at(clock, &args, dir);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    stored_run(dir).expect("a run").0
}

#[test]
fn the_process_clock_stands_at_flow_clock() {
    let dir = temp_dir("clock-stands");
    let id = start_approval(&dir, "2026-01-05T10:00:00+01:00");
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    for line in events.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["ts"], "2026-01-05T09:00:00Z", "{event}");
        if event["type"] == "paused" {
            assert_eq!(event["deadline"], "2026-01-05T09:00:01Z");
        }
    }
    let listed = |clock: &str| String::from_utf8_lossy(&flow_at(clock, &["runs"], &dir).stdout).to_string();
    assert!(
        listed("2026-01-05T09:00:00Z").contains("(in 1s)"),
        "{}",
        listed("2026-01-05T09:00:00Z")
    );
    let later = listed("2026-01-05T10:00:01Z");
    assert!(
        later.contains("(passed 1h 0m ago: resuming takes `on timeout`)"),
        "{later}"
    );

    // Resumed before the deadline by the clock, the approval is taken as given.
    let out = flow_at("2026-01-05T09:00:00.999Z", &["resume", &id, "--approve"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("is approved"));
}

#[test]
fn a_bad_flow_clock_is_refused_naming_it() {
    let dir = temp_dir("clock-bad");
    let id = start_approval(&dir, "2026-01-05T09:00:00Z");
    let flow = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/run/flows/approval_timeout.flow");
    for args in [
        vec!["run", flow.to_str().unwrap()],
        vec!["resume", id.as_str(), "--approve"],
        vec!["runs"],
    ] {
        let out = flow_at("next tuesday", &args, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("FLOW_CLOCK=\"next tuesday\" is not an instant") && stderr.contains("RFC 3339"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(
        stored_run(&dir).expect("the run").1,
        "waiting_for_approval",
        "nothing ran"
    );
    // An empty value is the system clock, and other commands do not read it.
    let out = flow_at("", &["runs"], &dir);
    assert_eq!(out.status.code(), Some(0));
    let out = flow_at("next tuesday", &["check", flow.to_str().unwrap()], &dir);
    assert_eq!(out.status.code(), Some(0));
}
