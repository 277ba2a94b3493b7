//! Answers through the inbox, durable timers and leases through the library:
//! an approval and its timeout racing each other give exactly one outcome,
//! a due timer fires by itself (also for a run held elsewhere, through its
//! inbox), a cancel ends a run, and a holder whose lease was taken cannot
//! commit. Time moves by a fake clock; nothing sleeps.

use flow_runtime::store::{Delivery, MemoryStore, SqliteStore, Store};
use flow_runtime::{AnswerError, FakeClock, Program, RunError, RunOptions, RunStatus, Runtime, StartError};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

const WORKFLOW: &str = r#"
workflow expenses {
  start manager
}

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
  outcome timed_out
}
"#;

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

fn runtime(store: &Arc<dyn Store>, clock: &FakeClock) -> Runtime {
    let mut runtime = Runtime::new(Arc::clone(store));
    runtime.set_clock(clock.clone());
    runtime
}

/// Starts a run that waits at the approval; its id and the pause's id.
fn waiting(runtime: &Runtime, tokio: &tokio::runtime::Runtime) -> (String, u64) {
    let mut run = runtime
        .start(program(), Default::default(), RunOptions::default(), Default::default())
        .unwrap();
    let status = tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::WaitingForApproval);
    let pause = run.state().pending.expect("the pause's id");
    let id = run.id().to_string();
    tokio.block_on(run.close()).unwrap();
    (id, pause)
}

fn events(store: &dyn Store, id: &str) -> Vec<Value> {
    tokio()
        .block_on(store.events_after(id, 0))
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn resumed_with(store: &dyn Store, id: &str) -> Vec<String> {
    events(store, id)
        .iter()
        .filter(|e| e["type"] == "resumed")
        .map(|e| e["with"].as_str().unwrap().to_string())
        .collect()
}

fn outcome(store: &dyn Store, id: &str) -> Option<String> {
    let run = tokio().block_on(store.load(id)).unwrap().unwrap();
    run.state.outcome
}

fn clock() -> FakeClock {
    FakeClock::new("2026-01-05T09:00:00Z".parse().unwrap())
}

fn load(runtime: &Runtime, tokio: &tokio::runtime::Runtime, id: &str) -> Result<flow_runtime::Run, StartError> {
    tokio.block_on(runtime.load(id, |_| Ok(Default::default())))
}

#[test]
fn the_paused_event_s_seq_names_the_pause_and_a_timer_holds_its_deadline() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let runtime = runtime(&store, &clock);
    let tokio = tokio();
    let (id, pause) = waiting(&runtime, &tokio);
    let paused = events(store.as_ref(), &id)
        .into_iter()
        .find(|e| e["type"] == "paused")
        .unwrap();
    assert_eq!(paused["seq"].as_u64(), Some(pause));
    let due = tokio.block_on(store.due_timers(i64::MAX)).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].run_id.as_str(), due[0].node.as_str(), due[0].pause),
        (id.as_str(), "manager", pause)
    );
    let deadline: jiff::Timestamp = "2026-01-05T11:00:00Z".parse().unwrap();
    assert_eq!(due[0].due_ms, deadline.as_millisecond());
}

#[test]
fn an_approval_and_its_timeout_in_the_inbox_give_one_outcome() {
    for approval_first in [true, false] {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let clock = clock();
        let runtime = runtime(&store, &clock);
        let tokio = tokio();
        let (id, pause) = waiting(&runtime, &tokio);
        clock.advance(Duration::from_secs(2 * 3600));
        let approve = Delivery::Approval {
            pause: Some(pause),
            approve: true,
            note: None,
        };
        let timeout = Delivery::Timeout { pause };
        let order = if approval_first {
            [approve, timeout]
        } else {
            [timeout, approve]
        };
        for d in &order {
            tokio.block_on(runtime.post(&id, d)).unwrap();
        }
        let mut run = load(&runtime, &tokio, &id).unwrap();
        let taken = tokio.block_on(run.take_inbox(&mut VecDeque::new())).unwrap();
        assert_eq!(taken.len(), 2);
        // The first one decides; the second finds the pause gone and is refused.
        assert!(taken[0].outcome.is_ok(), "{:?}", taken[0]);
        assert!(matches!(taken[1].outcome, Err(RunError::Answer(_))), "{:?}", taken[1]);
        tokio.block_on(run.close()).unwrap();
        // Past its deadline, an approval takes `on timeout` too: one resume, one outcome.
        assert_eq!(resumed_with(store.as_ref(), &id), vec!["timeout"]);
        assert_eq!(outcome(store.as_ref(), &id).as_deref(), Some("timed_out"));
        assert!(tokio.block_on(store.inbox(&id)).unwrap().is_empty(), "both consumed");
        assert!(tokio.block_on(store.due_timers(i64::MAX)).unwrap().is_empty());
    }
}

