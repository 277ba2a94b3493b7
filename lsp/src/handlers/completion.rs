//! Completion by context: node names after `->`, variables and their fields
//! and the builtins in expressions and templates, tools after `tools` and
//! `call` (with their parameters as a snippet), types after `:`, the keywords
//! that fit the block, and `secret.` names inside tools.

use super::context::{Block, Cursor, cursor};
use super::lookup::{self, slice};
use crate::keywords;
use crate::store::Analysis;
use flow_compiler::Span;
use flow_compiler::ast::{ExitKind, FieldKind, File, Item, Node, NodeKind, TypeExpr};
use tower_lsp_server::ls_types::{CompletionItem, CompletionItemKind, InsertTextFormat};

/// The completions at byte `offset`.
pub fn complete(analysis: &Analysis, offset: u32) -> Vec<CompletionItem> {
    let c = cursor(&analysis.text, offset as usize);
    let (file, text) = (&analysis.file, analysis.text.as_str());
    if c.in_comment || c.in_text == Some(false) {
        return Vec::new();
    }
    if c.in_text == Some(true) {
        // A template holds paths, `?.`, `??` and literals: no function calls.
        return expression(file, text, &c, false);
    }
    let in_node = matches!(c.item, Block::Node(..));
    match (c.first(), c.last()) {
        (_, Some("->")) if c.first() == Some("tool") => types(file),
        (_, Some("->")) => targets(file),
        (Some("on"), Some("on")) => on_events(&c),
        (Some("tools"), _) if in_node => tools(file, text, false),
        (Some("call"), Some("call")) if in_node => tools(file, text, true),
        (Some("call"), Some("(" | ",")) => call_params(file, &c),
        (Some("set" | "extract"), Some("set" | "extract")) => variables(file, false),
        (Some("start"), Some("start")) if c.item == Block::Workflow => targets(file),
        (Some("model"), Some("model")) if in_node || c.item == Block::Workflow => models(file),
        (Some("knowledge"), Some("knowledge")) if in_node => knowledge(file),
        (Some("input" | "var" | "type" | "tool"), Some(":" | "=" | "|" | "[" | "(")) => types(file),
        (_, Some(":" | "|" | "[")) if c.item == Block::Type => types(file),
        (None, None) if c.at_item_level => line_keywords(file, &c.item, offset),
        (None, None) => Vec::new(),
        (Some("body"), Some("body")) if c.item != Block::TopLevel => after_body(),
        (Some("after"), Some(n)) if in_node && n != "after" && n.starts_with(|ch: char| ch.is_ascii_digit()) => {
            after_count(n)
        }
        (Some("if" | "set" | "call" | "body"), _) => expression(file, text, &c, true),
        (_, _) if !c.at_item_level => expression(file, text, &c, true),
        _ => Vec::new(),
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        ..CompletionItem::default()
    }
}

fn snippet(label: &str, kind: CompletionItemKind, detail: Option<String>, body: String) -> CompletionItem {
    CompletionItem {
        insert_text: Some(body),
        insert_text_format: Some(InsertTextFormat::SNIPPET),
        ..item(label, kind, detail)
    }
}

fn targets(file: &File) -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = lookup::nodes(file)
        .map(|n| {
            item(
                &n.name.name,
                CompletionItemKind::FUNCTION,
                Some(n.kind.as_str().to_string()),
            )
        })
        .collect();
    out.push(item(
        "end",
        CompletionItemKind::KEYWORD,
        Some("the built-in terminal".into()),
    ));
    out
}

fn on_events(c: &Cursor) -> Vec<CompletionItem> {
    let events: &[&str] = match &c.item {
        Block::Node(kind, _) => match kind.as_str() {
            "action" => &["error"],
            "handoff" => &["return"],
            "approval" => &["approved", "rejected", "timeout"],
            _ => &[],
        },
        _ => &[],
    };
    events
        .iter()
        .map(|e| {
            snippet(
                e,
                CompletionItemKind::KEYWORD,
                keywords::doc(e).map(String::from),
                format!("{e} -> $0"),
            )
        })
        .collect()
}

fn tools(file: &File, text: &str, with_params: bool) -> Vec<CompletionItem> {
    lookup::tools(file)
        .map(|t| {
            let detail = Some(lookup::tool_signature(text, t));
            if !with_params {
                return item(&t.name.name, CompletionItemKind::METHOD, detail);
            }
            let params: Vec<String> = t
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{0}: ${{{1}:{0}}}", p.name.name, i + 1))
                .collect();
            let body = format!("{}({})", t.name.name, params.join(", "));
            snippet(&t.name.name, CompletionItemKind::METHOD, detail, body)
        })
        .collect()
}

