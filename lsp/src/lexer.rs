//! A forgiving lexer for editor features that must work on any text, parsed
//! or not: semantic tokens, folding, the extent of items and the context of
//! the cursor. It never fails: an unterminated string runs to the end of its
//! line, an unterminated prose block to the end of the text.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `# ...` to the end of the line.
    Comment,
    /// A one-line string, templates included.
    String,
    /// A `"""` prose block.
    Prose,
    /// A number or a duration.
    Number,
    /// An identifier or keyword.
    Word,
    /// `{`.
    Open,
    /// `}`.
    Close,
    /// Any other character.
    Punct,
}

/// One token: its kind, its byte range, and whether a string or prose block was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// The first byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
    /// For strings and prose: whether the closing quote was found.
    pub closed: bool,
}

/// Splits `text` into tokens (white space dropped).
pub fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let (kind, end, closed) = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'#' => (TokenKind::Comment, line_end(bytes, i), true),
            b'"' if bytes[i..].starts_with(b"\"\"\"") => match find(bytes, i + 3, b"\"\"\"") {
                Some(close) => (TokenKind::Prose, close + 3, true),
                None => (TokenKind::Prose, bytes.len(), false),
            },
            b'"' => {
                let (end, closed) = string_end(bytes, i + 1);
                (TokenKind::String, end, closed)
            }
            // A raw string `r"..."`: no escapes, it ends at the next quote.
            b'r' if bytes.get(i + 1) == Some(&b'"') => {
                let end_of_line = line_end(bytes, i + 2);
                match find(&bytes[..end_of_line], i + 2, b"\"") {
                    Some(close) => (TokenKind::String, close + 1, true),
                    None => (TokenKind::String, end_of_line, false),
                }
            }
            b'0'..=b'9' => (TokenKind::Number, word_end(bytes, i, true), true),
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => (TokenKind::Word, word_end(bytes, i, false), true),
            b'{' => (TokenKind::Open, i + 1, true),
            b'}' => (TokenKind::Close, i + 1, true),
            _ => {
                // One character, whatever its width in bytes.
                let width = text[i..].chars().next().map_or(1, char::len_utf8);
                (TokenKind::Punct, i + width, true)
            }
        };
        out.push(Token {
            kind,
            start: start as u32,
            end: end as u32,
            closed,
        });
        i = end.max(start + 1);
    }
    out
}

/// Pairs of matching braces (open offset, close offset), outside strings and comments.
pub fn brace_pairs(tokens: &[Token]) -> Vec<(u32, u32)> {
    let mut stack = Vec::new();
    let mut pairs = Vec::new();
    for token in tokens {
        match token.kind {
            TokenKind::Open => stack.push(token.start),
            TokenKind::Close => {
                if let Some(open) = stack.pop() {
                    pairs.push((open, token.start));
                }
            }
            _ => {}
        }
    }
    pairs.sort_unstable();
    pairs
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The end of a one-line string whose body starts at `from`: after its closing
/// quote, or at the end of the line. A template `{{ ... }}` may hold strings
/// of its own, so quotes inside a closed template do not end the string.
fn string_end(bytes: &[u8], from: usize) -> (usize, bool) {
    let end_of_line = line_end(bytes, from);
    let mut i = from;
    while i < end_of_line {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return (i + 1, true),
            b'{' if bytes[i..].starts_with(b"{{") => match find(&bytes[..end_of_line], i + 2, b"}}") {
                Some(close) => i = close + 2,
                None => i += 2,
            },
            _ => i += 1,
        }
    }
    (end_of_line, false)
}

fn word_end(bytes: &[u8], from: usize, number: bool) -> usize {
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        let fits = b.is_ascii_alphanumeric() || b == b'_' || (number && b == b'.');
        if !fits {
            break;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_with_templates_comments_and_prose() {
        let text = "say a { # hi\n  \"x {{n ?? \"y\"}} z\" 24h\n  \"\"\"\n  p\n  \"\"\"\n}\n\"open";
        let kinds: Vec<_> = tokens(text).iter().map(|t| t.kind).collect();
        use TokenKind::*;
        assert_eq!(kinds, [Word, Word, Open, Comment, String, Number, Prose, Close, String]);
        let last = *tokens(text).last().unwrap();
        assert!(!last.closed);
        assert_eq!(brace_pairs(&tokens(text)).len(), 1);
    }

    #[test]
    fn raw_strings_end_at_the_next_quote_whatever_the_backslashes() {
        let text = "set ok = matches(code, r\"^\\d{6}\\\") or rate\nr\"open";
        let toks = tokens(text);
        let strings: Vec<&str> = toks
            .iter()
            .filter(|t| t.kind == TokenKind::String)
            .map(|t| &text[t.start as usize..t.end as usize])
            .collect();
        assert_eq!(strings, ["r\"^\\d{6}\\\"", "r\"open"]);
        assert!(toks.iter().any(|t| &text[t.start as usize..t.end as usize] == "rate"));
        assert!(!toks.last().unwrap().closed);
    }
}
