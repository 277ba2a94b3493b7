//! 1,000 concurrent runs of an example workflow on one process against a local
//! OpenAI-compatible mock with zero latency (issue 6's benchmark):
//! `cargo bench -p flow-runtime --bench concurrency`.
//!
//! The mock answers every reply with text, every `choose_exit` with the first
//! option offered and every `extract` with nothing, so each run of
//! `examples/order_support.flow` walks its loops until their `max` bounds are
//! spent and ends. Its HTTP tools are stubbed. Reported: runs and model calls
//! per second, step latency (from one `node_entered` to the next in a run:
//! model round trips, tools, the checkpoint), the framework's own overhead of a
//! step (from a model's answer to the run's next request, or to its pause or
//! end being committed: the engine, the checkpoint, the scheduling), and peak
//! memory.

use flow_runtime::store::{SqliteStore, Store};
use flow_runtime::{Activity, Event, EventBody, Inbox, Program, RunOptions, RunStatus, Runtime};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RUNS: usize = 1_000;

const STUBS: &str = r#"
[tool get_order]
result: {"order_number": "BL-1", "email": "a@b.c", "status": "shipped", "placed_on": "2026-11-01", "items": [], "total": 20.0, "days_since_delivery": null, "tracking_number": "1Z", "carrier": "ups"}
[tool track_package]
result: {"status_text": "In transit", "estimated_delivery": "2026-11-25"}
[tool product_info]
result: {"name": "Lamp", "dimensions": "1m", "care": "dust", "warranty_years": 2}
[tool cancel_order]
result: {"cancellation_ref": "C-1"}
[tool create_refund]
result: {"refund_id": "R-1"}
"#;

/// Answers like a model that always takes the first option.
struct FirstOption {
    calls: Arc<AtomicU64>,
}

impl Respond for FirstOption {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let forced = body.pointer("/tool_choice/function/name").and_then(Value::as_str);
        let message = match forced {
            Some("choose_exit") => {
                let first = body
                    .pointer("/tools/0/function/parameters/properties/exit/enum/0")
                    .cloned()
                    .unwrap_or(json!("none"));
                let args = json!({ "exit": first }).to_string();
                json!({"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "choose_exit", "arguments": args}}]})
            }
            Some(name) => json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": name, "arguments": "{}"}}]}),
            None => json!({"role": "assistant", "content": "Happy to help with that."}),
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 8}
        }))
    }
}

struct Endless;

impl Inbox for Endless {
    fn ready(&self) -> bool {
        true
    }

    fn next_message(&mut self) -> Option<String> {
        Some("Yes, please.".to_string())
    }
}

fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let calls = Arc::new(AtomicU64::new(0));
    let server = tokio.block_on(async {
        let server = MockServer::builder().disable_request_recording().start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(FirstOption {
                calls: Arc::clone(&calls),
            })
            .mount(&server)
            .await;
        server
    });
    // SAFETY of the environment: set before any thread of ours reads it.
    unsafe {
        std::env::set_var("OPENAI_BASE_URL", format!("{}/v1", server.uri()));
        std::env::set_var("OPENAI_API_KEY", "sk-bench");
        std::env::set_var("ANTHROPIC_API_KEY", "sk-bench");
    }
    let dir = std::env::temp_dir().join(format!("flow-concurrency-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let stubs = dir.join("stubs.script");
    std::fs::write(&stubs, STUBS).expect("stubs");
    let source = include_str!("../../examples/order_support.flow");
    let graph = flow_compiler::compile(source, "order_support.flow")
        .graph
        .expect("compiles");
    let program = Arc::new(Program::new(graph).expect("loads"));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("runs.sqlite")).expect("store"));
    let runtime = Arc::new(Runtime::new(store));
    let secrets: std::collections::HashMap<String, String> = program
        .graph
        .secrets
        .iter()
        .map(|s| (s.clone(), "bench-secret".to_string()))
        .collect();
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let overheads = Arc::new(Mutex::new(Vec::<Duration>::new()));
    // The same, for the steps that end in a pause or the run's end (reported once committed).
    let to_pause = Arc::new(Mutex::new(Vec::<Duration>::new()));
    // And for the steps from a model's answer to the run's next request.
    let to_request = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let steps = Arc::new(AtomicU64::new(0));

    let started = Instant::now();
    let outcomes = tokio.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..RUNS {
            let options = RunOptions {
                models: Default::default(),
                stubs: Some(stubs.display().to_string()),
                live_tools: false,
            };
            let mut run = runtime
                .start(Arc::clone(&program), Default::default(), options, secrets.clone())
                .expect("starts");
            let (latencies, steps) = (Arc::clone(&latencies), Arc::clone(&steps));
            let mut last: Option<Instant> = None;
            // When the model last answered, while the run has not yet gone on.
            let answered = Arc::new(Mutex::new(None::<Instant>));
            let in_model = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let overhead = {
                let (answered, overheads, to_request) =
                    (Arc::clone(&answered), Arc::clone(&overheads), Arc::clone(&to_request));
                move || {
                    if let Some(at) = answered.lock().ok().and_then(|mut a| a.take()) {
                        let took = at.elapsed();
                        if let Ok(mut o) = overheads.lock() {
                            o.push(took);
                        }
                        if let Ok(mut r) = to_request.lock() {
                            r.push(took);
                        }
                    }
                }
            };
            let paused = {
                let (answered, overheads, to_pause) =
                    (Arc::clone(&answered), Arc::clone(&overheads), Arc::clone(&to_pause));
                move || {
                    if let Some(at) = answered.lock().ok().and_then(|mut a| a.take()) {
                        let took = at.elapsed();
                        if let Ok(mut o) = overheads.lock() {
                            o.push(took);
                        }
                        if let Ok(mut p) = to_pause.lock() {
                            p.push(took);
                        }
                    }
                }
            };
            {
                let (answered, in_model, overhead) = (Arc::clone(&answered), Arc::clone(&in_model), overhead.clone());
                run.on_activity(move |activity| match activity {
                    Some(activity) => {
                        overhead();
                        in_model.store(matches!(activity, Activity::Model { .. }), Ordering::Relaxed);
                    }
                    None => {
                        if in_model.swap(false, Ordering::Relaxed)
                            && let Ok(mut a) = answered.lock()
                        {
                            *a = Some(Instant::now());
                        }
                    }
                });
            }
            run.on_event(move |e: &Event| {
                if matches!(
                    e.body,
                    EventBody::Paused { .. } | EventBody::RunCompleted { .. } | EventBody::RunFailed { .. }
                ) {
                    paused();
                }
                if let EventBody::NodeEntered { .. } = e.body {
                    let now = Instant::now();
                    if let Some(prev) = last
                        && let Ok(mut l) = latencies.lock()
                    {
                        l.push(now - prev);
                    }
                    last = Some(now);
                    steps.fetch_add(1, Ordering::Relaxed);
                }
            });
            tasks.spawn(async move { run.run(&mut Endless).await });
        }
        let mut outcomes = Vec::new();
        while let Some(done) = tasks.join_next().await {
            outcomes.push(done.expect("task").expect("run"));
        }
        outcomes
    });
    let seconds = started.elapsed().as_secs_f64();
    let completed = outcomes.iter().filter(|s| **s == RunStatus::Completed).count();
    let model_calls = calls.load(Ordering::Relaxed);
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort();
    println!("{RUNS} concurrent runs of order_support.flow against a local OpenAI-compatible mock (SQLite store)");
    println!("  completed      {completed} of {RUNS} in {seconds:.2} s");
    println!("  runs/s         {:.0}", RUNS as f64 / seconds);
    println!(
        "  model calls/s  {:.0} ({model_calls} calls)",
        model_calls as f64 / seconds
    );
    println!(
        "  steps          {} ({:.0}/s)",
        steps.load(Ordering::Relaxed),
        steps.load(Ordering::Relaxed) as f64 / seconds
    );
    println!(
        "  step latency   p50 {:.2} ms, p99 {:.2} ms",
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    let mut over = overheads.lock().map(|l| l.clone()).unwrap_or_default();
    over.sort();
    println!("  peak memory    {:.1} MB", peak_mb());
    let mut requests = to_request.lock().map(|l| l.clone()).unwrap_or_default();
    requests.sort();
    println!(
        "  of which to the next request:        p50 {:.3} ms, p99 {:.3} ms ({} steps)",
        percentile(&requests, 0.50).as_secs_f64() * 1e3,
        percentile(&requests, 0.99).as_secs_f64() * 1e3,
        requests.len()
    );
    let mut paused = to_pause.lock().map(|l| l.clone()).unwrap_or_default();
    paused.sort();
    println!(
        "  of which to a pause or end committed: p50 {:.3} ms, p99 {:.3} ms ({} steps)",
        percentile(&paused, 0.50).as_secs_f64() * 1e3,
        percentile(&paused, 0.99).as_secs_f64() * 1e3,
        paused.len()
    );
    println!(
        "step overhead p50 {:.3} ms, p99 {:.3} ms ({} steps measured; {completed} of {RUNS} runs completed)",
        percentile(&over, 0.50).as_secs_f64() * 1e3,
        percentile(&over, 0.99).as_secs_f64() * 1e3,
        over.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
