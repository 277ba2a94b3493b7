//! The one reader of compiled graphs: every command and the runtime's store
//! read a graph through [`from_json_str`], so what the compiler writes can
//! always be read back.
//!
//! serde_json refuses JSON nested deeper than 128 levels by default, which an
//! expression of about 60 operators already reaches (two JSON levels each). The
//! reader instead measures the nesting first with a linear scan, refuses more
//! than [`MAX_JSON_DEPTH`] levels with a clear error, and then parses without
//! serde_json's own limit.

use crate::CompiledGraph;
use crate::limits::MAX_JSON_DEPTH;
use serde::Deserialize;
use std::fmt;

/// Why a text is not a readable compiled graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(pub String);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for ReadError {}

/// Reads a compiled graph from its JSON text, nested at most [`MAX_JSON_DEPTH`] levels.
pub fn from_json_str(json: &str) -> Result<CompiledGraph, ReadError> {
    if let Some((line, column)) = too_deep(json, MAX_JSON_DEPTH) {
        return Err(ReadError(format!(
            "the JSON nests more than {MAX_JSON_DEPTH} levels deep at line {line} column {column}"
        )));
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de.disable_recursion_limit();
    let graph = CompiledGraph::deserialize(&mut de).map_err(|e| ReadError(e.to_string()))?;
    de.end().map_err(|e| ReadError(e.to_string()))?;
    Ok(graph)
}

/// The deepest nesting of `{`/`[` in a JSON text (outside strings).
pub fn json_depth(json: &str) -> usize {
    let mut max = 0;
    scan(json, |depth, _| {
        max = max.max(depth);
        false
    });
    max
}

/// Where (1-based line and column in bytes) the text first nests deeper than `limit`.
fn too_deep(json: &str, limit: usize) -> Option<(usize, usize)> {
    let mut at = None;
    let found = scan(json, |depth, offset| {
        if depth > limit {
            at = Some(offset);
            true
        } else {
            false
        }
    });
    if !found {
        return None;
    }
    let offset = at?;
    let before = &json.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
    Some((line, column))
}

/// Calls `at(depth, offset)` at every opening bracket outside strings, until it returns true.
fn scan(json: &str, mut at: impl FnMut(usize, usize) -> bool) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in json.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if at(depth, i) {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(r#"{"a": "[[[{", "b": [1, {"c": "\"]"}]}"#), 3);
        assert_eq!(json_depth("1"), 0);
    }

    #[test]
    fn too_deep_is_refused_with_its_place() {
        let json = format!("{}{}", "[".repeat(MAX_JSON_DEPTH + 1), "]".repeat(MAX_JSON_DEPTH + 1));
        let err = from_json_str(&json).err().map(|e| e.0).unwrap_or_default();
        assert_eq!(
            err,
            format!(
                "the JSON nests more than {MAX_JSON_DEPTH} levels deep at line 1 column {}",
                MAX_JSON_DEPTH + 1
            )
        );
    }

    #[test]
    fn trailing_text_is_refused() {
        assert!(from_json_str("{} x").is_err());
    }
}
