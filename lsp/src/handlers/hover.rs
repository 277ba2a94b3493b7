//! Hover: a node's kind, instructions and exits; a variable's type and where
//! it is set; a tool's signature and description; a type's or model's
//! definition; a keyword's one-line description.

use super::completion;
use super::context::{Cursor, cursor};
use super::lookup::{self, slice};
use crate::keywords;
use crate::position::range;
use crate::store::Analysis;
use flow_compiler::Span;
use flow_compiler::ast::{FieldKind, File, Item};
use flow_compiler::check::Namespace;
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind};

/// The hover at byte `offset`.
pub fn hover(analysis: &Analysis, offset: u32) -> Option<Hover> {
    let text = analysis.text.as_str();
    let (markdown, span) = match analysis.symbols.at(offset) {
        Some((symbol, _)) => (describe(analysis, symbol.namespace, &symbol.name)?, symbol.span),
        None => {
            let span = word_at(text, offset)?;
            let word = slice(text, span);
            let c = cursor(text, span.start as usize);
            if let Some(markdown) = member(analysis, &c, word) {
                (markdown, span)
            } else if let Some(markdown) = result(analysis, &c, word) {
                (markdown, span)
            } else {
                let doc = keywords::doc(word)?;
                // Most descriptions begin with the keyword's own syntax.
                if doc.starts_with(&format!("`{word}")) {
                    (doc.to_string(), span)
                } else {
                    (format!("`{word}`: {doc}"), span)
                }
            }
        }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(range(text, &analysis.lines, span)),
    })
}

/// A field after `x.` or `x?.` (`claim.adjuster`): its path and type.
fn member(analysis: &Analysis, c: &Cursor, word: &str) -> Option<String> {
    if !matches!(c.last(), Some("." | "?.")) {
        return None;
    }
    let (file, text) = (&analysis.file, analysis.text.as_str());
    let path = completion::member_path(&c.line);
    let (root, rest) = path.split_first()?;
    let owner = lookup::path_type(file, completion::root_type(file, c, root)?, rest)?;
    let (field, ty) = lookup::fields_of(file, owner)?.iter().find(|(f, _)| f.name == word)?;
    let mut written = path.join(".");
    written.push('.');
    written.push_str(&field.name);
    Some(format!(
        "```flow
{written}: {}
```

A field of `{}`.",
        slice(text, ty.span),
        path.join(".")
    ))
}

/// `result` in an action that calls a tool: the tool's return type.
fn result(analysis: &Analysis, c: &Cursor, word: &str) -> Option<String> {
    if word != "result" || matches!(c.last(), Some("." | "?.")) {
        return None;
    }
    let ty = completion::result_type(&analysis.file, c)?;
    let doc = keywords::doc("result")
        .and_then(|d| d.split_once(": "))
        .map_or("", |(_, d)| d);
    let mut chars = doc.chars();
    let doc: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    Some(format!(
        "```flow
result: {}
```

{doc}",
        slice(&analysis.text, ty.span)
    ))
}

/// The identifier around `offset`, if any.
pub fn word_at(text: &str, offset: u32) -> Option<Span> {
    let offset = (offset as usize).min(text.len());
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let start = text.get(..offset)?.rfind(|c| !is_word(c)).map_or(0, |i| i + 1);
    let end = text
        .get(offset..)?
        .find(|c| !is_word(c))
        .map_or(text.len(), |i| offset + i);
    (start < end).then(|| Span::new(start, end))
}

fn describe(analysis: &Analysis, namespace: Namespace, name: &str) -> Option<String> {
    let (file, text) = (&analysis.file, analysis.text.as_str());
    Some(match namespace {
        Namespace::Node => {
            let node = lookup::node(file, name)?;
            let mut out = format!("```flow\n{} {}\n```", node.kind.as_str(), name);
            if let Some(t) = lookup::node_text(node) {
                out.push_str(&format!("\n\n{}", lookup::first_lines(slice(text, t.span), 3)));
            }
            if !node.body.exits.is_empty() {
                out.push_str("\n\nExits:\n");
                for exit in &node.body.exits {
                    out.push_str(&format!("- `{}`\n", slice(text, exit.span)));
                }
            }
            out
        }
        Namespace::Variable => {
            let var = lookup::variable(file, name)?;
            let declared = match var {
                lookup::Variable::Decl(d) => format!("{} {}: {}", var.keyword(), name, slice(text, d.ty.span)),
                lookup::Variable::Secret(_) => format!("secret {name}"),
            };
            let mut out = format!("```flow\n{declared}\n```");
            let (set, extracted) = writers(file, name);
            if !set.is_empty() {
                out.push_str(&format!("\n\nSet in: {}", set.join(", ")));
            }
            if !extracted.is_empty() {
                out.push_str(&format!("\n\nExtracted in: {}", extracted.join(", ")));
            }
            if set.is_empty() && extracted.is_empty() && var.keyword() == "var" {
                out.push_str("\n\nNo node sets it.");
            }
            out
        }
        Namespace::Tool => {
            let tool = lookup::tool(file, name)?;
            let mut out = format!("```flow\n{}\n```", lookup::tool_signature(text, tool));
            for field in &tool.body.fields {
                if let FieldKind::Description(d) = &field.kind {
                    out.push_str(&format!("\n\n{}", d.literal()));
                }
            }
            out
        }
        Namespace::Type => {
            let decl = lookup::type_decl(file, name)?;
            format!("```flow\ntype {name} {}\n```", type_body(text, decl))
        }
        Namespace::Model => {
            let model = lookup::model(file, name)?;
            let strings: Vec<&str> = model.models.iter().map(|t| slice(text, t.span)).collect();
            format!("```flow\nmodel {name} = {}\n```", strings.join(" fallback "))
        }
        Namespace::Knowledge => format!("```flow\nknowledge {name}\n```"),
    })
}

/// `= T` for an alias, the object as written otherwise.
fn type_body(text: &str, decl: &flow_compiler::ast::TypeDecl) -> String {
    let written = slice(text, decl.ty.span);
    if written.starts_with('{') {
        written.to_string()
    } else {
        format!("= {written}")
    }
}

/// The nodes that `set` the variable, and those that `extract` it.
fn writers(file: &File, name: &str) -> (Vec<String>, Vec<String>) {
    let (mut set, mut extracted) = (Vec::new(), Vec::new());
    for item in &file.items {
        let Item::Node(node) = item else { continue };
        for field in &node.body.fields {
            match &field.kind {
                FieldKind::Set(var, _) if var.name == name => set.push(format!("`{}`", node.name.name)),
                FieldKind::Extract(var, _) if var.name == name => extracted.push(format!("`{}`", node.name.name)),
                _ => {}
            }
        }
    }
    set.dedup();
    (set, extracted)
}
