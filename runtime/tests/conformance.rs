//! The store conformance suite: what every backend of `flow_runtime::store::Store`
//! must do, run against each of them (`conformance::memory::…`,
//! `conformance::sqlite::…`). A new backend adds one line to `backends!`.
//!
//! "Crash" is each backend's own: the SQLite store is closed and opened
//! again (its process-lifetime lock goes, as when a process dies), the memory
//! store keeps its data and the crashed holder's lease simply lapses.

use flow_runtime::event::{Event, EventBody};
use flow_runtime::state::{ChatMessage, RunState};
use flow_runtime::store::{
    Checkpoint, Delivery, Lease, MemoryStore, Origin, RunRecord, SqliteStore, Store, StoreError, Timer, TimerChange,
};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(30);

/// A backend under test.
trait Backend {
    /// The store as it is now.
    fn store(&self) -> Arc<dyn Store>;
    /// The store as a new process finds it after the holder's process died.
    fn after_crash(&mut self) -> Arc<dyn Store>;
    /// Whether a crashed holder's lease is free at once (else it lapses with its time to live).
    fn sees_death(&self) -> bool;
}

struct Memory(MemoryStore);

impl Backend for Memory {
    fn store(&self) -> Arc<dyn Store> {
        Arc::new(self.0.clone())
    }
    fn after_crash(&mut self) -> Arc<dyn Store> {
        self.store()
    }
    fn sees_death(&self) -> bool {
        false
    }
}

struct Sqlite {
    path: PathBuf,
    store: Option<Arc<dyn Store>>,
}

