//! `flow compile FILE [-o OUT]`.

use crate::{EXIT_USAGE, files};
use flow_compiler::render::{self, SourceFile};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Runs the command; returns the exit status.
pub fn run(path: &Path, output: Option<&Path>) -> u8 {
    let (name, text) = match files::read_or_report(path) {
        Ok(read) => read,
        Err(status) => return status,
    };
    let result = flow_compiler::compile(&text, &name);
    let source = SourceFile::new(&name, &text);
    let style = files::human_style(std::io::stderr().is_terminal());
    for d in &result.diagnostics {
        eprint!("{}", render::human(&source, d, style));
    }
    let Some(graph) = result.graph else {
        eprintln!("error: {name} has errors; no graph written");
        return 1;
    };
    let mut json = match serde_json::to_string_pretty(&graph) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("error: cannot serialise the graph: {e}");
            return 1;
        }
    };
    json.push('\n');
    match output {
        Some(out) => {
            if let Err(e) = std::fs::write(out, json) {
                eprintln!("error: cannot write {}: {e}", out.display());
                return EXIT_USAGE;
            }
        }
        None => {
            let _ = std::io::stdout().write_all(json.as_bytes());
        }
    }
    0
}
