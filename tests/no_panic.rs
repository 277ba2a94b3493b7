//! No input makes the compiler panic: every prefix (at character boundaries)
//! of every example and test case compiles to diagnostics, never a crash.
//! Long files are sampled with a stride to stay within CI's budget; every
//! prefix of short files is tried.

use std::path::{Path, PathBuf};

fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "flow") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples", "tests/cases", "fuzz/regressions"] {
        if root.join(dir).is_dir() {
            walk(&root.join(dir), &mut out);
        }
    }
    out.sort();
    out
}

#[test]
fn every_prefix_compiles_without_panicking() {
    let mut compiled = 0usize;
    for path in sources() {
        let text = std::fs::read_to_string(&path).expect("read");
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        // Every prefix of short files; about 1,500 evenly spread prefixes of long ones
        // (150 of the long fuzz regressions, which are slow to compile in a debug build).
        let budget = if path.to_string_lossy().contains("regressions") {
            150
        } else {
            1500
        };
        let stride = (boundaries.len() / budget).max(1);
        for (n, &end) in boundaries.iter().enumerate() {
            if n % stride != 0 && end != text.len() {
                continue;
            }
            let prefix = &text[..end];
            let output = std::panic::catch_unwind(|| flow_compiler::compile(prefix, "prefix.flow"));
            let output = output.unwrap_or_else(|_| panic!("{} panicked on its first {end} bytes", path.display()));
            // A prefix either compiles to a graph or says why not.
            assert!(
                output.graph.is_some() || output.errors() > 0,
                "{}: no graph and no error",
                path.display()
            );
            compiled += 1;
        }
    }
    assert!(compiled > 10_000, "only {compiled} prefixes were tried");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let wrap = |open: &str, inner: &str, close: &str, n: usize| format!("{}{inner}{}", open.repeat(n), close.repeat(n));
    let header = "workflow w {\n  start a\n}\nvar x: any = 0\n";
    for n in [60, 99, 100, 101, 5_000] {
        let sources = [
            format!(
                "{header}action a {{\n  set x = {}\n  -> end\n}}\n",
                wrap("(", "1", ")", n)
            ),
            format!(
                "{header}action a {{\n  set x = {}\n  -> end\n}}\n",
                wrap("[", "1", "]", n)
            ),
            format!(
                "{header}action a {{\n  set x = {}\n  -> end\n}}\n",
                wrap("{ a: ", "1", " }", n)
            ),
            format!(
                "{header}action a {{\n  if {}true -> end\n  -> end\n}}\n",
                "not ".repeat(n)
            ),
            format!("{header}action a {{\n  set x = {}1\n  -> end\n}}\n", "- ".repeat(n)),
            format!("{header}var y: {}\n", wrap("[", "int", "]", n)),
            format!(
                "{header}say a {{\n  \"{{{{ {} }}}}\"\n  -> end\n}}\n",
                wrap("(", "x", ")", n)
            ),
        ];
        for source in sources {
            let output = flow_compiler::compile(&source, "deep.flow");
            if n > 100 {
                assert!(
                    output.diagnostics.iter().any(|d| d.code == flow_compiler::Code::E0001),
                    "nesting {n} must be refused"
                );
            }
        }
    }
}

#[test]
fn long_operator_and_field_chains_are_refused_not_overflowing() {
    let header = "workflow w {\n  start a\n}\nvar x: any = 1\n";
    for n in [10, 255, 300, 20_000] {
        let sums = vec!["x"; n].join(" + ");
        let dots = format!("x{}", ".y".repeat(n));
        let coalesce = vec!["x"; n].join(" ?? ");
        for expr in [sums, dots, coalesce] {
            let source = format!("{header}action a {{\n  set x = {expr}\n  -> end\n}}\n");
            let output = flow_compiler::compile(&source, "chain.flow");
            let refused = output.diagnostics.iter().any(|d| d.code == flow_compiler::Code::E0001);
            assert_eq!(refused, n > 256, "chain of {n}: {:?}", output.diagnostics.first());
        }
    }
}

