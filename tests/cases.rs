//! Data-driven compiler cases: one `.flow` file per case under `tests/cases/`.
//!
//! The first line of each case says what the compiler must report:
//! `# expect: E0102 W0503` (a multiset of codes) or `# expect: clean`.
//! Each case also has an insta snapshot of the human report (no colour, fixed
//! width), the JSON diagnostics and the GitHub annotations.

use flow_compiler::render::{self, HumanStyle, SourceFile};
use std::path::Path;

fn expected_codes(source: &str, path: &Path) -> Vec<String> {
    let header = source
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# expect:"))
        .unwrap_or_else(|| panic!("{} lacks a `# expect:` first line", path.display()));
    let mut codes: Vec<String> = header
        .split_whitespace()
        .filter(|c| *c != "clean")
        .map(str::to_string)
        .collect();
    codes.sort();
    codes
}

fn case_name(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.rsplit_once("tests/cases/")
        .map(|(_, rest)| rest.to_string())
        .unwrap_or(text)
}

#[test]
fn cases() {
    insta::glob!("cases/**/*.flow", |path| {
        let source = std::fs::read_to_string(path).expect("read case");
        let name = case_name(path);
        let output = flow_compiler::compile(&source, &name);
        let mut found: Vec<String> = output.diagnostics.iter().map(|d| d.code.to_string()).collect();
        found.sort();
        let expected = expected_codes(&source, path);
        let file = SourceFile::new(&name, &source);
        let style = HumanStyle {
            color: false,
            width: 100,
        };
        let human: String = output
            .diagnostics
            .iter()
            .map(|d| render::human(&file, d, style))
            .collect();
        assert_eq!(
            found, expected,
            "{name}: the codes reported differ from `# expect:`\n{human}"
        );
        if expected.is_empty() {
            assert!(output.graph.is_some(), "{name}: a clean case must compile to a graph");
        }
        let json: Vec<serde_json::Value> = output.diagnostics.iter().map(|d| render::json(&file, d)).collect();
        let json = serde_json::to_string_pretty(&json).expect("json");
        let github: String = output.diagnostics.iter().map(|d| render::github(&file, d)).collect();
        insta::assert_snapshot!(format!("{human}\n--- json ---\n{json}\n--- github ---\n{github}"));
    });
}
