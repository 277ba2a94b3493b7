//! Looking things up in the (possibly partial) syntax tree: declarations by
//! name, the fields of a type, a tool's signature.

use flow_compiler::Span;
use flow_compiler::ast::*;

/// A declared variable: an input or var, or a secret.
#[derive(Debug, Clone, Copy)]
pub enum Variable<'f> {
    /// `input` or `var`.
    Decl(&'f VariableDecl),
    /// `secret`.
    Secret(&'f Ident),
}

/// The text of `span` without surrounding white space (a type's span may
/// end with the blank before the next token), or "" when the span does not
/// fall on character boundaries.
pub fn slice(text: &str, span: Span) -> &str {
    text.get(span.range()).unwrap_or("").trim()
}

/// The first node named `name`.
pub fn node<'f>(file: &'f File, name: &str) -> Option<&'f Node> {
    file.items.iter().find_map(|item| match item {
        Item::Node(n) if n.name.name == name => Some(n),
        _ => None,
    })
}

/// Every node, in source order.
pub fn nodes(file: &File) -> impl Iterator<Item = &Node> {
    file.items.iter().filter_map(|item| match item {
        Item::Node(n) => Some(n),
        _ => None,
    })
}

/// The first variable named `name`.
pub fn variable<'f>(file: &'f File, name: &str) -> Option<Variable<'f>> {
    variables(file).find(|v| v.name().name == name)
}

/// Every input, var and secret, in source order.
pub fn variables(file: &File) -> impl Iterator<Item = Variable<'_>> {
    file.items.iter().filter_map(|item| match item {
        Item::Variable(v) => Some(Variable::Decl(v)),
        Item::Secret(s) => Some(Variable::Secret(s)),
        _ => None,
    })
}

impl<'f> Variable<'f> {
    /// Its name.
    pub fn name(&self) -> &'f Ident {
        match self {
            Variable::Decl(d) => &d.name,
            Variable::Secret(s) => s,
        }
    }

    /// `input`, `var` or `secret`.
    pub fn keyword(&self) -> &'static str {
        match self {
            Variable::Decl(d) if d.kind == VarKind::Input => "input",
            Variable::Decl(_) => "var",
            Variable::Secret(_) => "secret",
        }
    }
}

/// Every tool, in source order.
pub fn tools(file: &File) -> impl Iterator<Item = &ToolDecl> {
    file.items.iter().filter_map(|item| match item {
        Item::Tool(t) => Some(t),
        _ => None,
    })
}

/// The first tool named `name`.
pub fn tool<'f>(file: &'f File, name: &str) -> Option<&'f ToolDecl> {
    tools(file).find(|t| t.name.name == name)
}

/// The first type named `name`.
pub fn type_decl<'f>(file: &'f File, name: &str) -> Option<&'f TypeDecl> {
    file.items.iter().find_map(|item| match item {
        Item::Type(t) if t.name.name == name => Some(t),
        _ => None,
    })
}

/// The first model group named `name`.
pub fn model<'f>(file: &'f File, name: &str) -> Option<&'f ModelDecl> {
    file.items.iter().find_map(|item| match item {
        Item::Model(m) if m.name.name == name => Some(m),
        _ => None,
    })
}

/// `tool name(a: T, b: U) -> R`, from the source.
pub fn tool_signature(text: &str, tool: &ToolDecl) -> String {
    let params: Vec<String> = tool
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name.name, slice(text, p.ty.span)))
        .collect();
    format!(
        "tool {}({}) -> {}",
        tool.name.name,
        params.join(", "),
        slice(text, tool.returns.span)
    )
}

/// The fields of a type, through optionals and named types; None when it is
/// not an object.
pub fn fields_of<'f>(file: &'f File, mut ty: &'f TypeExpr) -> Option<&'f [(Ident, TypeExpr)]> {
    // Named types may refer to each other in a loop (E0210): bound the walk.
    for _ in 0..32 {
        match &ty.kind {
            TypeKind::Optional(inner) => ty = inner,
            TypeKind::Named(name) => ty = &type_decl(file, &name.name)?.ty,
            TypeKind::Object(fields) => return Some(fields),
            _ => return None,
        }
    }
    None
}

/// The type of `root.path[0].path[1]...`, through object fields.
pub fn path_type<'f>(file: &'f File, root: &'f TypeExpr, path: &[String]) -> Option<&'f TypeExpr> {
    let mut ty = root;
    for segment in path {
        ty = &fields_of(file, ty)?.iter().find(|(f, _)| &f.name == segment)?.1;
    }
    Some(ty)
}

/// The first lines of a text as written (quotes removed, templates kept),
/// for a preview.
pub fn first_lines(text: &str, count: usize) -> String {
    let text = text.trim_start_matches('"').trim_end_matches('"');
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut out = lines.iter().take(count).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > count {
        out.push_str("\n…");
    }
    out
}

/// A node's instructions or message (its bare text), if it has one.
pub fn node_text(node: &Node) -> Option<&Text> {
    node.body.fields.iter().find_map(|f| match &f.kind {
        FieldKind::Text(t) | FieldKind::Say(t) | FieldKind::Prompt(t) | FieldKind::Message(t) => Some(t),
        _ => None,
    })
}
