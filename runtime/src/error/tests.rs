//! Every error variant of the library, formatted: none names a command-line
//! flag (the CLI adds those), and each has its class. The matches below have
//! no wildcard, so a new variant must be added here to compile.

use crate::engine::{AnswerError, FailureKind, RunError, SpentExit, StartError};
use crate::error::ErrorClass;
use crate::eval::EvalError;
use crate::model::prompt::InspectError;
use crate::model::scripted::ScriptError;
use crate::model::{ConnectError, MalformedReply};
use crate::program::{CheckError, LoadError};
use crate::state::RunStatus;
use crate::store::StoreError;
use serde_json::json;

fn s(text: &str) -> String {
    text.to_string()
}

fn start_errors() -> Vec<StartError> {
    let all = vec![
        StartError::UnknownInput {
            name: s("x"),
            known: vec![s("a")],
        },
        StartError::DuplicateInput { name: s("x") },
        StartError::InputSyntax { text: s("x") },
        StartError::InputNotJson {
            name: s("x"),
            value: s("abc"),
            reason: s("expected value"),
        },
        StartError::MissingInput { name: s("x") },
        StartError::BadInput {
            name: s("x"),
            value: json!(1),
            reason: s("not a string"),
        },
        StartError::MissingSecrets { names: vec![s("K")] },
        StartError::MissingSecrets {
            names: vec![s("K"), s("L")],
        },
        StartError::ShortSecrets { names: vec![s("K")] },
        StartError::UnknownModelGroup {
            group: s("g"),
            known: vec![s("m")],
        },
        StartError::BadModelReplacement { text: s("g") },
        StartError::BadModelSpec {
            group: s("g"),
            spec: s("x"),
        },
        StartError::ScriptNotFound { path: s("a.script") },
        StartError::ModelUnavailable {
            group: s("g"),
            spec: s("openai:x"),
            reason: s("OPENAI_API_KEY is not set"),
        },
        StartError::UnregisteredHostTool { names: vec![s("t")] },
        StartError::Stubs { reason: s("no tool") },
        StartError::RunNotFound { run_id: s("r") },
        StartError::RunBusy { run_id: s("r") },
        StartError::GraphMissing { run_id: s("r") },
        StartError::Load(LoadError::Invalid(s("bad"))),
        StartError::Store(StoreError::io("disk")),
        StartError::Store(StoreError::corrupt("bad row")),
        StartError::Store(StoreError::conflict("r", "taken")),
        StartError::Internal { reason: s("x") },
    ];
    for e in &all {
        match e {
            StartError::UnknownInput { .. }
            | StartError::DuplicateInput { .. }
            | StartError::InputSyntax { .. }
            | StartError::InputNotJson { .. }
            | StartError::MissingInput { .. }
            | StartError::BadInput { .. }
            | StartError::MissingSecrets { .. }
            | StartError::ShortSecrets { .. }
            | StartError::UnknownModelGroup { .. }
            | StartError::BadModelReplacement { .. }
            | StartError::BadModelSpec { .. }
            | StartError::ScriptNotFound { .. }
            | StartError::ModelUnavailable { .. }
            | StartError::UnregisteredHostTool { .. }
            | StartError::Stubs { .. }
            | StartError::RunNotFound { .. }
            | StartError::RunBusy { .. }
            | StartError::GraphMissing { .. }
            | StartError::Load(_)
            | StartError::Store(_)
            | StartError::Internal { .. } => {}
        }
    }
    all
}

fn answer_errors() -> Vec<AnswerError> {
    let all = vec![
        AnswerError::NotWaitingForMessage {
            run_id: s("r"),
            status: RunStatus::WaitingForApproval,
        },
        AnswerError::NotPaused { run_id: s("r") },
        AnswerError::AlreadyStored { run_id: s("r") },
        AnswerError::WaitsForApproval {
            run_id: s("r"),
            node: s("n"),
        },
        AnswerError::WaitsForHuman {
            run_id: s("r"),
            node: s("n"),
        },
        AnswerError::WaitsForMessage {
            run_id: s("r"),
            node: s("n"),
        },
        AnswerError::NotFailed {
            run_id: s("r"),
            status: RunStatus::Completed,
        },
        AnswerError::NotRetryable {
            run_id: s("r"),
            error: s("no exit"),
        },
        AnswerError::UnknownVariable {
            name: s("v"),
            known: vec![],
        },
        AnswerError::InputNotSettable { name: s("v") },
        AnswerError::SecretNotSettable { name: s("v") },
        AnswerError::BadValue {
            name: s("v"),
            value: json!("x"),
            reason: s("not an int"),
        },
        AnswerError::WrongPause {
            run_id: s("r"),
            asked: 3,
            waiting: Some(5),
        },
        AnswerError::WrongPause {
            run_id: s("r"),
            asked: 3,
            waiting: None,
        },
        AnswerError::DeadlineNotPassed {
            run_id: s("r"),
            pause: 3,
        },
        AnswerError::AlreadyFinished {
            run_id: s("r"),
            status: RunStatus::Completed,
        },
        AnswerError::UnknownNode { node: s("n") },
    ];
    for e in &all {
        match e {
            AnswerError::NotWaitingForMessage { .. }
            | AnswerError::NotPaused { .. }
            | AnswerError::AlreadyStored { .. }
            | AnswerError::WaitsForApproval { .. }
            | AnswerError::WaitsForHuman { .. }
            | AnswerError::WaitsForMessage { .. }
            | AnswerError::NotFailed { .. }
            | AnswerError::NotRetryable { .. }
            | AnswerError::UnknownVariable { .. }
            | AnswerError::InputNotSettable { .. }
            | AnswerError::SecretNotSettable { .. }
            | AnswerError::BadValue { .. }
            | AnswerError::WrongPause { .. }
            | AnswerError::DeadlineNotPassed { .. }
            | AnswerError::AlreadyFinished { .. }
            | AnswerError::UnknownNode { .. } => {}
        }
    }
    all
}

