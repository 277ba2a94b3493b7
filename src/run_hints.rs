//! The runtime's errors as `flow run` and `flow resume` say them: the library
//! names no command-line flag, so this adds the flags (`--input`, `--model`,
//! `--stubs`, `--set`, `--approve` ...) by matching on the error's variant.

use flow_runtime::{AnswerError, StartError};

/// A start or load error, with the flag that gives what is missing or wrong.
pub fn start_error(e: &StartError) -> String {
    match e {
        StartError::InputSyntax { text } => format!("--input {text}: expected NAME=VALUE"),
        StartError::InputNotJson { name, value, reason } => format!("--input {name}={value}: not JSON ({reason})"),
        StartError::DuplicateInput { name } => format!("--input {name} is given twice"),
        StartError::MissingInput { name } => format!("{e}: give it with --input {name}=VALUE"),
        StartError::UnregisteredHostTool { names } => format!(
            "host tool `{}` has no handler: register one (or stub it with --stubs)",
            names.join("`, `")
        ),
        StartError::UnknownModelGroup { group, known } => format!(
            "--model names unknown model group `{group}` (the workflow has: {})",
            known.join(", ")
        ),
        StartError::BadModelSpec { group, spec } => format!("--model {group}={spec}: expected provider:model"),
        _ => e.to_string(),
    }
}

/// An error in one `--model GROUP=provider:model` argument.
pub fn model_error(item: &str, e: &StartError) -> String {
    match e {
        StartError::BadModelReplacement { .. } => format!("--model {item}: expected GROUP=provider:model"),
        StartError::ScriptNotFound { path } => format!("--model {item}: no script file {path}"),
        StartError::UnknownModelGroup { group, known } => format!(
            "--model {item}: the workflow has no model group `{group}` (it has: {})",
            known.join(", ")
        ),
        _ => start_error(e),
    }
}

/// An answer that does not fit the pause, with the flag that would fit it.
pub fn answer_error(e: &AnswerError) -> String {
    match e {
        AnswerError::WaitsForApproval { run_id, node } => {
            format!("run {run_id} waits for an approval at `{node}`: answer with --approve or --reject")
        }
        AnswerError::WaitsForHuman { run_id, node } => {
            format!("run {run_id} waits for a human at handoff `{node}`: answer with --return")
        }
        AnswerError::WaitsForMessage { run_id, node } => {
            format!("run {run_id} waits for a user message at `{node}`, not for --approve, --reject or --return")
        }
        AnswerError::BadValue { name, value, reason } => format!("--set {name}={value}: {reason}"),
        AnswerError::UnknownVariable { name, .. }
        | AnswerError::InputNotSettable { name }
        | AnswerError::SecretNotSettable { name } => format!("--set {name}: {e}"),
        _ => e.to_string(),
    }
}
