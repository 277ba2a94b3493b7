//! Phases 1 and 2: memory per conversation waiting for a user, then SSE
//! fan-out: one stream per waiting run, following it while it takes its
//! remaining turns.

use crate::client::{self, Api};
use crate::mock::Mock;
use crate::phases::{check, cores_busy, join, turn_figures, verdict};
use crate::server::Server;
use crate::stats::{ms, percentile};
use crate::{Settings, sse};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TARGET_KB_PER_WAITING: f64 = 50.0;

/// Starts conversations `range`, `at_once` at a time: their run ids, and the
/// first error if some could not start.
async fn start_all(api: &Api, range: std::ops::Range<u64>, at_once: u64) -> (Vec<(u64, String)>, Option<String>) {
    let next = Arc::new(AtomicU64::new(range.start));
    let workers: Vec<_> = (0..at_once.max(1))
        .map(|_| {
            let (api, next, end) = (api.clone(), Arc::clone(&next), range.end);
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= end {
                        return got;
                    }
                    got.push((k, api.start(k).await.map(|(run, _)| run)));
                }
            })
        })
        .collect();
    let mut runs = Vec::new();
    let mut error = None;
    for (k, started) in join(workers).await.into_iter().flatten() {
        match started {
            Ok(run) => runs.push((k, run)),
            Err(e) => error = error.or(Some(e)),
        }
    }
    runs.sort();
    (runs, error)
}

/// Resident memory, in KB of 1,000 bytes.
fn rss_kb(server: &Server) -> f64 {
    server.rss_kib().unwrap_or(0) as f64 * 1.024
}

/// Waits a second, then the RSS (KB) and its growth since `before` per conversation.
async fn per_conversation(server: &Server, before: f64, count: usize) -> (f64, f64) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kb(server);
    (after, (after - before).max(0.0) / count.max(1) as f64)
}

/// N conversations started 10 at a time and left waiting (the memory a
/// waiting conversation keeps), then N more started at once (with what a
/// thousand simultaneous requests leave in the allocator), then a stream on
/// each of the latter while they finish.
pub async fn memory_and_streams(s: &Settings, api: &Api, mock: &Arc<Mock>, server: &Server) -> bool {
    let n = s.conversations;
    mock.set_latency(s.latency.as_millis() as u64);
    let model = format!("model {} ms a call", s.latency.as_millis());

    let (before, store_before) = (rss_kb(server), server.store_bytes());
    let (steady, error) = start_all(api, 0..n, 10).await;
    let (after_steady, per_steady) = per_conversation(server, before, steady.len()).await;
    let steady_ok = error.is_none() && per_steady <= TARGET_KB_PER_WAITING;
    println!(
        "memory per waiting conversation: {per_steady:.1} KB  (target <= {TARGET_KB_PER_WAITING} KB: {})  \
         [RSS {:.1} -> {:.1} MB with {} conversations started 10 at a time, {model}, then left waiting for a user]",
        verdict(steady_ok),
        before / 1000.0,
        after_steady / 1000.0,
        steady.len()
    );
    println!(
        "store per waiting conversation: {:.1} KB on disk  [same load]",
        server.store_bytes().saturating_sub(store_before) as f64 / 1000.0 / n as f64
    );
    let (burst, burst_error) = start_all(api, n..2 * n, n).await;
    let (after_burst, per_burst) = per_conversation(server, after_steady, burst.len()).await;
    println!(
        "memory per waiting conversation started in a burst: {per_burst:.1} KB  \
         [RSS {:.1} -> {:.1} MB with {} more started at once, {model}: includes what {n} simultaneous requests leave in the allocator]",
        after_steady / 1000.0,
        after_burst / 1000.0,
        burst.len()
    );
    for e in error.iter().chain(burst_error.iter()) {
        println!("  a start failed: {e}");
    }

    // A stream on each run of the burst; live once its replay is through.
    let replayed = Arc::new(AtomicUsize::new(0));
    let streams: Vec<_> = burst
        .iter()
        .map(|(_, run)| tokio::spawn(sse::follow(api.clone(), run.clone(), Arc::clone(&replayed))))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while replayed.load(Ordering::Relaxed) < burst.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, per_stream) = per_conversation(server, after_burst, burst.len()).await;
    println!(
        "memory per open event stream: {per_stream:.1} KB  [{} streams open on waiting runs]",
        replayed.load(Ordering::Relaxed)
    );

    let load = format!(
        "{} streams open, one per run, while the {} runs take {} more turns each: {model}, users type {} ms, spread over {} ms",
        burst.len(),
        burst.len(),
        client::MESSAGES,
        s.think.as_millis(),
        s.think.as_millis()
    );
    let begun = Instant::now();
    let cpu = server.cpu();
    let talks: Vec<_> = burst
        .iter()
        .map(|(k, run)| {
            let delay = s.think.mul_f64((k - n) as f64 / n as f64);
            tokio::spawn(client::converse(api.clone(), *k, delay, s.think, Some(run.clone())))
        })
        .collect();
    let outcomes = join(talks).await;
    let followed = join(streams).await;
    let mut delays: Vec<Duration> = followed.iter().flat_map(|f| f.delays.iter().copied()).collect();
    let last = followed.iter().filter_map(|f| f.last).max().unwrap_or(begun);
    let wall = (last - begun).max(Duration::from_millis(1));
    let events = delays.len();
    let ended = followed.iter().filter(|f| f.ended).count();
    let in_order = followed.iter().filter(|f| f.in_order).count();
    let broken: Vec<&String> = followed.iter().filter_map(|f| f.error.as_ref()).collect();
    println!(
        "SSE events delivered: {:.0} events/s  ({events} events in {:.1} s)  [{load}]",
        events as f64 / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "SSE delay from an event's ts to its receipt: p50 {:.1} ms, p99 {:.1} ms  [same load]",
        ms(percentile(&mut delays, 0.5)),
        ms(percentile(&mut delays, 0.99))
    );
    println!(
        "SSE streams that ended after run_completed: {ended} of {}; with every seq once, in order: {in_order}  [same load]",
        followed.len()
    );
    for e in broken.iter().take(5) {
        println!("  stream error: {e}");
    }
    let (turns, [_, _, p50, p99]) = turn_figures(&outcomes, mock);
    println!(
        "turn latency added by the service with the streams open: p50 {p50:.1} ms, p99 {p99:.1} ms  ({turns} turns; server CPU {} cores)  [same load]",
        cores_busy(server, cpu, begun.elapsed())
    );
    let streams_ok = ended == burst.len() && in_order == burst.len() && broken.is_empty();
    check("SSE fan-out", &outcomes) && steady_ok && burst_error.is_none() && streams_ok
}
