//! What a store could not do, by kind, so a host can answer from the type
//! alone: a busy run or a conflicting commit is a conflict (HTTP 409), an
//! unknown run is not found (404), a corrupt row or a failed disk is the
//! server's fault (500).

use std::fmt;

/// What a store could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// Another holder's lease on this run has not lapsed.
    Busy {
        /// The run.
        run_id: String,
    },
    /// A commit or renewal under a lease that is no longer the run's, or a
    /// commit that does not follow the run's stored version: nothing changed.
    Conflict {
        /// The run.
        run_id: String,
        /// What did not match.
        reason: String,
    },
    /// No such run.
    NotFound {
        /// The run.
        run_id: String,
    },
    /// Stored data that cannot be read back (a bad checkpoint, a bad row).
    Corrupt {
        /// What is wrong, and where.
        reason: String,
    },
    /// The store itself failed (the file, the database, the connection).
    Io {
        /// What failed.
        reason: String,
    },
}

impl StoreError {
    /// How a host should answer this error.
    pub fn class(&self) -> crate::ErrorClass {
        crate::error::store_class(self)
    }

    /// An IO failure with this reason.
    pub fn io(reason: impl fmt::Display) -> StoreError {
        StoreError::Io {
            reason: reason.to_string(),
        }
    }

    /// Corrupt data with this reason.
    pub fn corrupt(reason: impl fmt::Display) -> StoreError {
        StoreError::Corrupt {
            reason: reason.to_string(),
        }
    }

    /// A refused commit or renewal of `run_id`.
    pub fn conflict(run_id: &str, reason: impl fmt::Display) -> StoreError {
        StoreError::Conflict {
            run_id: run_id.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Busy { run_id } => write!(f, "run {run_id} is being run by another process"),
            StoreError::Conflict { run_id, reason } => {
                write!(f, "run {run_id} was changed by another holder: {reason}")
            }
            StoreError::NotFound { run_id } => write!(f, "no run `{run_id}` in the store"),
            StoreError::Corrupt { reason } => write!(f, "run store holds bad data: {reason}"),
            StoreError::Io { reason } => write!(f, "run store: {reason}"),
        }
    }
}

impl std::error::Error for StoreError {}
