//! Why a model could not be connected, and why a provider's reply could not be read.

use super::scripted::ScriptError;
use std::fmt;

/// Why a model of a `provider:model` could not be connected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// No provider of that name.
    UnknownProvider {
        /// The name given.
        provider: String,
    },
    /// The provider's API key is not in the environment.
    MissingKey {
        /// The environment variable.
        variable: String,
        /// What else would do, if anything (a local base url).
        otherwise: Option<String>,
    },
    /// The `scripted` provider's script could not be read.
    Script(ScriptError),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::UnknownProvider { provider } => write!(f, "unknown model provider `{provider}`"),
            ConnectError::MissingKey {
                variable,
                otherwise: None,
            } => write!(f, "{variable} is not set"),
            ConnectError::MissingKey {
                variable,
                otherwise: Some(otherwise),
            } => write!(f, "{variable} is not set (or {otherwise})"),
            ConnectError::Script(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl From<ScriptError> for ConnectError {
    fn from(e: ScriptError) -> ConnectError {
        ConnectError::Script(e)
    }
}

/// A provider's reply that is not the shape its API documents; says what is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedReply(pub String);

impl fmt::Display for MalformedReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for MalformedReply {}
