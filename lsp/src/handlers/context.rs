//! What the cursor stands in, worked out from the text before it alone, so
//! it works in a file that does not parse: the enclosing blocks (by their
//! braces), whether the cursor is in a string, a template or a comment, and
//! the tokens of the line so far.

use crate::lexer::{self, Token, TokenKind};

/// The block the cursor is in, by the first word of the line that opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Outside every block.
    TopLevel,
    /// The `workflow` block.
    Workflow,
    /// A node: its kind keyword and name.
    Node(String, String),
    /// A tool: its name.
    Tool(String),
    /// A `type` declaration's object.
    Type,
    /// A knowledge base.
    Knowledge,
    /// Braces of some other kind (an object literal, a tool's `body`).
    Other,
}

/// Where the cursor stands.
#[derive(Debug, Clone)]
pub struct Cursor {
    /// The innermost block that is an item (a tool's `body { }` is still the tool).
    pub item: Block,
    /// Whether the innermost braces are an item's own (not an object or body).
    pub at_item_level: bool,
    /// The tokens of the current line (or of the template) before the cursor,
    /// the word being typed excluded.
    pub line: Vec<String>,
    /// The word being typed (possibly empty).
    pub partial: String,
    /// In a string or prose block: whether inside a `{{ }}` template there.
    pub in_text: Option<bool>,
    /// In a comment.
    pub in_comment: bool,
}

impl Cursor {
    /// The first word of the line.
    pub fn first(&self) -> Option<&str> {
        self.line.first().map(String::as_str)
    }

    /// The last token before the word being typed.
    pub fn last(&self) -> Option<&str> {
        self.line.last().map(String::as_str)
    }

    /// The tokens before the word being typed end with `tokens`.
    pub fn ends_with(&self, tokens: &[&str]) -> bool {
        self.line.len() >= tokens.len()
            && self.line[self.line.len() - tokens.len()..]
                .iter()
                .zip(tokens)
                .all(|(a, b)| a == b)
    }
}

/// The context of the cursor at byte `offset` of `text`.
pub fn cursor(text: &str, offset: usize) -> Cursor {
    let offset = floor_char_boundary(text, offset);
    let before = &text[..offset];
    let tokens = lexer::tokens(before);
    let (item, at_item_level) = enclosing(before, &tokens);
    let last = tokens.last().filter(|t| t.end as usize == offset);
    let mut in_text = None;
    let mut in_comment = false;
    let mut scope = &before[before.rfind('\n').map_or(0, |n| n + 1)..];
    if let Some(token) = last {
        match token.kind {
            TokenKind::Comment => in_comment = true,
            TokenKind::String | TokenKind::Prose if !token.closed => {
                let literal = &before[token.start as usize..];
                let open = literal.rfind("{{");
                let template = open.filter(|&o| !literal[o..].contains("}}"));
                in_text = Some(template.is_some());
                if let Some(o) = template {
                    scope = &literal[o + 2..];
                }
            }
            _ => {}
        }
    }
    let mut line: Vec<String> = words(scope);
    let partial = match scope.chars().last() {
        Some(c) if c.is_alphanumeric() || c == '_' => line.pop().unwrap_or_default(),
        _ => String::new(),
    };
    if in_text == Some(false) {
        line.clear();
    }
    Cursor {
        item,
        at_item_level,
        line,
        partial,
        in_text,
        in_comment,
    }
}

/// The tokens of a line as strings, with `->` and `?.` joined.
fn words(line: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in lexer::tokens(line) {
        let word = &line[token.start as usize..token.end as usize];
        let joined = match (out.last().map(String::as_str), word) {
            (Some("-"), ">") => Some("->"),
            (Some("?"), ".") => Some("?."),
            _ => None,
        };
        match joined {
            Some(j) => {
                if let Some(last) = out.last_mut() {
                    *last = j.to_string();
                }
            }
            None => out.push(word.to_string()),
        }
    }
    out
}

/// The innermost enclosing item block, and whether the innermost braces are its own.
fn enclosing(before: &str, tokens: &[Token]) -> (Block, bool) {
    let mut stack: Vec<Block> = Vec::new();
    for token in tokens {
        match token.kind {
            TokenKind::Open => {
                let line_start = before[..token.start as usize].rfind('\n').map_or(0, |n| n + 1);
                let header = words(&before[line_start..token.start as usize]);
                let name = header.get(1).cloned().unwrap_or_default();
                let block = match header.first().map(String::as_str) {
                    _ if !stack.is_empty() && header.len() > 2 => Block::Other,
                    Some("workflow") if stack.is_empty() => Block::Workflow,
                    Some("tool") if stack.is_empty() => Block::Tool(name),
                    Some("type") => Block::Type,
                    Some("knowledge") if stack.is_empty() => Block::Knowledge,
                    Some(kind @ ("agent" | "action" | "route" | "say" | "handoff" | "approval" | "end"))
                        if stack.is_empty() =>
                    {
                        Block::Node(kind.to_string(), name)
                    }
                    _ => Block::Other,
                };
                stack.push(block);
            }
            TokenKind::Close => {
                stack.pop();
            }
            _ => {}
        }
    }
    let at_item_level = stack.len() <= 1;
    let item = stack
        .iter()
        .rev()
        .find(|b| **b != Block::Other)
        .cloned()
        .unwrap_or(if stack.is_empty() {
            Block::TopLevel
        } else {
            Block::Other
        });
    (item, at_item_level)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_templates_and_words() {
        let text = "agent a {\n  \"Hi {{order?.st";
        let c = cursor(text, text.len());
        assert_eq!(c.item, Block::Node("agent".into(), "a".into()));
        assert_eq!(c.in_text, Some(true));
        assert_eq!(c.line, ["order", "?."]);
        assert_eq!(c.partial, "st");
        let text = "tool t() -> T {\n  body { a: secret.";
        let c = cursor(text, text.len());
        assert_eq!(c.item, Block::Tool("t".into()));
        assert!(!c.at_item_level);
        assert!(c.ends_with(&["secret", "."]));
    }
}
