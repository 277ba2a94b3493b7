//! Syntax errors in words: re-parse a bad region with a strict rule and turn
//! what pest expected into tokens a person understands. No pest rule name ever
//! reaches a user: rules without a description here are left out.

use super::{FlowParser, Rule};
use crate::span::Span;
use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};
use pest::set_error_detail;

/// Where a region fails to parse and what was expected there.
pub struct Failure {
    /// The unexpected token (empty at the end of the region).
    pub span: Span,
    /// "expected `->` or a condition string, found `foo`".
    pub message: String,
}

/// Parses `text` (which starts at byte `base` of the file) with `rule` and
/// describes where and why it fails. `None` when it parses.
pub fn explain(rule: Rule, text: &str, base: usize) -> Option<Failure> {
    set_error_detail(true);
    let result = FlowParser::parse(rule, text);
    set_error_detail(false);
    let error = result.err()?;
    let mut pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // pest places its error at the furthest *rule* it tried, but a literal
    // token (`{`, `:`) may have been tried further on: that is the real spot.
    let attempts = error.parse_attempts();
    let attempts_pos = attempts.as_ref().map_or(0, |a| a.max_position);
    let mut words: Vec<String> = Vec::new();
    // (Not inside an operator, though: a lookahead such as `-` before `>` reaches past it.)
    let mid_operator = text[..attempts_pos.min(text.len())].ends_with(['-', '=', '<', '>', '!', '?', '.']);
    if attempts_pos > pos && !mid_operator {
        pos = attempts_pos;
    } else if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for rule in positives {
            if let Some(word) = describe(*rule) {
                push_unique(&mut words, word.to_string());
            }
        }
    }
    if let Some(attempts) = attempts.filter(|a| a.max_position == pos) {
        for token in attempts.expected_tokens() {
            if let Some(word) = describe_token(&token.to_string()) {
                push_unique(&mut words, word);
            }
        }
    }
    // An unclosed bracket before the failure is the likeliest thing missing.
    if let Some(closer) = unclosed_bracket(&text[..pos.min(text.len())]) {
        words.insert(0, format!("`{closer}`"));
    }
    let found = found_token(text, pos);
    let span = Span::new(base + pos, base + pos + found.len());
    let found_words = if found.is_empty() {
        "the end of the line".to_string()
    } else {
        format!("`{found}`")
    };
    let message = if pos == leading_space(text) && rule == Rule::line_strict {
        format!("expected a field or an exit, found {found_words}")
    } else if words.is_empty() || words.len() > 6 {
        format!("unexpected {found_words}")
    } else {
        format!("expected {}, found {found_words}", join_or(&words))
    };
    Some(Failure { span, message })
}

/// The closer of the innermost bracket left open in `text` (strings and comments skipped).
fn unclosed_bracket(text: &str) -> Option<char> {
    let mut stack = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                // Skip to the end of the string on this line.
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
            }
            '#' => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
            }
            '(' => stack.push(')'),
            '[' => stack.push(']'),
            '{' => stack.push('}'),
            ')' | ']' | '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

fn leading_space(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

fn push_unique(words: &mut Vec<String>, word: String) {
    if !words.contains(&word) {
        words.push(word);
    }
}

/// "a, b or c".
pub fn join_or(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The token at `pos`: a word, a quoted string's start, or one character.
fn found_token(text: &str, pos: usize) -> &str {
    let rest = &text[pos.min(text.len())..];
    let rest = rest.split(['\n', '\r']).next().unwrap_or("");
    let word_len: usize = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .map(|(_, c)| c.len_utf8())
        .sum();
    if word_len > 0 {
        return &rest[..word_len];
    }
    match rest.chars().next() {
        Some(c) => &rest[..c.len_utf8()],
        None => "",
    }
}

fn describe_token(token: &str) -> Option<String> {
    match token {
        "{" | "}" | "(" | ")" | "[" | "]" | ":" | "=" | "," | "|" | "->" | "?" => Some(format!("`{token}`")),
        _ => None,
    }
}

/// The words for a rule, or `None` for rules a person should not hear about.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        ident => "a name",
        string | str_close => "a string",
        prose => "a `\"\"\"` block",
        number => "a number",
        arrow => "`->`",
        target => "a node name or `end`",
        expr | expr_nl | postfix_expr | call | paren | list_lit | object_lit | secret_ref => "an expression",
        type_expr | prim_type | list_type | object_type => "a type",
        optional_mark => "`?`",
        type_field => "a field (`name: Type`)",
        param | params => "a parameter (`name: Type`)",
        call_arg => "an argument (`name: value`)",
        object_entry | const_entry => "an entry (`key: value`)",
        const_value | const_list | const_object | neg_number => "a literal value",
        on_event => "`error`, `approved`, `rejected`, `timeout` or `return`",
        http_method => "an HTTP method (`GET`, `POST`, `PUT`, `PATCH` or `DELETE`)",
        node_kind => "a node kind",
        bound => "`max N`",
        block_close => "`}`",
        exit => "an exit",
        field_access => "`.`",
        opt_field_access => "`?.`",
        index_access => "`[`",
        op_coalesce | op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_in | op_add | op_sub
        | op_mul | op_div | op_mod => "an operator",
        EOI => "the end of the line",
        kw_workflow => "`workflow`",
        kw_model => "`model`",
        kw_fallback => "`fallback`",
        kw_type => "`type`",
        kw_input => "`input`",
        kw_var => "`var`",
        kw_secret => "`secret`",
        kw_tool => "`tool`",
        kw_knowledge => "`knowledge`",
        kw_start => "`start`",
        kw_instructions => "`instructions`",
        kw_max_steps => "`max_steps`",
        kw_tools => "`tools`",
        kw_extract => "`extract`",
        kw_call => "`call`",
        kw_set => "`set`",
        kw_queue => "`queue`",
        kw_message => "`message`",
        kw_prompt => "`prompt`",
        kw_timeout => "`timeout`",
        kw_say => "`say`",
        kw_outcome => "`outcome`",
        kw_description => "`description`",
        kw_http => "`http`",
        kw_builtin => "`builtin`",
        kw_host => "`host`",
        kw_header => "`header`",
        kw_body => "`body`",
        kw_form => "`form`",
        kw_retry => "`retry`",
        kw_path => "`path`",
        kw_when => "`when`",
        kw_if => "`if`",
        kw_else => "`else`",
        kw_also => "`also`",
        kw_on => "`on`",
        kw_after => "`after`",
        kw_turns => "`turns`",
        kw_silence => "`silence`",
        kw_max => "`max`",
        kw_end => "`end`",
        kw_true | kw_false => "`true` or `false`",
        kw_null => "`null`",
        kw_result => "`result`",
        _ => return None,
    })
}
