//! Strings, prose blocks and templates: escapes decoded, prose dedented,
//! template expressions parsed, with E0002/E0003 for what is malformed.

use super::expected::explain;
use super::lower::Lowerer;
use super::{FlowParser, Rule};
use crate::ast::{Text, TextPart};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use pest::Parser;
use pest::iterators::Pair;

/// One piece of a string before dedenting.
enum Piece {
    /// Raw characters at an offset of the source.
    Chars(usize, String),
    /// A decoded escape.
    Escaped(String),
    /// A template.
    Template(TextPart),
}

impl Lowerer<'_> {
    /// Lowers a `string` or `prose` pair to a text.
    pub(super) fn text(&mut self, pair: Pair<'_, Rule>) -> Text {
        let span = self.span(&pair);
        let is_prose = pair.as_rule() == Rule::prose;
        let mut pieces = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::str_chars | Rule::prose_chars => pieces.push(Piece::Chars(
                    self.offset + part.as_span().start(),
                    part.as_str().to_string(),
                )),
                Rule::raw_string => {
                    // `r"..."`: its characters as written, no escapes, no templates.
                    for raw in part.into_inner() {
                        if raw.as_rule() == Rule::raw_chars {
                            pieces.push(Piece::Chars(
                                self.offset + raw.as_span().start(),
                                raw.as_str().to_string(),
                            ));
                        } else if raw.as_str().is_empty() {
                            self.unterminated(span, false);
                        }
                    }
                }
                Rule::escape => pieces.push(Piece::Escaped(self.escape(&part))),
                Rule::template => pieces.push(Piece::Template(self.template(part))),
                Rule::str_close | Rule::prose_close => {
                    if part.as_str().is_empty() {
                        self.unterminated(span, is_prose);
                    }
                }
                rule => unreachable!("unexpected rule in text: {rule:?}"),
            }
        }
        let parts = if is_prose {
            let content_start = span.start as usize + 3;
            let closed = self.src[span.range()].len() >= 6 && self.src[span.range()].ends_with("\"\"\"");
            let content_end = if closed {
                span.end as usize - 3
            } else {
                span.end as usize
            };
            dedent(self.src, content_start, content_end.max(content_start), pieces)
        } else {
            join(pieces.into_iter().map(|p| match p {
                Piece::Chars(_, s) | Piece::Escaped(s) => TextPart::Lit(s),
                Piece::Template(t) => t,
            }))
        };
        Text { parts, span }
    }

    fn unterminated(&mut self, span: Span, is_prose: bool) {
        self.syntax_error();
        if is_prose {
            self.unterminated_prose += 1;
        }
        let (message, help) = if is_prose {
            (
                "unterminated prose block: this `\"\"\"` is never closed",
                "close the block with `\"\"\"` on a line of its own",
            )
        } else {
            (
                "unterminated string: the line ends before the closing `\"`",
                "close the string with `\"` on the same line, or use a `\"\"\"` block for text over several lines",
            )
        };
        let open = Span::new(span.start as usize, span.start as usize + if is_prose { 3 } else { 1 });
        self.diags.push(
            Diagnostic::new(Code::E0002, span, message)
                .primary("not closed")
                .label(open, "opened here")
                .help(help),
        );
    }

    fn escape(&mut self, pair: &Pair<'_, Rule>) -> String {
        let raw = pair.as_str();
        let span = self.span(pair);
        let decoded = match raw {
            "\\\"" => Some("\"".to_string()),
            "\\\\" => Some("\\".to_string()),
            "\\n" => Some("\n".to_string()),
            "\\t" => Some("\t".to_string()),
            "\\{" => Some("{".to_string()),
            _ if raw.starts_with("\\u{") && raw.ends_with('}') => u32::from_str_radix(&raw[3..raw.len() - 1], 16)
                .ok()
                .filter(|_| (1..=6).contains(&(raw.len() - 4)))
                .and_then(char::from_u32)
                .map(String::from),
            _ => None,
        };
        decoded.unwrap_or_else(|| {
            self.syntax_error();
            let message = if raw.starts_with("\\u") {
                format!(
                    "malformed unicode escape `{raw}`: write `\\u{{HEX}}` with 1 to 6 hex digits of a valid character"
                )
            } else if raw == "\\" {
                "a `\\` at the end of the line escapes nothing".to_string()
            } else {
                format!("unknown escape `{raw}`")
            };
            self.diags.push(
                Diagnostic::new(Code::E0003, span, message)
                    .primary("malformed escape")
                    .help("the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\{` and `\\u{HEX}`"),
            );
            raw.to_string()
        })
    }

    fn template(&mut self, pair: Pair<'_, Rule>) -> TextPart {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let body = inner.next().expect("template has a body");
        let close = inner.next().expect("template has a close");
        if close.as_str().is_empty() {
            self.syntax_error();
            self.diags.push(
                Diagnostic::new(
                    Code::E0002,
                    Span::new(span.start as usize, span.start as usize + 2),
                    "unclosed template: `{{` has no `}}`",
                )
                .primary("opened here")
                .help("close the template with `}}`, or write `\\{` for a literal brace"),
            );
            return TextPart::Template(None, span);
        }
        let base = self.offset + body.as_span().start();
        let source = body.as_str();
        if source.trim().is_empty() {
            self.syntax_error();
            self.diags.push(
                Diagnostic::new(
                    Code::E0001,
                    span,
                    "empty template: expected an expression between `{{` and `}}`",
                )
                .primary("empty")
                .help("write the variable to show, e.g. `{{customer_name}}`, or `\\{` for a literal brace"),
            );
            return TextPart::Template(None, span);
        }
        match FlowParser::parse(Rule::template_strict, source) {
            Ok(mut pairs) => {
                let strict = pairs.next().expect("template_strict pair");
                let expr_pair = strict.into_inner().next().expect("template expression");
                let saved = self.offset;
                self.offset = base;
                let expr = self.expr(expr_pair);
                self.offset = saved;
                self.check_template_form(&expr);
                TextPart::Template(Some(expr), span)
            }
            Err(_) => {
                self.syntax_error();
                let failure = explain(Rule::template_strict, source, base);
                let (at, message) = match failure {
                    Some(f) => (f.span, format!("in template: {}", f.message)),
                    None => (span, "malformed template".to_string()),
                };
                self.diags.push(
                    Diagnostic::new(Code::E0001, at, message)
                        .label(span, "in this template")
                        .help("a template holds a path (`order.id`), `?.`, `??` and literals"),
                );
                TextPart::Template(None, span)
            }
        }
    }

    /// Templates take paths, `?.`, `??` and literals only.
    fn check_template_form(&mut self, expr: &crate::ast::Expr) {
        use crate::ast::{BinOp, ExprKind};
        let ok = match &expr.kind {
            ExprKind::Lit(_) | ExprKind::Name(_) | ExprKind::Secret(_) | ExprKind::Result | ExprKind::Error => true,
            ExprKind::Field { base, .. } => {
                self.check_template_form(base);
                true
            }
            ExprKind::Index(base, index) => {
                self.check_template_form(base);
                self.check_template_form(index);
                true
            }
            ExprKind::Binary(BinOp::Coalesce, a, b) => {
                self.check_template_form(a);
                self.check_template_form(b);
                true
            }
            _ => false,
        };
        if !ok {
            self.syntax_error();
            self.diags.push(
                Diagnostic::new(
                    Code::E0001,
                    expr.span,
                    "a template holds only a path, `?.`, `??` and literals",
                )
                .primary("not allowed in a template")
                .help("compute the value in an action (`set var = ...`) and show the variable"),
            );
        }
    }
}