fn failure_kinds() -> Vec<FailureKind> {
    let exit = SpentExit {
        event: s("on error"),
        edge: s("e"),
        to: s("n"),
        max: 2,
    };
    let all = vec![
        FailureKind::NoExit {
            node: s("n"),
            spent: vec![],
        },
        FailureKind::NoExit {
            node: s("n"),
            spent: vec![s("e")],
        },
        FailureKind::MaxSteps { max: 3, before: s("n") },
        FailureKind::EdgeSpent {
            node: s("n"),
            after: s("approve"),
            exit: Box::new(exit.clone()),
        },
        FailureKind::NoEventExit {
            node: s("n"),
            event: s("reject"),
        },
        FailureKind::ToolFailed {
            tool: s("t"),
            message: s("HTTP 500"),
            retryable: true,
            spent: Some(Box::new(exit)),
        },
        FailureKind::ModelFailed {
            group: s("g"),
            message: s("timed out"),
            retryable: true,
        },
        FailureKind::ModelAnswer {
            message: s("the model gave an empty reply twice"),
        },
        FailureKind::NoModel { node: s("n") },
        FailureKind::EmptyModelGroup { group: s("g") },
        FailureKind::Expression {
            context: s("set x"),
            error: EvalError::DivisionByZero,
        },
        FailureKind::Template(EvalError::RemainderByZero),
        FailureKind::UnknownNode { node: s("n") },
        FailureKind::NotAnAgent { node: s("n") },
    ];
    for e in &all {
        match e {
            FailureKind::NoExit { .. }
            | FailureKind::MaxSteps { .. }
            | FailureKind::EdgeSpent { .. }
            | FailureKind::NoEventExit { .. }
            | FailureKind::ToolFailed { .. }
            | FailureKind::ModelFailed { .. }
            | FailureKind::ModelAnswer { .. }
            | FailureKind::NoModel { .. }
            | FailureKind::EmptyModelGroup { .. }
            | FailureKind::Expression { .. }
            | FailureKind::Template(_)
            | FailureKind::UnknownNode { .. }
            | FailureKind::NotAnAgent { .. } => {}
        }
    }
    all
}

fn other_errors() -> Vec<String> {
    let eval = [
        EvalError::Type(s("`not` needs true or false, got a number")),
        EvalError::DivisionByZero,
        EvalError::RemainderByZero,
        EvalError::Overflow { op: s("*") },
        EvalError::Date(s("`add_days`: \"x\" is not a date written YYYY-MM-DD")),
        EvalError::UnknownZone {
            zone: s("Mars/Olympus"),
        },
        EvalError::Unprepared(s("path `$.vars.x`")),
        EvalError::MissingOperand { op: s("-") },
    ];
    let load = [
        LoadError::NotAGraph { reason: s("eof") },
        LoadError::SchemaVersion { found: 2, supported: 1 },
        LoadError::Invalid(s("edge `e` leaves unknown node `n`")),
    ];
    let check = [
        CheckError::Mismatch {
            at: s("/a"),
            reason: s("1 is not a string"),
        },
        CheckError::OverLimit {
            at: s(""),
            reason: s("too long"),
        },
        CheckError::UnknownVariable { name: s("v") },
        CheckError::UnknownTool { tool: s("t") },
    ];
    let script = [
        ScriptError::Read {
            path: s("a.script"),
            reason: s("not found"),
        },
        ScriptError::syntax(3, s("unknown entry `smile:`")),
    ];
    let connect = [
        ConnectError::UnknownProvider { provider: s("p") },
        ConnectError::MissingKey {
            variable: s("OPENAI_API_KEY"),
            otherwise: Some(s("set OPENAI_BASE_URL to a local server")),
        },
        ConnectError::Script(ScriptError::syntax(1, s("x"))),
    ];
    let mut out: Vec<String> = eval.iter().map(ToString::to_string).collect();
    out.extend(load.iter().map(ToString::to_string));
    out.extend(check.iter().map(ToString::to_string));
    out.extend(script.iter().map(ToString::to_string));
    out.extend(connect.iter().map(ToString::to_string));
    out.push(MalformedReply(s("it has no content")).to_string());
    out.push(
        InspectError::UnknownNode {
            node: s("n"),
            known: vec![s("a")],
        }
        .to_string(),
    );
    out
}

