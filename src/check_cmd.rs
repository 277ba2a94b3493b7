//! `flow check PATH... [--format human|json] [--deny-warnings]`.

use crate::{Format, files};
use flow_compiler::render::{self, SourceFile};
use flow_compiler::{Severity, compile};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Runs the command; returns the exit status.
pub fn run(paths: &[PathBuf], format: Format, deny_warnings: bool) -> u8 {
    let found = match files::collect_or_report(paths) {
        Ok(found) => found,
        Err(status) => return status,
    };
    let style = files::human_style(std::io::stdout().is_terminal());
    let mut out = String::new();
    let mut json_diagnostics = Vec::new();
    let mut sarif_inputs: Vec<(String, String, Vec<flow_compiler::Diagnostic>)> = Vec::new();
    let (mut errors, mut warnings) = (0usize, 0usize);
    for path in &found {
        let (name, text) = match files::read_or_report(path) {
            Ok(read) => read,
            Err(status) => return status,
        };
        let output = compile(&text, &name);
        let source = SourceFile::new(&name, &text);
        for d in &output.diagnostics {
            match d.severity() {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
            }
            match format {
                Format::Human => out.push_str(&render::human(&source, d, style)),
                Format::Json => json_diagnostics.push(render::json(&source, d)),
                Format::Github => out.push_str(&render::github(&source, d)),
                Format::Sarif => {}
            }
        }
        if format == Format::Sarif {
            sarif_inputs.push((name.clone(), text.clone(), output.diagnostics));
        }
    }
    match format {
        Format::Human => out.push_str(&summary(found.len(), errors, warnings)),
        Format::Github => {}
        Format::Sarif => {
            let files: Vec<_> = sarif_inputs
                .iter()
                .map(|(name, text, diags)| (SourceFile::new(name, text), diags.clone()))
                .collect();
            out = serde_json::to_string_pretty(&render::sarif_with_docs(
                &files,
                std::env::var(flow_compiler::DOCS_URL_ENV).ok().as_deref(),
            ))
            .unwrap_or_default();
            out.push('\n');
        }
        Format::Json => {
            let value = json!({"diagnostics": json_diagnostics, "errors": errors, "warnings": warnings});
            out = serde_json::to_string_pretty(&value).unwrap_or_default();
            out.push('\n');
        }
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    if errors > 0 || (deny_warnings && warnings > 0) {
        1
    } else {
        0
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The last line of a human report.
fn summary(files: usize, errors: usize, warnings: usize) -> String {
    if errors == 0 && warnings == 0 {
        format!("checked {}: no problems\n", plural(files, "file"))
    } else {
        format!(
            "checked {}: {}, {}\n",
            plural(files, "file"),
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }
}
