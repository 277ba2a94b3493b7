//! Reserved words used as names (E0006) and quoted names.
//!
//! The grammar lets a reserved word stand where a name is expected, so that a
//! field called `number` or a parameter called `end` parses and the rest of the
//! file checks as written. Here each such name is remembered as it is lowered,
//! and at the end of the file one E0006 is reported at each declaration; a use
//! is reported only when the word is declared bare nowhere (e.g. `reply.end`
//! reading a field declared `"end"`), so one mistake gives one error.

use super::Rule;
use super::lower::Lowerer;
use crate::ast::Ident;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use pest::iterators::Pair;

/// The words that are never names (LANGUAGE.md §2).
pub const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "true", "false", "null", "result", "secret", "end", "string", "number", "int", "bool",
    "any",
];

/// Whether `word` is reserved.
pub fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

/// Whether `name` can be written bare: an identifier that is not reserved.
pub fn is_bare_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_reserved(name)
}

/// A field or parameter name as source: bare when it can be, else quoted.
pub fn name_source(name: &str) -> String {
    if is_bare_name(name) {
        name.to_string()
    } else {
        serde_json::Value::String(name.to_string()).to_string()
    }
}

/// What a name stands for where it is written, for the message and the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameRole {
    /// A field of an object type: may be quoted.
    Field,
    /// A tool's parameter: may be quoted.
    Param,
    /// A field read (`x.end`): may be quoted; a use.
    FieldRead,
    /// A key of an object literal: may be quoted; a use.
    Key,
    /// An argument of a call (a parameter's name): may be quoted; a use.
    Arg,
    /// Any other declaration (variable, node, tool, type ...): must be renamed.
    Declared(&'static str),
}

impl NameRole {
    fn is_use(self) -> bool {
        matches!(self, NameRole::FieldRead | NameRole::Key | NameRole::Arg)
    }
}

/// A reserved word written as a name.
#[derive(Debug, Clone)]
pub(super) struct ReservedName {
    name: Ident,
    role: NameRole,
}

impl Lowerer<'_> {
    /// A declared name (`var NAME`, `agent NAME` ...): a reserved word is remembered for E0006.
    pub(super) fn decl_ident(&mut self, pair: Pair<'_, Rule>, what: &'static str) -> Ident {
        let name = self.plain_ident(&pair);
        if is_reserved(&name.name) {
            self.reserved.push(ReservedName {
                name: name.clone(),
                role: NameRole::Declared(what),
            });
        }
        name
    }

    /// A `field_name` pair: a bare name or a quoted one (whose text is the name).
    pub(super) fn field_name(&mut self, pair: Pair<'_, Rule>, role: NameRole) -> Ident {
        let inner = match pair.as_rule() {
            Rule::field_name => pair.into_inner().next().expect("a field name holds a name"),
            _ => pair,
        };
        if inner.as_rule() == Rule::ident {
            let name = self.plain_ident(&inner);
            if is_reserved(&name.name) {
                self.reserved.push(ReservedName {
                    name: name.clone(),
                    role,
                });
            }
            return name;
        }
        let text = self.text(inner);
        if text.has_templates() {
            self.syntax_error();
            self.diags.push(
                Diagnostic::new(Code::E0001, text.span, "a quoted name cannot hold a template")
                    .primary("not a plain name")
                    .help("write the name as it is, e.g. `\"page-size\"`; write `\\{` for a literal brace"),
            );
        }
        Ident {
            name: text.literal(),
            span: text.span,
        }
    }

    /// Reports the reserved words written as names (once the whole file is lowered).
    pub(super) fn report_reserved(&mut self) {
        let declared: Vec<String> = self
            .reserved
            .iter()
            .filter(|r| !r.role.is_use())
            .map(|r| r.name.name.clone())
            .collect();
        for reserved in std::mem::take(&mut self.reserved) {
            if reserved.role.is_use() && declared.contains(&reserved.name.name) {
                continue;
            }
            self.diags.push(diagnostic(&reserved));
        }
    }
}

fn diagnostic(reserved: &ReservedName) -> Diagnostic {
    let word = &reserved.name.name;
    let quoted = format!("\"{word}\"");
    let renamed = format!("{word}_");
    let (what, help, replacement) = match reserved.role {
        NameRole::Field => (
            "a field",
            format!("quote it: `{quoted}: ...`, and read it as `value.{quoted}`"),
            quoted,
        ),
        NameRole::Param => (
            "a parameter",
            format!("quote it: `{quoted}: ...`, and pass it as `{quoted}: value` in a `call`"),
            quoted,
        ),
        NameRole::FieldRead => ("a field", format!("quote it: `.{quoted}`"), quoted),
        NameRole::Key => ("a key", format!("quote it: `{quoted}: ...`"), quoted),
        NameRole::Arg => ("an argument", format!("quote it: `{quoted}: value`"), quoted),
        NameRole::Declared(what) => (
            what,
            format!("rename it, e.g. `{renamed}`, here and where it is used"),
            renamed,
        ),
    };
    Diagnostic::new(
        Code::E0006,
        reserved.name.span,
        format!("`{word}` is a reserved word and cannot name {what}"),
    )
    .primary("reserved word")
    .help(help)
    .fix(format!("replace with `{replacement}`"), reserved.name.span, replacement)
}