fn call_params(file: &File, c: &Cursor) -> Vec<CompletionItem> {
    let Some(tool) = c.line.get(1).and_then(|name| lookup::tool(file, name)) else {
        return Vec::new();
    };
    tool.params
        .iter()
        .map(|p| {
            snippet(
                &p.name.name,
                CompletionItemKind::FIELD,
                None,
                format!("{}: $0", p.name.name),
            )
        })
        .collect()
}

fn variables(file: &File, with_secrets: bool) -> Vec<CompletionItem> {
    lookup::variables(file)
        .filter(|v| with_secrets || v.keyword() != "secret")
        .map(|v| {
            item(
                &v.name().name,
                CompletionItemKind::VARIABLE,
                Some(v.keyword().to_string()),
            )
        })
        .collect()
}

fn models(file: &File) -> Vec<CompletionItem> {
    file.items
        .iter()
        .filter_map(|i| match i {
            Item::Model(m) => Some(item(&m.name.name, CompletionItemKind::MODULE, Some("model".into()))),
            _ => None,
        })
        .collect()
}

fn knowledge(file: &File) -> Vec<CompletionItem> {
    file.items
        .iter()
        .filter_map(|i| match i {
            Item::Knowledge(k) => Some(item(&k.name.name, CompletionItemKind::MODULE, Some("knowledge".into()))),
            _ => None,
        })
        .collect()
}

fn types(file: &File) -> Vec<CompletionItem> {
    let builtin = ["string", "number", "int", "bool", "any"]
        .iter()
        .map(|t| item(t, CompletionItemKind::KEYWORD, Some("built-in type".into())));
    let named = file.items.iter().filter_map(|i| match i {
        Item::Type(t) => Some(item(&t.name.name, CompletionItemKind::STRUCT, Some("type".into()))),
        _ => None,
    });
    builtin.chain(named).collect()
}

/// After `body`: `form` (or the `{` of a JSON body).
fn after_body() -> Vec<CompletionItem> {
    vec![snippet(
        "form",
        CompletionItemKind::KEYWORD,
        keywords::doc("form").map(String::from),
        "form { $0 }".to_string(),
    )]
}

/// After `after N`: `turns` for a count, `silence` for a duration (only
/// `silence` once the number has a unit).
fn after_count(count: &str) -> Vec<CompletionItem> {
    let words: &[&str] = if count.bytes().all(|b| b.is_ascii_digit()) {
        &["turns", "silence"]
    } else {
        &["silence"]
    };
    words
        .iter()
        .map(|w| {
            snippet(
                w,
                CompletionItemKind::KEYWORD,
                keywords::doc(w).map(String::from),
                format!("{w} -> $0"),
            )
        })
        .collect()
}

/// The lines a node may have only once that it already has (outside the line
/// at `offset`, which is being typed), as its keywords.
fn present_once(node: &Node, offset: u32) -> Vec<&'static str> {
    let elsewhere = |span: Span| !(span.start <= offset && offset <= span.end);
    const ONCE: [&str; 10] = [
        "model",
        "tools",
        "knowledge",
        "call",
        "queue",
        "message",
        "prompt",
        "timeout",
        "say",
        "outcome",
    ];
    let fields = node
        .body
        .fields
        .iter()
        .filter(|f| elsewhere(f.span))
        .map(|f| f.kind.keyword())
        .filter(|k| ONCE.contains(k));
    let exits = node.body.exits.iter().filter(|e| elsewhere(e.span)).filter_map(|e| {
        Some(match e.kind {
            ExitKind::Else => "else",
            ExitKind::OnError => "on error",
            ExitKind::OnReturn => "on return",
            ExitKind::OnApproved => "on approved",
            ExitKind::OnRejected => "on rejected",
            ExitKind::OnTimeout => "on timeout",
            _ => return None,
        })
    });
    fields.chain(exits).collect()
}

fn line_keywords(file: &File, block: &Block, offset: u32) -> Vec<CompletionItem> {
    // A line a node may have once is not offered again (`call` in an action
    // that has one); lines that repeat (`set`, `when`, `->`) always are.
    let present = match block {
        Block::Node(_, name) => lookup::node(file, name).map_or_else(Vec::new, |n| present_once(n, offset)),
        _ => Vec::new(),
    };
    let words: &[&str] = match block {
        Block::TopLevel => keywords::ITEMS,
        Block::Workflow => keywords::WORKFLOW_LINES,
        Block::Tool(_) => keywords::TOOL_LINES,
        Block::Knowledge => keywords::KNOWLEDGE_LINES,
        Block::Node(kind, _) => NodeKind::from_keyword(kind).map_or(&[][..], keywords::node_lines),
        Block::Type | Block::Other => &[],
    };
    words
        .iter()
        .filter(|w| !present.contains(w))
        .map(|w| {
            // `on error` is described by its event word.
            let word = w.rsplit(' ').next().unwrap_or(w);
            item(w, CompletionItemKind::KEYWORD, keywords::doc(word).map(String::from))
        })
        .collect()
}

