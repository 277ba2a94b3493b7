//! Quick fixes: the machine-applicable fix of each diagnostic that touches
//! the requested range ("did you mean", a bound on a cycle's edge, `on error`,
//! `else`), then the server's own (see [`fixes`]).

use super::diagnostics::diagnostics;
use super::fixes;
use crate::position::range;
use crate::store::Analysis;
use flow_compiler::Fix;
use std::collections::HashMap;
use tower_lsp_server::ls_types::{CodeAction, CodeActionKind, Range, TextEdit, Uri, WorkspaceEdit};

/// The quick fixes for the diagnostics overlapping `wanted`.
pub fn code_actions(uri: &Uri, analysis: &Analysis, wanted: Range) -> Vec<CodeAction> {
    let (text, lines) = (analysis.text.as_str(), &analysis.lines);
    let lsp_diagnostics = diagnostics(uri, analysis);
    analysis
        .diagnostics
        .iter()
        .zip(lsp_diagnostics)
        .filter(|(_, lsp)| lsp.range.start <= wanted.end && wanted.start <= lsp.range.end)
        .flat_map(|(diag, lsp)| {
            let fixes: Vec<Fix> = diag.fix.iter().cloned().chain(fixes::fixes(analysis, diag)).collect();
            fixes.into_iter().enumerate().map(move |(i, fix)| {
                let edits = fix
                    .edits
                    .iter()
                    .map(|e| TextEdit::new(range(text, lines, e.span), e.text.clone()))
                    .collect();
                CodeAction {
                    title: fix.message.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![lsp.clone()]),
                    edit: Some(WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), edits)])),
                        ..WorkspaceEdit::default()
                    }),
                    // The first fix of a diagnostic is the one to apply by default.
                    is_preferred: Some(i == 0),
                    ..CodeAction::default()
                }
            })
        })
        .collect()
}