impl Sqlite {
    fn new() -> Sqlite {
        let dir = std::env::temp_dir().join(format!("flow-conformance-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("runs.sqlite");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        Sqlite {
            path,
            store: Some(store),
        }
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        self.store = None;
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Backend for Sqlite {
    fn store(&self) -> Arc<dyn Store> {
        Arc::clone(self.store.as_ref().unwrap())
    }
    fn after_crash(&mut self) -> Arc<dyn Store> {
        self.store = None;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&self.path).unwrap());
        self.store = Some(Arc::clone(&store));
        store
    }
    fn sees_death(&self) -> bool {
        true
    }
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn state(run_id: &str, node: &str, next_seq: u64) -> RunState {
    serde_json::from_value(json!({
        "run_id": run_id, "workflow": "w", "status": "running",
        "position": {"at": "enter", "node": node},
        "vars": {"n": next_seq}, "edge_counts": {}, "steps": next_seq, "turns": 0,
        "llm_calls": {}, "tool_calls": {}, "companions": [], "next_seq": next_seq,
        "outcome": null, "error": null,
        "created": "2026-01-05T09:00:00Z", "updated": "2026-01-05T09:00:00Z"
    }))
    .unwrap()
}

fn events(run_id: &str, seqs: std::ops::Range<u64>) -> Vec<Event> {
    seqs.map(|seq| Event {
        run_id: run_id.into(),
        seq,
        ts: "2026-01-05T09:00:00Z".into(),
        body: EventBody::Message {
            node: "a".into(),
            role: "agent".into(),
            text: format!("event {seq}"),
        },
    })
    .collect()
}

fn record(run_id: &str) -> RunRecord {
    RunRecord {
        run_id: run_id.into(),
        workflow: "w".into(),
        graph_hash: "h1".into(),
        options: json!({}),
        origin: Origin::default(),
    }
}

/// A checkpoint of `state` with `events`, following `follows`, changing nothing else.
fn step<'a>(state: &'a RunState, events: &'a [Event], follows: u64) -> Checkpoint<'a> {
    Checkpoint {
        state,
        follows,
        events,
        messages: &[],
        first_message: 0,
        timer: TimerChange::Keep,
        consumed: None,
        create: None,
    }
}

/// Creates run `id` under a new lease of `owner` with events 1 and 2 and one message.
fn create(store: &dyn Store, id: &str, owner: &str) -> Lease {
    let lease = Lease::new_run(id, owner, TTL);
    let st = state(id, "a", 3);
    let evs = events(id, 1..3);
    let rec = record(id);
    let msgs = [ChatMessage {
        role: "assistant".into(),
        text: "hello".into(),
        tool_calls: Vec::new(),
        tool_call_id: None,
        node: "a".into(),
    }];
    let cp = Checkpoint {
        messages: &msgs,
        create: Some((&rec, r#"{"graph": true}"#)),
        ..step(&st, &evs, 0)
    };
    block(store.commit(&lease, &cp)).unwrap();
    lease
}

fn seqs(store: &dyn Store, id: &str, after: u64) -> Vec<u64> {
    block(store.events_after(id, after))
        .unwrap()
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

fn is_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict { .. })
}

fn a_created_run_loads_as_committed(b: &mut dyn Backend) {
    let store = b.store();
    create(store.as_ref(), "r1", "a");
    let run = block(store.load("r1")).unwrap().expect("stored");
    assert_eq!(run.version, 1);
    assert_eq!(run.state, state("r1", "a", 3));
    assert_eq!(run.messages.len(), 1);
    assert_eq!(run.record, record("r1"));
    assert_eq!(block(store.graph("h1")).unwrap().as_deref(), Some(r#"{"graph": true}"#));
    let list = block(store.list()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].run_id.as_str(), list[0].status.as_str()), ("r1", "running"));
    assert!(block(store.load("nope")).unwrap().is_none());
    assert!(matches!(
        block(store.acquire("nope", "a", TTL)),
        Err(StoreError::NotFound { .. })
    ));
    // Creating it again is refused.
    let again = Lease::new_run("r1", "b", TTL);
    let st = state("r1", "a", 1);
    let rec = record("r1");
    let cp = Checkpoint {
        create: Some((&rec, "{}")),
        ..step(&st, &[], 0)
    };
    assert!(is_conflict(&block(store.commit(&again, &cp)).unwrap_err()));
}

fn a_held_lease_refuses_another_owner(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    assert!(matches!(
        block(store.acquire("r1", "b", TTL)),
        Err(StoreError::Busy { .. })
    ));
    let a = block(store.renew(&a, TTL)).unwrap();
    block(store.release(&a)).unwrap();
    let b_lease = block(store.acquire("r1", "b", TTL)).unwrap();
    assert!(b_lease.epoch > a.epoch, "{b_lease:?} after {a:?}");
    assert!(is_conflict(&block(store.renew(&a, TTL)).unwrap_err()));
    assert!(matches!(
        block(store.acquire("r1", "a", TTL)),
        Err(StoreError::Busy { .. })
    ));
}

fn a_commit_under_a_stolen_lease_is_refused_and_changes_nothing(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    // A's lease lapses (it stalled past its time to live); B takes the run.
    let a = block(store.renew(&a, Duration::ZERO)).unwrap();
    let b_lease = block(store.acquire("r1", "b", TTL)).unwrap();
    let st = state("r1", "x", 4);
    let evs = events("r1", 3..4);
    let err = block(store.commit(&a, &step(&st, &evs, 1))).unwrap_err();
    assert!(is_conflict(&err), "{err}");
    let run = block(store.load("r1")).unwrap().unwrap();
    assert_eq!((run.version, run.state.node()), (1, "a"));
    assert_eq!(seqs(store.as_ref(), "r1", 0), vec![1, 2]);
    // The new holder commits.
    block(store.commit(&b_lease, &step(&st, &evs, 1))).unwrap();
    assert_eq!(seqs(store.as_ref(), "r1", 0), vec![1, 2, 3]);
}

fn a_commit_that_does_not_follow_the_stored_version_is_refused(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    let st = state("r1", "b", 4);
    let evs = events("r1", 3..4);
    block(store.commit(&a, &step(&st, &evs, 1))).unwrap();
    // The same step again (a holder that did not hear its commit landed).
    let err = block(store.commit(&a, &step(&st, &evs, 1))).unwrap_err();
    assert!(is_conflict(&err), "{err}");
    let st2 = state("r1", "c", 4);
    let err = block(store.commit(&a, &step(&st2, &[], 7))).unwrap_err();
    assert!(is_conflict(&err), "{err}");
    let run = block(store.load("r1")).unwrap().unwrap();
    assert_eq!((run.version, run.state.node()), (2, "b"));
    assert_eq!(seqs(store.as_ref(), "r1", 0), vec![1, 2, 3]);
}

fn events_after_a_seq_come_in_order(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    let st = state("r1", "b", 6);
    let evs = events("r1", 3..6);
    block(store.commit(&a, &step(&st, &evs, 1))).unwrap();
    assert_eq!(seqs(store.as_ref(), "r1", 0), vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs(store.as_ref(), "r1", 2), vec![3, 4, 5]);
    assert_eq!(seqs(store.as_ref(), "r1", 5), Vec::<u64>::new());
    assert_eq!(seqs(store.as_ref(), "other", 0), Vec::<u64>::new());
    // A gap or a repeated seq is refused.
    let st = state("r1", "c", 8);
    let evs = events("r1", 5..6);
    assert!(block(store.commit(&a, &step(&st, &evs, 2))).is_err());
    assert_eq!(seqs(store.as_ref(), "r1", 0), vec![1, 2, 3, 4, 5]);
}

fn commits_submitted_back_to_back_apply_in_order(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    let (s2, s3) = (state("r1", "b", 4), state("r1", "c", 5));
    let (e2, e3) = (events("r1", 3..4), events("r1", 4..5));
    // The second is handed over before the first is known to be durable.
    let first = store.submit(&a, &step(&s2, &e2, 1));
    let second = store.submit(&a, &step(&s3, &e3, 2));
    // And one that follows a version that will not exist is refused alone.
    let stale = store.submit(&a, &step(&s3, &e3, 2));
    block(async {
        first.await.unwrap();
        second.await.unwrap();
        assert!(is_conflict(&stale.await.unwrap_err()));
    });
    let run = block(store.load("r1")).unwrap().unwrap();
    assert_eq!((run.version, run.state.node()), (3, "c"));
    assert_eq!(seqs(store.as_ref(), "r1", 0), vec![1, 2, 3, 4]);
}

fn timer(run_id: &str, due_ms: i64) -> Timer {
    Timer {
        run_id: run_id.into(),
        node: "approve".into(),
        pause: 2,
        due_ms,
    }
}

fn timers_are_due_from_their_time_and_cleared_by_a_step(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    let c = create(store.as_ref(), "r2", "a");
    let st = state("r1", "a", 3);
    let set = |t: Timer, follows: u64| Checkpoint {
        timer: TimerChange::Set(t),
        ..step(&st, &[], follows)
    };
    block(store.commit(&a, &set(timer("r1", 2_000), 1))).unwrap();
    let st2 = state("r2", "a", 3);
    let cp = Checkpoint {
        timer: TimerChange::Set(timer("r2", 1_000)),
        ..step(&st2, &[], 1)
    };
    block(store.commit(&c, &cp)).unwrap();
    assert_eq!(block(store.due_timers(999)).unwrap(), vec![]);
    assert_eq!(block(store.due_timers(1_000)).unwrap(), vec![timer("r2", 1_000)]);
    assert_eq!(
        block(store.due_timers(5_000)).unwrap(),
        vec![timer("r2", 1_000), timer("r1", 2_000)]
    );
    // Replaced, then cleared, each in its step's commit; a step that keeps it leaves it.
    block(store.commit(&a, &set(timer("r1", 9_000), 2))).unwrap();
    assert_eq!(block(store.due_timers(5_000)).unwrap(), vec![timer("r2", 1_000)]);
    block(store.commit(&a, &step(&st, &[], 3))).unwrap();
    assert_eq!(block(store.due_timers(9_000)).unwrap().len(), 2);
    let cp = Checkpoint {
        timer: TimerChange::Clear,
        ..step(&st, &[], 4)
    };
    block(store.commit(&a, &cp)).unwrap();
    assert_eq!(block(store.due_timers(i64::MAX)).unwrap(), vec![timer("r2", 1_000)]);
    // A refused commit does not set its timer.
    let cp = Checkpoint {
        timer: TimerChange::Set(timer("r1", 1)),
        ..step(&st, &[], 1)
    };
    assert!(block(store.commit(&a, &cp)).is_err());
    assert_eq!(block(store.due_timers(i64::MAX)).unwrap().len(), 1);
}

fn the_inbox_keeps_order_and_a_commit_consumes_it(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    let posts = [
        Delivery::Approval {
            pause: Some(2),
            approve: true,
            note: Some("looks right".into()),
        },
        Delivery::Timeout { pause: 2 },
        Delivery::Message { text: "hi".into() },
    ];
    let mut seqs_posted = Vec::new();
    for d in &posts {
        seqs_posted.push(block(store.post("r1", d)).unwrap());
    }
    assert!(seqs_posted.windows(2).all(|w| w[0] < w[1]), "{seqs_posted:?}");
    let inbox = block(store.inbox("r1")).unwrap();
    assert_eq!(inbox.iter().map(|p| p.delivery.clone()).collect::<Vec<_>>(), posts);
    assert!(matches!(
        block(store.post("nope", &posts[0])),
        Err(StoreError::NotFound { .. })
    ));
    // A refused commit consumes nothing; a committed one up to its seq.
    let st = state("r1", "a", 3);
    let cp = Checkpoint {
        consumed: Some(seqs_posted[1]),
        ..step(&st, &[], 9)
    };
    assert!(block(store.commit(&a, &cp)).is_err());
    assert_eq!(block(store.inbox("r1")).unwrap().len(), 3);
    let cp = Checkpoint {
        consumed: Some(seqs_posted[1]),
        ..step(&st, &[], 1)
    };
    block(store.commit(&a, &cp)).unwrap();
    let left = block(store.inbox("r1")).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].seq, &left[0].delivery), (seqs_posted[2], &posts[2]));
    // Posting goes on after the consumed ones, never reusing a seq.
    let next = block(store.post("r1", &posts[0])).unwrap();
    assert!(next > seqs_posted[2]);
}

