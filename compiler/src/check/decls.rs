//! Declarations: the namespaces (E0101), named types (E0105, E0210),
//! variables and defaults (E0205), models (E0113), tools and knowledge
//! bases, and unused declarations (W0503).

use super::types::Ty;
use super::{Checker, Namespace, Scope, ToolSym, VarRole, VarSym};
use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use std::collections::HashMap;
use std::rc::Rc;

/// The builtin tools of LANGUAGE.md §5: parameter types and return type.
pub(crate) fn builtin_signature(name: &str) -> Option<(Vec<Ty>, Ty)> {
    Some(match name {
        "time.now" | "time.today" => (vec![], Ty::String),
        "text.lower" | "text.upper" => (vec![Ty::String], Ty::String),
        "math.round" => (vec![Ty::Number], Ty::Int),
        _ => return None,
    })
}

/// The builtin tool names.
pub(crate) const BUILTIN_TOOLS: &[&str] = &["time.now", "time.today", "text.lower", "text.upper", "math.round"];

/// The model providers the runtime knows.
pub(crate) const PROVIDERS: &[&str] = &["openai", "anthropic", "scripted"];

impl<'a> Checker<'a, '_> {
    /// Collects every declaration; reports duplicates and workflow-block problems.
    pub(crate) fn declare(&mut self, file: &'a File) {
        let mut first: HashMap<(Namespace, &str), Span> = HashMap::new();
        let mut duplicate = |checker: &mut Self, ns: Namespace, name: &'a Ident, what: &str| -> bool {
            if let Some(prev) = first.get(&(ns, name.name.as_str())) {
                checker.push(
                    Diagnostic::new(
                        Code::E0101,
                        name.span,
                        format!("the {what} `{}` is declared twice", name.name),
                    )
                    .primary("declared again here")
                    .label(*prev, "first declared here")
                    .help(format!("rename one of them: each {what} name is declared once")),
                );
                true
            } else {
                first.insert((ns, name.name.as_str()), name.span);
                false
            }
        };
        for item in &file.items {
            match item {
                Item::Workflow(w) => {
                    if let Some(prev) = self.program.workflow {
                        self.push(
                            Diagnostic::new(Code::E0005, w.name.span, "the file has more than one `workflow` block")
                                .primary("second workflow block")
                                .label(prev.name.span, "the first `workflow` block")
                                .help("a file describes one workflow: move this one into a file of its own"),
                        );
                    } else {
                        self.program.workflow = Some(w);
                    }
                }
                // `-> end` always means the built-in end, so a node named `end`
                // (E0006) could never be reached: left out, with no cascade.
                Item::Node(node) if node.name.name == "end" => {}
                Item::Node(node) => {
                    if !duplicate(self, Namespace::Node, &node.name, "node") {
                        self.program
                            .node_index
                            .insert(node.name.name.clone(), self.program.nodes.len());
                        self.program.nodes.push(node);
                    }
                }
                Item::Variable(decl) => {
                    let what = if decl.kind == VarKind::Input {
                        "input"
                    } else {
                        "variable"
                    };
                    if !duplicate(self, Namespace::Variable, &decl.name, what) {
                        let role = if decl.kind == VarKind::Input {
                            VarRole::Input
                        } else {
                            VarRole::Var
                        };
                        self.program.vars.insert(
                            decl.name.name.clone(),
                            VarSym {
                                role,
                                name: &decl.name,
                                ty: Ty::Error,
                                decl: Some(decl),
                            },
                        );
                    }
                }
                Item::Secret(name) => {
                    if !duplicate(self, Namespace::Variable, name, "secret") {
                        self.program.vars.insert(
                            name.name.clone(),
                            VarSym {
                                role: VarRole::Secret,
                                name,
                                ty: Ty::String,
                                decl: None,
                            },
                        );
                    }
                }
                Item::Tool(tool) => {
                    if !duplicate(self, Namespace::Tool, &tool.name, "tool") {
                        self.program.tools.insert(
                            tool.name.name.clone(),
                            ToolSym {
                                decl: tool,
                                params: Vec::new(),
                                returns: Ty::Error,
                            },
                        );
                    }
                }
                Item::Type(decl) => {
                    if !duplicate(self, Namespace::Type, &decl.name, "type") {
                        self.program.type_decls.insert(decl.name.name.clone(), decl);
                    }
                }
                Item::Model(model) => {
                    if !duplicate(self, Namespace::Model, &model.name, "model") {
                        self.program.models.insert(model.name.name.clone(), model);
                    }
                }
                Item::Knowledge(kb) => {
                    if !duplicate(self, Namespace::Knowledge, &kb.name, "knowledge base") {
                        self.program.knowledge.insert(kb.name.name.clone(), kb);
                    }
                }
            }
        }
        if self.program.workflow.is_none() && !file.has_syntax_errors {
            self.push(
                Diagnostic::new(Code::E0004, Span::new(0, 0), "the file has no `workflow` block")
                    .help("add `workflow NAME { start FIRST_NODE }`: it names the workflow and its first step"),
            );
        }
    }

    /// Resolves named types (E0105) and finds self-referring ones (E0210).
    pub(crate) fn check_types(&mut self) {
        let decls: Vec<&'a TypeDecl> = self.program.type_decls.values().copied().collect();
        for decl in &decls {
            let ty = self.resolve_type(&decl.ty);
            self.program.types.defs.insert(decl.name.name.clone(), ty);
        }
        // A named type may not refer to itself through other named types
        // (lists and optionals included: the schema would be infinite).
        let mut state: HashMap<String, u8> = HashMap::new();
        let mut cyclic = Vec::new();
        for decl in &decls {
            let mut stack = Vec::new();
            self.find_type_cycle(&decl.name.name, &mut state, &mut stack, &mut cyclic);
        }
        for (name, path) in cyclic {
            let decl = self.program.type_decls[&name];
            let refers = find_named(&decl.ty, &path[1]).unwrap_or(decl.ty.span);
            self.push(
                Diagnostic::new(
                    Code::E0210,
                    refers,
                    format!("the type `{name}` refers to itself: {}", path.join(" -> ")),
                )
                .primary("refers back to the type being defined")
                .label(decl.name.span, "defined here")
                .help("a type must be finite: break the cycle, e.g. with an `id` string instead of the whole value"),
            );
            self.program.types.defs.insert(name, Ty::Error);
        }
    }

    fn find_type_cycle(
        &self,
        name: &str,
        state: &mut HashMap<String, u8>,
        stack: &mut Vec<String>,
        cyclic: &mut Vec<(String, Vec<String>)>,
    ) {
        match state.get(name) {
            Some(2) => return,
            Some(1) => {
                if let Some(pos) = stack.iter().position(|n| n == name) {
                    let mut path: Vec<String> = stack[pos..].to_vec();
                    path.push(name.to_string());
                    if !cyclic.iter().any(|(n, _)| n == &path[0]) {
                        cyclic.push((path[0].clone(), path));
                    }
                }
                return;
            }
            _ => {}
        }
        let Some(def) = self.program.types.defs.get(name) else {
            return;
        };
        state.insert(name.to_string(), 1);
        stack.push(name.to_string());
        let mut refs = Vec::new();
        named_refs(def, &mut refs);
        for r in refs {
            self.find_type_cycle(&r, state, stack, cyclic);
        }
        stack.pop();
        state.insert(name.to_string(), 2);
    }

    /// Converts a written type to a checked one, reporting unknown names.
    pub(crate) fn resolve_type(&mut self, ty: &TypeExpr) -> Ty {
        match &ty.kind {
            TypeKind::String => Ty::String,
            TypeKind::Number => Ty::Number,
            TypeKind::Int => Ty::Int,
            TypeKind::Bool => Ty::Bool,
            TypeKind::Any => Ty::Any,
            TypeKind::Error => Ty::Error,
            TypeKind::Union(items) => {
                let mut literals: Vec<String> = Vec::new();
                for (text, span) in items {
                    if literals.contains(text) {
                        self.push(
                            Diagnostic::new(Code::E0101, *span, format!("`{text:?}` appears twice in this union"))
                                .primary("given again here")
                                .help("list each string once"),
                        );
                    } else {
                        literals.push(text.clone());
                    }
                }
                Ty::Union(Rc::from(literals))
            }
            TypeKind::List(item) => Ty::List(Rc::new(self.resolve_type(item))),
            TypeKind::Object(fields) => {
                let mut out: Vec<(String, Ty)> = Vec::new();
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for (name, field) in fields {
                    if let Some(prev) = seen.get(name.name.as_str()) {
                        self.push(
                            Diagnostic::new(
                                Code::E0101,
                                name.span,
                                format!("the field `{}` is declared twice", name.name),
                            )
                            .primary("declared again here")
                            .label(*prev, "first declared here"),
                        );
                        continue;
                    }
                    seen.insert(&name.name, name.span);
                    let t = self.resolve_type(field);
                    out.push((name.name.clone(), t));
                }
                Ty::Object(Rc::from(out))
            }
            TypeKind::Named(name) => {
                self.mention(super::Namespace::Type, &name.name);
                if self.program.type_decls.contains_key(&name.name) {
                    Ty::Named(Rc::from(name.name.as_str()))
                } else {
                    let candidates = self.program.type_decls.keys().cloned().collect();
                    self.unknown(Code::E0105, "type", name, candidates);
                    Ty::Error
                }
            }
            TypeKind::Optional(inner) => self.resolve_type(inner).optional(),
        }
    }

    /// Types of inputs and variables, and their defaults (E0205).
    pub(crate) fn check_variables(&mut self) {
        let names: Vec<String> = self.program.vars.keys().cloned().collect();
        for name in names {
            let Some(decl) = self.program.vars[&name].decl else {
                continue;
            };
            let ty = self.resolve_type(&decl.ty);
            self.program.vars[&name].ty = ty.clone();
            if let Some(default) = &decl.default {
                let found = self.infer(default, &Scope::default());
                if !self.program.types.assignable(&found, &ty) {
                    self.push(
                        Diagnostic::new(
                            Code::E0205,
                            default.span,
                            format!(
                                "the default value of `{name}` does not match its type: expected {ty}, found {found}"
                            ),
                        )
                        .primary(format!("this is {found}"))
                        .label(decl.ty.span, format!("`{name}` is declared {ty} here"))
                        .help("give a default of the declared type, or change the type"),
                    );
                }
            }
        }
    }

    /// Model strings name a known provider (E0113) and hold no template (E0209).
    pub(crate) fn check_models(&mut self) {
        let models: Vec<&'a ModelDecl> = self.program.models.values().copied().collect();
        for model in models {
            for text in &model.models {
                self.literal_text(text, "a model string");
                let value = text.literal();
                let provider = value.split_once(':').map(|(p, _)| p);
                let ok = provider.is_some_and(|p| PROVIDERS.contains(&p))
                    && value.split_once(':').is_some_and(|(_, m)| !m.trim().is_empty());
                if !ok {
                    let guess = provider.and_then(|p| crate::suggest::closest(p, PROVIDERS.iter().copied()));
                    let message = match provider {
                        Some(p) if !PROVIDERS.contains(&p) => format!("unknown model provider `{p}` in `{value}`"),
                        Some(_) => format!("the model string `{value}` names no model after the provider"),
                        None => format!("the model string `{value}` names no provider"),
                    };
                    let mut diag = Diagnostic::new(Code::E0113, text.span, message)
                        .primary("not `provider:model`")
                        .help("write `provider:model` with provider `openai`, `anthropic` or `scripted`, e.g. `\"openai:gpt-4o-mini\"`");
                    if let (Some(g), Some(p)) = (guess, provider)
                        && !PROVIDERS.contains(&p)
                    {
                        let fixed = format!("\"{}\"", value.replacen(p, g, 1));
                        diag = diag.help(format!("did you mean `{g}`?")).fix(
                            format!("replace with `{g}`"),
                            text.span,
                            fixed,
                        );
                    }
                    self.push(diag);
                }
            }
        }
    }

    /// Tool parameters, return types and bodies.
    pub(crate) fn check_tools(&mut self) {
        let names: Vec<String> = self.program.tools.keys().cloned().collect();
        for name in names {
            let decl = self.program.tools[&name].decl;
            let mut params: Vec<(String, Ty)> = Vec::new();
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for param in &decl.params {
                let ty = self.resolve_type(&param.ty);
                if let Some(prev) = seen.get(param.name.name.as_str()) {
                    self.push(
                        Diagnostic::new(
                            Code::E0101,
                            param.name.span,
                            format!("the parameter `{}` is declared twice", param.name.name),
                        )
                        .primary("declared again here")
                        .label(*prev, "first declared here"),
                    );
                    continue;
                }
                seen.insert(&param.name.name, param.name.span);
                params.push((param.name.name.clone(), ty));
            }
            let returns = self.resolve_type(&decl.returns);
            let sym = &mut self.program.tools[&name];
            sym.params = params.clone();
            sym.returns = returns.clone();
            self.check_tool_body(decl, &params, &returns);
        }
    }

    /// Knowledge bases: `description` and `path`, literal text.
    pub(crate) fn check_knowledge(&mut self) {
        let kbs: Vec<&'a KnowledgeDecl> = self.program.knowledge.values().copied().collect();
        for kb in kbs {
            self.check_block_fields(&kb.body, "knowledge base", super::KNOWLEDGE_FIELDS, &[]);
            for field in &kb.body.fields {
                match &field.kind {
                    FieldKind::Description(t) => self.literal_text(t, "a `description`"),
                    FieldKind::Path(t) => self.literal_text(t, "a knowledge base `path`"),
                    _ => {}
                }
            }
            self.no_exits(&kb.body, "a knowledge base");
        }
    }

    /// W0503: declarations never mentioned.
    pub(crate) fn report_unused(&mut self) {
        let mut unused = Vec::new();
        for (name, var) in &self.program.vars {
            if !self.mentioned.contains(&(Namespace::Variable, name.clone())) {
                let what = match var.role {
                    VarRole::Input => "input",
                    VarRole::Var => "variable",
                    VarRole::Secret => "secret",
                };
                unused.push((what, var.name.span, name.clone()));
            }
        }
        for (ns, what, names) in [
            (
                Namespace::Tool,
                "tool",
                self.program.tools.values().map(|t| &t.decl.name).collect::<Vec<_>>(),
            ),
            (
                Namespace::Type,
                "type",
                self.program.type_decls.values().map(|t| &t.name).collect(),
            ),
            (
                Namespace::Model,
                "model",
                self.program.models.values().map(|m| &m.name).collect(),
            ),
            (
                Namespace::Knowledge,
                "knowledge base",
                self.program.knowledge.values().map(|k| &k.name).collect(),
            ),
        ] {
            for name in names {
                if !self.mentioned.contains(&(ns, name.name.clone())) {
                    unused.push((what, name.span, name.name.clone()));
                }
            }
        }
        for (what, span, name) in unused {
            self.push(
                Diagnostic::new(
                    Code::W0503,
                    span,
                    format!("the {what} `{name}` is declared but never used"),
                )
                .primary("never used")
                .help(format!("use it, or remove the declaration of `{name}`")),
            );
        }
    }

    /// Reports templates in text that is taken literally (E0209).
    pub(crate) fn literal_text(&mut self, text: &Text, what: &str) {
        for part in &text.parts {
            if let TextPart::Template(_, span) = part {
                self.push(
                    Diagnostic::new(Code::E0209, *span, format!("a template in {what}, which is taken literally"))
                        .primary("not filled in")
                        .help("templates are filled in only in instructions, messages, prompts and a tool's url, headers and body; write `\\{` for a literal brace"),
                );
            }
        }
    }
}

/// The named types a type mentions.
fn named_refs(ty: &Ty, out: &mut Vec<String>) {
    match ty {
        Ty::Named(n) => out.push(n.to_string()),
        Ty::List(t) | Ty::Optional(t) => named_refs(t, out),
        Ty::Object(fields) => fields.iter().for_each(|(_, t)| named_refs(t, out)),
        _ => {}
    }
}

/// Where a written type mentions `name`.
fn find_named(ty: &TypeExpr, name: &str) -> Option<Span> {
    match &ty.kind {
        TypeKind::Named(n) if n.name == name => Some(n.span),
        TypeKind::List(t) | TypeKind::Optional(t) => find_named(t, name),
        TypeKind::Object(fields) => fields.iter().find_map(|(_, t)| find_named(t, name)),
        _ => None,
    }
}
