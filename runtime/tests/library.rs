//! The library API as a host service uses it.

use flow_runtime::store::{MemoryStore, Store};
use flow_runtime::{Answer, AnswerError, ErrorClass, Program, RunError, RunOptions, RunStatus, Runtime, StartError};
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::sync::Arc;

const WORKFLOW: &str = r#"
workflow desk {
  start ask
  model m
}
model m = "openai:gpt-4o-mini"
input limit: int = 3
input customer: string
var order_id: string = ""
var refund: string?
tool issue_refund(order_id: string) -> { id: string } {
  host
}
agent ask {
  "Ask for the order number, {{customer}}."
  extract order_id "the order number"
  when "the customer gave an order number" -> check
}
approval check {
  prompt "Refund order {{order_id}}?"
  on approved -> pay
  on rejected -> end
}
action pay {
  call issue_refund(order_id: order_id)
  set refund = result.id
  on error -> end
  -> done
}
end done {
  say "Refunded {{refund}}."
  outcome refunded
}
"#;

const SCRIPT: &str =
    "[ask]\nreply: Which order?\nextract: {\"order_id\": \"A-7\"}\nchoose: the customer gave an order number\n";

fn program() -> Arc<Program> {
    let graph = flow_compiler::compile(WORKFLOW, "desk.flow").graph.expect("compiles");
    Arc::new(Program::new(graph).expect("loads"))
}

fn options(name: &str) -> RunOptions {
    let path = std::env::temp_dir().join(format!("flow-library-{name}-{}.script", std::process::id()));
    std::fs::write(&path, SCRIPT).unwrap();
    let mut options = RunOptions::default();
    options
        .models
        .insert("m".into(), format!("scripted:{}", path.display()));
    options
}

fn inputs() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("customer".into(), json!("Ana"));
    m
}

fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn runtime(store: Arc<dyn Store>) -> Runtime {
    let mut runtime = Runtime::new(store);
    runtime.register_host_tool("issue_refund", |input: Value| async move {
        Ok(json!({ "id": format!("R-{}", input["order_id"].as_str().unwrap_or("?")) }))
    });
    runtime
}

#[test]
fn an_unregistered_host_tool_refuses_the_run_naming_it() {
    let runtime = Runtime::new(Arc::new(MemoryStore::new()));
    let err = runtime
        .start(program(), inputs(), options("host"), Default::default())
        .unwrap_err();
    assert!(
        matches!(&err, StartError::UnregisteredHostTool { names } if names == &["issue_refund"]),
        "{err}"
    );
    assert!(
        err.to_string().contains("host tool `issue_refund` has no handler"),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Unavailable);
}

#[test]
fn inputs_are_checked_before_the_first_step() {
    let runtime = runtime(Arc::new(MemoryStore::new()));
    let start = |inputs: Map<String, Value>| runtime.start(program(), inputs, options("inputs"), Default::default());
    let err = start(Map::new()).unwrap_err();
    assert!(
        matches!(&err, StartError::MissingInput { name } if name == "customer"),
        "{err}"
    );
    assert_eq!(err.to_string(), "missing input `customer`");
    assert_eq!(err.class(), ErrorClass::Invalid);
    let mut bad = inputs();
    bad.insert("limit".into(), json!("three"));
    let err = start(bad).unwrap_err();
    assert!(
        matches!(&err, StartError::BadInput { name, value, .. } if name == "limit" && value == "three"),
        "{err}"
    );
    assert!(err.to_string().starts_with("input `limit` = \"three\""), "{err}");
    assert_eq!(err.class(), ErrorClass::Invalid);
    let mut unknown = inputs();
    unknown.insert("colour".into(), json!("red"));
    let err = start(unknown).unwrap_err();
    assert!(
        matches!(&err, StartError::UnknownInput { name, known } if name == "colour" && known == &["limit", "customer"]),
        "{err}"
    );
    assert!(err.to_string().contains("unknown input `colour`"), "{err}");
    assert_eq!(err.class(), ErrorClass::Invalid);
}

