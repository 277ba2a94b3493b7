//! The phases of the bench, one server for all of them, and the printing:
//! each figure on its own line with its unit, the load it was measured at,
//! and the target beside it where there is one.

use crate::client::{self, Api, Outcome, Turn};
use crate::mock::{self, Mock};
use crate::server::Server;
use crate::stats::{added, ms, percentile};
use crate::{Settings, waiting};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TARGET_ADDED_P99_MS: f64 = 20.0;

/// Runs every phase; whether every target was met and nothing went wrong.
pub async fn run(s: &Settings) -> Result<bool, String> {
    let mock = Arc::new(Mock::default());
    let address = mock::start(Arc::clone(&mock))
        .await
        .map_err(|e| format!("cannot start the mock: {e}"))?;
    let dir = std::env::temp_dir().join(format!("flow-serve-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let server = Server::start(&s.flow, &dir, address)?;
    let api = Api::new(&server.base)?;
    api.create_workflow(&client::bench_source(address)?).await?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = s.conversations;
    println!(
        "flow serve ({}) on {cores} cores, shared with this bench's clients and mock; \
         conversations of order_support: a start and {} messages each",
        s.flow.display(),
        client::MESSAGES
    );

    // Warm-up: the program parsed, the connections and the store's pages made.
    mock.set_latency(0);
    let warm = many(&api, 5 * n..5 * n + 20, Duration::ZERO, Duration::ZERO).await;
    let mut ok = check("warm-up", &warm);
    tokio::time::sleep(Duration::from_secs(1)).await;

    if s.runs("waiting") {
        ok &= waiting::memory_and_streams(s, &api, &mock, &server).await;
    }
    if s.runs("load") {
        ok &= load(s, &api, &mock, &server).await;
    }
    if s.runs("zero") {
        ok &= zero_latency(s, &api, &mock, &server).await;
    }

    if let Some(peak) = server.peak_kib() {
        println!(
            "server peak memory (VmHWM): {:.1} MB  [over the whole run]",
            peak as f64 / 1024.0
        );
    }
    let status = server.stop();
    println!("server stopped on SIGTERM: {status}");
    if s.keep {
        println!(
            "the store is kept: flow runs --store {}",
            dir.join("runs.sqlite").display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(ok)
}

/// Conversations `range`, concurrently, the k-th after `k × spread / len`.
async fn many(api: &Api, range: std::ops::Range<u64>, spread: Duration, think: Duration) -> Vec<Outcome> {
    let len = (range.end - range.start).max(1);
    let tasks: Vec<_> = range
        .clone()
        .map(|n| {
            let delay = spread.mul_f64((n - range.start) as f64 / len as f64);
            tokio::spawn(client::converse(api.clone(), n, delay, think, None))
        })
        .collect();
    join(tasks).await
}

/// The values of finished tasks, in order (a task that panicked is left out).
pub async fn join<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(value) = task.await {
            out.push(value);
        }
    }
    out
}

/// Whether every conversation completed; prints the first errors if not.
pub fn check(phase: &str, outcomes: &[Outcome]) -> bool {
    let completed = outcomes.iter().filter(|o| o.status == "completed").count();
    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.error.as_ref()).collect();
    if completed == outcomes.len() {
        return true;
    }
    println!(
        "{phase}: {completed} of {} conversations completed, {} errors",
        outcomes.len(),
        errors.len()
    );
    for e in errors.iter().take(5) {
        println!("  {e}");
    }
    false
}

/// Latency and added latency (p50, p99) of the turns, in ms.
pub fn turn_figures(outcomes: &[Outcome], mock: &Mock) -> (usize, [f64; 4]) {
    let mut latency = Vec::new();
    let mut extra = Vec::new();
    for turn in outcomes.iter().flat_map(|o| o.turns.iter()) {
        let Turn { conversation, from, to } = *turn;
        latency.push(to - from);
        extra.push(added(from, to, &mock.spans(conversation)));
    }
    let count = latency.len();
    let figures = [
        ms(percentile(&mut latency, 0.5)),
        ms(percentile(&mut latency, 0.99)),
        ms(percentile(&mut extra, 0.5)),
        ms(percentile(&mut extra, 0.99)),
    ];
    (count, figures)
}

/// The server's CPU use since `cpu_before`, in cores, over `wall`.
pub fn cores_busy(server: &Server, cpu_before: Option<Duration>, wall: Duration) -> String {
    match (cpu_before, server.cpu()) {
        (Some(a), Some(b)) => format!("{:.2}", (b - a).as_secs_f64() / wall.as_secs_f64()),
        _ => "unknown".into(),
    }
}

/// How a target came out.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// Phase 3: N concurrent conversations at the model's latency.
async fn load(s: &Settings, api: &Api, mock: &Arc<Mock>, server: &Server) -> bool {
    let n = s.conversations;
    mock.set_latency(s.latency.as_millis() as u64);
    let calls = mock.calls();
    let cpu = server.cpu();
    let begun = Instant::now();
    let outcomes = many(api, 2 * n..3 * n, s.think, s.think).await;
    let wall = begun.elapsed();
    let (turns, [l50, l99, a50, a99]) = turn_figures(&outcomes, mock);
    let load = format!(
        "{n} concurrent conversations, model {} ms a call, users type {} ms between messages, starts spread over {} ms",
        s.latency.as_millis(),
        s.think.as_millis(),
        s.think.as_millis()
    );
    let target_ok = a99 <= TARGET_ADDED_P99_MS;
    println!("turn latency added by the service: p50 {a50:.1} ms  [{load}]");
    println!(
        "turn latency added by the service: p99 {a99:.1} ms  (target <= {TARGET_ADDED_P99_MS} ms: {})  [same load]",
        verdict(target_ok)
    );
    println!("turn latency, model time included: p50 {l50:.1} ms, p99 {l99:.1} ms  [same load]");
    println!(
        "requests: {:.0} requests/s  ({turns} turns, {:.1} model calls a turn, in {:.1} s; server CPU {} cores)  [same load]",
        turns as f64 / wall.as_secs_f64(),
        (mock.calls() - calls) as f64 / turns.max(1) as f64,
        wall.as_secs_f64(),
        cores_busy(server, cpu, wall)
    );
    check("load", &outcomes) && target_ok
}

/// Phase 4: as fast as it goes.
async fn zero_latency(s: &Settings, api: &Api, mock: &Arc<Mock>, server: &Server) -> bool {
    let n = s.conversations;
    mock.set_latency(0);
    let calls = mock.calls();
    let cpu = server.cpu();
    let begun = Instant::now();
    let outcomes = many(api, 3 * n..4 * n, Duration::ZERO, Duration::ZERO).await;
    let wall = begun.elapsed();
    let (turns, [l50, l99, _, _]) = turn_figures(&outcomes, mock);
    println!(
        "zero-latency throughput: {:.0} turns/s, {:.0} model calls/s  ({turns} turns in {:.1} s; turn p50 {l50:.1} ms, p99 {l99:.1} ms; server CPU {} cores)  \
         [{n} conversations at once, mock at 0 ms, no typing]",
        turns as f64 / wall.as_secs_f64(),
        (mock.calls() - calls) as f64 / wall.as_secs_f64(),
        wall.as_secs_f64(),
        cores_busy(server, cpu, wall)
    );
    check("zero latency", &outcomes)
}
