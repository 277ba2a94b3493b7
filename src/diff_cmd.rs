//! `flow diff OLD NEW [--format json|human]`: the semantic difference of two
//! workflows (`.flow` files, compiled first, or compiled `.json` graphs), the
//! same JSON as the server's `GET /v1/workflows/{name}/diff`.

use crate::{EXIT_USAGE, files, terminal};
use clap::ValueEnum;
use flow_graph::diff::GraphDiff;
use std::io::Write;
use std::path::Path;

/// Output formats of `flow diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// The diff as pretty JSON (what the server answers).
    Json,
    /// One line per change: `+ node x`, `- edge y`, `~ node z: field, ...`.
    Human,
}

/// Runs the command; returns the exit status: 0 whether or not the graphs
/// differ, 2 when either side cannot be read or does not compile.
pub fn run(old: &Path, new: &Path, format: DiffFormat) -> u8 {
    // Both sides are loaded before giving up, so every problem is reported at once.
    let old = files::load_graph(old, EXIT_USAGE);
    let new = files::load_graph(new, EXIT_USAGE);
    let (Ok(old), Ok(new)) = (old, new) else {
        return EXIT_USAGE;
    };
    let diff = flow_graph::diff::diff(&old, &new);
    let text = match format {
        DiffFormat::Json => match serde_json::to_string_pretty(&diff) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("error: cannot serialise the diff: {e}");
                return 1;
            }
        },
        DiffFormat::Human => human(&diff),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    0
}

/// The diff for people: the workflow's changed fields, then each section's
/// added (`+`), removed (`-`) and changed (`~`) items; `no differences` when empty.
pub fn human(diff: &GraphDiff) -> String {
    if diff.is_empty() {
        return "no differences\n".to_string();
    }
    let mut out = String::new();
    if !diff.workflow.changed.is_empty() {
        out.push_str(&format!("~ workflow: {}\n", diff.workflow.changed.join(", ")));
    }
    for (kind, changes) in diff.sections() {
        for id in &changes.added {
            out.push_str(&format!("+ {kind} {}\n", shown(id)));
        }
        for id in &changes.removed {
            out.push_str(&format!("- {kind} {}\n", shown(id)));
        }
        for item in &changes.changed {
            let fields: Vec<String> = item.fields.iter().map(|f| shown(f)).collect();
            out.push_str(&format!("~ {kind} {}: {}\n", shown(&item.id), fields.join(", ")));
        }
    }
    out
}

/// A name on one line with nothing a terminal would act on (a hand-written
/// graph may hold any text in an id).
fn shown(name: &str) -> String {
    terminal::escape(name).replace('\n', "\\n").replace('\t', "\\t")
}
