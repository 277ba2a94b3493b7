//! Why a graph cannot be run ([`LoadError`]) and why a value does not fit
//! its type ([`CheckError`]).

use std::fmt;

/// A graph that cannot be run, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The text is not a compiled graph's JSON.
    NotAGraph {
        /// What the reader said.
        reason: String,
    },
    /// A graph of another schema version.
    SchemaVersion {
        /// The graph's version.
        found: u32,
        /// The version this runtime reads.
        supported: u32,
    },
    /// A graph whose parts do not fit together (an unknown reference, a bad
    /// schema or pattern, a bound out of range ...).
    Invalid(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotAGraph { reason } => write!(f, "not a compiled graph: {reason}"),
            LoadError::SchemaVersion { found, supported } => write!(
                f,
                "compiled graph has schema version {found}, this runtime reads version {supported}"
            ),
            LoadError::Invalid(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Why a value does not fit its variable's or tool's type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckError {
    /// The value does not fit the schema; `at` is the JSON pointer of the
    /// part that does not (empty for the whole value).
    Mismatch {
        /// Where in the value.
        at: String,
        /// Why.
        reason: String,
    },
    /// The value fits its type but passes a limit (a string too long, an int too large).
    OverLimit {
        /// Where in the value.
        at: String,
        /// Why.
        reason: String,
    },
    /// No variable of that name.
    UnknownVariable {
        /// The name.
        name: String,
    },
    /// No tool of that name.
    UnknownTool {
        /// The name.
        tool: String,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Mismatch { at, reason } | CheckError::OverLimit { at, reason } => {
                if at.is_empty() {
                    write!(f, "{reason}")
                } else {
                    write!(f, "at {at}: {reason}")
                }
            }
            CheckError::UnknownVariable { name } => write!(f, "unknown variable `{name}`"),
            CheckError::UnknownTool { tool } => write!(f, "unknown tool `{tool}`"),
        }
    }
}

impl std::error::Error for CheckError {}