#[test]
fn chains_inside_nested_brackets_share_one_budget() {
    // 60 levels of brackets, each holding a chain of 200 operators: deep in total.
    let mut expr = "x".to_string();
    for _ in 0..60 {
        expr = format!("({} + {expr})", vec!["x"; 200].join(" + "));
    }
    let source = format!("workflow w {{\n  start a\n}}\nvar x: any = 1\naction a {{\n  set x = {expr}\n  -> end\n}}\n");
    let output = flow_compiler::compile(&source, "nested.flow");
    assert!(output.diagnostics.iter().any(|d| d.code == flow_compiler::Code::E0001));
}

/// A workflow of `n` nodes in one long chain (say, action and route in turn);
/// `close` sends the last node back to the first, an unbounded cycle (E0301).
fn chain(n: usize, close: bool) -> String {
    let mut text = String::from("workflow w {\n  start n0\n}\n\nvar x: int = 0\n");
    for i in 0..n {
        let next = match i + 1 {
            last if last == n && close => "n0".to_string(),
            last if last == n => "end".to_string(),
            next => format!("n{next}"),
        };
        text.push_str(&match i % 3 {
            0 => format!("\nsay n{i} {{\n  \"step {{{{x}}}}\"\n  -> {next}\n}}\n"),
            1 => format!("\naction n{i} {{\n  set x = x + 1\n  -> {next}\n}}\n"),
            _ => format!("\nroute n{i} {{\n  if x > 1 -> {next}\n  else -> {next}\n}}\n"),
        });
    }
    text
}

/// Runs `f` on a thread with the default 2 MiB stack of a test thread,
/// whatever `RUST_MIN_STACK` says.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic");
}

#[test]
fn a_hundred_thousand_node_chain_compiles_formats_draws_and_loads() {
    on_small_stack(|| {
        let text = chain(100_000, false);
        let output = flow_compiler::compile(&text, "chain.flow");
        assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics.first());
        let graph = output.graph.expect("a graph");
        let json = serde_json::to_string(&graph).expect("to JSON");
        let program = flow_runtime::Program::from_json(&json).expect("the runtime loads it");
        assert_eq!(program.graph.nodes.len(), 100_001);
        assert!(flow_compiler::diagram::mermaid(&graph).len() > 100_000);
        assert!(flow_compiler::diagram::dot(&graph).len() > 100_000);
        let formatted = flow_compiler::format::format(&text).expect("formats");
        assert!(formatted.len() >= text.len() / 2);
        let file = flow_compiler::syntax::lower(&text, &mut flow_compiler::Diagnostics::default());
        let symbols = flow_compiler::symbols::SymbolIndex::build(&file);
        drop(symbols);
    });
}

#[test]
fn a_hundred_thousand_node_cycle_is_reported_and_rendered() {
    on_small_stack(|| {
        let text = chain(100_000, true);
        let output = flow_compiler::compile(&text, "cycle.flow");
        let cycle = output
            .diagnostics
            .iter()
            .find(|d| d.code == flow_compiler::Code::E0301)
            .expect("an unbounded cycle");
        let source = flow_compiler::render::SourceFile::new("cycle.flow", &text);
        let style = flow_compiler::render::HumanStyle {
            color: false,
            width: 80,
        };
        assert!(flow_compiler::render::human(&source, cycle, style).contains("E0301"));
    });
}

#[test]
fn flow_check_of_a_hundred_thousand_node_chain_succeeds() {
    // The binary's main thread, not a test thread: `flow check` must not abort.
    let dir = std::env::temp_dir().join(format!("flow-no-panic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("chain.flow");
    std::fs::write(&path, chain(100_000, false)).expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flow"))
        .arg("check")
        .arg(&path)
        .output()
        .expect("run flow check");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "flow check: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
