//! [`ScriptError`]: why a script of scripted answers and tool stubs could not be read.

use std::fmt;
use std::path::Path;

/// Why a script could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptError {
    /// The file could not be read.
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A line of the script is wrong.
    Syntax {
        /// The file, when read from one.
        path: Option<String>,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

impl ScriptError {
    /// A wrong line of a script's text.
    pub fn syntax(line: usize, message: String) -> ScriptError {
        ScriptError::Syntax {
            path: None,
            line,
            message,
        }
    }

    /// The error, naming the file the text came from.
    pub fn in_file(self, file: &Path) -> ScriptError {
        match self {
            ScriptError::Syntax { line, message, .. } => ScriptError::Syntax {
                path: Some(file.display().to_string()),
                line,
                message,
            },
            other => other,
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptError::Read { path, reason } => write!(f, "cannot read {path}: {reason}"),
            ScriptError::Syntax {
                path: Some(path),
                line,
                message,
            } => write!(f, "{path}:{line}: {message}"),
            ScriptError::Syntax {
                path: None,
                line,
                message,
            } => write!(f, "{line}: {message}"),
        }
    }
}

impl std::error::Error for ScriptError {}
