//! Byte offsets to LSP positions and back. LSP counts columns in UTF-16 code
//! units; the compiler counts bytes. All conversions go through here.

use flow_compiler::{LineIndex, Span};
use tower_lsp_server::ls_types::{Position, Range};

/// The LSP position of byte `offset` in `text` (clamped to the text, and to a
/// character boundary).
pub fn position(text: &str, lines: &LineIndex, offset: u32) -> Position {
    let offset = (offset as usize).min(text.len()) as u32;
    let line = lines.line_of(offset);
    let start = lines.line_start(line) as usize;
    let column: usize = text
        .get(start..)
        .unwrap_or("")
        .char_indices()
        .take_while(|(i, _)| start + i < offset as usize)
        .map(|(_, c)| c.len_utf16())
        .sum();
    Position::new(line as u32, column as u32)
}

/// The LSP range of `span`.
pub fn range(text: &str, lines: &LineIndex, span: Span) -> Range {
    Range::new(position(text, lines, span.start), position(text, lines, span.end))
}

/// The byte offset of an LSP position. A line past the end gives the end of
/// the text; a column past the end of its line gives the end of the line; a
/// column inside a character (between two UTF-16 halves) gives its start.
pub fn offset(text: &str, lines: &LineIndex, position: Position) -> u32 {
    let line = position.line as usize;
    if line > lines.line_of(text.len() as u32) {
        return text.len() as u32;
    }
    let start = lines.line_start(line) as usize;
    let rest = text.get(start..).unwrap_or("");
    let mut units = 0u32;
    for (i, c) in rest.char_indices() {
        if c == '\n' || units + c.len_utf16() as u32 > position.character {
            return (start + i) as u32;
        }
        units += c.len_utf16() as u32;
    }
    text.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_utf16_units_both_ways() {
        let text = "ab\né😀x\n";
        let lines = LineIndex::new(text);
        let x = text.find('x').unwrap() as u32;
        // `é` is one unit, the emoji two.
        assert_eq!(position(text, &lines, x), Position::new(1, 3));
        assert_eq!(offset(text, &lines, Position::new(1, 3)), x);
        // Past the end of a line, and past the last line.
        assert_eq!(offset(text, &lines, Position::new(0, 99)), 2);
        assert_eq!(offset(text, &lines, Position::new(9, 0)), text.len() as u32);
        // Inside the emoji: its start.
        assert_eq!(offset(text, &lines, Position::new(1, 2)), 5);
    }
}
