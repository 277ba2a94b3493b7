//! `flow serve`: the workflow service (SERVER.md). Workflows and revisions
//! live in the [`catalog`]; runs in the runtime's store.

pub mod catalog;
