//! The engine's speed and memory (issue 5's targets), as a bench binary:
//! `cargo bench -p flow-runtime --bench engine`.
//!
//! 1. Per-step overhead on a long run with the scripted model: a chat loop
//!    (an agent that replies and judges its exit, an action, a route) of many
//!    rounds, with the memory store and with the SQLite store (WAL,
//!    `synchronous=NORMAL`, a checkpoint per step). A step is a node entry.
//! 2. The same loop without a model (actions and routes only).
//! 3. 10,000 runs waiting for a user, held by this process (SQLite store):
//!    resident memory before and after (measured first, on a fresh heap).
//! 4. Chains of 1,000 and 10,000 distinct actions (SQLite store), each less
//!    a 10-action chain: the cost of a step must not grow with the run's
//!    length (the checkpoint stays the same size), so the ratio of the two
//!    per-step costs is at most 1.5.

use flow_runtime::store::{MemoryStore, SqliteStore, Store};
use flow_runtime::{Inbox, Program, RunOptions, RunStatus, Runtime};
use std::sync::Arc;
use std::time::Instant;

const CHAT: &str = r#"
workflow chat_loop {
  start talk
  model m
  max_steps 1000000
  instructions "You are a counting assistant."
}
model m = "openai:gpt-4o-mini"
var n: int = 0
var rounds: int = 0
agent talk {
  """
  Count with the user. We are at {{n}}.
  """
  when "the user wants to count on" -> count
}
action count {
  set n = n + 1
  -> check
}
route check {
  if n < rounds -> talk max 10000
  else -> done
}
end done {
  say "Counted to {{n}}."
  outcome counted
}
"#;

const PURE: &str = r#"
workflow pure_loop {
  start count
  max_steps 1000000
}
var n: int = 0
var rounds: int = 0
action count {
  set n = n + 1
  -> check
}
route check {
  if n < rounds -> count max 10000
  else -> done
}
end done {
  outcome counted
}
"#;

const SCRIPT: &str = "[*]\nreply: Next number, please.\nchoose: the user wants to count on\n";

struct Endless;

impl Inbox for Endless {
    fn ready(&self) -> bool {
        true
    }

    fn next_message(&mut self) -> Option<String> {
        Some("one more".to_string())
    }
}

fn program(source: &str, rounds: u64) -> Arc<Program> {
    let mut graph = flow_compiler::compile(source, "bench.flow")
        .graph
        .expect("the bench workflow compiles");
    for v in &mut graph.variables {
        if v.name == "rounds" {
            v.default = Some(rounds.into());
        }
    }
    Arc::new(Program::new(graph).expect("loads"))
}

fn options(script: &std::path::Path) -> RunOptions {
    let mut options = RunOptions::default();
    options
        .models
        .insert("m".into(), format!("scripted:{}", script.display()));
    options
}

/// Runs one long run; returns (steps, seconds).
fn long_run(store: Arc<dyn Store>, program: Arc<Program>, options: RunOptions) -> (u64, f64) {
    let runtime = Runtime::new(store);
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let mut run = runtime
        .start(program, Default::default(), options, Default::default())
        .expect("starts");
    let started = Instant::now();
    let status = tokio.block_on(run.run(&mut Endless)).expect("runs");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(status, RunStatus::Completed, "{:?}", run.state().error);
    (run.state().steps, seconds)
}

