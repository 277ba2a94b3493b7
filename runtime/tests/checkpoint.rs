//! Checkpoints that do not grow with the run's length, and loaded checkpoints
//! checked against their graph (unknown ids refused at load, old extra counts
//! dropped).

use flow_runtime::store::{Checkpoint, MemoryStore, Store};
use flow_runtime::{Answer, Program, RunStatus, Runtime};
use std::collections::VecDeque;
use std::sync::Arc;

/// `n` actions in a line, each counting, then an end.
fn chain(n: usize) -> Arc<Program> {
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
    let graph = flow_compiler::compile(&source, "chain.flow").graph.expect("compiles");
    Arc::new(Program::new(graph).expect("loads"))
}

const DESK: &str = r#"
workflow desk {
  start count
}
var n: int = 0
action count {
  set n = n + 1
  -> again
}
route again {
  if n < 3 -> count max 5
  else -> human
}
handoff human {
  queue "desk"
  on return -> done
}
end done {
  outcome ok
}
"#;

fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The stored state's JSON after running a chain of `n` actions to its end.
fn chain_state_json(n: usize) -> String {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let runtime = Runtime::new(Arc::clone(&store));
    let mut run = runtime
        .start(chain(n), Default::default(), Default::default(), Default::default())
        .unwrap();
    let status = tokio().block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::Completed, "{:?}", run.state().error);
    assert_eq!(run.state().steps, n as u64 + 1);
    let stored = tokio().block_on(store.load(run.id())).unwrap().expect("stored");
    serde_json::to_string(&stored.state).unwrap()
}

#[test]
fn a_long_chain_checkpoints_no_more_than_a_short_one() {
    let short = chain_state_json(20);
    let long = chain_state_json(2_000);
    // Only the numbers differ: `n`, `steps` and `next_seq` have two more digits each.
    assert!(
        long.len() <= short.len() + 8,
        "a 2,000-node chain's state is {} bytes, a 20-node chain's {}:\n{long}",
        long.len(),
        short.len()
    );
    let state: serde_json::Value = serde_json::from_str(&long).unwrap();
    assert_eq!(
        state["edge_counts"],
        serde_json::json!({}),
        "no unbounded edge is counted"
    );
}

/// Runs the desk to its handoff and hands back the store, the runtime and the run's id.
fn paused_desk() -> (Arc<dyn Store>, Runtime, String, Arc<Program>) {
    let graph = flow_compiler::compile(DESK, "desk.flow").graph.expect("compiles");
    let program = Arc::new(Program::new(graph).expect("loads"));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let runtime = Runtime::new(Arc::clone(&store));
    let mut run = runtime
        .start(
            Arc::clone(&program),
            Default::default(),
            Default::default(),
            Default::default(),
        )
        .unwrap();
    let status = tokio().block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::WaitingForHuman);
    let bounded = program
        .graph
        .edges
        .iter()
        .find(|e| e.max_traversals.is_some())
        .expect("a bounded edge");
    assert_eq!(
        run.state().edge_counts.keys().collect::<Vec<_>>(),
        vec![&bounded.id],
        "only the bounded edge is counted"
    );
    assert_eq!(run.state().edge_counts[&bounded.id], 2);
    let id = run.id().to_string();
    (store, runtime, id, program)
}

/// Rewrites a stored run's state in place, as an older runtime or a damaged store might have left it.
fn rewrite(store: &dyn Store, id: &str, change: impl FnOnce(&mut flow_runtime::RunState)) {
    let tokio = tokio();
    let stored = tokio.block_on(store.load(id)).unwrap().expect("stored");
    let mut state = stored.state;
    change(&mut state);
    let lease = tokio
        .block_on(store.acquire(id, "tamperer", std::time::Duration::from_secs(30)))
        .unwrap();
    tokio
        .block_on(store.commit(
            &lease,
            &Checkpoint {
                state: &state,
                follows: stored.version,
                events: &[],
                messages: &[],
                first_message: stored.messages.len(),
                timer: Default::default(),
                consumed: None,
                create: None,
            },
        ))
        .unwrap();
    tokio.block_on(store.release(&lease)).unwrap();
}

#[test]
fn an_old_checkpoint_counting_every_edge_still_loads() {
    let (store, runtime, id, program) = paused_desk();
    let every: Vec<String> = program.graph.edges.iter().map(|e| e.id.clone()).collect();
    rewrite(store.as_ref(), &id, |state| {
        for edge in &every {
            *state.edge_counts.entry(edge.clone()).or_insert(0) += 1;
        }
    });
    let mut run = tokio()
        .block_on(runtime.load(&id, |_| Ok(Default::default())))
        .expect("an old checkpoint loads");
    let bounded: Vec<&String> = run.state().edge_counts.keys().collect();
    assert_eq!(
        bounded.len(),
        1,
        "the counts of unbounded edges are dropped: {bounded:?}"
    );
    assert_eq!(
        run.state().edge_counts.values().next(),
        Some(&3),
        "the bounded count is kept"
    );
    let status = tokio()
        .block_on(run.answer(Answer::Return, &mut VecDeque::new()))
        .unwrap();
    assert_eq!(status, RunStatus::Completed);
}

#[test]
fn a_checkpoint_at_an_unknown_node_is_refused_at_load_naming_it() {
    let (store, runtime, id, _) = paused_desk();
    rewrite(store.as_ref(), &id, |state| {
        state.position = flow_runtime::state::Position::Waiting {
            node: "ghost".into(),
            paused: true,
            deadline: None,
        };
    });
    let err = tokio()
        .block_on(runtime.load(&id, |_| Ok(Default::default())))
        .unwrap_err()
        .to_string();
    assert!(err.contains("node `ghost`") && err.contains(&id), "{err}");
}

#[test]
fn a_checkpoint_counting_an_unknown_edge_is_refused_at_load_naming_it() {
    let (store, runtime, id, _) = paused_desk();
    rewrite(store.as_ref(), &id, |state| {
        state.edge_counts.insert("nowhere.7".into(), 1);
    });
    let err = tokio()
        .block_on(runtime.load(&id, |_| Ok(Default::default())))
        .unwrap_err()
        .to_string();
    assert!(err.contains("edge `nowhere.7`"), "{err}");
    rewrite(store.as_ref(), &id, |state| {
        state.edge_counts.remove("nowhere.7");
        state.companions.push("gone.1".into());
    });
    let err = tokio()
        .block_on(runtime.load(&id, |_| Ok(Default::default())))
        .unwrap_err()
        .to_string();
    assert!(err.contains("companion edge `gone.1`"), "{err}");
}
