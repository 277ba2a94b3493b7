//! The conformance cases of queries: runs listed by origin and status, the
//! pending pause, deletion of finished runs.

use super::*;
use flow_runtime::RunStatus;
use flow_runtime::store::{RunMode, RunQuery, TriggerKind};

/// Creates run `id` of `workflow` with an origin, in `status`.
fn create_as(store: &dyn Store, id: &str, workflow: &str, origin: Origin, status: &str) -> Lease {
    let lease = Lease::new_run(id, "a", TTL);
    let mut st = state(id, "a", 1);
    st.workflow = workflow.into();
    st.status = serde_json::from_value(json!(status)).unwrap();
    let rec = RunRecord {
        workflow: workflow.into(),
        origin,
        ..record(id)
    };
    let cp = Checkpoint {
        create: Some((&rec, "{}")),
        ..step(&st, &[], 0)
    };
    block(store.commit(&lease, &cp)).unwrap();
    lease
}

fn ids(rows: &[flow_runtime::store::RunRow]) -> Vec<&str> {
    rows.iter().map(|r| r.record.run_id.as_str()).collect()
}

pub fn runs_are_queried_newest_first_by_origin_and_status(b: &mut dyn Backend) {
    let store = b.store();
    let api = |mode, revision| Origin {
        mode,
        trigger: TriggerKind::Api,
        trigger_id: Some("key1".into()),
        revision: Some(revision),
    };
    create_as(store.as_ref(), "r1", "w", Origin::default(), "completed");
    create_as(store.as_ref(), "r2", "w", api(RunMode::Live, 2), "waiting_for_user");
    create_as(store.as_ref(), "r3", "other", api(RunMode::Test, 1), "waiting_for_user");
    create_as(store.as_ref(), "r4", "w", api(RunMode::Test, 3), "failed");
    let all = |q: RunQuery| block(store.query(&RunQuery { limit: 10, ..q })).unwrap();
    let every = all(RunQuery::default());
    assert_eq!(ids(&every), ["r4", "r3", "r2", "r1"]);
    assert!(every.windows(2).all(|w| w[0].position > w[1].position));
    let r2 = &every[2];
    assert_eq!(r2.record.origin, api(RunMode::Live, 2));
    assert_eq!(r2.state.status, RunStatus::WaitingForUser);
    assert_eq!(every[3].record.origin, Origin::default());
    let q = |workflow: Option<&str>, statuses: Vec<RunStatus>, mode| RunQuery {
        workflow: workflow.map(str::to_string),
        statuses,
        mode,
        ..RunQuery::default()
    };
    assert_eq!(ids(&all(q(Some("w"), vec![], None))), ["r4", "r2", "r1"]);
    assert_eq!(ids(&all(q(None, vec![], Some(RunMode::Test)))), ["r4", "r3"]);
    assert_eq!(ids(&all(q(None, vec![], Some(RunMode::Live)))), ["r2", "r1"]);
    let waiting = q(None, vec![RunStatus::WaitingForUser, RunStatus::Failed], None);
    assert_eq!(ids(&all(waiting)), ["r4", "r3", "r2"]);
    let not_cli = RunQuery {
        not_trigger: Some(TriggerKind::Cli),
        ..RunQuery::default()
    };
    assert_eq!(ids(&all(not_cli)), ["r4", "r3", "r2"]);
    // A page and the next one, by position.
    let first = block(store.query(&RunQuery {
        limit: 2,
        ..RunQuery::default()
    }))
    .unwrap();
    assert_eq!(ids(&first), ["r4", "r3"]);
    let next = all(RunQuery {
        before: Some(first[1].position),
        ..RunQuery::default()
    });
    assert_eq!(ids(&next), ["r2", "r1"]);
    // The origin loads with the run.
    assert_eq!(
        block(store.load("r3")).unwrap().unwrap().record.origin,
        api(RunMode::Test, 1)
    );
}

pub fn a_pause_at_an_approval_is_pending_until_answered(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    let mut st = state("r1", "ok", 4);
    st.status = RunStatus::WaitingForApproval;
    let paused = Event {
        run_id: "r1".into(),
        seq: 3,
        ts: "2026-01-05T09:00:01Z".into(),
        body: EventBody::Paused {
            node: "ok".into(),
            state: "waiting_for_approval".into(),
            queue: None,
            message: None,
            prompt: Some("Refund 900?".into()),
            deadline: Some(json!("2026-01-05T10:00:00Z")),
        },
    };
    block(store.commit(&a, &step(&st, std::slice::from_ref(&paused), 1))).unwrap();
    let pending = block(store.load("r1")).unwrap().unwrap().pending.expect("pending");
    assert_eq!(pending, paused.to_json());
    // A step that changes nothing about the pause (a refused answer) keeps it.
    block(store.commit(&a, &step(&st, &[], 2))).unwrap();
    let rows = block(store.query(&RunQuery {
        statuses: vec![RunStatus::WaitingForApproval],
        limit: 5,
        ..RunQuery::default()
    }))
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].pending.as_ref(), Some(&paused.to_json()));
    // Once it runs on, nothing is pending.
    st.status = RunStatus::Running;
    block(store.commit(&a, &step(&st, &[], 3))).unwrap();
    assert_eq!(block(store.load("r1")).unwrap().unwrap().pending, None);
}

pub fn only_a_finished_run_is_deleted(b: &mut dyn Backend) {
    let store = b.store();
    let a = create(store.as_ref(), "r1", "a");
    assert!(!block(store.delete_finished("r1")).unwrap());
    assert!(block(store.load("r1")).unwrap().is_some());
    let mut st = state("r1", "a", 3);
    st.status = RunStatus::Completed;
    block(store.commit(&a, &step(&st, &[], 1))).unwrap();
    block(store.post("r1", &Delivery::Message { text: "late".into() })).unwrap();
    assert!(block(store.delete_finished("r1")).unwrap());
    assert!(block(store.load("r1")).unwrap().is_none());
    assert!(seqs(store.as_ref(), "r1", 0).is_empty());
    assert!(block(store.inbox("r1")).unwrap().is_empty());
    assert!(matches!(
        block(store.delete_finished("r1")),
        Err(StoreError::NotFound { .. })
    ));
}
