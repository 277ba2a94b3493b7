//! The `.flow` language server: `flow lsp` speaks the Language Server
//! Protocol over stdin and stdout.
//!
//! It is a thin protocol layer ([`server`]) over features that each live in a
//! module of [`handlers`], reading one cached analysis per open document
//! ([`store`]): the text, its line index, the recovering syntax tree, the
//! diagnostics and the compiler's reference index
//! ([`flow_compiler::symbols::SymbolIndex`]). Documents are synchronised in
//! full and recompiled on each change; a change superseded before its turn
//! comes is never compiled. Positions are converted between byte offsets and
//! UTF-16 code units in one place ([`position`]).
//!
//! This is the only crate of the project that knows LSP types. Nothing in it
//! prints to stdout, which is the protocol channel.
//!
//! ```no_run
//! # async fn serve() {
//! flow_lsp::run_stdio().await;
//! # }
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(clippy::print_stdout)]
#![deny(missing_docs)]

pub mod handlers;
pub mod keywords;
pub mod lexer;
pub mod position;
pub mod server;
pub mod store;

/// Serves the language server on stdin and stdout until the client sends `exit`.
pub async fn run_stdio() {
    let (service, socket) = tower_lsp_server::LspService::new(server::Backend::new);
    tower_lsp_server::Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
        .serve(service)
        .await;
}
