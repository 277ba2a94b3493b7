//! The host's clock through the library: a [`FakeClock`] given with
//! `Runtime::set_clock` is the run's only "now" (event times, `created` and
//! `updated`, the approval's deadline) and the maker of its id, so a test
//! moves time past a two-hour deadline without sleeping and sees `expire`
//! take `on timeout`; secrets are read through it too.

use flow_runtime::state::Position;
use flow_runtime::store::{MemoryStore, Store};
use flow_runtime::{Clock, FakeClock, Program, RunOptions, RunStatus, Runtime};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

const WORKFLOW: &str = r#"
workflow expenses {
  start manager
}

secret LEDGER_TOKEN

approval manager {
  prompt "Approve the claim?"
  timeout 2h
  on approved -> approved
  on rejected -> rejected
  on timeout -> open
}

end approved {
  outcome approved
}

end rejected {
  outcome rejected
}

end open {
  say "No manager answered in time."
  outcome timed_out
}
"#;

const START: &str = "2026-01-05T09:00:00Z";

fn program() -> Arc<Program> {
    let graph = flow_compiler::compile(WORKFLOW, "expenses.flow")
        .graph
        .expect("compiles");
    Arc::new(Program::new(graph).expect("loads"))
}

fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn events(store: &dyn Store, id: &str) -> Vec<Value> {
    tokio()
        .block_on(store.events_after(id, 0))
        .unwrap()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// A runtime on a memory store with a fake clock at [`START`], and the clock.
fn runtime(store: Arc<dyn Store>) -> (Runtime, FakeClock) {
    let clock = FakeClock::new(START.parse().unwrap());
    clock.set_secret("LEDGER_TOKEN", "ledger-token-value");
    let mut runtime = Runtime::new(store);
    runtime.set_clock(clock.clone());
    (runtime, clock)
}

#[test]
fn moving_the_fake_clock_past_the_deadline_makes_expire_take_on_timeout() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (runtime, clock) = runtime(Arc::clone(&store));
    let program = program();
    let secrets = runtime.secrets(&program).expect("the clock has the secret");
    let mut run = runtime
        .start(program, Map::new(), RunOptions::default(), secrets)
        .expect("starts");
    let tokio = tokio();
    let status = tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::WaitingForApproval);

    // The id is the clock's first, and every time is the clock's.
    let reference = FakeClock::new(START.parse().unwrap());
    assert_eq!(run.id(), reference.new_id());
    assert_eq!(run.state().created, "2026-01-05T09:00:00Z");
    assert_eq!(run.state().updated, "2026-01-05T09:00:00Z");
    let Position::Waiting { deadline, .. } = &run.state().position else {
        panic!("waiting: {:?}", run.state().position);
    };
    assert_eq!(
        deadline.as_deref(),
        Some("2026-01-05T11:00:00Z"),
        "now + 2h by the clock"
    );
    let id = run.id().to_string();
    for event in events(store.as_ref(), &id) {
        assert_eq!(event["ts"], "2026-01-05T09:00:00Z", "{event}");
    }

    // One second before the deadline nothing expires, even after loading again.
    clock.advance(Duration::from_secs(2 * 3600 - 1));
    drop(run);
    let mut run = tokio.block_on(runtime.load(&id, |_| Ok(Default::default()))).unwrap();
    assert!(tokio.block_on(run.expire(&mut VecDeque::new())).unwrap().is_none());

    // At the deadline it does: `on timeout`, recorded at the clock's time.
    clock.advance(Duration::from_secs(1));
    let status = tokio.block_on(run.expire(&mut VecDeque::new())).unwrap();
    assert_eq!(status, Some(RunStatus::Completed));
    assert_eq!(run.state().outcome.as_deref(), Some("timed_out"));
    assert_eq!(run.state().updated, "2026-01-05T11:00:00Z");
    let events = events(store.as_ref(), &id);
    let resumed = events.iter().find(|e| e["type"] == "resumed").expect("resumed");
    assert_eq!(resumed["with"], "timeout");
    assert_eq!(resumed["ts"], "2026-01-05T11:00:00Z");
    let taken = events.iter().rfind(|e| e["type"] == "edge_taken").expect("an edge");
    assert_eq!(taken["kind"], "timeout");
}

#[test]
fn an_answer_after_the_fake_deadline_still_takes_on_timeout() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (runtime, clock) = runtime(store);
    let program = program();
    let secrets = runtime.secrets(&program).unwrap();
    let mut run = runtime
        .start(program, Map::new(), RunOptions::default(), secrets)
        .unwrap();
    let tokio = tokio();
    tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    clock.advance(Duration::from_secs(3 * 3600));
    let status = tokio
        .block_on(run.answer(flow_runtime::Answer::Approve, &mut VecDeque::new()))
        .unwrap();
    assert_eq!(status, RunStatus::Completed);
    assert_eq!(run.state().outcome.as_deref(), Some("timed_out"));
}

#[test]
fn secrets_come_from_the_clock_and_a_missing_one_is_named() {
    let mut bare = Runtime::new(Arc::new(MemoryStore::new()));
    let clock = FakeClock::new(START.parse().unwrap());
    bare.set_clock(clock.clone());
    let err = bare.secrets(&program()).unwrap_err();
    assert!(err.to_string().contains("LEDGER_TOKEN"), "{err}");
    clock.set_secret("LEDGER_TOKEN", "ledger-token-value");
    let secrets = bare.secrets(&program()).unwrap();
    assert_eq!(secrets["LEDGER_TOKEN"], "ledger-token-value");
}
