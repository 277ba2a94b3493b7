//! The runtime's errors as a host meets them: typed, matchable, each with the
//! class a server answers with, and naming what was wrong.

use flow_runtime::store::{MemoryStore, SqliteStore, Store};
use flow_runtime::{
    AnswerError, ErrorClass, FailureKind, Program, RunError, RunOptions, RunStatus, Runtime, StartError, StepFailure,
    parse_model_replacement, secrets_from_env,
};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

const WORKFLOW: &str = r#"
workflow desk {
  start ask
  model fast
}
model fast = "openai:gpt-4o-mini"
model deep = "anthropic:claude-sonnet-4-5"
input name: string
input age: int
input tier: "day_pass" | "member" = "day_pass"
input note: string?
secret FLOW_ERRORS_TEST_TOKEN_UNSET
agent ask {
  "Ask {{name}} what they need."
  -> done
}
end done {
  outcome done
}
"#;

fn program() -> Arc<Program> {
    let graph = flow_compiler::compile(WORKFLOW, "desk.flow").graph.expect("compiles");
    Arc::new(Program::new(graph).expect("loads"))
}

#[test]
fn inputs_given_as_text_are_typed_by_their_declaration() {
    let program = program();
    assert_eq!(
        program.coerce_input("name", "42").unwrap(),
        json!("42"),
        "a string stays text"
    );
    assert_eq!(program.coerce_input("age", "42").unwrap(), json!(42), "an int is JSON");
    assert_eq!(
        program.coerce_input("tier", "member").unwrap(),
        json!("member"),
        "an enum of strings"
    );
    assert_eq!(
        program.coerce_input("note", "null").unwrap(),
        Value::Null,
        "null for an optional"
    );
    assert_eq!(program.coerce_input("note", "hi").unwrap(), json!("hi"));

    let err = program.coerce_input("age", "abc").unwrap_err();
    assert!(
        matches!(&err, StartError::InputNotJson { name, value, .. } if name == "age" && value == "abc"),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Invalid);

    let err = program.coerce_input("nickname", "Al").unwrap_err();
    let StartError::UnknownInput { name, known } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(name, "nickname");
    assert_eq!(known, &["name", "age", "tier", "note"]);
    assert_eq!(
        err.to_string(),
        "unknown input `nickname` (the workflow's inputs: name, age, tier, note)"
    );

    let inputs = program.parse_inputs(&["name=Al", "age=40"]).unwrap();
    assert_eq!(Value::Object(inputs), json!({"name": "Al", "age": 40}));
    let err = program.parse_inputs(&["name=Al", "name=Bo"]).unwrap_err();
    assert!(
        matches!(&err, StartError::DuplicateInput { name } if name == "name"),
        "{err:?}"
    );
    let err = program.parse_inputs(&["name"]).unwrap_err();
    assert!(
        matches!(&err, StartError::InputSyntax { text } if text == "name"),
        "{err:?}"
    );
}

#[test]
fn an_ill_typed_input_is_refused_when_the_run_starts() {
    let runtime = Runtime::new(Arc::new(MemoryStore::new()));
    let mut inputs = Map::new();
    inputs.insert("name".into(), json!("Al"));
    inputs.insert("age".into(), json!(12.5));
    let err = runtime
        .start(program(), inputs, RunOptions::default(), HashMap::new())
        .unwrap_err();
    let StartError::BadInput { name, value, reason } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((name.as_str(), value), ("age", &json!(12.5)));
    assert!(!reason.is_empty());
    assert_eq!(err.class(), ErrorClass::Invalid);
}

#[test]
fn model_replacements_are_parsed_against_the_groups() {
    let program = program();
    assert_eq!(
        parse_model_replacement("fast=openai:gpt-4o").unwrap(),
        ("fast".to_string(), "openai:gpt-4o".to_string())
    );
    for bad in ["fast", "fast=openai", "openai:gpt-4o"] {
        let err = parse_model_replacement(bad).unwrap_err();
        assert!(
            matches!(&err, StartError::BadModelReplacement { text } if text == bad),
            "{bad}: {err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Invalid);
    }
    let err = parse_model_replacement("fast=scripted:/no/such/script").unwrap_err();
    assert!(
        matches!(&err, StartError::ScriptNotFound { path } if path == "/no/such/script"),
        "{err:?}"
    );
    let script = std::env::temp_dir().join(format!("flow-errors-{}.script", std::process::id()));
    std::fs::write(&script, "[*]\nreply: hi\n").unwrap();
    let (_, spec) = parse_model_replacement(&format!("fast=scripted:{}", script.display())).unwrap();
    assert!(
        spec.strip_prefix("scripted:")
            .is_some_and(|p| std::path::Path::new(p).is_absolute()),
        "{spec}"
    );

    let all = program.model_replacements(&["*=openai:gpt-4o"]).unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), ["deep", "fast"]);
    let err = program.model_replacements(&["slow=openai:gpt-4o"]).unwrap_err();
    let StartError::UnknownModelGroup { group, known } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(group, "slow");
    assert_eq!(known, &["fast", "deep"], "in declaration order");
    assert_eq!(err.class(), ErrorClass::Invalid);
}

