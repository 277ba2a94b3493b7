//! Laying out the tokens of one top-level item as lines.
//!
//! Indentation comes from nesting alone: every bracket (a block's braces
//! included) records the indentation of the line it opens on; the lines inside
//! it are one level deeper and a line starting with its closing bracket is at
//! that level. Line breaks are the author's, except that a block always breaks
//! after `{` and before `}`; blank lines are kept, at most one in a row, never
//! right after an opening bracket or before a closing one. Spacing within a
//! line depends only on the kinds of the two tokens.

use super::prose;
use super::tokens::{Bracket, GapItem, Kind, Tok, gap};

/// One level of indentation.
pub(super) const INDENT: &str = "  ";

/// Whether a space separates `a` and `b` when they stand on one line.
fn space_between(a: Kind, b: Kind) -> bool {
    use Bracket::*;
    let tight = matches!(
        (a, b),
        (_, Kind::Comma | Kind::Colon | Kind::Dot | Kind::Question)
            | (Kind::Dot | Kind::Neg, _)
            | (Kind::Open(CallParen | Paren | List | Index), _)
            | (_, Kind::Close(CallParen | Paren | List | Index))
            | (_, Kind::Open(CallParen | Index))
            | (Kind::Open(_), Kind::Close(_))
    );
    !tight
}

/// The formatted lines of the item made of `toks` (without line ends).
pub(super) fn layout(src: &str, toks: &[Tok]) -> Vec<String> {
    let mut out = Out {
        lines: vec![String::new()],
        indent: 0,
        at_line_start: true,
    };
    // The indentation of the line each open bracket stands on.
    let mut open: Vec<usize> = Vec::new();
    for (i, tok) in toks.iter().enumerate() {
        if i > 0 {
            let prev = toks[i - 1];
            let inner = open.last().map_or(0, |level| level + 1);
            let (mut newlines, mut comments, mut trailing) = (0usize, 0usize, false);
            for item in gap(&src[prev.end..tok.start]) {
                match item {
                    GapItem::Newline => newlines += 1,
                    GapItem::Comment(text) if newlines == 0 && comments == 0 => {
                        out.trailing_comment(text);
                        trailing = true;
                    }
                    GapItem::Comment(text) => {
                        let blank = newlines >= 2 && !(prev.kind.is_open() && comments == 0);
                        out.new_line(blank, inner);
                        out.push(text);
                        comments += 1;
                        newlines = 0;
                    }
                }
            }
            let empty = prev.kind.is_open() && tok.kind.is_close() && comments == 0 && !trailing;
            let block_break = prev.kind == Kind::Open(Bracket::Block) || tok.kind == Kind::Close(Bracket::Block);
            if !empty && (newlines > 0 || block_break) {
                let blank = newlines >= 2 && !tok.kind.is_close() && !(prev.kind.is_open() && comments == 0);
                let level = if tok.kind.is_close() {
                    open.last().copied().unwrap_or(0)
                } else {
                    inner
                };
                out.new_line(blank, level);
            } else if space_between(prev.kind, tok.kind) {
                out.push(" ");
            }
        }
        let text = &src[tok.start..tok.end];
        match tok.kind {
            Kind::Prose => {
                let level = if out.at_line_start { out.indent } else { out.indent + 1 };
                let mut lines = prose::reindent(text, &INDENT.repeat(level)).into_iter();
                out.push(&lines.next().unwrap_or_default());
                out.lines.extend(lines);
                out.indent = level;
            }
            Kind::Open(_) => {
                open.push(out.indent);
                out.push(text);
            }
            Kind::Close(_) => {
                open.pop();
                out.push(text);
            }
            _ => out.push(text),
        }
    }
    out.lines
}

/// The lines written so far; the last is the current one.
struct Out {
    lines: Vec<String>,
    /// The indentation level of the current line.
    indent: usize,
    /// Whether nothing but indentation is on the current line yet.
    at_line_start: bool,
}

impl Out {
    fn push(&mut self, text: &str) {
        self.lines.last_mut().expect("a current line").push_str(text);
        self.at_line_start = false;
    }

    fn trailing_comment(&mut self, text: &str) {
        self.push(" ");
        self.push(text);
    }

    fn new_line(&mut self, blank: bool, level: usize) {
        if blank {
            self.lines.push(String::new());
        }
        self.lines.push(INDENT.repeat(level));
        self.indent = level;
        self.at_line_start = true;
    }
}