/// Whether a message names a command-line flag (`--input`, `--model` ...).
fn names_a_flag(message: &str) -> bool {
    message
        .match_indices("--")
        .any(|(i, _)| message[i + 2..].starts_with(|c: char| c.is_ascii_lowercase()))
        || message.contains("flow resume")
}

#[test]
fn no_message_of_the_library_names_a_flag() {
    let mut messages: Vec<String> = start_errors().iter().map(ToString::to_string).collect();
    messages.extend(answer_errors().iter().map(ToString::to_string));
    messages.extend(answer_errors().into_iter().map(|e| RunError::Answer(e).to_string()));
    messages.extend(failure_kinds().iter().map(ToString::to_string));
    messages.extend(other_errors());
    assert!(messages.len() > 60, "{}", messages.len());
    for message in &messages {
        assert!(!message.is_empty());
        assert!(!names_a_flag(message), "names a flag: {message}");
    }
    assert!(names_a_flag("give it with --input x=VALUE"), "the check itself");
}

#[test]
fn every_error_has_the_class_a_server_answers_with() {
    let class = |e: &StartError| e.class();
    for e in start_errors() {
        let expected = match &e {
            StartError::RunNotFound { .. } => ErrorClass::NotFound,
            StartError::RunBusy { .. } => ErrorClass::Conflict,
            StartError::MissingSecrets { .. }
            | StartError::ShortSecrets { .. }
            | StartError::ModelUnavailable { .. }
            | StartError::UnregisteredHostTool { .. } => ErrorClass::Unavailable,
            StartError::Store(StoreError::Io { .. }) => ErrorClass::Unavailable,
            StartError::Store(StoreError::Conflict { .. }) => ErrorClass::Conflict,
            StartError::GraphMissing { .. }
            | StartError::Load(_)
            | StartError::Store(_)
            | StartError::Internal { .. } => ErrorClass::Internal,
            _ => ErrorClass::Invalid,
        };
        assert_eq!(class(&e), expected, "{e}");
    }
    assert_eq!(
        StartError::from(StoreError::Busy { run_id: s("r") }).class(),
        ErrorClass::Conflict,
        "a busy store is a busy run"
    );
    for e in answer_errors() {
        let expected = match &e {
            AnswerError::UnknownVariable { .. }
            | AnswerError::InputNotSettable { .. }
            | AnswerError::SecretNotSettable { .. }
            | AnswerError::BadValue { .. } => ErrorClass::Invalid,
            AnswerError::UnknownNode { .. } => ErrorClass::Internal,
            _ => ErrorClass::Conflict,
        };
        assert_eq!(e.class(), expected, "{e}");
        assert_eq!(RunError::Answer(e).class(), expected);
    }
    let store_classes = [
        (StoreError::Busy { run_id: s("r") }, ErrorClass::Conflict),
        (StoreError::conflict("r", "the lease was taken"), ErrorClass::Conflict),
        (StoreError::NotFound { run_id: s("r") }, ErrorClass::NotFound),
        (StoreError::corrupt("bad checkpoint"), ErrorClass::Internal),
        (StoreError::io("disk full"), ErrorClass::Unavailable),
    ];
    for (e, class) in store_classes {
        assert_eq!(RunError::Store(e.clone()).class(), class, "{e}");
        assert_eq!(StartError::from(e.clone()).class(), class, "{e}");
    }
    let statuses: Vec<u16> = [
        ErrorClass::NotFound,
        ErrorClass::Conflict,
        ErrorClass::Invalid,
        ErrorClass::Unavailable,
        ErrorClass::Internal,
    ]
    .iter()
    .map(|c| c.http_status())
    .collect();
    assert_eq!(statuses, [404, 409, 422, 503, 500]);
}

#[test]
fn only_outages_are_retryable() {
    for kind in failure_kinds() {
        let expected = matches!(
            &kind,
            FailureKind::ModelFailed { retryable: true, .. }
                | FailureKind::ToolFailed {
                    retryable: true,
                    spent: None,
                    ..
                }
        );
        assert_eq!(kind.retryable(), expected, "{kind}");
    }
}