#[test]
fn a_host_drives_a_run_and_sees_every_event() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let runtime = runtime(Arc::clone(&store));
    let mut events = runtime.subscribe();
    let mut run = runtime
        .start(program(), inputs(), options("drive"), Default::default())
        .unwrap();
    let tokio = tokio();
    let status = tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::WaitingForUser);
    let err = tokio
        .block_on(run.answer(Answer::Approve, &mut VecDeque::new()))
        .unwrap_err();
    assert!(
        matches!(err, RunError::Answer(AnswerError::WaitsForMessage { ref node, .. }) if node == "ask"),
        "{err}"
    );

    let status = tokio.block_on(run.send_message("A-7 please")).unwrap();
    assert_eq!(status, RunStatus::WaitingForApproval);
    let err = tokio.block_on(run.send_message("hello?")).unwrap_err();
    assert!(
        matches!(err, RunError::Answer(AnswerError::NotWaitingForMessage { .. })),
        "{err}"
    );
    assert_eq!(err.class(), flow_runtime::ErrorClass::Conflict);

    // A second holder of the same run is refused while this one holds it.
    let id = run.id().to_string();
    assert!(tokio.block_on(runtime.load(&id, |_| Ok(Default::default()))).is_err());
    drop(run);
    let mut run = tokio.block_on(runtime.load(&id, |_| Ok(Default::default()))).unwrap();
    assert_eq!(run.status(), RunStatus::WaitingForApproval);
    let status = tokio
        .block_on(run.answer(Answer::Approve, &mut VecDeque::new()))
        .unwrap();
    assert_eq!(status, RunStatus::Completed);
    assert_eq!(run.state().outcome.as_deref(), Some("refunded"));
    assert_eq!(run.state().vars["refund"], json!("R-A-7"));

    let mut seqs = Vec::new();
    let mut kinds = Vec::new();
    while let Ok(e) = events.try_recv() {
        seqs.push(e.seq);
        kinds.push(e.kind());
    }
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(kinds.last(), Some(&"run_completed"));
    assert_eq!(kinds.iter().filter(|k| **k == "paused").count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "resumed").count(), 2, "{kinds:?}");
    let stored = tokio.block_on(store.events_after(&id, 0)).unwrap();
    assert_eq!(stored.len(), seqs.len());
}

/// Event exits with `max N` through the library: an approval loop and a
/// handoff loop each go round once; the second time the edge is spent, so the
/// event has no exit: the run fails naming the node and the edge, after a
/// `bound_spent` event.
#[test]
fn a_spent_event_exit_fails_the_run_naming_the_edge() {
    const LOOPS: &str = r#"
workflow loops {
  start review
  model m
}
model m = "openai:gpt-4o-mini"
approval review {
  prompt "Again?"
  on approved -> review max 1
  on rejected -> desk
}
handoff desk {
  queue "q"
  on return -> desk max 1
}
"#;
    let graph = flow_compiler::compile(LOOPS, "loops.flow").graph.expect("compiles");
    let program = Arc::new(Program::new(graph).expect("loads"));
    let tokio = tokio();
    for (answers, node, edge) in [
        (vec![Answer::Approve], "review", "review.0"),
        (vec![Answer::Reject, Answer::Return], "desk", "desk.0"),
    ] {
        let runtime = Runtime::new(Arc::new(MemoryStore::new()));
        let mut events = runtime.subscribe();
        let mut run = runtime
            .start(Arc::clone(&program), Map::new(), options("loops"), Default::default())
            .unwrap();
        let mut status = tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
        for answer in answers {
            assert_ne!(status, RunStatus::Failed);
            status = tokio.block_on(run.answer(answer, &mut VecDeque::new())).unwrap();
        }
        // Round once more: the loop edge is spent now.
        let last = if node == "review" {
            Answer::Approve
        } else {
            Answer::Return
        };
        let status = tokio.block_on(run.answer(last, &mut VecDeque::new())).unwrap();
        assert_eq!(status, RunStatus::Failed, "{node}");
        let error = run.state().error.clone().unwrap_or_default();
        assert!(
            error.contains(&format!("`{edge}`")) && error.contains("is spent (max 1)"),
            "{error}"
        );
        let mut spent = Vec::new();
        while let Ok(e) = events.try_recv() {
            if let flow_runtime::event::EventBody::BoundSpent { node, edge } = &e.body {
                spent.push((node.clone(), edge.clone()));
            }
        }
        assert_eq!(spent, [(node.to_string(), edge.to_string())]);
    }
}
