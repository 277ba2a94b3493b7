//! [`EvalError`]: why an expression of the graph could not be evaluated.

use std::fmt;

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvalError {
    /// An operator or function was given values of kinds it does not take.
    Type(String),
    /// `/` or `%` by zero, in floating point.
    DivisionByZero,
    /// `%` of whole numbers by zero.
    RemainderByZero,
    /// An operator gave a number JSON cannot hold.
    Overflow {
        /// The operator.
        op: String,
    },
    /// A date argument not written `YYYY-MM-DD`, or a result out of the range of dates.
    Date(String),
    /// A time zone no database knows.
    UnknownZone {
        /// Its name.
        zone: String,
    },
    /// A path or pattern the loader did not prepare (a graph the loader should have refused).
    Unprepared(String),
    /// An operator without its operand.
    MissingOperand {
        /// The operator.
        op: String,
    },
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Type(why) | EvalError::Date(why) => write!(f, "{why}"),
            EvalError::DivisionByZero => write!(f, "division by zero"),
            EvalError::RemainderByZero => write!(f, "remainder of a division by zero"),
            EvalError::Overflow { op } => write!(f, "`{op}` gave a number JSON cannot hold"),
            EvalError::UnknownZone { zone } => write!(f, "unknown time zone {zone:?}"),
            EvalError::Unprepared(what) => write!(f, "{what} was not prepared"),
            EvalError::MissingOperand { op } => write!(f, "`{op}` is missing an operand"),
        }
    }
}

impl std::error::Error for EvalError {}