#[test]
fn a_timeout_before_the_deadline_is_refused_and_the_approval_decides() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let runtime = runtime(&store, &clock);
    let tokio = tokio();
    let (id, pause) = waiting(&runtime, &tokio);
    clock.advance(Duration::from_secs(3600));
    tokio.block_on(runtime.post(&id, &Delivery::Timeout { pause })).unwrap();
    let approve = Delivery::Approval {
        pause: Some(pause),
        approve: true,
        note: None,
    };
    tokio.block_on(runtime.post(&id, &approve)).unwrap();
    let mut run = load(&runtime, &tokio, &id).unwrap();
    let taken = tokio.block_on(run.take_inbox(&mut VecDeque::new())).unwrap();
    assert!(matches!(
        taken[0].outcome,
        Err(RunError::Answer(AnswerError::DeadlineNotPassed { .. }))
    ));
    assert_eq!(taken[1].outcome.as_ref().ok(), Some(&RunStatus::Completed));
    assert_eq!(resumed_with(store.as_ref(), &id), vec!["approve"]);
    assert_eq!(outcome(store.as_ref(), &id).as_deref(), Some("approved"));
}

#[test]
fn an_answer_naming_another_pause_is_refused_and_changes_nothing() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let runtime = runtime(&store, &clock);
    let tokio = tokio();
    let (id, pause) = waiting(&runtime, &tokio);
    let mut run = load(&runtime, &tokio, &id).unwrap();
    let before = events(store.as_ref(), &id).len();
    let wrong = Delivery::Approval {
        pause: Some(pause + 7),
        approve: true,
        note: None,
    };
    let err = tokio.block_on(run.deliver(wrong, &mut VecDeque::new())).unwrap_err();
    assert!(
        matches!(err, RunError::Answer(AnswerError::WrongPause { asked, waiting: Some(w), .. }) if asked == pause + 7 && w == pause),
        "{err}"
    );
    assert_eq!(events(store.as_ref(), &id).len(), before);
    assert_eq!(run.status(), RunStatus::WaitingForApproval);
}

#[test]
fn a_due_timer_fires_by_itself_once() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let runtime = runtime(&store, &clock);
    let tokio = tokio();
    let (id, _) = waiting(&runtime, &tokio);
    let none = |_: &Program| Ok(Default::default());
    assert!(tokio.block_on(runtime.fire_due_timers(none)).unwrap().is_empty());
    clock.advance(Duration::from_secs(2 * 3600));
    let fired = tokio.block_on(runtime.fire_due_timers(none)).unwrap();
    assert_eq!(fired, vec![(id.clone(), RunStatus::Completed)]);
    assert_eq!(outcome(store.as_ref(), &id).as_deref(), Some("timed_out"));
    assert!(tokio.block_on(runtime.fire_due_timers(none)).unwrap().is_empty());
    assert_eq!(resumed_with(store.as_ref(), &id), vec!["timeout"]);
}

