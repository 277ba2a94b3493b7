//! [`StartError`]: why a run could not start or be loaded, one variant per
//! case, so a host can match on it and a server answer from its
//! [`ErrorClass`]. The messages name no command-line flag; a CLI adds its own
//! hints when it prints them.

use crate::error::{ErrorClass, listed, quoted, store_class};
use crate::program::LoadError;
use crate::secrets::{ALLOW_SHORT_SECRETS, MIN_SECRET_CHARS};
use crate::store::StoreError;
use serde_json::Value;
use std::fmt;

/// Why a run could not start (or be loaded).
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// An input the workflow does not declare; `known` are its inputs.
    UnknownInput {
        /// The name given.
        name: String,
        /// The workflow's inputs, in source order.
        known: Vec<String>,
    },
    /// An input given twice.
    DuplicateInput {
        /// Its name.
        name: String,
    },
    /// An input not written `NAME=VALUE`.
    InputSyntax {
        /// The text as given.
        text: String,
    },
    /// A value for a non-string input that is not JSON.
    InputNotJson {
        /// The input.
        name: String,
        /// The text given.
        value: String,
        /// What the JSON parser said.
        reason: String,
    },
    /// A required input with no value and no default.
    MissingInput {
        /// Its name.
        name: String,
    },
    /// An input whose value does not fit its type.
    BadInput {
        /// Its name.
        name: String,
        /// The value given.
        value: Value,
        /// Why it does not fit.
        reason: String,
    },
    /// Secrets of the workflow the host did not provide.
    MissingSecrets {
        /// Their names, in declaration order.
        names: Vec<String>,
    },
    /// Secrets shorter than [`MIN_SECRET_CHARS`] while short secrets are not allowed.
    ShortSecrets {
        /// Their names, sorted.
        names: Vec<String>,
    },
    /// A model replacement names a group the workflow does not declare.
    UnknownModelGroup {
        /// The group named.
        group: String,
        /// The workflow's groups.
        known: Vec<String>,
    },
    /// A model replacement not written `GROUP=provider:model`.
    BadModelReplacement {
        /// The text as given.
        text: String,
    },
    /// A group replaced by a model not written `provider:model`.
    BadModelSpec {
        /// The group.
        group: String,
        /// The replacement.
        spec: String,
    },
    /// A `scripted:PATH` replacement whose script file does not exist.
    ScriptNotFound {
        /// The path given.
        path: String,
    },
    /// A model of a group could not be connected (no API key, unknown provider).
    ModelUnavailable {
        /// The group.
        group: String,
        /// Its model, `provider:model`.
        spec: String,
        /// Why.
        reason: String,
    },
    /// `host` tools with no registered handler (and no stub).
    UnregisteredHostTool {
        /// Their ids.
        names: Vec<String>,
    },
    /// The stubs script could not be read or stubs a tool the workflow lacks.
    Stubs {
        /// Why.
        reason: String,
    },
    /// No run of that id in the store.
    RunNotFound {
        /// The id asked for.
        run_id: String,
    },
    /// Another process or task holds the run.
    RunBusy {
        /// The run's id.
        run_id: String,
    },
    /// The run's compiled graph is missing from the store.
    GraphMissing {
        /// The run's id.
        run_id: String,
    },
    /// The run's stored graph could not be loaded.
    Load(LoadError),
    /// The store failed.
    Store(StoreError),
    /// The runtime failed in a way no caller can cure (options that do not serialise).
    Internal {
        /// What failed.
        reason: String,
    },
}

impl StartError {
    /// How a host should answer this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            StartError::UnknownInput { .. }
            | StartError::DuplicateInput { .. }
            | StartError::InputSyntax { .. }
            | StartError::InputNotJson { .. }
            | StartError::MissingInput { .. }
            | StartError::BadInput { .. }
            | StartError::UnknownModelGroup { .. }
            | StartError::BadModelReplacement { .. }
            | StartError::BadModelSpec { .. }
            | StartError::ScriptNotFound { .. }
            | StartError::Stubs { .. } => ErrorClass::Invalid,
            StartError::MissingSecrets { .. }
            | StartError::ShortSecrets { .. }
            | StartError::ModelUnavailable { .. }
            | StartError::UnregisteredHostTool { .. } => ErrorClass::Unavailable,
            StartError::RunNotFound { .. } => ErrorClass::NotFound,
            StartError::RunBusy { .. } => ErrorClass::Conflict,
            StartError::GraphMissing { .. } | StartError::Load(_) | StartError::Internal { .. } => ErrorClass::Internal,
            StartError::Store(e) => store_class(e),
        }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::UnknownInput { name, known } => {
                write!(f, "unknown input `{name}` (the workflow's inputs: {})", listed(known))
            }
            StartError::DuplicateInput { name } => write!(f, "input `{name}` is given twice"),
            StartError::InputSyntax { text } => write!(f, "input `{text}`: expected NAME=VALUE"),
            StartError::InputNotJson { name, value, reason } => {
                write!(f, "input `{name}` = {value}: not JSON ({reason})")
            }
            StartError::MissingInput { name } => write!(f, "missing input `{name}`"),
            StartError::BadInput { name, value, reason } => write!(f, "input `{name}` = {value}: {reason}"),
            StartError::MissingSecrets { names } => match names.as_slice() {
                [name] => write!(f, "secret `{name}` is not set: export the environment variable {name}"),
                names => write!(
                    f,
                    "secrets `{}` are not set: export the environment variables {}",
                    quoted(names),
                    names.join(", ")
                ),
            },
            StartError::ShortSecrets { names } => write!(
                f,
                "secret `{}` is shorter than {MIN_SECRET_CHARS} characters: use a longer value, or allow short secrets with {ALLOW_SHORT_SECRETS}=1",
                quoted(names)
            ),
            StartError::UnknownModelGroup { group, known } => {
                write!(
                    f,
                    "unknown model group `{group}` (the workflow has: {})",
                    known.join(", ")
                )
            }
            StartError::BadModelReplacement { text } => {
                write!(f, "model replacement `{text}`: expected GROUP=provider:model")
            }
            StartError::BadModelSpec { group, spec } => {
                write!(f, "model group `{group}` replaced by `{spec}`: expected provider:model")
            }
            StartError::ScriptNotFound { path } => write!(f, "no script file {path}"),
            StartError::ModelUnavailable { group, spec, reason } => {
                write!(f, "model group `{group}` ({spec}): {reason}")
            }
            StartError::UnregisteredHostTool { names } => write!(
                f,
                "host tool `{}` has no handler: register one (or stub it)",
                quoted(names)
            ),
            StartError::Stubs { reason } => write!(f, "stubs: {reason}"),
            StartError::RunNotFound { run_id } => write!(f, "no run `{run_id}` in the store"),
            StartError::RunBusy { run_id } => write!(f, "run {run_id} is being run by another process"),
            StartError::GraphMissing { run_id } => {
                write!(f, "the graph of run `{run_id}` is missing from the store")
            }
            StartError::Load(e) => write!(f, "{e}"),
            StartError::Store(e) => write!(f, "{e}"),
            StartError::Internal { reason } => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Load(e) => Some(e),
            StartError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> StartError {
        match e {
            StoreError::Busy { run_id } => StartError::RunBusy { run_id },
            StoreError::NotFound { run_id } => StartError::RunNotFound { run_id },
            e => StartError::Store(e),
        }
    }
}

impl From<LoadError> for StartError {
    fn from(e: LoadError) -> StartError {
        StartError::Load(e)
    }
}
