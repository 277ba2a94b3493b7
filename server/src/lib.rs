//! `flow serve`: the workflow service (SERVER.md). Workflows and revisions
//! live in the [`catalog`]; runs in the runtime's store; API keys are made
//! and hashed by [`keys`]. Routes are one file per resource under
//! [`routes`]; every refusal is a [`problem::ApiError`].

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod admission;
pub mod app;
pub mod auth;
pub mod background;
pub mod body;
pub mod catalog;
pub mod clock;
pub mod compile;
pub mod hub;
pub mod idempotency;
pub mod keys;
pub mod metrics;
pub mod problem;
pub mod routes;
pub mod schedules;
pub mod serve;
pub mod turns;
pub mod views;
pub mod webhooks;

pub use serve::{Config, ServeError, init_logging, serve};