/// Inside an expression or template: a member after `x.` / `x?.` (or a
/// secret's name after `secret.`), else the names in scope, the literals and
/// (outside templates) the builtins.
fn expression(file: &File, text: &str, c: &Cursor, calls: bool) -> Vec<CompletionItem> {
    let tool = match &c.item {
        Block::Tool(name) => lookup::tool(file, name),
        _ => None,
    };
    if matches!(c.last(), Some("." | "?.")) {
        let path = member_path(&c.line);
        let Some((root, rest)) = path.split_first() else {
            return Vec::new();
        };
        if root == "secret" && rest.is_empty() {
            return if tool.is_some() { secrets(file) } else { Vec::new() };
        }
        let fields = root_type(file, c, root)
            .and_then(|ty| lookup::path_type(file, ty, rest))
            .and_then(|ty| lookup::fields_of(file, ty));
        return fields
            .unwrap_or(&[])
            .iter()
            .map(|(f, ty)| {
                item(
                    // A field named by a reserved word (or not an identifier) is written quoted.
                    &flow_compiler::syntax::reserved::name_source(&f.name),
                    CompletionItemKind::FIELD,
                    Some(slice(text, ty.span).to_string()),
                )
            })
            .collect();
    }
    let mut out = match tool {
        Some(t) => {
            let mut params: Vec<_> = t
                .params
                .iter()
                .map(|p| {
                    item(
                        &p.name.name,
                        CompletionItemKind::VARIABLE,
                        Some(slice(text, p.ty.span).into()),
                    )
                })
                .collect();
            params.push(item(
                "secret",
                CompletionItemKind::KEYWORD,
                keywords::doc("secret").map(String::from),
            ));
            params
        }
        None => variables(file, false),
    };
    if tool.is_none() && result_type(file, c).is_some() {
        out.push(item(
            "result",
            CompletionItemKind::KEYWORD,
            keywords::doc("result").map(String::from),
        ));
    }
    for (name, body, signature) in keywords::BUILTINS.iter().filter(|_| calls) {
        out.push(snippet(
            name,
            CompletionItemKind::FUNCTION,
            Some(signature.to_string()),
            body.to_string(),
        ));
    }
    for literal in ["true", "false", "null"] {
        out.push(item(literal, CompletionItemKind::KEYWORD, None));
    }
    out
}

fn secrets(file: &File) -> Vec<CompletionItem> {
    lookup::variables(file)
        .filter(|v| v.keyword() == "secret")
        .map(|v| item(&v.name().name, CompletionItemKind::CONSTANT, Some("secret".into())))
        .collect()
}

/// The type of the name `root` where the cursor stands: a tool's parameter
/// inside the tool, `result` in an action with a `call`, else a variable.
pub(super) fn root_type<'f>(file: &'f File, c: &Cursor, root: &str) -> Option<&'f TypeExpr> {
    let tool = match &c.item {
        Block::Tool(name) => lookup::tool(file, name),
        _ => None,
    };
    match (root, tool) {
        ("result", None) => result_type(file, c),
        (_, Some(t)) => t.params.iter().find(|p| p.name.name == root).map(|p| &p.ty),
        (_, None) => match lookup::variable(file, root) {
            Some(lookup::Variable::Decl(d)) => Some(&d.ty),
            _ => None,
        },
    }
}

/// The path before a trailing `.`: `order?.customer.` gives `[order, customer]`.
pub(super) fn member_path(line: &[String]) -> Vec<String> {
    let mut path = Vec::new();
    let mut i = line.len();
    while i >= 2 && matches!(line[i - 1].as_str(), "." | "?.") {
        let word = &line[i - 2];
        if !word.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') {
            break;
        }
        path.push(word.clone());
        i -= 2;
    }
    path.reverse();
    path
}

/// The return type of the tool the cursor's action calls.
pub(super) fn result_type<'f>(file: &'f File, c: &Cursor) -> Option<&'f TypeExpr> {
    let Block::Node(kind, name) = &c.item else {
        return None;
    };
    if kind != "action" {
        return None;
    }
    let node = lookup::node(file, name)?;
    node.body.fields.iter().find_map(|f| match &f.kind {
        FieldKind::Call(tool, _) => lookup::tool(file, &tool.name).map(|t| &t.returns),
        _ => None,
    })
}
