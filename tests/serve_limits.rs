//! End-to-end tests of what `flow serve` refuses and where its limits lie
//! (SERVER.md "Conventions", "Requests", "Steps and requests", "Keys, start,
//! stop"): keys and scopes on every route, bad input, concurrent and repeated
//! requests, the flags it refuses, and the OpenAPI document against the
//! router. The real `flow` binary on 127.0.0.1, real HTTP (tests/serve/).

mod serve;

#[path = "serve_limits/auth.rs"]
mod auth;
#[path = "serve_limits/concurrency.rs"]
mod concurrency;
#[path = "serve_limits/input.rs"]
mod input;
#[path = "serve_limits/openapi.rs"]
mod openapi;
#[path = "serve_limits/routes.rs"]
mod routes;
#[path = "serve_limits/startup.rs"]
mod startup;
