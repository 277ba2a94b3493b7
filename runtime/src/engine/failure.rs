//! [`StepFailure`]: why a step ended the run as failed, `{node, kind}`. Its
//! `Display` gives the words of the `run_failed` event's `error` and of
//! `state.error`; whether `flow resume` may retry the step comes from the kind.

use crate::eval::EvalError;
use std::fmt;

/// A step's failure at a node: it ends the run with `run_failed`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFailure {
    /// The node the run failed at.
    pub node: String,
    /// What went wrong.
    pub kind: FailureKind,
}

impl StepFailure {
    /// Whether taking the step again may cure it (a model group or an HTTP tool that was down).
    pub fn retryable(&self) -> bool {
        self.kind.retryable()
    }
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for StepFailure {}

/// An event exit (`on error`, `on approved` ...) that was spent, so the event has no exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentExit {
    /// The event, as written: `on error`, `on timeout` ...
    pub event: String,
    /// The edge.
    pub edge: String,
    /// Its target.
    pub to: String,
    /// Its bound.
    pub max: u32,
}

impl fmt::Display for SpentExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "its `{}` exit `{}` (-> {}) is spent (max {})",
            self.event, self.edge, self.to, self.max
        )
    }
}

/// What failed in a step.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FailureKind {
    /// No exit of a node that must go on holds; `spent` are its bounded exits that were spent.
    NoExit {
        /// The node.
        node: String,
        /// Its spent exits.
        spent: Vec<String>,
    },
    /// The run took `max_steps` steps.
    MaxSteps {
        /// The bound.
        max: u64,
        /// The node it would have entered.
        before: String,
    },
    /// A pause was answered but the exit for the answer is spent.
    EdgeSpent {
        /// The paused node.
        node: String,
        /// The answer (`approve`, `reject`, `timeout`, `return`).
        after: String,
        /// The spent exit.
        exit: Box<SpentExit>,
    },
    /// An approval has no exit for the answer.
    NoEventExit {
        /// The approval.
        node: String,
        /// The answer.
        event: String,
    },
    /// A tool call failed with no `on error` to take (or a spent one).
    ToolFailed {
        /// The tool.
        tool: String,
        /// Its error, redacted of secrets.
        message: String,
        /// Whether the tool was down (a retry may succeed).
        retryable: bool,
        /// The `on error` exit, when it was spent.
        spent: Option<Box<SpentExit>>,
    },
    /// Every model of a group failed.
    ModelFailed {
        /// The group.
        group: String,
        /// What the last model said, redacted of secrets.
        message: String,
        /// Whether some model was down (a retry may succeed).
        retryable: bool,
    },
    /// The model's answers could not be used (an empty reply twice, unknown tools ...).
    ModelAnswer {
        /// What was wrong.
        message: String,
    },
    /// A node that asks a model has none (and the workflow no default).
    NoModel {
        /// The node.
        node: String,
    },
    /// A model group with no model connected.
    EmptyModelGroup {
        /// The group.
        group: String,
    },
    /// An expression of the node failed; `context` says which (`set x`, ``exit `e` ``, a parameter).
    Expression {
        /// Where.
        context: String,
        /// Why.
        error: EvalError,
    },
    /// A text's template failed.
    Template(EvalError),
    /// The graph has no node of that id (a graph the loader should have refused).
    UnknownNode {
        /// The id.
        node: String,
    },
    /// A node that is not an agent was asked to reply.
    NotAnAgent {
        /// The node.
        node: String,
    },
}

impl FailureKind {
    /// Whether taking the step again may cure it.
    pub fn retryable(&self) -> bool {
        match self {
            FailureKind::ToolFailed { retryable, spent, .. } => *retryable && spent.is_none(),
            FailureKind::ModelFailed { retryable, .. } => *retryable,
            _ => false,
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::NoExit { node, spent } if spent.is_empty() => write!(f, "no exit of `{node}` holds"),
            FailureKind::NoExit { node, spent } => {
                let spent: Vec<String> = spent.iter().map(|e| format!("`{e}`")).collect();
                write!(f, "no exit of `{node}` holds (spent: {})", spent.join(", "))
            }
            FailureKind::MaxSteps { max, before } => write!(f, "the run reached max_steps ({max}) before `{before}`"),
            FailureKind::EdgeSpent { node, after, exit } => write!(f, "`{node}` cannot go on after `{after}`: {exit}"),
            FailureKind::NoEventExit { node, event } => write!(f, "approval `{node}` has no exit for `{event}`"),
            FailureKind::ToolFailed {
                tool,
                message,
                spent: None,
                ..
            } => write!(f, "tool `{tool}` failed: {message}"),
            FailureKind::ToolFailed {
                tool,
                message,
                spent: Some(exit),
                ..
            } => write!(f, "tool `{tool}` failed: {message}; {exit}"),
            FailureKind::ModelFailed { group, message, .. } => {
                write!(f, "every model of group `{group}` failed; the last said: {message}")
            }
            FailureKind::ModelAnswer { message } => write!(f, "{message}"),
            FailureKind::NoModel { node } => write!(f, "`{node}` has no model"),
            FailureKind::EmptyModelGroup { group } => write!(f, "model group `{group}` has no model"),
            FailureKind::Expression { context, error } => write!(f, "{context}: {error}"),
            FailureKind::Template(error) => write!(f, "{error}"),
            FailureKind::UnknownNode { node } => write!(f, "no node `{node}` in the graph"),
            FailureKind::NotAnAgent { node } => write!(f, "`{node}` is not an agent"),
        }
    }
}

impl From<EvalError> for FailureKind {
    fn from(e: EvalError) -> FailureKind {
        FailureKind::Template(e)
    }
}
