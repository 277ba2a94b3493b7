//! `flow fmt`: the canonical layout of a `.flow` file (LANGUAGE.md §9).
//!
//! The formatter works on the token stream of the pest parse tree (see
//! [`tokens`]) and recovers comments and line breaks from the text between
//! tokens, so it never changes a token: names, numbers, strings, templates and
//! comments come out byte for byte, and prose blocks only move as a whole.
//!
//! The layout, where §9 leaves room:
//!
//! - Two spaces per level. Every bracket, a block's braces included, indents
//!   the lines inside it one level deeper than the line it opens on; a line
//!   starting with the closing bracket is at the level of that line.
//! - A block (workflow, node, tool, knowledge) breaks after `{` and before `}`;
//!   one without content or comments is written `{}`. Inside a block, one field
//!   or exit per line in the author's order. Brackets (object types, objects,
//!   lists, calls, parentheses) keep the author's line breaks.
//! - Blank lines inside an item: at most one in a row, none right after an
//!   opening bracket or before a closing one.
//! - Spacing: one space around `->`, `=`, `|`, `??` and the binary operators,
//!   after `,` and `:`, and inside the braces of an object (`{ a: 1 }`, empty
//!   `{}`); none inside `( )` and `[ ]`, before `,` `:` `?`, around `.` and
//!   `?.`, after a unary `-`, between a function or tool and its `(`, or
//!   before an index's `[`. `not` is followed by one space.
//! - Comments keep their text (trailing white space removed). A comment after
//!   code stays on its line, one space after the code; a comment on a line of
//!   its own is indented like the line that follows it inside the same block
//!   or bracket.
//! - A prose block's content lines and its closing `"""` are indented to the
//!   level of the line the block opens on when `"""` starts that line (an
//!   agent's or a say's text), and one level deeper otherwise
//!   (`instructions """`). Relative indentation, blank lines and the text are
//!   kept; a blank line keeps only white space beyond the common indentation.
//! - Top level: the `workflow` block comes first (after comments that head
//!   the file and are separated from the first item by a blank line), then
//!   the other items in the author's order. Comment lines directly above an
//!   item (no blank line between) belong to it and move with it. Items are
//!   separated by one blank line, except that one-line declarations (`model`,
//!   `type`, `input`, `var`, `secret`) and free-standing comments that the
//!   author wrote on consecutive lines stay together.
//! - The file ends with one line break; an empty file stays empty.

mod layout;
mod prose;
mod tokens;

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::Span;
use crate::syntax::{self, FlowParser, Rule};
use pest::Parser;
use tokens::{GapItem, gap};

/// Formats `source` in the canonical layout. A file with syntax errors
/// (E0001, E0002, E0003) is not formatted: they are returned instead.
pub fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    let mut diags = Diagnostics::default();
    let parsed = syntax::lower(source, &mut diags);
    let errors: Vec<Diagnostic> = diags
        .into_sorted()
        .into_iter()
        .filter(|d| matches!(d.code, Code::E0001 | Code::E0002 | Code::E0003))
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let file = match FlowParser::parse(Rule::file, source) {
        Ok(mut pairs) if !parsed.has_syntax_errors => pairs.next().expect("a file pair"),
        _ => {
            return Err(vec![Diagnostic::new(
                Code::E0001,
                Span::new(0, 0),
                "the file cannot be parsed",
            )]);
        }
    };

    let mut top = TopLevel::default();
    let mut pos = 0;
    for item in file.into_inner() {
        if item.as_rule() == Rule::EOI {
            break;
        }
        let start = item.as_span().start();
        let (mut lines, blank_before) = top.gap(&source[pos..start], true);
        let rule = item.as_rule();
        let toks = tokens::tokens(source, item);
        // An item's span may take in white space and a comment after its last
        // token: the text after that token is read as a gap.
        let end = toks.last().map_or(start, |t| t.end);
        let body = layout::layout(source, &toks);
        let small = body.len() == 1
            && matches!(
                rule,
                Rule::model_decl | Rule::type_decl | Rule::input_decl | Rule::var_decl | Rule::secret_decl
            );
        lines.extend(body);
        top.entries.push(Entry {
            lines,
            blank_before,
            small,
            item: true,
            workflow: rule == Rule::workflow,
        });
        top.last_item = Some(top.entries.len() - 1);
        pos = end;
    }
    top.gap(&source[pos..], false);
    Ok(top.join())
}

/// One top-level entry: an item with the comments above it, or free-standing comment lines.
struct Entry {
    lines: Vec<String>,
    /// Whether a blank line separated it from the entry before it in the source.
    blank_before: bool,
    /// Whether it may stand on the line after a previous small entry.
    small: bool,
    item: bool,
    workflow: bool,
}

#[derive(Default)]
struct TopLevel {
    entries: Vec<Entry>,
    /// The entry of the last item seen, which takes a trailing comment.
    last_item: Option<usize>,
}

impl TopLevel {
    /// Reads the text between two items (or before the first, or after the
    /// last when `item_follows` is false): a trailing comment goes to the item
    /// before, comment lines separated by blank lines become free entries, and
    /// the comment lines directly above the next item are returned with
    /// whether a blank line comes before them (or before the item).
    fn gap(&mut self, text: &str, item_follows: bool) -> (Vec<String>, bool) {
        let mut newlines = 0;
        let mut run: Vec<String> = Vec::new();
        let mut run_blank = false;
        for part in gap(text) {
            match part {
                GapItem::Newline => newlines += 1,
                GapItem::Comment(comment) if newlines == 0 && self.last_item.is_some() => {
                    let item = self.last_item.expect("an item");
                    let line = self.entries[item].lines.last_mut().expect("an item has a line");
                    line.push(' ');
                    line.push_str(comment);
                }
                GapItem::Comment(comment) => {
                    let blank = newlines >= 2;
                    if blank && !run.is_empty() {
                        self.free(std::mem::take(&mut run), run_blank);
                    }
                    if run.is_empty() {
                        run_blank = blank;
                    }
                    run.push(comment.to_string());
                    newlines = 0;
                }
            }
        }
        if !item_follows || newlines >= 2 {
            if !run.is_empty() {
                self.free(run, run_blank);
            }
            return (Vec::new(), true);
        }
        let blank = if run.is_empty() { newlines >= 2 } else { run_blank };
        (run, blank)
    }

    fn free(&mut self, lines: Vec<String>, blank_before: bool) {
        self.entries.push(Entry {
            lines,
            blank_before,
            small: true,
            item: false,
            workflow: false,
        });
    }

    /// The entries in their final order, joined into the file's text.
    fn join(self) -> String {
        let head = self.entries.iter().position(|e| e.item).unwrap_or(self.entries.len());
        let mut order: Vec<usize> = (0..head).collect();
        order.extend((head..self.entries.len()).filter(|&i| self.entries[i].workflow));
        order.extend((head..self.entries.len()).filter(|&i| !self.entries[i].workflow));
        let mut text = String::new();
        let mut previous: Option<usize> = None;
        for index in order {
            let entry = &self.entries[index];
            if let Some(p) = previous {
                let together = p + 1 == index && !entry.blank_before && self.entries[p].small && entry.small;
                if !together {
                    text.push('\n');
                }
            }
            for line in &entry.lines {
                text.push_str(line);
                text.push('\n');
            }
            previous = Some(index);
        }
        text
    }
}
