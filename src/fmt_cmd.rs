//! `flow fmt PATH... [--check]`.
//!
//! Rewrites each `.flow` file in the canonical layout. With `--check` nothing
//! is written: the path of every file that is not formatted is printed.
//! A file with syntax errors is never changed: its errors go to stderr.
//! Exit status: 0 when nothing is (or was) to change, 1 when `--check` found a
//! file to change or a file had syntax errors, 2 when the command could not run.

use crate::{EXIT_USAGE, files};
use flow_compiler::format::format;
use flow_compiler::render::{self, SourceFile};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Runs the command; returns the exit status.
pub fn run(paths: &[PathBuf], check: bool) -> u8 {
    let found = match files::collect_or_report(paths) {
        Ok(found) => found,
        Err(status) => return status,
    };
    let style = files::human_style(std::io::stderr().is_terminal());
    let mut status = 0;
    for path in &found {
        let (name, text) = match files::read_or_report(path) {
            Ok(read) => read,
            Err(status) => return status,
        };
        match format(&text) {
            Err(errors) => {
                let source = SourceFile::new(&name, &text);
                let report: String = errors.iter().map(|d| render::human(&source, d, style)).collect();
                eprint!("{report}");
                eprintln!("error: {name} has syntax errors, so it was not formatted");
                status = 1;
            }
            Ok(formatted) if formatted == text => {}
            Ok(_) if check => {
                println!("{name}");
                status = 1;
            }
            Ok(formatted) => {
                if let Err(e) = std::fs::write(path, formatted) {
                    eprintln!("error: cannot write {name}: {e}");
                    return EXIT_USAGE;
                }
            }
        }
    }
    status
}
