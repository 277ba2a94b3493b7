//! `flow inspect FILE NODE`: what the model is sent at a node, built by the
//! runtime's own code, with templates shown as placeholders, as written in
//! the source.

use crate::{EXIT_USAGE, files};
use flow_runtime::Program;
use std::collections::HashMap;
use std::path::Path;

/// Runs the command; returns the exit status.
pub fn run(file: &Path, node: &str, json: bool) -> u8 {
    let graph = match files::load_graph(file, EXIT_USAGE) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let program = match Program::new(graph) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut inspection = match flow_runtime::inspect(&program, node) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let (Some(system), Ok(source)) = (&inspection.system, std::fs::read_to_string(file)) {
        inspection.system = Some(as_written(system, &source));
    }
    if json {
        outln!("{}", serde_json::to_string_pretty(&inspection).unwrap_or_default());
        return 0;
    }
    outln!("node: {} ({})", inspection.node, inspection.kind);
    if inspection.system.is_none() {
        outln!("\nThis node sends nothing to a model.");
        return 0;
    }
    if let Some(model) = &inspection.model {
        outln!("model group: {model}");
    }
    if let Some(system) = &inspection.system {
        outln!("\n--- system message ---\n{system}");
    }
    if !inspection.tools.is_empty() {
        outln!("\n--- tools offered with a reply ---");
        for t in &inspection.tools {
            outln!("{}", serde_json::to_string(t).unwrap_or_default());
        }
    }
    if !inspection.choose_exit.is_empty() {
        outln!("\n--- choose_exit options ---");
        for option in &inspection.choose_exit {
            outln!("- {option}");
        }
        outln!("- none");
    }
    if let Some(extract) = &inspection.extract {
        outln!(
            "\n--- extract parameters ---\n{}",
            serde_json::to_string_pretty(extract).unwrap_or_default()
        );
    }
    0
}

/// The inner text of every `{{ }}` template of `source`.
fn templates(source: &str) -> impl Iterator<Item = &str> {
    source
        .split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(inner, _)| inner))
}

/// A template's text with what the compiled graph does not keep removed: the
/// `?` of `?.` and `?[` (a missing value reads as null anyway), spaces and
/// parentheses.
fn normal(template: &str) -> String {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && matches!(chars.peek(), Some('.' | '[')) {
            continue;
        }
        if !c.is_whitespace() && c != '(' && c != ')' {
            out.push(c);
        }
    }
    out
}

/// `shown` (placeholders rebuilt from the compiled graph, where `a?.b` is the
/// path `a.b`) with each placeholder replaced by the source's own text of
/// that template, so `{{trip?.nights}}` reads as written.
fn as_written(shown: &str, source: &str) -> String {
    let mut written: HashMap<String, &str> = HashMap::new();
    for t in templates(source) {
        written.entry(normal(t)).or_insert(t);
    }
    let mut out = String::new();
    let mut rest = shown;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open + 2..].find("}}") else {
            break;
        };
        let inner = &rest[open + 2..open + 2 + close];
        out.push_str(&rest[..open]);
        out.push_str("{{");
        out.push_str(written.get(&normal(inner)).copied().unwrap_or(inner));
        out.push_str("}}");
        rest = &rest[open + 2 + close + 2..];
    }
    out.push_str(rest);
    out
}
