//! Helpers shared by the end-to-end tests of the `flow` binary.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `flow` binary with `args` in `dir`.
pub fn flow(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(args)
        .current_dir(dir)
        .env_remove("FLOW_STORE")
        .env_remove("FLOW_DOCS_URL")
        .env_remove("FLOW_CLOCK")
        .output()
        .expect("run flow")
}

/// A fresh, empty temporary folder named after the test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flow-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The newest run of the store in `dir` (`flow runs`): its id and state, once
/// its first step is committed.
pub fn stored_run(dir: &Path) -> Option<(String, String)> {
    let out = flow(&["runs"], dir);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut fields = text.lines().nth(1)?.split_whitespace();
    let id = fields.next()?.to_string();
    let state = fields.nth(1)?.to_string();
    Some((id, state))
}
