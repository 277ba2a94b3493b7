//! [`RunError`]: why a loaded run could not go on (as opposed to failing,
//! which is an outcome: [`super::StepFailure`]). An answer that does not fit
//! the pause is an [`AnswerError`] naming what was wrong; nothing changed.

use crate::error::{ErrorClass, listed, store_class};
use crate::state::RunStatus;
use crate::store::StoreError;
use serde_json::Value;
use std::fmt;

/// Why a run could not go on.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// The store could not checkpoint; the run stops where its last checkpoint is.
    Store(StoreError),
    /// An answer (a message, an approval, a return, a retry) that does not fit the pause.
    Answer(AnswerError),
}

impl RunError {
    /// How a host should answer this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            RunError::Store(e) => store_class(e),
            RunError::Answer(e) => e.class(),
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Store(e) => write!(f, "{e}"),
            RunError::Answer(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Store(e) => Some(e),
            RunError::Answer(e) => Some(e),
        }
    }
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> RunError {
        RunError::Store(e)
    }
}

impl From<AnswerError> for RunError {
    fn from(e: AnswerError) -> RunError {
        RunError::Answer(e)
    }
}

/// An answer that does not fit the run's pause; the run is unchanged.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnswerError {
    /// A user message for a run that is not waiting for one.
    NotWaitingForMessage {
        /// The run.
        run_id: String,
        /// Its status.
        status: RunStatus,
    },
    /// An approval or return for a run that is not paused.
    NotPaused {
        /// The run.
        run_id: String,
    },
    /// The run's origin was given after it was stored.
    AlreadyStored {
        /// The run.
        run_id: String,
    },
    /// The run waits for an approval at `node`, and the answer was not one.
    WaitsForApproval {
        /// The run.
        run_id: String,
        /// The approval node.
        node: String,
    },
    /// The run waits for a human at handoff `node`, and the answer was not a return.
    WaitsForHuman {
        /// The run.
        run_id: String,
        /// The handoff node.
        node: String,
    },
    /// The run waits for a user message at `node`, not for an approval or a return.
    WaitsForMessage {
        /// The run.
        run_id: String,
        /// The agent node.
        node: String,
    },
    /// A retry of a run that did not fail.
    NotFailed {
        /// The run.
        run_id: String,
        /// Its status.
        status: RunStatus,
    },
    /// A retry of a run whose failure a retry would not cure (not an outage).
    NotRetryable {
        /// The run.
        run_id: String,
        /// Its failure, as recorded.
        error: String,
    },
    /// A returned value for a variable the workflow does not have.
    UnknownVariable {
        /// The name given.
        name: String,
        /// The workflow's variables (not its inputs).
        known: Vec<String>,
    },
    /// A returned value for an input (inputs are given when a run starts).
    InputNotSettable {
        /// The input.
        name: String,
    },
    /// A returned value for a secret (secrets come from the host).
    SecretNotSettable {
        /// The secret.
        name: String,
    },
    /// A returned value that does not fit its variable's type.
    BadValue {
        /// The variable.
        name: String,
        /// The value given.
        value: Value,
        /// Why it does not fit.
        reason: String,
    },
    /// An answer naming a pause (its `paused` event's `seq`) other than the one the run waits at.
    WrongPause {
        /// The run.
        run_id: String,
        /// The pause the answer names.
        asked: u64,
        /// The pause the run waits at, if any.
        waiting: Option<u64>,
    },
    /// A timeout for a pause whose deadline has not passed (or that the run no longer waits at).
    DeadlineNotPassed {
        /// The run.
        run_id: String,
        /// The pause the timeout names.
        pause: u64,
    },
    /// A cancel of a run that has finished.
    AlreadyFinished {
        /// The run.
        run_id: String,
        /// Its status.
        status: RunStatus,
    },
    /// The run is at a node its graph does not have.
    UnknownNode {
        /// The node.
        node: String,
    },
}

impl AnswerError {
    /// How a host should answer this error: a run not in the state the answer
    /// needs is a conflict, a value that does not fit is invalid.
    pub fn class(&self) -> ErrorClass {
        match self {
            AnswerError::NotWaitingForMessage { .. }
            | AnswerError::NotPaused { .. }
            | AnswerError::AlreadyStored { .. }
            | AnswerError::WaitsForApproval { .. }
            | AnswerError::WaitsForHuman { .. }
            | AnswerError::WaitsForMessage { .. }
            | AnswerError::NotFailed { .. }
            | AnswerError::NotRetryable { .. }
            | AnswerError::WrongPause { .. }
            | AnswerError::DeadlineNotPassed { .. }
            | AnswerError::AlreadyFinished { .. } => ErrorClass::Conflict,
            AnswerError::UnknownVariable { .. }
            | AnswerError::InputNotSettable { .. }
            | AnswerError::SecretNotSettable { .. }
            | AnswerError::BadValue { .. } => ErrorClass::Invalid,
            AnswerError::UnknownNode { .. } => ErrorClass::Internal,
        }
    }
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::NotWaitingForMessage { run_id, status } => {
                write!(f, "run {run_id} is {}, not waiting for a user message", status.as_str())
            }
            AnswerError::NotPaused { run_id } => write!(f, "run {run_id} is not paused"),
            AnswerError::AlreadyStored { run_id } => {
                write!(f, "run {run_id} is stored already: its origin cannot change")
            }
            AnswerError::WaitsForApproval { run_id, node } => {
                write!(
                    f,
                    "run {run_id} waits for an approval at `{node}`: approve or reject it"
                )
            }
            AnswerError::WaitsForHuman { run_id, node } => {
                write!(f, "run {run_id} waits for a human at handoff `{node}`: hand it back")
            }
            AnswerError::WaitsForMessage { run_id, node } => write!(
                f,
                "run {run_id} waits for a user message at `{node}`, not for an approval or a return"
            ),
            AnswerError::NotFailed { run_id, status } => {
                write!(
                    f,
                    "run {run_id} is {}: only a failed run can be retried",
                    status.as_str()
                )
            }
            AnswerError::NotRetryable { run_id, error } => write!(
                f,
                "run {run_id} failed on an error a retry would not cure (only outages of a model or an HTTP tool can be retried): {error}"
            ),
            AnswerError::UnknownVariable { name, known } => write!(
                f,
                "unknown variable `{name}` (the workflow's variables: {})",
                listed(known)
            ),
            AnswerError::InputNotSettable { name } => write!(
                f,
                "`{name}` is an input; inputs are given when a run starts and cannot be set"
            ),
            AnswerError::SecretNotSettable { name } => write!(
                f,
                "`{name}` is a secret; secrets come from the environment and cannot be set"
            ),
            AnswerError::BadValue { name, value, reason } => write!(f, "`{name}` = {value}: {reason}"),
            AnswerError::WrongPause {
                run_id,
                asked,
                waiting: Some(waiting),
            } => write!(f, "run {run_id} waits at pause {waiting}, not at pause {asked}"),
            AnswerError::WrongPause {
                run_id,
                asked,
                waiting: None,
            } => write!(f, "run {run_id} is not waiting at pause {asked}"),
            AnswerError::DeadlineNotPassed { run_id, pause } => {
                write!(
                    f,
                    "run {run_id} does not wait at a pause {pause} whose deadline has passed"
                )
            }
            AnswerError::AlreadyFinished { run_id, status } => {
                write!(f, "run {run_id} has already finished ({})", status.as_str())
            }
            AnswerError::UnknownNode { node } => write!(f, "no node `{node}`"),
        }
    }
}

impl std::error::Error for AnswerError {}
