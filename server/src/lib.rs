//! `flow serve`: the workflow service (SERVER.md). Workflows and revisions
//! live in the [`catalog`]; runs in the runtime's store; API keys are made
//! and hashed by [`keys`].
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod catalog;
pub mod keys;
