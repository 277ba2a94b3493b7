//! A reference index: every declaration and every use of a name in a file,
//! with its span and the namespace it resolves in.
//!
//! It is built from the (possibly partial) syntax tree alone, so it works on a
//! file with syntax errors too; what the recovering parser kept is indexed.
//! Tools for editors (go to definition, find references, rename) read it; the
//! compiler itself does not need it.
//!
//! ```
//! use flow_compiler::{check::Namespace, symbols::SymbolIndex};
//! let source = "workflow w {\n  start a\n}\nsay a {\n  \"Hi\"\n  -> end\n}\n";
//! let mut diags = flow_compiler::Diagnostics::default();
//! let file = flow_compiler::syntax::lower(source, &mut diags);
//! let index = SymbolIndex::build(&file);
//! let def = index.definition(Namespace::Node, "a").unwrap();
//! assert_eq!(&source[def.span.range()], "a");
//! assert_eq!(index.references_to(Namespace::Node, "a").count(), 1);
//! ```

use crate::ast::*;
use crate::check::Namespace;
use crate::span::Span;

/// One name at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The namespace the name is looked up in.
    pub namespace: Namespace,
    /// The name.
    pub name: String,
    /// The span of the name itself.
    pub span: Span,
}

/// Every declaration and every use of a name in one file, in source order.
#[derive(Debug, Clone, Default)]
pub struct SymbolIndex {
    /// Declarations (duplicates included, in source order).
    pub definitions: Vec<Symbol>,
    /// Uses: exit targets, `start`, `model`, `tools`, `call`, `set`, `extract`,
    /// variables in expressions and templates, `secret.X`, named types.
    /// The built-in target `end` is not a use of any node.
    pub references: Vec<Symbol>,
}

impl SymbolIndex {
    /// Indexes `file`.
    pub fn build(file: &File) -> SymbolIndex {
        let mut index = SymbolIndex::default();
        for item in &file.items {
            index.item(item);
        }
        index.references.sort_by_key(|s| s.span);
        index
    }

    /// The declaration or use whose name spans `offset` (its end included, so
    /// a cursor just after a name still finds it), and whether it is a declaration.
    pub fn at(&self, offset: u32) -> Option<(&Symbol, bool)> {
        let hit = |s: &&Symbol| s.span.start <= offset && offset <= s.span.end;
        if let Some(def) = self.definitions.iter().find(hit) {
            return Some((def, true));
        }
        self.references.iter().find(hit).map(|r| (r, false))
    }

    /// The first declaration of `name` in `namespace`.
    pub fn definition(&self, namespace: Namespace, name: &str) -> Option<&Symbol> {
        self.definitions
            .iter()
            .find(|d| d.namespace == namespace && d.name == name)
    }

