//! Folding ranges: every block whose braces stand on different lines, every
//! prose block, and runs of comment lines.

use crate::lexer::TokenKind;
use crate::store::Analysis;
use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind};

/// The document's folding ranges, ordered by start line.
pub fn folding_ranges(analysis: &Analysis) -> Vec<FoldingRange> {
    let line = |offset: u32| analysis.lines.line_of(offset) as u32;
    let mut out = Vec::new();
    let mut fold = |start: u32, end: u32, kind: Option<FoldingRangeKind>| {
        if end > start {
            out.push(FoldingRange {
                start_line: start,
                end_line: end,
                kind,
                ..FoldingRange::default()
            });
        }
    };
    // A block folds up to the line before its closing brace, which stays visible.
    for (open, close) in crate::lexer::brace_pairs(&analysis.tokens) {
        fold(line(open), line(close).saturating_sub(1), None);
    }
    let mut comments: Option<(u32, u32)> = None;
    for token in &analysis.tokens {
        match token.kind {
            TokenKind::Prose => fold(line(token.start), line(token.end.saturating_sub(1)), None),
            TokenKind::Comment => {
                let l = line(token.start);
                comments = match comments {
                    Some((first, last)) if last + 1 == l => Some((first, l)),
                    Some((first, last)) => {
                        fold(first, last, Some(FoldingRangeKind::Comment));
                        Some((l, l))
                    }
                    None => Some((l, l)),
                };
            }
            _ => {}
        }
    }
    if let Some((first, last)) = comments {
        fold(first, last, Some(FoldingRangeKind::Comment));
    }
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out
}
