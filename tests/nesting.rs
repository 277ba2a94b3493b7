//! The compiler's nesting limits and the graph reader's agree: an expression
//! at the deepest nesting the compiler accepts compiles, runs to its first
//! pause, resumes from the store, runs from its compiled JSON and is drawn;
//! one level deeper is a clean compile error (E0001).

mod common;

use common::{flow, stored_run, temp_dir};
use std::path::Path;

/// A workflow that sets `x` to `expr`, then pauses at an approval.
fn workflow(expr: &str) -> String {
    format!(
        "workflow w {{\n  start compute\n}}\n\nvar x: any = 1\n\n\
         action compute {{\n  set x = {expr}\n  -> ask\n}}\n\n\
         approval ask {{\n  prompt \"Go on?\"\n  on approved -> done\n  on rejected -> end\n}}\n\n\
         end done {{\n  say \"done\"\n}}\n"
    )
}

/// Lists nested `n` levels deep: `[[...[1]...]]`.
fn lists(n: usize) -> String {
    format!("{}1{}", "[".repeat(n), "]".repeat(n))
}

/// A chain of `n` operators: `x + x + ... + x`.
fn sum(n: usize) -> String {
    vec!["x"; n + 1].join(" + ")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Compile, graph, run to the pause and resume, from source and from JSON.
fn works_end_to_end(dir: &Path, expr: &str) {
    std::fs::write(dir.join("deep.flow"), workflow(expr)).expect("write");
    let out = flow(&["compile", "deep.flow", "-o", "deep.json"], dir);
    assert!(out.status.success(), "compile: {}", text(&out));
    let json = std::fs::read_to_string(dir.join("deep.json")).expect("read graph");
    assert!(
        flow_graph::json_depth(&json) > 128,
        "the graph is not deeper than serde_json's default limit"
    );
    let out = flow(&["graph", "deep.json"], dir);
    assert!(out.status.success(), "graph: {}", text(&out));
    for file in ["deep.flow", "deep.json"] {
        // One run per store, so the run looked up is this one.
        let _ = std::fs::remove_dir_all(dir.join(".flow"));
        let out = flow(&["run", file], dir);
        assert_eq!(out.status.code(), Some(3), "run {file} pauses: {}", text(&out));
        let (id, state) = stored_run(dir).expect("a stored run");
        assert_eq!(state, "waiting_for_approval", "{file}");
        let out = flow(&["resume", &id, "--approve"], dir);
        assert_eq!(out.status.code(), Some(0), "resume {file}: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("done"), "{}", text(&out));
    }
}

/// One level deeper than accepted: a compile error, no crash.
fn refused(dir: &Path, expr: &str, message: &str) {
    std::fs::write(dir.join("deeper.flow"), workflow(expr)).expect("write");
    let out = flow(&["check", "deeper.flow"], dir);
    assert_eq!(out.status.code(), Some(1), "check: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("E0001") && stdout.contains(message), "{}", text(&out));
}

#[test]
fn lists_nested_at_the_limit_run_resume_and_draw() {
    let dir = temp_dir("nesting-lists");
    works_end_to_end(&dir, &lists(63));
    refused(&dir, &lists(64), "nested more than 64 levels deep");
}

#[test]
fn operator_chains_at_the_limit_run_resume_and_draw() {
    let dir = temp_dir("nesting-chain");
    works_end_to_end(&dir, &sum(256));
    refused(&dir, &sum(257), "more than 256 operators");
}
