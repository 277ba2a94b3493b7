//! Tests of the human report's layout.

use super::*;

fn style() -> HumanStyle {
    HumanStyle {
        color: false,
        width: 100,
    }
}

/// A workflow whose cycle `ask -> check -> ask` has its two nodes 60 lines
/// apart, after 60 lines of another node (miette 7.6 joins two labels into one
/// snippet when the second's line is less than about twice the first's).
fn far_apart_cycle() -> String {
    let filler: String = (0..60).map(|i| format!("  Line {i} of a long prompt.\n")).collect();
    format!(
        "workflow demo {{\n  start intro\n  model m\n}}\n\nmodel m = \"openai:gpt-4o-mini\"\n\n\
         agent intro {{\n  \"\"\"\n{filler}  \"\"\"\n  when \"the user is ready\" -> ask\n}}\n\n\
         agent ask {{\n  \"\"\"\n{filler}  \"\"\"\n  when \"the user answered\" -> check\n}}\n\n\
         agent check {{\n  \"\"\"\n{filler}  \"\"\"\n  when \"the answer is wrong\" -> ask\n  when \"done\" -> end\n}}\n"
    )
}

#[test]
fn far_apart_labels_are_drawn_as_short_snippets() {
    let source = far_apart_cycle();
    let output = crate::compile(&source, "cycle.flow");
    let cycle: Vec<&Diagnostic> = output
        .diagnostics
        .iter()
        .filter(|d| d.code == crate::Code::E0301)
        .collect();
    assert_eq!(cycle.len(), 1, "{:?}", output.diagnostics);
    let d = cycle[0];
    assert!(d.message.contains("ask -> check -> ask"), "{}", d.message);
    let file = SourceFile::new("cycle.flow", &source);
    let text = human(&file, d, style());
    let lines = text.lines().count();
    assert!(lines < 30, "the report is {lines} lines long:\n{text}");
    assert!(!text.contains("Line 30 of a long prompt"), "{text}");
    // Every label is still drawn.
    assert!(text.contains("`ask` is on the cycle"), "{text}");
    assert!(text.contains("`check` is on the cycle"), "{text}");
    assert!(text.contains("an edge of the cycle"), "{text}");
}

#[test]
fn nearby_labels_share_one_snippet() {
    let source = "workflow demo {\n  start a\n  model m\n}\n\nmodel m = \"openai:gpt-4o-mini\"\n\n\
                  agent a {\n  \"Hi.\"\n  when \"again\" -> a\n}\n";
    let output = crate::compile(source, "loop.flow");
    let d = output
        .diagnostics
        .iter()
        .find(|d| d.code == crate::Code::E0301)
        .expect("an E0301");
    let text = human(&SourceFile::new("loop.flow", source), d, style());
    assert_eq!(text.matches("loop.flow:").count(), 1, "{text}");
}
