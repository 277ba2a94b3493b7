//! The store is async (it never blocks a runtime's worker); the commands that
//! only read it are not. [`wait`] runs one store call to its end from such
//! synchronous code, on a small runtime kept for the thread.

use std::future::Future;

thread_local! {
    static RUNTIME: Option<tokio::runtime::Runtime> =
        tokio::runtime::Builder::new_current_thread().enable_all().build().ok();
}

/// Runs `future` to its end. Not for use inside another runtime's `block_on`.
pub fn wait<F: Future>(future: F) -> Result<F::Output, String> {
    RUNTIME.with(|runtime| match runtime {
        Some(runtime) => Ok(runtime.block_on(future)),
        None => Err("cannot start the async runtime".to_string()),
    })
}
