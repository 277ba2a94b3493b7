//! A source compiled as the service keeps it: the workflow's name, the
//! diagnostics as `flow check --format json` gives them, and the graph's
//! exact bytes (those `flow compile NAME.flow` prints) with their sha256.

use crate::catalog::{NewRevision, RevisionStatus};
use flow_compiler::render::{self, SourceFile};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What compiling a source gave.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The `workflow` block's name, if the source has one (even when it fails).
    pub name: Option<String>,
    /// The revision to store.
    pub revision: NewRevision,
}

/// The `workflow` block's name of a source, read from its syntax alone.
pub fn workflow_name(source: &str) -> Option<String> {
    let mut ignored = flow_compiler::Diagnostics::default();
    let file = flow_compiler::syntax::lower(source, &mut ignored);
    file.items.iter().find_map(|item| match item {
        flow_compiler::ast::Item::Workflow(w) => Some(w.name.name.clone()),
        _ => None,
    })
}

/// Compiles `source` as the file `NAME.flow` (`workflow.flow` when it names no workflow).
pub fn compile(source: &str) -> Compiled {
    let name = workflow_name(source);
    let file = format!("{}.flow", name.as_deref().unwrap_or("workflow"));
    let output = flow_compiler::compile(source, &file);
    let shown = SourceFile::new(&file, source);
    let diagnostics = Value::Array(output.diagnostics.iter().map(|d| render::json(&shown, d)).collect());
    let graph = output
        .graph
        .as_ref()
        .and_then(|g| serde_json::to_string_pretty(g).ok())
        .map(|mut json| {
            json.push('\n');
            json
        });
    let graph_hash = graph.as_ref().map(|bytes| hex(&Sha256::digest(bytes.as_bytes())));
    let title = output.graph.as_ref().and_then(|g| g.workflow.title.clone());
    Compiled {
        name,
        revision: NewRevision {
            status: if graph.is_some() {
                RevisionStatus::Compiled
            } else {
                RevisionStatus::Failed
            },
            title,
            source: source.to_string(),
            diagnostics,
            graph,
            graph_hash,
        },
    }
}

/// [`compile`] on tokio's blocking pool: compiling is CPU work that takes
/// seconds for a big source, and must not hold a worker thread that the
/// server's requests, streams and timers share.
pub async fn compile_apart(source: String) -> Result<Compiled, crate::problem::ApiError> {
    tokio::task::spawn_blocking(move || compile(&source))
        .await
        .map_err(|e| crate::problem::ApiError::internal(format!("compiling stopped: {e}")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_compiles_to_the_bytes_flow_compile_prints() {
        let source =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/order_support.flow")).unwrap();
        let c = compile(&source);
        assert_eq!(c.name.as_deref(), Some("order_support"));
        assert_eq!(c.revision.status, RevisionStatus::Compiled);
        let graph = c.revision.graph.unwrap();
        assert!(graph.ends_with("}\n"));
        assert_eq!(c.revision.graph_hash.unwrap(), hex(&Sha256::digest(graph.as_bytes())));
        let broken = compile("workflow w {\n  start: nowhere\n}\n");
        assert_eq!(broken.name.as_deref(), Some("w"));
        assert_eq!(broken.revision.status, RevisionStatus::Failed);
        assert!(broken.revision.graph.is_none());
        let first = &broken.revision.diagnostics[0];
        assert_eq!(first["file"], "w.flow");
        assert_eq!(workflow_name("model m { provider: openai }"), None);
    }
}
