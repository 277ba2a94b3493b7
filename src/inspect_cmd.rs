//! `flow inspect FILE NODE`: what the model is sent at a node, built by the
//! runtime's own code, with templates shown as placeholders.

use crate::{EXIT_USAGE, files};
use flow_runtime::Program;
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
    let inspection = match flow_runtime::inspect(&program, node) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
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