#[test]
fn missing_and_short_secrets_are_named() {
    let program = program();
    let err = secrets_from_env(&program).unwrap_err();
    assert!(
        matches!(&err, StartError::MissingSecrets { names } if names == &["FLOW_ERRORS_TEST_TOKEN_UNSET"]),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Unavailable);

    if std::env::var_os(flow_runtime::secrets::ALLOW_SHORT_SECRETS).is_none() {
        let runtime = Runtime::new(Arc::new(MemoryStore::new()));
        let mut inputs = Map::new();
        inputs.insert("name".into(), json!("Al"));
        inputs.insert("age".into(), json!(40));
        let secrets = HashMap::from([("FLOW_ERRORS_TEST_TOKEN_UNSET".to_string(), "abc".to_string())]);
        let err = runtime
            .start(program, inputs, RunOptions::default(), secrets)
            .unwrap_err();
        assert!(
            matches!(&err, StartError::ShortSecrets { names } if names == &["FLOW_ERRORS_TEST_TOKEN_UNSET"]),
            "{err:?}"
        );
        assert!(!err.to_string().contains("abc"), "the value is never said: {err}");
    }
}

#[test]
fn an_unknown_run_is_not_found_and_a_held_one_is_busy() {
    let dir = std::env::temp_dir().join(format!("flow-errors-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("runs.sqlite")).unwrap());
    let runtime = Runtime::new(Arc::clone(&store));
    let err = block(runtime.load("no-such-run", |_| Ok(Default::default()))).unwrap_err();
    assert!(
        matches!(&err, StartError::RunNotFound { run_id } if run_id == "no-such-run"),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::NotFound);
    assert_eq!(err.class().http_status(), 404);

    // A run of a workflow with nothing to wait for, kept by the store.
    let graph = flow_compiler::compile(
        "workflow w {\n  start ask\n  model m\n}\nmodel m = \"openai:x\"\nagent ask {\n  \"Hi.\"\n  when \"the user is done\" -> bye\n}\nend bye {\n  outcome done\n}\n",
        "w.flow",
    )
    .graph
    .expect("compiles");
    let script = dir.join("m.script");
    std::fs::write(&script, "[ask]\nreply: Hello.\nchoose: none\n").unwrap();
    let mut options = RunOptions::default();
    options
        .models
        .insert("m".into(), format!("scripted:{}", script.display()));
    let program = Arc::new(Program::new(graph).unwrap());
    let mut run = runtime.start(program, Map::new(), options, HashMap::new()).unwrap();
    let tokio = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let status = tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::WaitingForUser);

    let err = block(runtime.load(run.id(), |_| Ok(Default::default()))).unwrap_err();
    assert!(
        matches!(&err, StartError::RunBusy { run_id } if run_id == run.id()),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Conflict);

    // An answer that does not fit the pause is a conflict, and changes nothing.
    let next = run.state().next_seq;
    let err = tokio
        .block_on(run.answer(flow_runtime::Answer::Approve, &mut VecDeque::new()))
        .unwrap_err();
    assert!(
        matches!(&err, RunError::Answer(AnswerError::WaitsForMessage { node, .. }) if node == "ask"),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert_eq!(run.state().next_seq, next);
    let err = tokio.block_on(run.retry(&mut VecDeque::new())).unwrap_err();
    assert!(
        matches!(
            &err,
            RunError::Answer(AnswerError::NotFailed {
                status: RunStatus::WaitingForUser,
                ..
            })
        ),
        "{err:?}"
    );
    drop(run);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_step_failure_says_todays_words_and_whether_a_retry_may_cure_it() {
    let down = StepFailure {
        node: "lookup".into(),
        kind: FailureKind::ToolFailed {
            tool: "orders".into(),
            message: "HTTP 503".into(),
            retryable: true,
            spent: None,
        },
    };
    assert_eq!(down.to_string(), "tool `orders` failed: HTTP 503");
    assert!(down.retryable());
    let refused = StepFailure {
        node: "lookup".into(),
        kind: FailureKind::ToolFailed {
            tool: "orders".into(),
            message: "HTTP 404".into(),
            retryable: false,
            spent: None,
        },
    };
    assert!(!refused.retryable());
    let models = FailureKind::ModelFailed {
        group: "fast".into(),
        message: "timed out".into(),
        retryable: true,
    };
    assert_eq!(
        models.to_string(),
        "every model of group `fast` failed; the last said: timed out"
    );
    assert!(models.retryable());
    let stuck = FailureKind::NoExit {
        node: "route".into(),
        spent: vec!["e1".into(), "e2".into()],
    };
    assert_eq!(stuck.to_string(), "no exit of `route` holds (spent: `e1`, `e2`)");
    assert!(!stuck.retryable());
    let steps = FailureKind::MaxSteps {
        max: 10,
        before: "ask".into(),
    };
    assert_eq!(steps.to_string(), "the run reached max_steps (10) before `ask`");
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
