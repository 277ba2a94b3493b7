//! `flow graph FILE [--format mermaid|dot]`.

use crate::{DiagramFormat, EXIT_USAGE, files};
use flow_compiler::render::{self, SourceFile};
use flow_graph::CompiledGraph;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Runs the command; returns the exit status.
pub fn run(path: &Path, format: DiagramFormat) -> u8 {
    let (name, text) = match files::read_or_report(path) {
        Ok(read) => read,
        Err(status) => return status,
    };
    let graph: CompiledGraph = if path.extension().is_some_and(|e| e == "json") {
        match serde_json::from_str(&text) {
            Ok(graph) => graph,
            Err(e) => {
                eprintln!("error: {name} is not a compiled graph: {e}");
                return EXIT_USAGE;
            }
        }
    } else {
        let output = flow_compiler::compile(&text, &name);
        let source = SourceFile::new(&name, &text);
        let style = files::human_style(std::io::stderr().is_terminal());
        for d in &output.diagnostics {
            eprint!("{}", render::human(&source, d, style));
        }
        match output.graph {
            Some(graph) => graph,
            None => {
                eprintln!("error: {name} has errors; no graph drawn");
                return 1;
            }
        }
    };
    let diagram = match format {
        DiagramFormat::Mermaid => flow_compiler::diagram::mermaid(&graph),
        DiagramFormat::Dot => flow_compiler::diagram::dot(&graph),
    };
    let _ = std::io::stdout().write_all(diagram.as_bytes());
    0
}
