//! Silence exits through the library: the deadline is set when the agent
//! starts waiting, written to the `paused` event and the checkpoint, survives
//! loading the run again, and is taken by `expire` (or before a late message)
//! once it has passed; a spent silence exit leaves the wait without one.
//! Time is a [`FakeClock`] the tests move: nothing sleeps.

use flow_runtime::state::Position;
use flow_runtime::store::{MemoryStore, Store};
use flow_runtime::{FakeClock, Program, RunOptions, RunStatus, Runtime};
use serde_json::Map;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

const WORKFLOW: &str = r#"
workflow quiet {
  start chat
  model m
}

model m = "openai:gpt-4o-mini"

agent chat {
  "Ask how you can help."
  when "the customer is done" -> end
  after 300ms silence -> nudge max 1
}

say nudge {
  "Are you still there?"
  -> chat
}
"#;

const SCRIPT: &str = "[chat]\nreply: Hi!\nreply: Still here.\nchoose: the customer is done\n";

fn start(name: &str, store: Arc<dyn Store>, clock: &FakeClock) -> (Runtime, flow_runtime::Run) {
    let graph = flow_compiler::compile(WORKFLOW, "quiet.flow").graph.expect("compiles");
    let program = Arc::new(Program::new(graph).expect("loads"));
    let script = std::env::temp_dir().join(format!("flow-silence-{name}-{}.script", std::process::id()));
    std::fs::write(&script, SCRIPT).unwrap();
    let mut options = RunOptions::default();
    options
        .models
        .insert("m".into(), format!("scripted:{}", script.display()));
    let mut runtime = Runtime::new(store);
    runtime.set_clock(clock.clone());
    let run = runtime
        .start(program, Map::new(), options, Default::default())
        .expect("starts");
    (runtime, run)
}

fn clock() -> FakeClock {
    FakeClock::new("2026-01-05T09:00:00Z".parse().unwrap())
}

fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn stored_events(store: &dyn Store, id: &str) -> Vec<serde_json::Value> {
    tokio()
        .block_on(store.events_after(id, 0))
        .unwrap()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn deadline_of(run: &flow_runtime::Run) -> Option<String> {
    match &run.state().position {
        Position::Waiting { deadline, .. } => deadline.clone(),
        _ => None,
    }
}

#[test]
fn the_deadline_is_checkpointed_and_expire_takes_the_silence_exit() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let (runtime, mut run) = start("expire", Arc::clone(&store), &clock);
    let tokio = tokio();
    assert_eq!(
        tokio.block_on(run.run(&mut VecDeque::new())).unwrap(),
        RunStatus::WaitingForUser
    );
    let deadline = deadline_of(&run).expect("a silence deadline in the state");
    assert_eq!(deadline, "2026-01-05T09:00:00.3Z", "now + 300ms by the clock");
    let id = run.id().to_string();
    let events = stored_events(store.as_ref(), &id);
    let paused = events.iter().find(|e| e["type"] == "paused").expect("paused");
    assert_eq!(paused["deadline"], serde_json::json!(deadline));

    // Loaded again from the store, before the deadline: nothing to expire.
    drop(run);
    let mut run = tokio.block_on(runtime.load(&id, |_| Ok(Default::default()))).unwrap();
    assert_eq!(deadline_of(&run).as_deref(), Some(deadline.as_str()));
    assert!(tokio.block_on(run.expire(&mut VecDeque::new())).unwrap().is_none());
    clock.advance(Duration::from_millis(299));
    assert!(tokio.block_on(run.expire(&mut VecDeque::new())).unwrap().is_none());

    clock.advance(Duration::from_millis(1));
    let status = tokio.block_on(run.expire(&mut VecDeque::new())).unwrap();
    // The nudge is said, the agent replies again and waits with its silence exit spent.
    assert_eq!(status, Some(RunStatus::WaitingForUser));
    assert_eq!(deadline_of(&run), None, "a spent silence exit sets no deadline");
    let json = stored_events(store.as_ref(), &id);
    let resumed: Vec<&serde_json::Value> = json.iter().filter(|e| e["type"] == "resumed").collect();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0]["with"], "silence");
    let taken: Vec<&serde_json::Value> = json.iter().filter(|e| e["type"] == "edge_taken").collect();
    assert_eq!(taken[0]["kind"], "silence");
    assert_eq!(taken[0]["edge"], "chat.1");
    let second_pause = json
        .iter()
        .filter(|e| e["type"] == "paused")
        .nth(1)
        .expect("a second pause");
    assert!(second_pause.get("deadline").is_none(), "{second_pause}");
    assert_eq!(run.state().edge_counts.get("chat.1"), Some(&1));
}

#[test]
fn a_passed_deadline_is_taken_before_a_late_message() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let (_runtime, mut run) = start("late", Arc::clone(&store), &clock);
    let tokio = tokio();
    tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    clock.advance(Duration::from_millis(400));
    let status = tokio.block_on(run.send_message("That's all.")).unwrap();
    assert_eq!(status, RunStatus::Completed);
    let said: Vec<String> = run
        .conversation()
        .iter()
        .map(|m| format!("{}: {}", m.role, m.text))
        .collect();
    assert_eq!(
        said,
        [
            "assistant: Hi!",
            "assistant: Are you still there?",
            "assistant: Still here.",
            "user: That's all."
        ]
    );
}

/// An inbox with no messages that records how long it was asked to wait.
#[derive(Default)]
struct Recording {
    waits: Vec<Duration>,
}

impl flow_runtime::Inbox for Recording {
    fn next_message(&mut self) -> Option<String> {
        None
    }

    fn next_message_within(&mut self, limit: Duration) -> flow_runtime::Incoming {
        self.waits.push(limit);
        flow_runtime::Incoming::Closed
    }
}

#[test]
fn a_waiting_inbox_waits_until_the_deadline_by_the_run_s_clock() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let (_runtime, mut run) = start("wait", Arc::clone(&store), &clock);
    let tokio = tokio();
    let mut inbox = Recording::default();
    assert_eq!(tokio.block_on(run.run(&mut inbox)).unwrap(), RunStatus::WaitingForUser);
    clock.advance(Duration::from_millis(100));
    tokio.block_on(run.run(&mut inbox)).unwrap();
    assert_eq!(inbox.waits, [Duration::from_millis(300), Duration::from_millis(200)]);

    // Past the deadline by the clock, the silence exit is taken without waiting.
    clock.advance(Duration::from_millis(200));
    assert_eq!(tokio.block_on(run.run(&mut inbox)).unwrap(), RunStatus::WaitingForUser);
    assert_eq!(inbox.waits.len(), 2, "not asked to wait again: {:?}", inbox.waits);
    assert!(run.conversation().iter().any(|m| m.text == "Are you still there?"));
}
