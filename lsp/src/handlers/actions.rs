//! Quick fixes: the machine-applicable fix of each diagnostic that touches
//! the requested range ("did you mean", a bound on a cycle's edge, `on error`,
//! `else`).

use super::diagnostics::diagnostics;
use crate::position::range;
use crate::store::Analysis;
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
        .filter_map(|(diag, lsp)| {
            let fix = diag.fix.as_ref()?;
            let edits = fix
                .edits
                .iter()
                .map(|e| TextEdit::new(range(text, lines, e.span), e.text.clone()))
                .collect();
            Some(CodeAction {
                title: fix.message.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![lsp]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), edits)])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            })
        })
        .collect()
}
