//! How a host answers an error: every error a caller of the runtime meets
//! ([`crate::StartError`], [`crate::RunError`]) says its [`ErrorClass`], so a
//! server can pick its status code from the type alone.

use std::fmt;

#[cfg(test)]
mod tests;

/// What kind of refusal an error is, for a host mapping errors to statuses
/// (HTTP: 404, 409, 422, 503, 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The run (or what it names) does not exist: 404.
    NotFound,
    /// The run is held by someone else or is not in a state that takes the
    /// request (not paused, already finished): 409.
    Conflict,
    /// The request itself is wrong (an unknown or ill-typed input, a value
    /// that does not fit its variable): 422.
    Invalid,
    /// Something the host provides is missing or down (a secret, a model, a
    /// tool handler): 503.
    Unavailable,
    /// The runtime or its store failed: 500.
    Internal,
}

impl ErrorClass {
    /// The HTTP status a server answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorClass::NotFound => 404,
            ErrorClass::Conflict => 409,
            ErrorClass::Invalid => 422,
            ErrorClass::Unavailable => 503,
            ErrorClass::Internal => 500,
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::NotFound => "not found",
            ErrorClass::Conflict => "conflict",
            ErrorClass::Invalid => "invalid",
            ErrorClass::Unavailable => "unavailable",
            ErrorClass::Internal => "internal",
        })
    }
}

/// The class of a store error.
pub(crate) fn store_class(e: &crate::store::StoreError) -> ErrorClass {
    use crate::store::StoreError;
    match e {
        StoreError::Busy { .. } | StoreError::Conflict { .. } => ErrorClass::Conflict,
        StoreError::NotFound { .. } => ErrorClass::NotFound,
        StoreError::Io { .. } => ErrorClass::Unavailable,
        StoreError::Corrupt { .. } => ErrorClass::Internal,
    }
}

/// Joins names as `` `a`, `b` ``.
pub(crate) fn quoted(names: &[String]) -> String {
    names.join("`, `")
}

/// Joins names as `a, b`, or says `none`.
pub(crate) fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}