#[test]
fn a_timer_of_a_run_held_elsewhere_reaches_its_holder_through_the_inbox() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let holder = runtime(&store, &clock);
    let other = runtime(&store, &clock);
    let tokio = tokio();
    let (id, pause) = waiting(&holder, &tokio);
    let mut run = load(&holder, &tokio, &id).unwrap();
    clock.advance(Duration::from_secs(3 * 3600));
    let none = |_: &Program| Ok(Default::default());
    assert!(tokio.block_on(other.fire_due_timers(none)).unwrap().is_empty());
    assert!(tokio.block_on(other.fire_due_timers(none)).unwrap().is_empty());
    let inbox = tokio.block_on(store.inbox(&id)).unwrap();
    assert_eq!(inbox.len(), 1, "posted once, however often the timer is seen");
    assert_eq!(inbox[0].delivery, Delivery::Timeout { pause });
    let taken = tokio.block_on(run.take_inbox(&mut VecDeque::new())).unwrap();
    assert_eq!(taken[0].outcome.as_ref().ok(), Some(&RunStatus::Completed));
    assert_eq!(outcome(store.as_ref(), &id).as_deref(), Some("timed_out"));
}

#[test]
fn a_cancel_ends_the_run_once() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let runtime = runtime(&store, &clock);
    let tokio = tokio();
    let (id, _) = waiting(&runtime, &tokio);
    let mut run = load(&runtime, &tokio, &id).unwrap();
    assert_eq!(tokio.block_on(run.cancel("ops")).unwrap(), RunStatus::Cancelled);
    let last = events(store.as_ref(), &id).pop().unwrap();
    assert_eq!(
        (last["type"].as_str(), last["by"].as_str()),
        (Some("run_cancelled"), Some("ops"))
    );
    assert_eq!(last["node"], "manager");
    let err = tokio.block_on(run.cancel("ops")).unwrap_err();
    assert!(
        matches!(err, RunError::Answer(AnswerError::AlreadyFinished { .. })),
        "{err}"
    );
    assert!(tokio.block_on(store.due_timers(i64::MAX)).unwrap().is_empty());
}

#[test]
fn a_holder_whose_lease_was_taken_cannot_commit() {
    let dir = std::env::temp_dir().join(format!("flow-inbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("runs.sqlite")).unwrap());
    let clock = clock();
    let mut first = runtime(&store, &clock);
    first.set_lease_ttl(Duration::ZERO);
    let second = runtime(&store, &clock);
    let tokio = tokio();
    let (id, pause) = waiting(&first, &tokio);
    // The first holder stalls past its (zero) time to live; the second takes the run.
    let mut stalled = load(&first, &tokio, &id).unwrap();
    let mut taker = load(&second, &tokio, &id).unwrap();
    assert!(matches!(load(&first, &tokio, &id), Err(StartError::RunBusy { .. })));
    let approve = Delivery::Approval {
        pause: Some(pause),
        approve: true,
        note: None,
    };
    let err = tokio
        .block_on(stalled.deliver(approve.clone(), &mut VecDeque::new()))
        .unwrap_err();
    assert!(
        matches!(err, RunError::Store(flow_runtime::store::StoreError::Conflict { .. })),
        "{err}"
    );
    assert_eq!(
        resumed_with(store.as_ref(), &id),
        Vec::<String>::new(),
        "nothing of it landed"
    );
    let reject = Delivery::Approval {
        pause: Some(pause),
        approve: false,
        note: None,
    };
    let status = tokio.block_on(taker.deliver(reject, &mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::Completed);
    assert_eq!(outcome(store.as_ref(), &id).as_deref(), Some("rejected"));
    drop((stalled, taker));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reviewers_note_is_recorded_in_the_resumed_event() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = clock();
    let runtime = runtime(&store, &clock);
    let tokio = tokio();
    let (id, pause) = waiting(&runtime, &tokio);
    let approve = Delivery::Approval {
        pause: Some(pause),
        approve: true,
        note: Some("checked the invoice".into()),
    };
    let mut run = load(&runtime, &tokio, &id).unwrap();
    tokio.block_on(run.deliver(approve, &mut VecDeque::new())).unwrap();
    let resumed: Vec<_> = events(store.as_ref(), &id)
        .into_iter()
        .filter(|e| e["type"] == "resumed")
        .collect();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0]["note"], "checked the invoice");
    assert_eq!(resumed[0]["with"], "approve");
}
