//! Go to definition, find references and rename, for nodes, variables,
//! tools, types, models and knowledge bases, from the compiler's reference index.

use super::hover::word_at;
use super::lookup::slice;
use crate::keywords;
use crate::position::range;
use crate::store::Analysis;
use flow_compiler::Span;
use flow_compiler::symbols::Symbol;
use std::collections::HashMap;
use tower_lsp_server::ls_types::{Location, Range, TextEdit, Uri, WorkspaceEdit};

/// The declaration of the name at `offset`.
pub fn definition(uri: &Uri, analysis: &Analysis, offset: u32) -> Option<Location> {
    let (symbol, _) = analysis.symbols.at(offset)?;
    let def = analysis.symbols.definition(symbol.namespace, &symbol.name)?;
    Some(Location::new(uri.clone(), to_range(analysis, def.span)))
}

/// Every use of the name at `offset`, and its declaration if asked for.
pub fn references(uri: &Uri, analysis: &Analysis, offset: u32, include_declaration: bool) -> Vec<Location> {
    spans(analysis, offset, include_declaration)
        .into_iter()
        .map(|span| Location::new(uri.clone(), to_range(analysis, span)))
        .collect()
}

/// The range of the name that a rename at `offset` would change, or why it cannot.
pub fn prepare_rename(analysis: &Analysis, offset: u32) -> Result<Range, String> {
    let symbol = renameable(analysis, offset)?;
    Ok(to_range(analysis, symbol.span))
}

/// The edits renaming the name at `offset` to `new_name`, or why it cannot.
pub fn rename(uri: &Uri, analysis: &Analysis, offset: u32, new_name: &str) -> Result<WorkspaceEdit, String> {
    let symbol = renameable(analysis, offset)?;
    if !is_identifier(new_name) {
        return Err(format!(
            "`{new_name}` is not a valid name: use letters, digits and `_`, not starting with a digit"
        ));
    }
    if keywords::RESERVED.contains(&new_name) {
        return Err(format!("`{new_name}` is a reserved word and cannot be a name"));
    }
    if new_name != symbol.name && analysis.symbols.definition(symbol.namespace, new_name).is_some() {
        return Err(format!(
            "a {} named `{new_name}` is already declared",
            kind_name(symbol)
        ));
    }
    let edits = spans(analysis, offset, true)
        .into_iter()
        .map(|span| TextEdit::new(to_range(analysis, span), new_name.to_string()))
        .collect();
    Ok(WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    })
}

/// The symbol at `offset` if it may be renamed: a declared name, not a keyword.
fn renameable(analysis: &Analysis, offset: u32) -> Result<&Symbol, String> {
    match analysis.symbols.at(offset) {
        Some((symbol, _)) if analysis.symbols.definition(symbol.namespace, &symbol.name).is_some() => Ok(symbol),
        Some((symbol, _)) => Err(format!("`{}` is not declared in this file", symbol.name)),
        None => {
            let word = word_at(&analysis.text, offset).map(|s| slice(&analysis.text, s));
            Err(match word {
                Some(w) if keywords::doc(w).is_some() => format!("`{w}` is a keyword and cannot be renamed"),
                _ => "there is no name to rename here".to_string(),
            })
        }
    }
}

/// The spans of the declaration (if wanted) and every use of the name at
/// `offset`, in source order.
fn spans(analysis: &Analysis, offset: u32, include_declaration: bool) -> Vec<Span> {
    let Some((symbol, _)) = analysis.symbols.at(offset) else {
        return Vec::new();
    };
    let index = &analysis.symbols;
    let mut out: Vec<Span> = index
        .references_to(symbol.namespace, &symbol.name)
        .map(|r| r.span)
        .collect();
    if include_declaration {
        out.extend(
            index
                .definitions
                .iter()
                .filter(|d| d.namespace == symbol.namespace && d.name == symbol.name)
                .map(|d| d.span),
        );
    }
    out.sort();
    out.dedup();
    out
}

fn kind_name(symbol: &Symbol) -> &'static str {
    use flow_compiler::check::Namespace::*;
    match symbol.namespace {
        Node => "node",
        Variable => "variable",
        Tool => "tool",
        Type => "type",
        Model => "model",
        Knowledge => "knowledge base",
    }
}

/// Whether `name` is an identifier: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn to_range(analysis: &Analysis, span: Span) -> Range {
    range(&analysis.text, &analysis.lines, span)
}
