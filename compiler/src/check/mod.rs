//! Name resolution and type checking: from the AST to a `Program` whose
//! names are resolved and whose expressions are typed, with every problem
//! reported on the way (E01xx, E02xx, E03xx of single nodes, E0401, W0502,
//! W0503, W0504).

mod bounds;
mod decls;
mod expr;
mod form;
pub mod functions;
mod nodes;
pub mod types;

use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::Span;
use indexmap::IndexMap;
use std::collections::HashSet;
use types::{Ty, TypeTable};

/// The fields a `tool` body takes (the checker's rule, and the language server's completions).
pub const TOOL_FIELDS: &[&str] = &[
    "description",
    "http",
    "builtin",
    "host",
    "header",
    "body",
    "timeout",
    "retry",
];

/// The fields a `knowledge` body takes.
pub const KNOWLEDGE_FIELDS: &[&str] = &["description", "path"];

/// A namespace of names (LANGUAGE.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// Nodes.
    Node,
    /// Inputs, vars and secrets.
    Variable,
    /// Tools.
    Tool,
    /// Types.
    Type,
    /// Models.
    Model,
    /// Knowledge bases.
    Knowledge,
}

/// What kind of variable a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarRole {
    /// `input`.
    Input,
    /// `var`.
    Var,
    /// `secret`.
    Secret,
}

/// A declared variable.
#[derive(Debug, Clone)]
pub struct VarSym<'a> {
    /// Input, var or secret.
    pub role: VarRole,
    /// Its declared name.
    pub name: &'a Ident,
    /// Its type (`string` for secrets).
    pub ty: Ty,
    /// Its declaration, for inputs and vars.
    pub decl: Option<&'a VariableDecl>,
}

impl VarSym<'_> {
    /// Whether definite assignment tracks it: a non-optional `var` without default.
    pub fn tracked(&self) -> bool {
        self.role == VarRole::Var
            && !self.ty.is_optional()
            && !matches!(self.ty, Ty::Any | Ty::Error)
            && self.decl.is_some_and(|d| d.default.is_none())
    }
}

/// A read of a tracked variable, for definite assignment.
#[derive(Debug, Clone)]
pub struct Read {
    /// The node reading it.
    pub node: usize,
    /// The variable.
    pub var: String,
    /// Where.
    pub span: Span,
    /// Whether the read sees the node's own `set`s (an action's exits).
    pub after_sets: bool,
}

/// A checked file: resolved tables the graph analysis and the emitter use.
#[derive(Debug, Default)]
pub struct Program<'a> {
    /// The first `workflow` block.
    pub workflow: Option<&'a Workflow>,
    /// Nodes in source order (the first of duplicate names only).
    pub nodes: Vec<&'a Node>,
    /// Node index by name.
    pub node_index: IndexMap<String, usize>,
    /// Variables by name, in source order.
    pub vars: IndexMap<String, VarSym<'a>>,
    /// Tools by name, with parameter and return types.
    pub tools: IndexMap<String, ToolSym<'a>>,
    /// Named types.
    pub types: TypeTable,
    /// Type declarations by name.
    pub type_decls: IndexMap<String, &'a TypeDecl>,
    /// Models by name.
    pub models: IndexMap<String, &'a ModelDecl>,
    /// Knowledge bases by name.
    pub knowledge: IndexMap<String, &'a KnowledgeDecl>,
    /// Reads of tracked variables.
    pub reads: Vec<Read>,
    /// Routes whose `if` exits cover every value of a union (no `else` needed).
    pub exhaustive_routes: HashSet<usize>,
}

/// A declared tool.
#[derive(Debug, Clone)]
pub struct ToolSym<'a> {
    /// Its declaration.
    pub decl: &'a ToolDecl,
    /// Its parameters' types.
    pub params: Vec<(String, Ty)>,
    /// Its return type.
    pub returns: Ty,
}

/// Where an expression stands, which decides what it may see.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The node it belongs to (for definite assignment).
    pub node: Option<usize>,
    /// Inside a tool: its parameters (workflow variables are out of scope).
    pub params: Option<Vec<(String, Ty)>>,
    /// The type of `result`, where `result` is allowed.
    pub result: Option<Ty>,
    /// Where a secret would go if used here (None: secrets are allowed).
    pub secret_place: Option<&'static str>,
    /// Whether reads see the node's own `set`s.
    pub after_sets: bool,
    /// Whether this is a template (an optional value may be shown whole).
    pub template: bool,
}

impl Scope {
    /// The scope of a node's text or expressions.
    pub fn node(node: Option<usize>, secret_place: &'static str) -> Scope {
        Scope {
            node,
            secret_place: Some(secret_place),
            ..Scope::default()
        }
    }
}

/// The checker's state.
pub(crate) struct Checker<'a, 'd> {
    pub(crate) diags: &'d mut Diagnostics,
    pub(crate) program: Program<'a>,
    /// Names mentioned anywhere, for W0503.
    pub(crate) mentioned: HashSet<(Namespace, String)>,
    /// Paths known to be present (narrowed by a `null` test) while checking an expression.
    pub(crate) narrowed: Vec<String>,
    /// Nodes that are the target of some `also` exit.
    pub(crate) companions: HashSet<String>,
}

/// Resolves and type-checks `file`.
pub fn check<'a>(file: &'a File, diags: &mut Diagnostics) -> Program<'a> {
    let mut checker = Checker {
        diags,
        program: Program::default(),
        mentioned: HashSet::new(),
        narrowed: Vec::new(),
        companions: HashSet::new(),
    };
    checker.declare(file);
    checker.check_types();
    checker.check_variables();
    checker.check_models();
    checker.check_tools();
    checker.check_knowledge();
    checker.check_workflow();
    checker.check_nodes();
    checker.report_unused();
    checker.program
}

impl<'a> Checker<'a, '_> {
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    pub(crate) fn mention(&mut self, ns: Namespace, name: &str) {
        self.mentioned.insert((ns, name.to_string()));
    }

    /// The names of the variables whose role passes `keep`, for suggestions.
    pub(crate) fn var_names(&self, keep: impl Fn(VarRole) -> bool) -> Vec<String> {
        self.program
            .vars
            .iter()
            .filter(|(_, v)| keep(v.role))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Reports an unknown name with a did-you-mean suggestion and its fix.
    pub(crate) fn unknown(&mut self, code: Code, what: &str, name: &Ident, candidates: Vec<String>) {
        let best = crate::suggest::closest(&name.name, candidates.iter().map(String::as_str));
        let mut diag = Diagnostic::new(code, name.span, format!("unknown {what} `{}`", name.name))
            .primary(format!("no {what} of this name"));
        match best {
            Some(best) => {
                diag =
                    diag.help(format!("did you mean `{best}`?"))
                        .fix(format!("replace with `{best}`"), name.span, best);
            }
            None if candidates.is_empty() => {
                diag = diag.help(format!("no {what} is declared in this file"));
            }
            None => {
                let mut sorted: Vec<_> = candidates.iter().take(8).map(|c| format!("`{c}`")).collect();
                sorted.sort();
                diag = diag.help(format!("declared here: {}", sorted.join(", ")));
            }
        }
        self.push(diag);
    }
}