fn rss_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn report(name: &str, steps: u64, seconds: f64, target_us: f64) {
    let per_step = seconds * 1e6 / steps as f64;
    let verdict = if per_step < target_us { "meets" } else { "MISSES" };
    println!(
        "{name:<44} {steps:>8} steps  {:>8.1} ms  {per_step:>7.2} µs/step  ({verdict} < {target_us} µs)",
        seconds * 1e3
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("flow-engine-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("bench.script");
    std::fs::write(&script, SCRIPT).expect("script");

    println!("10,000 runs waiting for a user, held by one process (SQLite store)");
    let runtime = Runtime::new(Arc::new(SqliteStore::open(&dir.join("waiting.sqlite")).expect("store")));
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let waiting_program = program(CHAT, 10);
    let before = rss_kb("VmRSS:");
    let started = Instant::now();
    let mut held = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let mut run = runtime
            .start(
                Arc::clone(&waiting_program),
                Default::default(),
                options(&script),
                Default::default(),
            )
            .expect("starts");
        let status = tokio
            .block_on(run.run(&mut std::collections::VecDeque::new()))
            .expect("runs");
        assert_eq!(status, RunStatus::WaitingForUser);
        held.push(run);
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = rss_kb("VmRSS:");
    let peak = rss_kb("VmHWM:");
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "started 10,000 runs to their first wait in {:.2} s; resident {:.1} MB before, {:.1} MB after ({:.1} KB a run), peak {:.1} MB ({} < 1 GB)",
        seconds,
        mb(before),
        mb(after),
        (after.saturating_sub(before)) as f64 / held.len() as f64,
        mb(peak),
        if mb(peak) < 1024.0 { "meets" } else { "MISSES" }
    );
    drop(held);
    println!("\nper-step overhead (median of 5 runs)");
    let cases: [(&str, &str, u64, bool, f64); 4] = [
        ("chat loop, scripted model, memory store", CHAT, 10_000, false, 20.0),
        ("chat loop, scripted model, SQLite store", CHAT, 5_000, true, 300.0),
        ("action/route loop, memory store", PURE, 10_000, false, 20.0),
        ("action/route loop, SQLite store", PURE, 10_000, true, 300.0),
    ];
    for (i, (name, source, rounds, sqlite, target)) in cases.into_iter().enumerate() {
        let mut samples = Vec::new();
        let mut steps = 0;
        for k in 0..5 {
            let store: Arc<dyn Store> = if sqlite {
                let path = dir.join(format!("steps-{i}-{k}.sqlite"));
                Arc::new(SqliteStore::open(&path).expect("store"))
            } else {
                Arc::new(MemoryStore::new())
            };
            let options = if source == CHAT {
                options(&script)
            } else {
                RunOptions::default()
            };
            let (s, secs) = long_run(store, program(source, rounds), options);
            steps = s;
            samples.push(secs);
        }
        samples.sort_by(f64::total_cmp);
        report(name, steps, samples[2], target);
    }

    chains(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A workflow of `n` actions in a line, each setting a variable, then an end.
fn chain_source(n: usize) -> String {
    let mut source = String::from("workflow chain {\n  start a0\n  max_steps 1000000\n}\nvar n: int = 0\n");
    for i in 0..n {
        let next = if i + 1 == n {
            "done".to_string()
        } else {
            format!("a{}", i + 1)
        };
        source.push_str(&format!("action a{i} {{\n  set n = n + 1\n  -> {next}\n}}\n"));
    }
    source.push_str("end done {\n  outcome ok\n}\n");
    source
}

/// Seconds to run a chain of `n` actions to its end (median of 5), SQLite or memory store.
fn chain_seconds(dir: &std::path::Path, n: usize, sqlite: bool) -> f64 {
    let graph = flow_compiler::compile(&chain_source(n), "chain.flow")
        .graph
        .expect("the chain compiles");
    let program = Arc::new(Program::new(graph).expect("loads"));
    let mut samples = Vec::new();
    for k in 0..5 {
        let store: Arc<dyn Store> = if sqlite {
            let path = dir.join(format!("chain-{n}-{k}.sqlite"));
            Arc::new(SqliteStore::open(&path).expect("store"))
        } else {
            Arc::new(MemoryStore::new())
        };
        let (steps, secs) = long_run(store, Arc::clone(&program), RunOptions::default());
        assert_eq!(steps, n as u64 + 1);
        samples.push(secs);
    }
    samples.sort_by(f64::total_cmp);
    samples[2]
}

/// The per-step cost of a 1,000- and a 10,000-action chain, each less a
/// 10-action chain's time, and their ratio (the issue's target: at most 1.5x
/// with the SQLite store).
fn chains(dir: &std::path::Path) {
    println!("\nchains of distinct actions (less a 10-action chain, median of 5)");
    for (store, sqlite) in [("memory", false), ("SQLite", true)] {
        let base = chain_seconds(dir, 10, sqlite);
        let mut per_step = Vec::new();
        for n in [1_000usize, 10_000] {
            let secs = chain_seconds(dir, n, sqlite);
            let us = (secs - base).max(0.0) * 1e6 / (n - 10) as f64;
            println!(
                "chain of {n:>6} actions, {store:<6} store {:>10.1} ms  {us:>7.2} µs/step",
                secs * 1e3
            );
            per_step.push(us);
        }
        let ratio = per_step[1] / per_step[0];
        let verdict = if ratio <= 1.5 { "meets" } else { "MISSES" };
        println!(
            "{store} store: 10,000-step chain per step / 1,000-step chain per step: {ratio:.2}x ({verdict} <= 1.5x)"
        );
    }
}