fn a_crash_between_two_commits_keeps_the_first_whole(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    let st = state("r1", "b", 5);
    let evs = events("r1", 3..5);
    block(store.commit(&a, &step(&st, &evs, 1))).unwrap();
    // The holder dies before its next commit.
    let lapse = !b.sees_death();
    if lapse {
        block(store.renew(&a, Duration::ZERO)).unwrap();
    }
    drop(store);
    let store = b.after_crash();
    let run = block(store.load("r1")).unwrap().unwrap();
    assert_eq!((run.version, run.state.node()), (2, "b"));
    assert_eq!(seqs(store.as_ref(), "r1", 0), vec![1, 2, 3, 4]);
    // Another holder takes it at once and goes on from there; the dead one cannot write.
    let b_lease = block(store.acquire("r1", "b", TTL)).unwrap();
    let st = state("r1", "c", 6);
    let evs = events("r1", 5..6);
    assert!(is_conflict(&block(store.commit(&a, &step(&st, &evs, 2))).unwrap_err()));
    block(store.commit(&b_lease, &step(&st, &evs, 2))).unwrap();
    assert_eq!(seqs(store.as_ref(), "r1", 4), vec![5]);
}

#[path = "conformance/queries.rs"]
mod queries;
use queries::*;

/// The suite for one backend: every case, named `conformance::BACKEND::CASE`.
macro_rules! suite {
    ($backend:ident, $make:expr) => {
        pub mod $backend {
            #[test]
            fn a_created_run_loads_as_committed() {
                crate::a_created_run_loads_as_committed(&mut $make);
            }
            #[test]
            fn a_held_lease_refuses_another_owner() {
                crate::a_held_lease_refuses_another_owner(&mut $make);
            }
            #[test]
            fn a_commit_under_a_stolen_lease_is_refused_and_changes_nothing() {
                crate::a_commit_under_a_stolen_lease_is_refused_and_changes_nothing(&mut $make);
            }
            #[test]
            fn a_commit_that_does_not_follow_the_stored_version_is_refused() {
                crate::a_commit_that_does_not_follow_the_stored_version_is_refused(&mut $make);
            }
            #[test]
            fn events_after_a_seq_come_in_order() {
                crate::events_after_a_seq_come_in_order(&mut $make);
            }
            #[test]
            fn timers_are_due_from_their_time_and_cleared_by_a_step() {
                crate::timers_are_due_from_their_time_and_cleared_by_a_step(&mut $make);
            }
            #[test]
            fn the_inbox_keeps_order_and_a_commit_consumes_it() {
                crate::the_inbox_keeps_order_and_a_commit_consumes_it(&mut $make);
            }
            #[test]
            fn commits_submitted_back_to_back_apply_in_order() {
                crate::commits_submitted_back_to_back_apply_in_order(&mut $make);
            }
            #[test]
            fn a_crash_between_two_commits_keeps_the_first_whole() {
                crate::a_crash_between_two_commits_keeps_the_first_whole(&mut $make);
            }
            #[test]
            fn runs_are_queried_newest_first_by_origin_and_status() {
                crate::runs_are_queried_newest_first_by_origin_and_status(&mut $make);
            }
            #[test]
            fn a_pause_at_an_approval_is_pending_until_answered() {
                crate::a_pause_at_an_approval_is_pending_until_answered(&mut $make);
            }
            #[test]
            fn only_a_finished_run_is_deleted() {
                crate::only_a_finished_run_is_deleted(&mut $make);
            }
        }
    };
}

mod conformance {
    suite!(memory, crate::Memory(crate::MemoryStore::new()));
    suite!(sqlite, crate::Sqlite::new());
}
