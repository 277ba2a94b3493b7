//! End-to-end runs through the `flow` binary, driven by scenario files.
//!
//! Each `tests/run/*.script` is a scripted-model file (docs/runtime.md) whose
//! `#!` lines say what to do with it:
//!
//! ```text
//! #! run: examples/order_support.flow --input store_name=Acme
//! #! env: COMMERCE_API_KEY=k1
//! #! stdin: Hi, my order is BL-12345678
//! #! exit: 3
//! #! resume: --approve
//! #! exit: 0
//! ```
//!
//! `run:` starts the run with this file as every model group and as `--stubs`;
//! `resume:` continues it; `stdin:` lines go to the invocation before them;
//! `exit:` is the status that invocation must end with; `resume: @ID ...`
//! resumes run `ID` instead of the scenario's own run.
//!
//! Time is a fake clock: every invocation runs with `FLOW_CLOCK` set to the
//! scenario's clock (docs/runtime.md, "Time"), which stands at
//! 2026-01-05T09:00:00Z unless `#! clock: INSTANT` (RFC 3339) puts it
//! elsewhere. `#! advance: DURATION` (`1500ms`, `2s`, `90m`, `2h`) moves it
//! forward for the invocations after it, so approval time-outs and silence
//! exits pass without the test waiting. The test checks the
//! exit statuses, that event `seq`s run from 1 without gaps or repeats across
//! every invocation, that no secret's value reaches the events or the store,
//! and snapshots the readable history (`flow runs show`) of the run.

mod common;

use common::{stored_run, temp_dir};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Where the scenario's clock stands unless `#! clock:` says otherwise.
const START: &str = "2026-01-05T09:00:00Z";

struct Invocation {
    args: Vec<String>,
    /// The scenario's clock for this invocation (`FLOW_CLOCK`).
    clock: jiff::Timestamp,
    stdin: String,
    exit: Option<i32>,
}

fn parse(script: &str) -> (Vec<Invocation>, Vec<(String, String)>) {
    let mut steps: Vec<Invocation> = Vec::new();
    let mut env = Vec::new();
    let mut clock: jiff::Timestamp = START.parse().expect("an instant");
    for line in script.lines() {
        let Some(directive) = line.strip_prefix("#!") else {
            continue;
        };
        let (key, value) = directive.split_once(':').expect("a `#! key: value` line");
        let value = value.trim();
        match key.trim() {
            "run" | "resume" => steps.push(Invocation {
                args: std::iter::once(key.trim().to_string())
                    .chain(value.split_whitespace().map(str::to_string))
                    .collect(),
                stdin: String::new(),
                exit: None,
                clock,
            }),
            "clock" => clock = value.parse().expect("`clock:` takes an RFC 3339 instant"),
            "advance" => clock = clock.checked_add(duration(value)).expect("a time jiff can hold"),
            "stdin" => {
                let step = steps.last_mut().expect("stdin after run");
                step.stdin.push_str(value);
                step.stdin.push('\n');
            }
            "exit" => steps.last_mut().expect("exit after run").exit = Some(value.parse().expect("a number")),
            "env" => {
                let (k, v) = value.split_once('=').expect("NAME=VALUE");
                env.push((k.to_string(), v.to_string()));
            }
            other => panic!("unknown directive `{other}`"),
        }
    }
    (steps, env)
}

/// `1500ms`, `2s`, `90m` or `2h`.
fn duration(text: &str) -> jiff::SignedDuration {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .unwrap_or_else(|_| panic!("`advance: {text}`: a whole number and a unit"));
    match unit.trim() {
        "ms" => jiff::SignedDuration::from_millis(n),
        "s" => jiff::SignedDuration::from_secs(n),
        "m" => jiff::SignedDuration::from_mins(n),
        "h" => jiff::SignedDuration::from_hours(n),
        other => panic!("`advance: {text}`: unknown unit `{other}` (ms, s, m or h)"),
    }
}

fn flow_in(dir: &Path, args: &[String], stdin: &str, env: &[(String, String)]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env_remove("FLOW_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flow");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("flow ran")
}

fn run_scenario(path: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(path).unwrap();
    let (steps, env) = parse(&script);
    let name = path.file_stem().unwrap().to_string_lossy().to_string();
    let dir = temp_dir(&format!("run-{name}"));
    std::fs::copy(path, dir.join("scenario.script")).unwrap();
    let mut run_id = String::new();
    let mut transcript = String::new();
    for (i, step) in steps.iter().enumerate() {
        let mut args = step.args.clone();
        if args[0] == "run" {
            args[1] = root.join(&args[1]).display().to_string();
            args.extend(["--model", "*=scripted:scenario.script", "--stubs", "scenario.script"].map(String::from));
        } else if args.get(1).is_some_and(|a| a.starts_with('@')) {
            args[1] = args[1][1..].to_string();
        } else {
            args.insert(1, run_id.clone());
        }
        args.extend(["--events", "events.jsonl"].map(String::from));
        let mut env = env.clone();
        env.push(("FLOW_CLOCK".into(), step.clock.to_string()));
        let out = flow_in(&dir, &args, &step.stdin, &env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = step.exit.unwrap_or(0);
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{name}: step {i} ({:?}) stderr:\n{stderr}",
            step.args
        );
        if step.args[0] == "run" && expected != 2 {
            run_id = stored_run(&dir).expect("a run in the store").0;
        }
        transcript.push_str(&format!("$ flow {} (exit {expected})\n", step.args.join(" ")));
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            transcript.push_str(&format!("  | {line}\n"));
        }
        if expected == 2 {
            for line in stderr.lines() {
                transcript.push_str(&format!("  ! {line}\n"));
            }
        }
    }
    if !run_id.is_empty() {
        check_events(&dir, &run_id, &env);
        let clock = steps.last().map_or_else(|| START.to_string(), |s| s.clock.to_string());
        let out = flow_in(
            &dir,
            &["runs".into(), "show".into(), run_id.clone()],
            "",
            &[("FLOW_CLOCK".into(), clock)],
        );
        let shown = String::from_utf8_lossy(&out.stdout).replace(&run_id, "RUN_ID");
        transcript.push_str("\n$ flow runs show RUN_ID\n");
        transcript.push_str(&mask_times(&shown).replace(&dir.display().to_string(), "DIR"));
    }
    if !run_id.is_empty() {
        transcript = transcript.replace(&run_id, "RUN_ID");
    }
    insta::with_settings!({snapshot_suffix => name.clone(), prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("run", transcript);
    });
}

/// Event seqs are 1..=n with no gap or repeat, the file matches the store, and no secret leaks.
fn check_events(dir: &Path, run_id: &str, env: &[(String, String)]) {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    let seqs: Vec<u64> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("an event per line"))
        .filter(|e| e["run_id"] == run_id)
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "event seqs in the --events file");
    for (_, secret) in env {
        assert!(!text.contains(secret.as_str()), "a secret reached the events file");
        for entry in std::fs::read_dir(dir.join(".flow")).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "a secret reached the store file {}", path.display());
            }
        }
    }
}

/// Latencies change from run to run; times do not (they are the scenario's clock).
fn mask_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&mask_ms(line));
        out.push('\n');
    }
    out
}

/// `(12 ms` becomes `(N ms`, so latencies do not change snapshots.
fn mask_ms(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(" ms") {
        let head = &rest[..i];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str(&head[..head.len() - digits]);
            out.push('N');
        } else {
            out.push_str(head);
        }
        out.push_str(" ms");
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

#[test]
fn scenarios() {
    insta::glob!("run/*.script", run_scenario);
}