    /// Every use of `name` in `namespace`.
    pub fn references_to<'s>(&'s self, namespace: Namespace, name: &'s str) -> impl Iterator<Item = &'s Symbol> + 's {
        self.references
            .iter()
            .filter(move |r| r.namespace == namespace && r.name == name)
    }

    fn define(&mut self, namespace: Namespace, ident: &Ident) {
        if !ident.name.is_empty() {
            self.definitions.push(symbol(namespace, ident));
        }
    }

    fn refer(&mut self, namespace: Namespace, ident: &Ident) {
        if !ident.name.is_empty() {
            self.references.push(symbol(namespace, ident));
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Workflow(w) => self.block(&w.body, false),
            Item::Model(m) => self.define(Namespace::Model, &m.name),
            Item::Type(t) => {
                self.define(Namespace::Type, &t.name);
                self.type_expr(&t.ty);
            }
            Item::Variable(v) => {
                self.define(Namespace::Variable, &v.name);
                self.type_expr(&v.ty);
                if let Some(default) = &v.default {
                    self.expr(default, false);
                }
            }
            Item::Secret(name) => self.define(Namespace::Variable, name),
            Item::Tool(t) => {
                self.define(Namespace::Tool, &t.name);
                for param in &t.params {
                    self.type_expr(&param.ty);
                }
                self.type_expr(&t.returns);
                self.block(&t.body, true);
            }
            Item::Knowledge(k) => {
                self.define(Namespace::Knowledge, &k.name);
                self.block(&k.body, false);
            }
            Item::Node(n) => {
                self.define(Namespace::Node, &n.name);
                self.block(&n.body, false);
            }
        }
    }

    /// A block's fields and exits. Inside a tool, bare names are its parameters,
    /// which belong to no namespace.
    fn block(&mut self, block: &Block, in_tool: bool) {
        for field in &block.fields {
            self.field(&field.kind, in_tool);
        }
        for exit in &block.exits {
            match &exit.kind {
                ExitKind::If(cond) => self.expr(cond, in_tool),
                ExitKind::When(text) => self.text(text, in_tool),
                _ => {}
            }
            if exit.target.name != "end" {
                self.refer(Namespace::Node, &exit.target);
            }
        }
    }

    fn field(&mut self, field: &FieldKind, in_tool: bool) {
        match field {
            FieldKind::Start(node) => self.refer(Namespace::Node, node),
            FieldKind::Model(model) => self.refer(Namespace::Model, model),
            FieldKind::Tools(tools) => tools.iter().for_each(|t| self.refer(Namespace::Tool, t)),
            FieldKind::Knowledge(kbs) => kbs.iter().for_each(|k| self.refer(Namespace::Knowledge, k)),
            FieldKind::Extract(var, hint) => {
                self.refer(Namespace::Variable, var);
                if let Some(hint) = hint {
                    self.text(hint, in_tool);
                }
            }
            FieldKind::Call(tool, args) => {
                self.refer(Namespace::Tool, tool);
                for (_, arg) in args {
                    self.expr(arg, in_tool);
                }
            }
            FieldKind::Set(var, value) => {
                self.refer(Namespace::Variable, var);
                self.expr(value, in_tool);
            }
            FieldKind::Instructions(t)
            | FieldKind::Queue(t)
            | FieldKind::Message(t)
            | FieldKind::Prompt(t)
            | FieldKind::Say(t)
            | FieldKind::Description(t)
            | FieldKind::Http(_, t)
            | FieldKind::Builtin(t)
            | FieldKind::Path(t)
            | FieldKind::Text(t) => self.text(t, in_tool),
            FieldKind::Header(name, value) => {
                self.text(name, in_tool);
                self.text(value, in_tool);
            }
            FieldKind::Body(body) | FieldKind::FormBody(body) => self.expr(body, in_tool),
            FieldKind::MaxSteps(_)
            | FieldKind::Timeout(_)
            | FieldKind::Outcome(_)
            | FieldKind::Host
            | FieldKind::Retry(_) => {}
        }
    }

    fn text(&mut self, text: &Text, in_tool: bool) {
        for part in &text.parts {
            if let TextPart::Template(Some(expr), _) = part {
                self.expr(expr, in_tool);
            }
        }
    }

    fn expr(&mut self, expr: &Expr, in_tool: bool) {
        match &expr.kind {
            ExprKind::Name(name) if !in_tool => self.refer(Namespace::Variable, name),
            ExprKind::Secret(name) => self.refer(Namespace::Variable, name),
            ExprKind::Template(text) => self.text(text, in_tool),
            ExprKind::Field { base, .. } => self.expr(base, in_tool),
            ExprKind::Index(base, index) => {
                self.expr(base, in_tool);
                self.expr(index, in_tool);
            }
            ExprKind::Unary(_, operand) => self.expr(operand, in_tool),
            ExprKind::Binary(_, left, right) => {
                self.expr(left, in_tool);
                self.expr(right, in_tool);
            }
            ExprKind::List(items) | ExprKind::Call(_, items) => {
                items.iter().for_each(|e| self.expr(e, in_tool));
            }
            ExprKind::Object(entries) => entries.iter().for_each(|(_, e)| self.expr(e, in_tool)),
            ExprKind::Name(_) | ExprKind::Lit(_) | ExprKind::Result | ExprKind::Error => {}
        }
    }

    fn type_expr(&mut self, ty: &TypeExpr) {
        match &ty.kind {
            TypeKind::Named(name) => self.refer(Namespace::Type, name),
            TypeKind::List(inner) | TypeKind::Optional(inner) => self.type_expr(inner),
            TypeKind::Object(fields) => fields.iter().for_each(|(_, t)| self.type_expr(t)),
            TypeKind::String
            | TypeKind::Number
            | TypeKind::Int
            | TypeKind::Bool
            | TypeKind::Any
            | TypeKind::Union(_)
            | TypeKind::Error => {}
        }
    }
}

fn symbol(namespace: Namespace, ident: &Ident) -> Symbol {
    Symbol {
        namespace,
        name: ident.name.clone(),
        span: ident.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostics;

    fn index(source: &str) -> SymbolIndex {
        SymbolIndex::build(&crate::syntax::lower(source, &mut Diagnostics::default()))
    }

    #[test]
    fn finds_uses_in_templates_exits_calls_and_types() {
        let source = r#"workflow w {
  start a
}
type T { id: string }
var x: T
secret K
tool t(id: string) -> T {
  http GET "https://h/{{id}}"
  header "A" = "{{secret.K}}"
}
action a {
  call t(id: x.id)
  set x = result
  -> b
}
say b {
  "Id {{x.id}}"
  -> end
}
"#;
        let idx = index(source);
        assert_eq!(idx.references_to(Namespace::Variable, "x").count(), 3);
        assert_eq!(idx.references_to(Namespace::Variable, "K").count(), 1);
        assert_eq!(idx.references_to(Namespace::Type, "T").count(), 2);
        assert_eq!(idx.references_to(Namespace::Tool, "t").count(), 1);
        assert_eq!(idx.references_to(Namespace::Node, "b").count(), 1);
        // Tool parameters are not variables, and `end` is not a node.
        assert_eq!(idx.references_to(Namespace::Variable, "id").count(), 0);
        assert_eq!(idx.references_to(Namespace::Node, "end").count(), 0);
        let (sym, is_def) = idx.at(source.find("-> b").unwrap() as u32 + 3).unwrap();
        assert_eq!((sym.name.as_str(), is_def), ("b", false));
    }
}
