//! A human hands a handoff back with values (`Answer::ReturnWith`): they are
//! typed against their variables and set before `on return` is taken.

use flow_runtime::store::MemoryStore;
use flow_runtime::{Answer, Program, RunError, RunOptions, RunStatus, Runtime};
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::sync::Arc;

const WORKFLOW: &str = r#"
workflow desk {
  start desk
}
input customer: string
secret API_TOKEN
var note: string = ""
var credit: int?
handoff desk {
  queue "billing"
  message "Help {{customer}}"
  on return -> done
}
end done {
  say "Back from billing: {{note}} ({{credit ?? 0}})."
  outcome returned
}
"#;

fn run_at_handoff() -> (tokio::runtime::Runtime, flow_runtime::Run) {
    let graph = flow_compiler::compile(WORKFLOW, "desk.flow").graph.expect("compiles");
    let program = Arc::new(Program::new(graph).expect("loads"));
    let runtime = Runtime::new(Arc::new(MemoryStore::new()));
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut inputs = Map::new();
    inputs.insert("customer".into(), json!("Ann"));
    let secrets = [("API_TOKEN".to_string(), "token-123456".to_string())].into();
    let mut run = runtime.start(program, inputs, RunOptions::default(), secrets).unwrap();
    let status = tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::WaitingForHuman);
    (tokio, run)
}

fn values(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

#[test]
fn returned_values_are_set_before_on_return() {
    let (tokio, mut run) = run_at_handoff();
    let answer = Answer::ReturnWith(values(&[("note", json!("refunded")), ("credit", json!(5))]));
    let status = tokio.block_on(run.answer(answer, &mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::Completed);
    assert_eq!(run.state().vars["note"], "refunded");
    assert_eq!(run.state().vars["credit"], 5);
    assert_eq!(
        run.conversation().last().unwrap().text,
        "Back from billing: refunded (5)."
    );
}

#[test]
fn bad_returned_values_are_refused_and_change_nothing() {
    let cases: [(&[(&str, Value)], &str); 4] = [
        (&[("nope", json!("x"))], "unknown variable `nope`"),
        (
            &[("note", json!("ok")), ("credit", json!("five"))],
            "`credit` = \"five\": ",
        ),
        (&[("customer", json!("Bob"))], "`customer` is an input"),
        (&[("API_TOKEN", json!("x"))], "`API_TOKEN` is a secret"),
    ];
    for (given, expected) in cases {
        let (tokio, mut run) = run_at_handoff();
        let before = run.state().clone();
        let err = tokio
            .block_on(run.answer(Answer::ReturnWith(values(given)), &mut VecDeque::new()))
            .unwrap_err();
        let RunError::Answer(why) = err else {
            panic!("not an answer error: {err}")
        };
        assert_eq!(why.class(), flow_runtime::ErrorClass::Invalid, "{why}");
        assert!(why.to_string().contains(expected), "{why}");
        assert_eq!(run.status(), RunStatus::WaitingForHuman);
        assert_eq!(run.state().vars, before.vars, "nothing changed for {given:?}");
        assert_eq!(run.state().next_seq, before.next_seq, "no event for {given:?}");
    }
}
