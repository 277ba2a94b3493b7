//! Models behind one trait. A provider (`openai`, `anthropic`, `scripted`)
//! answers one [`ModelRequest`]; the engine
//! builds the requests ([`prompt`]) and reads the answers, so what the model is
//! asked is the same whoever answers it.

pub mod anthropic;
pub mod breaker;
mod connect_error;
pub mod openai;
pub mod prompt;
mod script_error;
pub mod scripted;

pub use connect_error::{ConnectError, MalformedReply};

use crate::state::{ChatMessage, ToolCallRequest};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// Why a model was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A reply to the user (tools allowed).
    Reply,
    /// Which `when` condition holds.
    ChooseExit,
    /// Values for the node's `extract` variables.
    Extract,
}

impl Purpose {
    /// The purpose as in `llm_call` events.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Reply => "reply",
            Purpose::ChooseExit => "choose_exit",
            Purpose::Extract => "extract",
        }
    }
}

/// A function the model may call: a tool, or the forced `choose_exit` / `extract`.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    /// Its name.
    pub name: String,
    /// What it does, if said.
    pub description: Option<String>,
    /// A JSON Schema object of its arguments.
    pub parameters: Value,
}

/// One request to a model.
#[derive(Debug, Clone)]
pub struct ModelRequest<'a> {
    /// Why.
    pub purpose: Purpose,
    /// The node asking.
    pub node: &'a str,
    /// The system message.
    pub system: String,
    /// The conversation so far.
    pub messages: &'a [ChatMessage],
    /// The functions offered.
    pub functions: Vec<FunctionSpec>,
    /// The function the model must call (`choose_exit`, `extract`), if any.
    pub forced: Option<String>,
    /// A note after a malformed answer, asking for a well-formed one.
    pub note: Option<String>,
    /// How many requests of this purpose this node made before in the run.
    pub call_index: u32,
}

/// What a model answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelAnswer {
    /// Its text, if any.
    pub text: Option<String>,
    /// The functions it called.
    pub tool_calls: Vec<ToolCallRequest>,
    /// Tokens sent, if the provider says.
    pub input_tokens: Option<u64>,
    /// Tokens received, if the provider says.
    pub output_tokens: Option<u64>,
}

/// Why a model or tool call failed, and whether the same call may succeed later
/// (an outage: a connection error, a time-out, a 429 or a 5xx), which lets a run
/// that failed on it be resumed with a retry and counts toward a model's breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// What happened.
    pub message: String,
    /// Whether it was an outage that trying later may cure.
    pub retryable: bool,
}

impl CallError {
    /// A failure that trying again would not cure.
    pub fn fatal(message: impl Into<String>) -> CallError {
        CallError {
            message: message.into(),
            retryable: false,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for CallError {
    fn from(message: String) -> CallError {
        CallError::fatal(message)
    }
}

impl From<crate::eval::EvalError> for CallError {
    fn from(e: crate::eval::EvalError) -> CallError {
        CallError::fatal(e.to_string())
    }
}

impl From<&str> for CallError {
    fn from(message: &str) -> CallError {
        CallError::fatal(message)
    }
}

impl From<crate::http::Failure> for CallError {
    fn from(f: crate::http::Failure) -> CallError {
        match f {
            crate::http::Failure::Retryable { message, .. } => CallError {
                message,
                retryable: true,
            },
            crate::http::Failure::Fatal(message) => CallError::fatal(message),
        }
    }
}

/// A boxed future of a model's answer.
pub type AnswerFuture<'a> = Pin<Box<dyn Future<Output = Result<ModelAnswer, CallError>> + Send + 'a>>;

/// A model that answers requests.
pub trait Model: Send + Sync {
    /// The provider's name (`scripted`, `openai`, ...).
    fn provider(&self) -> &str;
    /// The model's name.
    fn name(&self) -> &str;
    /// Answers one request; an error says why it could not.
    fn complete<'a>(&'a self, request: &'a ModelRequest<'a>) -> AnswerFuture<'a>;
}

/// Makes the model of a `provider:model` string.
pub fn connect(provider: &str, model: &str) -> Result<std::sync::Arc<dyn Model>, ConnectError> {
    match provider {
        "scripted" => Ok(std::sync::Arc::new(scripted::ScriptedModel::load(
            std::path::Path::new(model),
        )?)),
        "openai" => Ok(std::sync::Arc::new(openai::OpenAi::from_env(model)?)),
        "anthropic" => Ok(std::sync::Arc::new(anthropic::Anthropic::from_env(model)?)),
        other => Err(ConnectError::UnknownProvider {
            provider: other.to_string(),
        }),
    }
}
