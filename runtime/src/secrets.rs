//! The one rule for hiding secrets and API keys (docs/runtime.md, "Safety").
//!
//! A [`Redactor`] holds the values that must never be shown, each with the
//! text shown in its place (`[secret NAME]`, `[OPENAI_API_KEY]`). It finds a
//! value however it was written: as it is, JSON-escaped (`\"`, `\\`, `\/`,
//! `\uXXXX`), percent-encoded (either case of hex digits) or form-encoded
//! (`+` for a space), and any mix of these, character by character. Values of
//! fewer than [`MIN_SECRET_CHARS`] characters (allowed only with
//! `FLOW_ALLOW_SHORT_SECRETS=1`) are replaced only as whole tokens, so a
//! one-letter secret neither shows where it is nor mangles every word.
//!
//! The engine, the model providers and the HTTP client all redact through it.

use serde_json::Value;

/// The fewest characters a secret may have without `FLOW_ALLOW_SHORT_SECRETS=1`.
pub const MIN_SECRET_CHARS: usize = 8;

/// The environment variable that allows secrets shorter than [`MIN_SECRET_CHARS`].
pub const ALLOW_SHORT_SECRETS: &str = "FLOW_ALLOW_SHORT_SECRETS";

/// Whether the operator allows short secrets (`FLOW_ALLOW_SHORT_SECRETS=1`).
pub fn short_secrets_allowed() -> bool {
    std::env::var(ALLOW_SHORT_SECRETS).is_ok_and(|v| v == "1")
}

/// One value to hide.
#[derive(Debug, Clone)]
struct Entry {
    value: Vec<char>,
    shown: String,
    whole_token: bool,
}

/// Values that must never be shown, and how to find them in any text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    entries: Vec<Entry>,
}

