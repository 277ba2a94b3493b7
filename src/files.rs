//! Finding and reading `.flow` files.

use std::path::{Path, PathBuf};

/// Every `.flow` file named by `paths` (folders searched below, hidden folders
/// skipped), sorted within each folder. An empty list means the current folder.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() { &default[..] } else { paths };
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out).map_err(|e| format!("cannot read the folder {}: {e}", path.display()))?;
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(format!("no such file or folder: {}", path.display()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') && n.len() > 1);
        if path.is_dir() {
            if !hidden {
                walk(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "flow") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads a source file, with a message naming it when that fails.
pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|bytes| String::from_utf8(bytes).map_err(|e| format!("{} is not UTF-8 text: {e}", path.display())))
}

/// The path as the user gave it, for messages and the `file` field.
pub fn display(path: &Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// The human report's style: colour only on a terminal (and never with
/// `NO_COLOR`), wrapped at `$COLUMNS` or 100.
pub fn human_style(on_terminal: bool) -> flow_compiler::render::HumanStyle {
    flow_compiler::render::HumanStyle {
        color: on_terminal && std::env::var_os("NO_COLOR").is_none(),
        width: std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100),
    }
}

/// [`collect`], reporting a failure or an empty result on stderr as exit status 2.
pub fn collect_or_report(paths: &[PathBuf]) -> Result<Vec<PathBuf>, u8> {
    match collect(paths) {
        Ok(found) if found.is_empty() => {
            eprintln!("error: no `.flow` file found");
            Err(crate::EXIT_USAGE)
        }
        Ok(found) => Ok(found),
        Err(message) => {
            eprintln!("error: {message}");
            Err(crate::EXIT_USAGE)
        }
    }
}

/// Reads a file for a command: its display name and text, or exit status 2
/// after saying why on stderr.
pub fn read_or_report(path: &Path) -> Result<(String, String), u8> {
    match read(path) {
        Ok(text) => Ok((display(path), text)),
        Err(message) => {
            eprintln!("error: {message}");
            Err(crate::EXIT_USAGE)
        }
    }
}

/// Reads a compiled graph (`.json`) or compiles a `.flow` file, printing its
/// diagnostics on stderr. A compile error gives `compile_error_status`; a file
/// that cannot be read or parsed gives exit status 2.
pub fn load_graph(path: &Path, compile_error_status: u8) -> Result<flow_graph::CompiledGraph, u8> {
    use flow_compiler::render::{self, SourceFile};
    use std::io::IsTerminal;
    let (name, text) = read_or_report(path)?;
    if path.extension().is_some_and(|e| e == "json") {
        return flow_graph::from_json_str(&text).map_err(|e| {
            eprintln!("error: {name} is not a compiled graph: {e}");
            crate::EXIT_USAGE
        });
    }
    let output = flow_compiler::compile(&text, &name);
    let source = SourceFile::new(&name, &text);
    let style = human_style(std::io::stderr().is_terminal());
    for d in &output.diagnostics {
        eprint!("{}", render::human(&source, d, style));
    }
    output.graph.ok_or_else(|| {
        eprintln!("error: {name} has errors");
        compile_error_status
    })
}
