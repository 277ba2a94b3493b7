//! Semantic tokens (full document): names by what they resolve to (nodes,
//! variables, tools, types, models), keywords, strings, numbers and comments.
//! Strings and prose blocks are cut around the names of their templates, and
//! tokens spanning lines are cut per line.

use crate::keywords;
use crate::lexer::TokenKind;
use crate::position::position;
use crate::store::Analysis;
use flow_compiler::Span;
use flow_compiler::check::Namespace;
use tower_lsp_server::ls_types::{SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend};

const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::STRING,
    SemanticTokenType::COMMENT,
    SemanticTokenType::NUMBER,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::METHOD,
    SemanticTokenType::TYPE,
    SemanticTokenType::NAMESPACE,
];

const KEYWORD: u32 = 0;
const STRING: u32 = 1;
const COMMENT: u32 = 2;
const NUMBER: u32 = 3;
const DECLARATION: u32 = 1;

/// The legend the server announces: token types in the order of their indices.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: vec![SemanticTokenModifier::DECLARATION],
    }
}

fn namespace_type(namespace: Namespace) -> u32 {
    match namespace {
        Namespace::Variable => 4,
        Namespace::Node => 5,
        Namespace::Tool => 6,
        Namespace::Type => 7,
        Namespace::Model | Namespace::Knowledge => 8,
    }
}

/// The encoded tokens of the document.
pub fn semantic_tokens(analysis: &Analysis) -> Vec<SemanticToken> {
    let text = analysis.text.as_str();
    let mut names: Vec<(Span, u32, u32)> = analysis
        .symbols
        .definitions
        .iter()
        .map(|d| (d.span, namespace_type(d.namespace), DECLARATION))
        .chain(
            analysis
                .symbols
                .references
                .iter()
                .map(|r| (r.span, namespace_type(r.namespace), 0)),
        )
        .collect();
    names.sort_by_key(|(span, _, _)| *span);
    let mut raw: Vec<(Span, u32, u32)> = Vec::new();
    let mut next_name = 0;
    for token in &analysis.tokens {
        let span = Span::new(token.start as usize, token.end as usize);
        // Names before this token that no token covered (none, normally).
        while next_name < names.len() && names[next_name].0.end <= span.start {
            next_name += 1;
        }
        match token.kind {
            TokenKind::Comment => raw.push((span, COMMENT, 0)),
            TokenKind::Number => raw.push((span, NUMBER, 0)),
            TokenKind::String | TokenKind::Prose => {
                let mut at = span.start;
                while next_name < names.len() && names[next_name].0.end <= span.end {
                    let name = names[next_name];
                    raw.push((
                        Span {
                            start: at,
                            end: name.0.start,
                        },
                        STRING,
                        0,
                    ));
                    raw.push(name);
                    at = name.0.end;
                    next_name += 1;
                }
                raw.push((
                    Span {
                        start: at,
                        end: span.end,
                    },
                    STRING,
                    0,
                ));
            }
            TokenKind::Word => match names.get(next_name) {
                Some(name) if name.0 == span => {
                    raw.push(*name);
                    next_name += 1;
                }
                _ => {
                    let word = &text[span.range()];
                    let method = matches!(word, "GET" | "POST" | "PUT" | "PATCH" | "DELETE");
                    if keywords::doc(word).is_some() || method {
                        raw.push((span, KEYWORD, 0));
                    }
                }
            },
            TokenKind::Open | TokenKind::Close | TokenKind::Punct => {}
        }
    }
    encode(analysis, &raw)
}

/// Delta-encodes tokens, cutting each at line breaks and measuring in UTF-16 units.
fn encode(analysis: &Analysis, raw: &[(Span, u32, u32)]) -> Vec<SemanticToken> {
    let text = analysis.text.as_str();
    let mut out = Vec::new();
    let (mut prev_line, mut prev_start) = (0u32, 0u32);
    for &(span, token_type, modifiers) in raw {
        let mut start = span.start as usize;
        while start < span.end as usize {
            let piece_end = text[start..span.end as usize]
                .find('\n')
                .map_or(span.end as usize, |n| start + n);
            // A prose line's indentation is not part of its token.
            let raw_piece = &text[start..piece_end];
            let piece = raw_piece.trim_start_matches([' ', '\t']);
            let piece_start = start + raw_piece.len() - piece.len();
            let length: usize = piece.trim_end_matches('\r').encode_utf16().count();
            let pos = position(text, &analysis.lines, piece_start as u32);
            // Tokens must come in order; one that does not (never expected) is dropped.
            let in_order = pos.line > prev_line || (pos.line == prev_line && pos.character >= prev_start);
            if length > 0 && !piece.trim().is_empty() && in_order {
                let delta_start = if pos.line == prev_line {
                    pos.character - prev_start
                } else {
                    pos.character
                };
                out.push(SemanticToken {
                    delta_line: pos.line - prev_line,
                    delta_start,
                    length: length as u32,
                    token_type,
                    token_modifiers_bitset: modifiers,
                });
                (prev_line, prev_start) = (pos.line, pos.character);
            }
            start = piece_end + 1;
        }
    }
    out
}
