//! The token stream of a parsed item: the leaves of the pest tree in source
//! order, strings and prose blocks as whole atoms, and the punctuation the
//! grammar matches as bare literals (`{ } ( ) [ ] , : = | . ?. -`), found in
//! the text between a pair's children and classified by that pair's rule.
//! What is left between two consecutive tokens is only white space, line
//! breaks and comments: [`gap`] reads it.

use crate::syntax::Rule;
use pest::iterators::Pair;

/// What a bracket is, which decides the spacing and line breaks around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bracket {
    /// The braces of a block (workflow, node, tool, knowledge): one line per field.
    Block,
    /// The braces of an object type or object literal: `{ a: 1 }`.
    Brace,
    /// The parentheses of a call or a tool's parameters: `f(x)`.
    CallParen,
    /// A parenthesised expression: `(a or b)`.
    Paren,
    /// A list type or literal: `[1, 2]`.
    List,
    /// An index: `x[0]`.
    Index,
}

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A name, keyword, number or duration.
    Word,
    /// A one-line string, kept byte for byte.
    Str,
    /// A `"""` prose block, re-indented.
    Prose,
    /// An infix operator: `->`, `=`, `|`, `??`, `and`, `==`, `+`, ...
    Infix,
    /// A unary minus.
    Neg,
    /// `,`.
    Comma,
    /// `:`.
    Colon,
    /// `.` or `?.`.
    Dot,
    /// The `?` of an optional type.
    Question,
    /// An opening bracket.
    Open(Bracket),
    /// A closing bracket.
    Close(Bracket),
}

impl Kind {
    pub(super) fn is_open(self) -> bool {
        matches!(self, Kind::Open(_))
    }

    pub(super) fn is_close(self) -> bool {
        matches!(self, Kind::Close(_))
    }
}

/// One token: a byte range of the source and its kind.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tok {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// The tokens of `pair`, in source order.
pub(super) fn tokens(src: &str, pair: Pair<'_, Rule>) -> Vec<Tok> {
    let mut out = Vec::new();
    walk(src, pair, &mut out);
    out
}

fn walk(src: &str, pair: Pair<'_, Rule>, out: &mut Vec<Tok>) {
    let rule = pair.as_rule();
    let span = pair.as_span();
    let (start, end) = (span.start(), span.end());
    let leaf_kind = match rule {
        Rule::string => Some(Kind::Str),
        Rule::prose => Some(Kind::Prose),
        _ if pair.clone().into_inner().next().is_none() => Some(leaf(rule)),
        _ => None,
    };
    if let Some(kind) = leaf_kind {
        if end > start {
            out.push(Tok { start, end, kind });
        }
        return;
    }
    let mut pos = start;
    for child in pair.into_inner() {
        let child_start = child.as_span().start();
        punctuation(src, pos, child_start, rule, out);
        pos = child.as_span().end();
        walk(src, child, out);
    }
    punctuation(src, pos, end, rule, out);
}

/// The kind of a leaf pair.
fn leaf(rule: Rule) -> Kind {
    match rule {
        Rule::arrow
        | Rule::op_coalesce
        | Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_in
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_mod => Kind::Infix,
        Rule::op_neg => Kind::Neg,
        Rule::optional_mark => Kind::Question,
        Rule::block_close => Kind::Close(Bracket::Block),
        _ => Kind::Word,
    }
}

/// Reads the bare punctuation of `parent` in `src[from..to]`, skipping white
/// space, line breaks and comments.
fn punctuation(src: &str, from: usize, to: usize, parent: Rule, out: &mut Vec<Tok>) {
    let text = &src[from..to];
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at = from + i;
        let kind = match c {
            ' ' | '\t' | '\r' | '\n' | '\u{FEFF}' => continue,
            '#' => {
                while chars.next_if(|&(_, c)| c != '\n' && c != '\r').is_some() {}
                continue;
            }
            '{' | '}' | '(' | ')' | '[' | ']' => {
                let bracket = match (c, parent) {
                    ('{' | '}', Rule::workflow | Rule::node | Rule::tool_decl | Rule::knowledge_decl) => Bracket::Block,
                    ('{' | '}', _) => Bracket::Brace,
                    ('(' | ')', Rule::paren) => Bracket::Paren,
                    ('(' | ')', _) => Bracket::CallParen,
                    (_, Rule::index_access) => Bracket::Index,
                    _ => Bracket::List,
                };
                if matches!(c, '{' | '(' | '[') {
                    Kind::Open(bracket)
                } else {
                    Kind::Close(bracket)
                }
            }
            ',' => Kind::Comma,
            ':' => Kind::Colon,
            '=' | '|' => Kind::Infix,
            '.' => Kind::Dot,
            '?' if chars.next_if(|&(_, c)| c == '.').is_some() => {
                out.push(Tok {
                    start: at,
                    end: at + 2,
                    kind: Kind::Dot,
                });
                continue;
            }
            '-' => Kind::Neg,
            _ => {
                // Not expected in a file without syntax errors: keep the text
                // as it is (up to the next white space) rather than lose it.
                let mut stop = at + c.len_utf8();
                while let Some((j, d)) = chars.next_if(|&(_, d)| !d.is_whitespace() && d != '#') {
                    stop = from + j + d.len_utf8();
                }
                out.push(Tok {
                    start: at,
                    end: stop,
                    kind: Kind::Word,
                });
                continue;
            }
        };
        out.push(Tok {
            start: at,
            end: at + c.len_utf8(),
            kind,
        });
    }
}

/// One thing between two tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GapItem<'a> {
    /// A line break (`\n`, `\r\n` or `\r`).
    Newline,
    /// A comment, from `#` to the end of its line, trailing white space removed.
    Comment(&'a str),
}

/// The line breaks and comments of the text between two tokens.
pub(super) fn gap(text: &str) -> Vec<GapItem<'_>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => {
                out.push(GapItem::Newline);
                i += if bytes.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            }
            b'\n' => {
                out.push(GapItem::Newline);
                i += 1;
            }
            b'#' => {
                let end = text[i..].find(['\n', '\r']).map_or(text.len(), |e| i + e);
                out.push(GapItem::Comment(text[i..end].trim_end_matches([' ', '\t', '\u{FEFF}'])));
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}
