//! Formatting with the formatter of `flow fmt`; a file with syntax errors is
//! left alone (no edits).

use crate::position::range;
use crate::store::Analysis;
use flow_compiler::Span;
use tower_lsp_server::ls_types::TextEdit;

/// One edit replacing the whole text by its canonical layout, none when the
/// text is already formatted or does not parse.
pub fn format(analysis: &Analysis) -> Vec<TextEdit> {
    let text = analysis.text.as_str();
    match flow_compiler::format::format(text) {
        Ok(formatted) if formatted != text => vec![TextEdit::new(
            range(text, &analysis.lines, Span::new(0, text.len())),
            formatted,
        )],
        _ => Vec::new(),
    }
}
