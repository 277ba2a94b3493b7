//! The `.flow` interpreter: runs a compiled graph (never `.flow` source) as
//! LANGUAGE.md §4 and §8 and RUNTIME.md say, checkpointing every step.
//!
//! A host service embeds it like this: load a compiled graph, register the
//! handlers of its `host` tools, start a run, then feed it user messages and
//! answers. Every step is committed to the [`store::Store`] with its events
//! before anyone sees them.
//!
//! ```
//! use flow_runtime::{Program, Runtime, RunOptions, store::MemoryStore};
//! use std::sync::Arc;
//! # let graph = r#"{"schema_version":1,"workflow":{"name":"hi","title":null,"instructions":null,
//! #  "max_steps":10,"default_model":null,"source":{"file":"hi.flow","sha256":""}},"start":"bye",
//! #  "models":{},"types":{},"variables":[],"secrets":[],"knowledge_bases":{},"tools":[],
//! #  "nodes":[{"type":"end","id":"bye","span":null,"exits":[],"say":[{"text":"Bye!"}],"outcome":"done"}],
//! #  "edges":[],"global_exits":[]}"#;
//! let program = Arc::new(Program::from_json(graph).unwrap());
//! let runtime = Runtime::new(Arc::new(MemoryStore::new()));
//! let tokio = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let mut run = runtime.start(program, Default::default(), RunOptions::default(), Default::default()).unwrap();
//! let status = tokio.block_on(run.run(&mut std::collections::VecDeque::new())).unwrap();
//! assert_eq!(status.as_str(), "completed");
//! assert_eq!(run.conversation()[0].text, "Bye!");
//! ```
#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod clock;
pub mod engine;
pub mod error;
pub mod eval;
pub mod eval_error;
pub mod event;
pub mod http;
pub mod inputs;
pub mod model;
pub mod program;
pub mod secrets;
pub mod state;
pub mod store;
pub mod tools;
pub mod tools_http;

pub use clock::{Clock, FakeClock, FixedClock, SystemClock};
pub use engine::{
    Activity, Answer, AnswerError, FailureKind, Inbox, Incoming, Prepared, Run, RunError, RunOptions, Runtime,
    SpentExit, StartError, StepFailure, Taken, secrets_from, secrets_from_env,
};
pub use error::ErrorClass;
pub use event::{Event, EventBody};
pub use inputs::parse_model_replacement;
pub use model::CallError;
pub use model::prompt::{Inspection, inspect};
pub use program::{EdgeIx, LoadError, NodeIx, Program};
pub use state::{RetryStep, RunState, RunStatus};
pub use tools::HostTool;
