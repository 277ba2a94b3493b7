//! `flow graph FILE [--format mermaid|dot]`.

use crate::{DiagramFormat, files};
use std::io::Write;
use std::path::Path;

/// Runs the command; returns the exit status.
pub fn run(path: &Path, format: DiagramFormat) -> u8 {
    let graph = match files::load_graph(path, 1) {
        Ok(graph) => graph,
        Err(status) => return status,
    };
    let diagram = match format {
        DiagramFormat::Mermaid => flow_compiler::diagram::mermaid(&graph),
        DiagramFormat::Dot => flow_compiler::diagram::dot(&graph),
    };
    let _ = std::io::stdout().write_all(diagram.as_bytes());
    0
}
