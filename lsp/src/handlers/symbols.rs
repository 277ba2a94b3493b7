//! The outline: the workflow, each node labelled by its kind, the tools,
//! variables, secrets, types, models and knowledge bases, in source order.

use crate::lexer;
use crate::position::range;
use crate::store::Analysis;
use flow_compiler::Span;
use flow_compiler::ast::{Ident, Item, VarKind};
use tower_lsp_server::ls_types::{DocumentSymbol, SymbolKind};

/// The document's symbols.
pub fn document_symbols(analysis: &Analysis) -> Vec<DocumentSymbol> {
    let braces = lexer::brace_pairs(&analysis.tokens);
    analysis
        .file
        .items
        .iter()
        .filter_map(|item| {
            let (name, kind, detail): (&Ident, SymbolKind, &str) = match item {
                Item::Workflow(w) => (&w.name, SymbolKind::MODULE, "workflow"),
                Item::Model(m) => (&m.name, SymbolKind::OBJECT, "model"),
                Item::Type(t) => (&t.name, SymbolKind::STRUCT, "type"),
                Item::Variable(v) if v.kind == VarKind::Input => (&v.name, SymbolKind::VARIABLE, "input"),
                Item::Variable(v) => (&v.name, SymbolKind::VARIABLE, "var"),
                Item::Secret(s) => (s, SymbolKind::CONSTANT, "secret"),
                Item::Tool(t) => (&t.name, SymbolKind::METHOD, "tool"),
                Item::Knowledge(k) => (&k.name, SymbolKind::PACKAGE, "knowledge"),
                Item::Node(n) => (&n.name, SymbolKind::FUNCTION, n.kind.as_str()),
            };
            if name.name.is_empty() {
                return None;
            }
            let extent = item_extent(&analysis.text, &braces, name.span);
            #[allow(deprecated)]
            Some(DocumentSymbol {
                name: name.name.clone(),
                detail: Some(detail.to_string()),
                kind,
                tags: None,
                deprecated: None,
                range: range(&analysis.text, &analysis.lines, extent),
                selection_range: range(&analysis.text, &analysis.lines, name.span),
                children: None,
            })
        })
        .collect()
}

/// The whole item whose name is at `name`: from the start of its line to the
/// brace closing the block opened on that line, or to the end of the line.
pub fn item_extent(text: &str, braces: &[(u32, u32)], name: Span) -> Span {
    let bytes = text.as_bytes();
    let start = text[..(name.start as usize).min(text.len())]
        .rfind('\n')
        .map_or(0, |n| n + 1);
    let line_end = bytes[(name.end as usize).min(bytes.len())..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |p| name.end as usize + p);
    let block = braces
        .iter()
        .find(|(open, _)| *open >= name.end && (*open as usize) < line_end);
    let end = block.map_or(line_end, |(_, close)| *close as usize + 1);
    // Skip the indentation, so the range starts at the item's keyword.
    let indent = text[start..].len() - text[start..].trim_start_matches([' ', '\t']).len();
    Span::new((start + indent).min(name.start as usize), end.max(name.end as usize))
}
