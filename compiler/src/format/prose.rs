//! Re-indenting a `"""` prose block without changing its text.
//!
//! The text of a prose block (LANGUAGE.md §2) does not depend on the common
//! indentation of its lines, so the lines are moved to a new indentation and
//! their content, relative indentation included, is kept byte for byte.

/// The lines of the prose block `raw` (from its opening to its closing `"""`)
/// with its content lines and a closing `"""` on a line of its own indented by
/// `indent`. The first line goes on the line where the block opens.
pub(super) fn reindent(raw: &str, indent: &str) -> Vec<String> {
    if raw.len() < 6 || !raw.starts_with("\"\"\"") || !raw.ends_with("\"\"\"") {
        return raw.split('\n').map(str::to_string).collect();
    }
    let content = &raw[3..raw.len() - 3];
    let mut lines: Vec<&str> = content.split('\n').collect();
    if lines.len() == 1 {
        return vec![raw.to_string()];
    }
    let last = lines.len() - 1;
    // A `\r` ending a line is not part of the text.
    for line in &mut lines[..last] {
        *line = line.strip_suffix('\r').unwrap_or(line);
    }
    let last_blank = is_blank(lines[last]);
    let content_end = if last_blank { last } else { last + 1 };
    let common = lines[1..content_end]
        .iter()
        .filter(|l| !is_blank(l))
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min();
    let mut out = Vec::with_capacity(lines.len());
    out.push(if is_blank(lines[0]) {
        "\"\"\"".to_string()
    } else {
        format!("\"\"\"{}", lines[0])
    });
    for line in &lines[1..content_end] {
        out.push(match common {
            // Blank lines keep only what lies beyond the common indentation
            // (which is part of the text); usually nothing.
            Some(common) if is_blank(line) && line.len() <= common => String::new(),
            Some(common) => format!("{indent}{}", &line[common..]),
            // Only blank lines: nothing is removed from them, so keep them.
            None => line.to_string(),
        });
    }
    if last_blank {
        out.push(format!("{indent}\"\"\""));
    } else if let Some(closing) = out.last_mut() {
        closing.push_str("\"\"\"");
    }
    out
}

fn is_blank(line: &str) -> bool {
    line.chars().all(|c| matches!(c, ' ' | '\t' | '\r'))
}

#[cfg(test)]
mod tests {
    use super::reindent;

    #[test]
    fn moves_content_and_keeps_relative_indentation() {
        let raw = "\"\"\"\n      a\n        b\n\n      c\n      \"\"\"";
        assert_eq!(reindent(raw, "  "), ["\"\"\"", "  a", "    b", "", "  c", "  \"\"\""]);
    }

    #[test]
    fn keeps_text_on_the_opening_and_closing_lines() {
        let raw = "\"\"\"first\n   second\"\"\"";
        assert_eq!(reindent(raw, "    "), ["\"\"\"first", "    second\"\"\""]);
        assert_eq!(reindent("\"\"\"one line\"\"\"", "  "), ["\"\"\"one line\"\"\""]);
    }
}
