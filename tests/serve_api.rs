//! End-to-end tests of `flow serve` (SERVER.md "Workflows and revisions",
//! "Runs", "Event stream"): the real `flow` binary on 127.0.0.1, real HTTP,
//! a scripted OpenAI-compatible model on 127.0.0.1 (tests/serve/). Each test
//! has its own server and store; the files below split them by concern.

mod serve;

#[path = "serve_api/cli.rs"]
mod cli;
#[path = "serve_api/conversation.rs"]
mod conversation;
#[path = "serve_api/lists.rs"]
mod lists;
#[path = "serve_api/playground.rs"]
mod playground;
#[path = "serve_api/restart.rs"]
mod restart;
#[path = "serve_api/reviews.rs"]
mod reviews;
#[path = "serve_api/secrets.rs"]
mod secrets;
#[path = "serve_api/stream.rs"]
mod stream;
#[path = "serve_api/workflows.rs"]
mod workflows;