/// Merges adjacent literal parts.
fn join(parts: impl Iterator<Item = TextPart>) -> Vec<TextPart> {
    let mut out: Vec<TextPart> = Vec::new();
    for part in parts {
        match (out.last_mut(), part) {
            (Some(TextPart::Lit(prev)), TextPart::Lit(next)) => prev.push_str(&next),
            (_, TextPart::Lit(next)) if next.is_empty() => {}
            (_, part) => out.push(part),
        }
    }
    out
}

/// Applies the prose rules: the first line break and a blank last line go, and
/// the common indentation of the non-blank lines is removed.
fn dedent(src: &str, start: usize, end: usize, pieces: Vec<Piece>) -> Vec<TextPart> {
    let content = &src[start..end];
    // Line starts (offsets into the file) and whether each line is blank.
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut line_start = start;
    for (i, c) in content.char_indices() {
        if c == '\n' {
            lines.push((line_start, start + i));
            line_start = start + i + 1;
        }
    }
    lines.push((line_start, end));
    let is_blank = |(s, e): (usize, usize)| src[s..e].chars().all(|c| c == ' ' || c == '\t' || c == '\r');
    let mut drop_until = start;
    let mut drop_from = end;
    if lines.len() > 1 && is_blank(lines[0]) {
        drop_until = lines[0].1 + 1;
    }
    if lines.len() > 1 && is_blank(*lines.last().expect("one line")) {
        let before_last = lines[lines.len() - 2].1;
        drop_from = before_last.max(drop_until);
    }
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !is_blank(**l) && l.0 < drop_from)
        .map(|(s, e)| src[*s..*e].len() - src[*s..*e].trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    // A byte is kept when it is inside the kept range and not indentation.
    let line_of = |offset: usize| lines.partition_point(|(s, _)| *s <= offset).saturating_sub(1);
    let keep = |offset: usize| {
        if offset < drop_until || offset >= drop_from {
            return false;
        }
        let line = line_of(offset);
        line == 0 || offset - lines[line].0 >= indent
    };
    let mut parts = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Chars(at, text) => {
                let mut kept = String::new();
                for (i, c) in text.char_indices() {
                    let offset = at + i;
                    let kept_here = if c == '\n' {
                        offset >= drop_until && offset < drop_from
                    } else {
                        keep(offset) && !(c == '\r' && text[i + 1..].starts_with('\n'))
                    };
                    if kept_here {
                        kept.push(c);
                    }
                }
                parts.push(TextPart::Lit(kept));
            }
            Piece::Escaped(text) => parts.push(TextPart::Lit(text)),
            Piece::Template(t) => parts.push(t),
        }
    }
    join(parts.into_iter())
}
