//! `flow lsp`: the language server on stdin and stdout.

/// Serves until the client says `exit`; 0 on a clean exit, 2 when the runtime cannot start.
pub fn run() -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the language server: {e}");
            return crate::EXIT_USAGE;
        }
    };
    runtime.block_on(flow_lsp::run_stdio());
    0
}