impl Redactor {
    /// A redactor of `(value, shown)` pairs; empty values are ignored.
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> Redactor {
        let mut entries: Vec<Entry> = values
            .into_iter()
            .filter(|(v, _)| !v.is_empty())
            .map(|(v, shown)| {
                let value: Vec<char> = v.chars().collect();
                let whole_token = value.len() < MIN_SECRET_CHARS;
                Entry {
                    value,
                    shown,
                    whole_token,
                }
            })
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.value.len()));
        Redactor { entries }
    }

    /// A redactor of a run's secrets (an object of name to value), each shown as `[secret NAME]`.
    pub fn of_secrets(secrets: &Value) -> Redactor {
        Redactor::new(
            secrets
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(name, v)| v.as_str().map(|v| (v.to_string(), format!("[secret {name}]")))),
        )
    }

    /// Whether there is nothing to hide.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `text` holds a value in any of its forms.
    pub fn contains(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        (0..chars.len()).any(|at| self.match_at(&chars, at).is_some())
    }

    /// Whether some bytes (a request body, say) hold a value in any of its forms.
    pub fn contains_bytes(&self, bytes: &[u8]) -> bool {
        !self.is_empty() && self.contains(&String::from_utf8_lossy(bytes))
    }

    /// `text` with every value, in any of its forms, replaced by its shown text.
    pub fn redact(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        while at < chars.len() {
            match self.match_at(&chars, at) {
                Some((end, shown)) => {
                    out.push_str(shown);
                    at = end;
                }
                None => {
                    out.push(chars[at]);
                    at += 1;
                }
            }
        }
        out
    }

    /// A JSON value with every string (and object key) redacted: the rule
    /// applies to decoded strings, whatever escaping the serialized form has.
    pub fn redact_value(&self, value: Value) -> Value {
        if self.is_empty() {
            return value;
        }
        match value {
            Value::String(s) => Value::String(self.redact(&s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|i| self.redact_value(i)).collect()),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.redact(&k), self.redact_value(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// The first value found at `at`: where its match ends and what to show.
    fn match_at(&self, text: &[char], at: usize) -> Option<(usize, &str)> {
        for entry in &self.entries {
            if entry.whole_token && at > 0 && is_word(text[at - 1]) {
                continue;
            }
            if let Some(end) = match_value(&entry.value, text, at)
                && !(entry.whole_token && text.get(end).is_some_and(|&c| is_word(c)))
            {
                return Some((end, &entry.shown));
            }
        }
        None
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where `value` ends when it starts at `text[at]`, each of its characters
/// written as it is, JSON-escaped, percent-encoded or (a space) as `+`. The
/// forms overlap (`\` is a character and the start of an escape), so every
/// way of reading is followed at once; the longest match wins.
fn match_value(value: &[char], text: &[char], at: usize) -> Option<usize> {
    let mut positions = vec![at];
    for &c in value {
        let mut next = Vec::new();
        for &pos in &positions {
            for end in match_char(c, text, pos).into_iter().flatten() {
                if !next.contains(&end) {
                    next.push(end);
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        positions = next;
    }
    positions.into_iter().max()
}

/// Where one character of a value can end when it is written at `text[pos]`:
/// as it is, as `+` (a space), percent-encoded, or JSON-escaped.
fn match_char(c: char, text: &[char], pos: usize) -> [Option<usize>; 4] {
    let Some(&first) = text.get(pos) else {
        return [None; 4];
    };
    let literal = (first == c).then_some(pos + 1);
    let plus = (first == '+' && c == ' ').then_some(pos + 1);
    [literal, plus, percent_char(c, text, pos), json_char(c, text, pos)]
}

/// Where `c` ends when it is percent-encoded (every UTF-8 byte as `%XX`) at `text[pos]`.
fn percent_char(c: char, text: &[char], pos: usize) -> Option<usize> {
    let mut buf = [0u8; 4];
    let mut p = pos;
    for &byte in c.encode_utf8(&mut buf).as_bytes() {
        if text.get(p) != Some(&'%') || hex_byte(text, p + 1)? != byte {
            return None;
        }
        p += 3;
    }
    Some(p)
}

/// Where `c` ends when it is JSON-escaped (`\"`, `\n`, `\uXXXX`...) at `text[pos]`.
fn json_char(c: char, text: &[char], pos: usize) -> Option<usize> {
    if text.get(pos) != Some(&'\\') {
        return None;
    }
    let escape = match c {
        '"' => Some('"'),
        '\\' => Some('\\'),
        '/' => Some('/'),
        '\n' => Some('n'),
        '\r' => Some('r'),
        '\t' => Some('t'),
        '\u{8}' => Some('b'),
        '\u{c}' => Some('f'),
        _ => None,
    };
    if escape.is_some() && text.get(pos + 1).copied() == escape {
        return Some(pos + 2);
    }
    let mut units = [0u16; 2];
    let mut p = pos;
    for &unit in c.encode_utf16(&mut units).iter() {
        if text.get(p) != Some(&'\\') || text.get(p + 1) != Some(&'u') {
            return None;
        }
        let hi = hex_byte(text, p + 2)?;
        let lo = hex_byte(text, p + 4)?;
        if u16::from_be_bytes([hi, lo]) != unit {
            return None;
        }
        p += 6;
    }
    Some(p)
}

/// The byte written as two hex digits at `text[at]`.
fn hex_byte(text: &[char], at: usize) -> Option<u8> {
    let hi = text.get(at)?.to_digit(16)?;
    let lo = text.get(at + 1)?.to_digit(16)?;
    u8::try_from(hi * 16 + lo).ok()
}

/// A url fit for a message: without its user name, password, query and
/// fragment, which may hold credentials (`http://user:pass@host/v1?key=...`).
pub fn shown_url(url: &str) -> String {
    if let Ok(mut parsed) = reqwest::Url::parse(url) {
        if parsed.cannot_be_a_base() {
            return "(a url)".to_string();
        }
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        parsed.set_query(None);
        parsed.set_fragment(None);
        return parsed.to_string();
    }
    // Not a url reqwest reads: cut what could be credentials by hand.
    let cut = url.find(['?', '#']).map_or(url, |i| &url[..i]);
    let (scheme, rest) = cut.split_once("://").map_or(("", cut), |(s, r)| (s, r));
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

#[cfg(test)]
mod tests;
