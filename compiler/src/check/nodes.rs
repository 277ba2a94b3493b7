//! The workflow block, nodes and tool bodies: which fields and exits each
//! kind takes (E0310, E0311, E0312, E0313), references (E0102, E0104, E0106,
//! E0107, E0109, E0110, E0112), and the node-local rules (E0208, W0502).

use super::decls::{BUILTIN_TOOLS, builtin_signature};
use super::types::Ty;
use super::{Checker, Namespace, Read, Scope, VarRole};
use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use flow_graph::limits;
use std::collections::HashMap;

/// Which fields a block takes: (allowed, allowed more than once).
fn fields_of(kind: NodeKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        NodeKind::Agent => (&["text", "model", "tools", "knowledge", "extract"], &["extract"]),
        NodeKind::Action => (&["call", "set"], &["set"]),
        NodeKind::Route => (&["model"], &[]),
        NodeKind::Say => (&["text"], &[]),
        NodeKind::Handoff => (&["queue", "message"], &[]),
        NodeKind::Approval => (&["prompt", "timeout"], &[]),
        NodeKind::End => (&["say", "outcome"], &[]),
    }
}

/// Whether a node kind takes an exit kind.
fn takes_exit(kind: NodeKind, exit: &ExitKind) -> bool {
    use ExitKind::*;
    match kind {
        NodeKind::Agent => matches!(exit, When(_) | If(_) | After(_) | Silence(_) | Direct | Also),
        NodeKind::Action => matches!(exit, Direct | If(_) | Else | OnError | Also),
        NodeKind::Route => matches!(exit, If(_) | When(_) | Else),
        NodeKind::Say => matches!(exit, Direct | If(_) | Else | Also),
        NodeKind::Handoff => matches!(exit, OnReturn),
        NodeKind::Approval => matches!(exit, OnApproved | OnRejected | OnTimeout),
        NodeKind::End => false,
    }
}

fn exits_of(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Agent => "`when`, `if`, `after N turns`, `after DURATION silence`, `->` and `also`",
        NodeKind::Action => "`->`, `if`, `else`, `on error` and `also`",
        NodeKind::Route => "`if`, `when` and `else`",
        NodeKind::Say => "`->`, `if`, `else` and `also`",
        NodeKind::Handoff => "`on return`",
        NodeKind::Approval => "`on approved`, `on rejected` and `on timeout`",
        NodeKind::End => "no exits",
    }
}

fn describe_field(keyword: &str) -> String {
    if keyword == "text" {
        "a bare text".to_string()
    } else {
        format!("`{keyword}`")
    }
}

/// Folds case and white space, for comparing conditions.
pub(crate) fn fold_condition(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl<'a> Checker<'a, '_> {
    /// Reports fields a block does not take or that are given twice (E0312).
    pub(crate) fn check_block_fields(&mut self, block: &Block, what: &str, allowed: &[&str], multi: &[&str]) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for field in &block.fields {
            let keyword = field.kind.keyword();
            if !allowed.contains(&keyword) {
                let list: Vec<String> = allowed.iter().map(|k| describe_field(k)).collect();
                let takes = if list.is_empty() {
                    "no fields".to_string()
                } else {
                    list.join(", ")
                };
                self.push(
                    Diagnostic::new(
                        Code::E0312,
                        field.span,
                        format!("{} is not a field of {what}", describe_field(keyword)),
                    )
                    .primary("not taken here")
                    .help(format!("{what} takes {takes}")),
                );
                continue;
            }
            if multi.contains(&keyword) {
                continue;
            }
            if let Some(prev) = seen.get(keyword) {
                self.push(
                    Diagnostic::new(
                        Code::E0312,
                        field.span,
                        format!("{} is given twice", describe_field(keyword)),
                    )
                    .primary("given again here")
                    .label(*prev, "first given here")
                    .help("give each field once"),
                );
            } else {
                seen.insert(keyword, field.span);
            }
        }
    }

    /// Blocks that take no exits.
    pub(crate) fn no_exits(&mut self, block: &Block, what: &str) {
        for exit in &block.exits {
            self.push(
                Diagnostic::new(Code::E0310, exit.span, format!("{what} takes no exits"))
                    .primary("not taken here")
                    .help("remove this exit"),
            );
        }
    }

    /// Resolves an exit target (E0102); `end` is built in.
    fn check_target(&mut self, target: &Ident) {
        if target.name == "end" || self.program.node_index.contains_key(&target.name) {
            return;
        }
        let candidates = self.program.node_index.keys().cloned().collect();
        self.unknown(Code::E0102, "node", target, candidates);
    }

    fn check_model_ref(&mut self, name: &Ident) -> bool {
        self.mention(Namespace::Model, &name.name);
        if self.program.models.contains_key(&name.name) {
            return true;
        }
        let candidates = self.program.models.keys().cloned().collect();
        self.unknown(Code::E0106, "model", name, candidates);
        false
    }

    /// The `workflow` block: settings and global exits.
    pub(crate) fn check_workflow(&mut self) {
        self.companions = self
            .program
            .nodes
            .iter()
            .flat_map(|n| n.body.exits.iter())
            .filter(|e| matches!(e.kind, ExitKind::Also))
            .map(|e| e.target.name.clone())
            .collect();
        let Some(workflow) = self.program.workflow else { return };
        if let Some(title) = &workflow.title {
            self.literal_text(title, "a workflow's title");
        }
        self.check_block_fields(
            &workflow.body,
            "the `workflow` block",
            &["start", "model", "instructions", "max_steps"],
            &[],
        );
        let mut has_start = false;
        for field in &workflow.body.fields {
            match &field.kind {
                FieldKind::Start(node) => {
                    has_start = true;
                    self.check_target(node);
                }
                FieldKind::Model(model) => {
                    self.check_model_ref(model);
                }
                FieldKind::Instructions(text) => {
                    self.template_text(text, &Scope::node(None, "the workflow's instructions"))
                }
                FieldKind::MaxSteps(Some(n)) => self.count_in_range(n, "`max_steps`", 1, limits::MAX_STEPS),
                _ => {}
            }
        }
        if !has_start && !workflow.body.broken {
            self.push(
                Diagnostic::new(
                    Code::E0303,
                    workflow.name.span,
                    format!("the workflow `{}` has no `start`", workflow.name.name),
                )
                .primary("no `start` in this block")
                .help("add `start NODE` to the workflow block: it names the first step of every run"),
            );
        }
        for exit in &workflow.body.exits {
            if !matches!(exit.kind, ExitKind::When(_)) {
                self.push(
                    Diagnostic::new(
                        Code::E0310,
                        exit.span,
                        format!(
                            "the `workflow` block takes only `when` exits, not {}",
                            exit.kind.describe()
                        ),
                    )
                    .primary("not taken here")
                    .help("global exits are `when \"condition\" -> NODE`, judged at every agent"),
                );
            }
            self.check_exit_common(exit, None);
        }
        self.check_conditions(&workflow.body.exits, &[]);
    }

    /// What every exit needs: a known target, bounds of at least 1, literal `when` text.
    fn check_exit_common(&mut self, exit: &Exit, node: Option<usize>) {
        self.check_target(&exit.target);
        if let Some(bound) = &exit.bound {
            if matches!(exit.kind, ExitKind::Also) {
                self.push(
                    Diagnostic::new(Code::E0310, bound.span, "an `also` exit takes no `max N` bound")
                        .primary("not taken here")
                        .help("a companion runs each time its node is entered: remove the bound"),
                );
            } else {
                self.count_in_range(bound, "a `max` bound", 1, limits::MAX_TRAVERSALS.into());
            }
        }
        match &exit.kind {
            ExitKind::When(text) => {
                self.literal_text(text, "a `when` condition");
                if fold_condition(&text.literal()) == "none" {
                    self.push(
                        Diagnostic::new(Code::E0304, text.span, "a `when` condition may not be `none`")
                            .primary("reserved")
                            .help(
                                "`none` is the model's answer when no condition holds: describe the situation instead",
                            ),
                    );
                }
            }
            ExitKind::After(Some(n)) => self.count_in_range(n, "`after N turns`", 1, limits::MAX_TURNS.into()),
            ExitKind::Silence(Some(0)) => self.push(
                Diagnostic::new(Code::E0313, exit.span, "`after DURATION silence` must be at least 1ms")
                    .primary("zero")
                    .help("a silence of no time would hold before the user could answer: use e.g. `after 2m silence`"),
            ),
            ExitKind::If(expr) => {
                let scope = Scope {
                    after_sets: true,
                    result: node.and_then(|n| self.action_result(n)),
                    ..Scope::node(node, "a condition")
                };
                self.expect(expr, &Ty::Bool, &scope, "an `if` condition");
            }
            _ => {}
        }
    }

    /// The type of `result` in an action with a call.
    fn action_result(&self, node: usize) -> Option<Ty> {
        let node = self.program.nodes[node];
        if node.kind != NodeKind::Action {
            return None;
        }
        node.body.fields.iter().find_map(|f| match &f.kind {
            FieldKind::Call(tool, _) => Some(
                self.program
                    .tools
                    .get(&tool.name)
                    .map(|t| t.returns.clone())
                    .unwrap_or(Ty::Error),
            ),
            _ => None,
        })
    }

    /// Duplicate and near-duplicate conditions (E0304, W0504), exits after an unconditional one (E0305).
    fn check_conditions(&mut self, exits: &[Exit], globals: &[Exit]) {
        let mut whens: Vec<(String, Span)> = Vec::new();
        let global_whens: Vec<(String, Span)> = globals
            .iter()
            .filter_map(|e| match &e.kind {
                ExitKind::When(t) => Some((fold_condition(&t.literal()), e.span)),
                _ => None,
            })
            .collect();
        let mut ifs: Vec<(String, Span)> = Vec::new();
        let mut silence: Option<Span> = None;
        let mut unconditional: Option<Span> = None;
        for exit in exits {
            if let Some(prev) = unconditional
                && exit.kind.is_ordered()
            {
                self.push(
                    Diagnostic::new(
                        Code::E0305,
                        exit.span,
                        format!("this {} exit can never be taken", exit.kind.describe()),
                    )
                    .primary("never reached")
                    .label(prev, "this exit always holds")
                    .help("move this exit before the unconditional one, or bound that one with `max N`"),
                );
            }
            match &exit.kind {
                ExitKind::When(text) => {
                    let folded = fold_condition(&text.literal());
                    if let Some((_, prev)) = whens.iter().chain(global_whens.iter()).find(|(t, _)| *t == folded) {
                        let global = global_whens.iter().any(|(_, s)| s == prev);
                        self.push(
                            Diagnostic::new(Code::E0304, exit.span, "two `when` exits have the same condition")
                                .primary("same condition again")
                                .label(
                                    *prev,
                                    if global {
                                        "the same global exit"
                                    } else {
                                        "first written here"
                                    },
                                )
                                .help("the model could not tell them apart: merge them or make the conditions differ"),
                        );
                    } else if let Some((_, prev)) = whens.iter().find(|(t, _)| near(t, &folded)) {
                        self.push(
                            Diagnostic::new(Code::W0504, exit.span, "two `when` conditions are nearly the same")
                                .primary("nearly the same as an earlier condition")
                                .label(*prev, "the earlier condition")
                                .help("the model may confuse them: make the difference clear, or merge them"),
                        );
                    }
                    whens.push((folded, exit.span));
                }
                ExitKind::If(expr) => {
                    let key = strip_spans(expr);
                    if let Some((_, prev)) = ifs.iter().find(|(k, _)| *k == key) {
                        self.push(
                            Diagnostic::new(Code::E0304, exit.span, "two `if` exits have the same condition")
                                .primary("same condition again")
                                .label(*prev, "first written here")
                                .help("the second can only be taken when the first is spent: merge them"),
                        );
                    }
                    ifs.push((key, exit.span));
                }
                ExitKind::Silence(_) => match silence {
                    Some(prev) => self.push(
                        Diagnostic::new(Code::E0304, exit.span, "an agent has at most one silence exit")
                            .primary("a second silence exit")
                            .label(prev, "the first silence exit")
                            .help("keep one `after DURATION silence` exit: only the first could ever fire"),
                    ),
                    None => silence = Some(exit.span),
                },
                _ => {}
            }
            if matches!(exit.kind, ExitKind::Else | ExitKind::Direct) && exit.bound.is_none() && unconditional.is_none()
            {
                unconditional = Some(exit.span);
            }
        }
    }

    /// Every node: fields, exits, references and node-local rules.
    pub(crate) fn check_nodes(&mut self) {
        let globals: Vec<Exit> = self.program.workflow.map(|w| w.body.exits.clone()).unwrap_or_default();
        let workflow_model = self
            .program
            .workflow
            .map(|w| w.body.fields.iter().any(|f| matches!(f.kind, FieldKind::Model(_))))
            .unwrap_or(false);
        let workflow_reads = self.workflow_instruction_reads();
        for index in 0..self.program.nodes.len() {
            let node = self.program.nodes[index];
            let (allowed, multi) = fields_of(node.kind);
            let what = format!("an `{}` node", node.kind.as_str());
            let what = if matches!(node.kind, NodeKind::Route | NodeKind::Say | NodeKind::Handoff) {
                what.replacen("an ", "a ", 1)
            } else {
                what
            };
            self.check_block_fields(&node.body, &what, allowed, multi);
            for exit in &node.body.exits {
                if !takes_exit(node.kind, &exit.kind) {
                    self.push(
                        Diagnostic::new(
                            Code::E0310,
                            exit.span,
                            format!("{} is not an exit of {what}", exit.kind.describe()),
                        )
                        .primary("not taken here")
                        .help(format!("{what} takes {}", exits_of(node.kind))),
                    );
                }
                self.check_exit_common(exit, Some(index));
            }
            let own_globals: &[Exit] = if node.kind == NodeKind::Agent { &globals } else { &[] };
            self.check_conditions(&node.body.exits, own_globals);
            match node.kind {
                NodeKind::Agent => {
                    self.check_agent(index, node, workflow_model);
                    for (var, span) in &workflow_reads {
                        self.program.reads.push(Read {
                            node: index,
                            var: var.clone(),
                            span: *span,
                            after_sets: false,
                        });
                    }
                }
                NodeKind::Action => self.check_action(index, node),
                NodeKind::Route => {
                    let has_when = node.body.exits.iter().any(|e| matches!(e.kind, ExitKind::When(_)));
                    let model = self.node_model(node);
                    if has_when && model.is_none() && !workflow_model {
                        self.no_model(node, "a route with `when` exits");
                    }
                    if self.route_is_exhaustive(node) {
                        self.program.exhaustive_routes.insert(index);
                    }
                }
                NodeKind::Say => {
                    self.required_text(node, "text", "message", "say \"...\"");
                    for field in &node.body.fields {
                        if let FieldKind::Text(text) = &field.kind {
                            self.template_text(text, &Scope::node(Some(index), "a message"));
                        }
                    }
                }
                NodeKind::Handoff => {
                    self.required_text(node, "queue", "`queue`", "queue \"tier1\"");
                    for field in &node.body.fields {
                        match &field.kind {
                            FieldKind::Queue(text) => self.literal_text(text, "a `queue`"),
                            FieldKind::Message(text) => {
                                self.template_text(text, &Scope::node(Some(index), "a handoff message"))
                            }
                            _ => {}
                        }
                    }
                }
                NodeKind::Approval => {
                    self.required_text(node, "prompt", "`prompt`", "prompt \"Approve?\"");
                    for field in &node.body.fields {
                        match &field.kind {
                            FieldKind::Prompt(text) => {
                                self.template_text(text, &Scope::node(Some(index), "an approval prompt"))
                            }
                            FieldKind::Timeout(Some(ms)) => self.duration_in_range(
                                field,
                                *ms,
                                "an approval's `timeout`",
                                limits::MAX_APPROVAL_TIMEOUT_MS,
                                "365d",
                            ),
                            _ => {}
                        }
                    }
                }
                NodeKind::End => {
                    for field in &node.body.fields {
                        if let FieldKind::Say(text) = &field.kind {
                            self.template_text(text, &Scope::node(Some(index), "a message"));
                        }
                    }
                }
            }
        }
    }

    /// Tracked variables the workflow's instructions read: read at every agent.
    fn workflow_instruction_reads(&self) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        let Some(workflow) = self.program.workflow else {
            return out;
        };
        for field in &workflow.body.fields {
            if let FieldKind::Instructions(text) = &field.kind {
                for part in &text.parts {
                    if let TextPart::Template(Some(expr), _) = part {
                        names_in(expr, &mut |ident| {
                            if self.program.vars.get(&ident.name).is_some_and(|v| v.tracked()) {
                                out.push((ident.name.clone(), ident.span));
                            }
                        });
                    }
                }
            }
        }
        out
    }

    fn node_model(&mut self, node: &Node) -> Option<bool> {
        node.body
            .fields
            .iter()
            .find_map(|f| match &f.kind {
                FieldKind::Model(m) => Some(m.clone()),
                _ => None,
            })
            .map(|m| self.check_model_ref(&m))
    }

    fn no_model(&mut self, node: &Node, what: &str) {
        self.push(
            Diagnostic::new(
                Code::E0112,
                node.name.span,
                format!("{what} `{}` has no model", node.name.name),
            )
            .primary("no model for this step")
            .help("add `model NAME` to this node or to the `workflow` block"),
        );
    }

    /// E0311 when a required field is missing (the node's name is the span).
    fn required_text(&mut self, node: &Node, keyword: &str, what: &str, example: &str) {
        if node.broken || node.body.fields.iter().any(|f| f.kind.keyword() == keyword) {
            return;
        }
        let kind = node.kind.as_str();
        self.push(
            Diagnostic::new(
                Code::E0311,
                node.name.span,
                format!("the {kind} `{}` has no {what}", node.name.name),
            )
            .primary(format!("no {what}"))
            .help(format!("add `{example}` to the node")),
        );
    }

    fn check_agent(&mut self, index: usize, node: &Node, workflow_model: bool) {
        if !node.broken && !node.body.fields.iter().any(|f| matches!(f.kind, FieldKind::Text(_))) {
            self.push(
                Diagnostic::new(
                    Code::E0311,
                    node.name.span,
                    format!("the agent `{}` has no instructions", node.name.name),
                )
                .primary("no instructions")
                .help("add a string or a `\"\"\"` block saying what the agent does at this step"),
            );
        }
        if self.node_model(node).is_none() && !workflow_model {
            self.no_model(node, "the agent");
        }
        let mut extracted: HashMap<&str, Span> = HashMap::new();
        for field in &node.body.fields {
            match &field.kind {
                FieldKind::Text(text) => self.template_text(text, &Scope::node(Some(index), "instructions")),
                FieldKind::Tools(tools) => {
                    for tool in tools {
                        self.tool_ref(tool);
                    }
                }
                FieldKind::Knowledge(kbs) => {
                    for kb in kbs {
                        self.mention(Namespace::Knowledge, &kb.name);
                        if !self.program.knowledge.contains_key(&kb.name) {
                            let candidates = self.program.knowledge.keys().cloned().collect();
                            self.unknown(Code::E0107, "knowledge base", kb, candidates);
                        }
                    }
                }
                FieldKind::Extract(var, hint) => {
                    if let Some(hint) = hint {
                        self.literal_text(hint, "an `extract` hint");
                    }
                    if let Some(prev) = extracted.get(var.name.as_str()) {
                        self.push(
                            Diagnostic::new(Code::E0312, field.span, format!("`{}` is extracted twice", var.name))
                                .primary("given again here")
                                .label(*prev, "first extracted here")
                                .help("extract each variable once per agent"),
                        );
                    }
                    extracted.insert(&var.name, field.span);
                    self.extract_target(var);
                }
                _ => {}
            }
        }
    }

    fn extract_target(&mut self, var: &Ident) {
        self.mention(Namespace::Variable, &var.name);
        match self.program.vars.get(&var.name).map(|v| v.role) {
            Some(VarRole::Var) => {}
            Some(role) => {
                let what = if role == VarRole::Input { "an input" } else { "a secret" };
                self.push(
                    Diagnostic::new(
                        Code::E0208,
                        var.span,
                        format!("`extract` into `{}`, which is {what}", var.name),
                    )
                    .primary(format!("{what}, not a `var`"))
                    .help(format!(
                        "declare a `var` to hold what the conversation gives, e.g. `var {}_given: string?`",
                        var.name
                    )),
                );
            }
            None => {
                let candidates = self.var_names(|role| role == VarRole::Var);
                self.unknown(Code::E0103, "variable", var, candidates);
            }
        }
    }

    fn tool_ref(&mut self, tool: &Ident) -> bool {
        self.mention(Namespace::Tool, &tool.name);
        if self.program.tools.contains_key(&tool.name) {
            return true;
        }
        let candidates = self.program.tools.keys().cloned().collect();
        self.unknown(Code::E0104, "tool", tool, candidates);
        false
    }

    fn check_action(&mut self, index: usize, node: &Node) {
        let mut result = None;
        for field in &node.body.fields {
            if let FieldKind::Call(tool, args) = &field.kind {
                result = Some(self.check_call(index, tool, args));
            }
        }
        let mut set: HashMap<&str, Span> = HashMap::new();
        for field in &node.body.fields {
            let FieldKind::Set(var, value) = &field.kind else {
                continue;
            };
            let scope = Scope {
                result: result.clone(),
                ..Scope::node(Some(index), "a `set` value")
            };
            if let Some(prev) = set.get(var.name.as_str()) {
                self.push(
                    Diagnostic::new(
                        Code::E0312,
                        field.span,
                        format!("`{}` is set twice in one action", var.name),
                    )
                    .primary("set again here")
                    .label(*prev, "first set here")
                    .help("the `set` lines of an action are applied together: set each variable once"),
                );
            }
            set.insert(&var.name, field.span);
            self.mention(Namespace::Variable, &var.name);
            match self.program.vars.get(&var.name).map(|v| (v.role, v.ty.clone())) {
                Some((VarRole::Secret, _)) => {
                    self.push(
                        Diagnostic::new(
                            Code::E0103,
                            var.span,
                            format!("`{}` is a secret, not a variable", var.name),
                        )
                        .primary("a secret cannot be set")
                        .help("secrets come from the runtime's environment; declare a `var` to hold state"),
                    );
                    self.infer(value, &scope);
                }
                Some((_, ty)) => {
                    self.expect(value, &ty, &scope, &format!("the value set to `{}`", var.name));
                }
                None => {
                    let candidates = self.var_names(|role| role != VarRole::Secret);
                    self.unknown(Code::E0103, "variable", var, candidates);
                    self.infer(value, &scope);
                }
            }
        }
    }

    /// A `call`: the tool, its arguments (E0109, E0110) and their types. Returns the type of `result`.
    fn check_call(&mut self, index: usize, tool: &Ident, args: &[(Ident, Expr)]) -> Ty {
        let known = self.tool_ref(tool);
        let scope = Scope::node(Some(index), "a call's arguments");
        if !known {
            for (_, value) in args {
                self.infer(value, &scope);
            }
            return Ty::Error;
        }
        let sym = self.program.tools[&tool.name].clone();
        let mut given: HashMap<&str, Span> = HashMap::new();
        for (name, value) in args {
            if let Some(prev) = given.get(name.name.as_str()) {
                self.push(
                    Diagnostic::new(
                        Code::E0312,
                        name.span,
                        format!("the argument `{}` is given twice", name.name),
                    )
                    .primary("given again here")
                    .label(*prev, "first given here"),
                );
            }
            given.insert(&name.name, name.span);
            match sym.params.iter().find(|(p, _)| *p == name.name) {
                Some((_, ty)) => {
                    self.expect(value, ty, &scope, &format!("the argument `{}`", name.name));
                }
                None => {
                    let best = crate::suggest::closest(&name.name, sym.params.iter().map(|(p, _)| p.as_str()));
                    let mut diag = Diagnostic::new(
                        Code::E0109,
                        name.span,
                        format!("the tool `{}` has no parameter `{}`", tool.name, name.name),
                    )
                    .primary("no such parameter")
                    .label(sym.decl.name.span, "the tool is declared here");
                    diag = match best {
                        Some(b) => {
                            diag.help(format!("did you mean `{b}`?"))
                                .fix(format!("replace with `{b}`"), name.span, b)
                        }
                        None => {
                            let names: Vec<String> = sym.params.iter().map(|(p, _)| format!("`{p}`")).collect();
                            if names.is_empty() {
                                diag.help("the tool takes no parameters")
                            } else {
                                diag.help(format!("its parameters are {}", names.join(", ")))
                            }
                        }
                    };
                    self.push(diag);
                    self.infer(value, &scope);
                }
            }
        }
        let missing: Vec<&str> = sym
            .params
            .iter()
            .filter(|(p, ty)| !given.contains_key(p.as_str()) && !ty.is_optional() && !matches!(ty, Ty::Any))
            .map(|(p, _)| p.as_str())
            .collect();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|p| format!("`{p}`")).collect();
            let insert = missing.iter().map(|p| format!("{p}: ")).collect::<Vec<_>>().join(", ");
            self.push(
                Diagnostic::new(
                    Code::E0110,
                    tool.span,
                    format!("the call to `{}` leaves out {}", tool.name, list.join(", ")),
                )
                .primary(format!("missing {}", list.join(", ")))
                .label(sym.decl.name.span, "the tool is declared here")
                .help(format!(
                    "pass every required parameter, e.g. `{}({insert}...)`",
                    tool.name
                )),
            );
        }
        sym.returns
    }

    /// A tool's fields: its implementation, url, headers, body, timeout and retries.
    pub(crate) fn check_tool_body(&mut self, decl: &ToolDecl, params: &[(String, Ty)], returns: &Ty) {
        self.check_block_fields(&decl.body, "a tool", super::TOOL_FIELDS, &["header"]);
        self.no_exits(&decl.body, "a tool");
        let scope = Scope {
            params: Some(params.to_vec()),
            ..Scope::default()
        };
        let implementations: Vec<&Field> = decl
            .body
            .fields
            .iter()
            .filter(|f| matches!(f.kind, FieldKind::Http(..) | FieldKind::Builtin(_) | FieldKind::Host))
            .collect();
        if implementations.is_empty() && !decl.body.broken {
            self.push(
                Diagnostic::new(
                    Code::E0311,
                    decl.name.span,
                    format!("the tool `{}` has no implementation", decl.name.name),
                )
                .primary("no `http`, `builtin` or `host`")
                .help("add `http METHOD \"url\"`, `builtin \"name\"` or `host`"),
            );
        }
        for extra in implementations.iter().skip(1) {
            if extra.kind.keyword() != implementations[0].kind.keyword() {
                self.push(
                    Diagnostic::new(Code::E0312, extra.span, "a tool has one implementation")
                        .primary("second implementation")
                        .label(implementations[0].span, "first implementation")
                        .help("keep one of `http`, `builtin` and `host`"),
                );
            }
        }
        let method = implementations.first().and_then(|f| match &f.kind {
            FieldKind::Http(method, _) => Some(method.as_str()),
            _ => None,
        });
        let mut headers: HashMap<String, Span> = HashMap::new();
        for field in &decl.body.fields {
            let http_only = matches!(
                field.kind,
                FieldKind::Header(..)
                    | FieldKind::Body(_)
                    | FieldKind::FormBody(_)
                    | FieldKind::Timeout(_)
                    | FieldKind::Retry(_)
            );
            if http_only && method.is_none() && !implementations.is_empty() {
                self.push(
                    Diagnostic::new(
                        Code::E0312,
                        field.span,
                        format!("`{}` is a field of `http` tools only", field.kind.keyword()),
                    )
                    .primary("not taken by this tool")
                    .help("remove it, or make the tool an `http` tool"),
                );
            }
            match &field.kind {
                FieldKind::Description(text) => self.literal_text(text, "a `description`"),
                FieldKind::Http(_, url) => self.template_text(url, &scope),
                FieldKind::Header(name, value) => {
                    self.literal_text(name, "a header name");
                    let key = name.literal().to_lowercase();
                    if let Some(prev) = headers.get(&key) {
                        self.push(
                            Diagnostic::new(
                                Code::E0312,
                                field.span,
                                format!("the header `{}` is given twice", name.literal()),
                            )
                            .primary("given again here")
                            .label(*prev, "first given here")
                            .help("give each header once"),
                        );
                    }
                    headers.insert(key, field.span);
                    self.template_text(value, &scope);
                }
                FieldKind::Body(body) | FieldKind::FormBody(body) => {
                    if method == Some("GET") {
                        self.push(
                            Diagnostic::new(Code::E0312, field.span, "a `GET` request has no body")
                                .primary("not taken by GET")
                                .help("GET sends the parameters the url does not use as the query string"),
                        );
                    }
                    if matches!(field.kind, FieldKind::FormBody(_)) {
                        self.check_form_body(body, &scope);
                    } else {
                        self.infer(body, &scope);
                    }
                }
                FieldKind::Builtin(name) => self.check_builtin(decl, name, params, returns),
                FieldKind::Timeout(Some(ms)) => {
                    self.duration_in_range(field, *ms, "a tool's `timeout`", limits::MAX_TOOL_TIMEOUT_MS, "24h")
                }
                FieldKind::Retry(Some(n)) => self.count_in_range(n, "`retry`", 0, limits::MAX_RETRIES.into()),
                _ => {}
            }
        }
    }

    fn check_builtin(&mut self, decl: &ToolDecl, name: &Text, params: &[(String, Ty)], returns: &Ty) {
        self.literal_text(name, "a builtin's name");
        let value = name.literal();
        let Some((want_params, want_return)) = builtin_signature(&value) else {
            let best = crate::suggest::closest(&value, BUILTIN_TOOLS.iter().copied());
            let mut diag = Diagnostic::new(Code::E0108, name.span, format!("unknown builtin `{value}`"))
                .primary("no builtin of this name");
            diag = match best {
                Some(b) => diag.help(format!("did you mean `{b}`?")).fix(
                    format!("replace with `\"{b}\"`"),
                    name.span,
                    format!("\"{b}\""),
                ),
                None => {
                    diag.help("the builtins are `time.now`, `time.today`, `text.lower`, `text.upper` and `math.round`")
                }
            };
            self.push(diag);
            return;
        };
        let types = &self.program.types;
        let params_fit = params.len() == want_params.len()
            && params
                .iter()
                .zip(&want_params)
                .all(|((_, have), want)| types.assignable(want, have) && types.assignable(have, want));
        let return_fits = types.assignable(&want_return, returns);
        if !params_fit || !return_fits {
            let signature = format!(
                "({}) -> {want_return}",
                want_params.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
            );
            self.push(
                Diagnostic::new(
                    Code::E0201,
                    decl.name.span,
                    format!("the tool `{}` does not match the builtin `{value}`", decl.name.name),
                )
                .primary("signature differs")
                .label(name.span, format!("`{value}` is {signature}"))
                .help(format!("declare the tool with parameter types {signature}")),
            );
        }
    }
}

impl Checker<'_, '_> {
    /// Whether a route's unbounded `if PATH == "lit"` exits cover every literal of a union.
    fn route_is_exhaustive(&self, node: &Node) -> bool {
        let mut covered: HashMap<String, (Vec<String>, Ty)> = HashMap::new();
        for exit in &node.body.exits {
            let ExitKind::If(expr) = &exit.kind else { continue };
            if exit.bound.is_some() {
                continue;
            }
            let ExprKind::Binary(BinOp::Eq, a, b) = &expr.kind else {
                continue;
            };
            let (path, literal) = match (&a.kind, &b.kind) {
                (_, ExprKind::Lit(Literal::String(s))) => (a, s),
                (ExprKind::Lit(Literal::String(s)), _) => (b, s),
                _ => continue,
            };
            let Some(ty) = self.path_type(path) else { continue };
            let key = format!("{:?}", strip_spans(path));
            covered
                .entry(key)
                .or_insert_with(|| (Vec::new(), ty))
                .0
                .push(literal.clone());
        }
        covered
            .values()
            .any(|(literals, ty)| match self.program.types.resolve(ty) {
                Ty::Union(items) => items.iter().all(|i| literals.contains(i)),
                _ => false,
            })
    }

    /// The type of a plain path (`a.b.c`), without reporting anything.
    fn path_type(&self, expr: &Expr) -> Option<Ty> {
        match &expr.kind {
            ExprKind::Name(n) => self.program.vars.get(&n.name).map(|v| v.ty.clone()),
            ExprKind::Field { base, field, .. } => {
                let base = self.path_type(base)?;
                match self.program.types.resolve(base.unwrap_optional()) {
                    Ty::Object(fields) => fields.iter().find(|(n, _)| *n == field.name).map(|(_, t)| t.clone()),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Calls `f` on every variable name an expression reads.
pub(crate) fn names_in<'e>(expr: &'e Expr, f: &mut impl FnMut(&'e Ident)) {
    match &expr.kind {
        ExprKind::Name(n) => f(n),
        ExprKind::Field { base, .. } => names_in(base, f),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            names_in(a, f);
            names_in(b, f);
        }
        ExprKind::Unary(_, e) => names_in(e, f),
        ExprKind::List(items) | ExprKind::Call(_, items) => items.iter().for_each(|e| names_in(e, f)),
        ExprKind::Object(entries) => entries.iter().for_each(|(_, e)| names_in(e, f)),
        _ => {}
    }
}

/// An expression with its spans zeroed, for comparing two conditions.
fn strip_spans(expr: &Expr) -> String {
    fn walk(expr: &Expr, out: &mut String) {
        use std::fmt::Write;
        match &expr.kind {
            ExprKind::Lit(l) => {
                let _ = write!(out, "{l:?}");
            }
            ExprKind::Name(n) => out.push_str(&n.name),
            ExprKind::Result => out.push_str("result"),
            ExprKind::Secret(n) => {
                let _ = write!(out, "secret.{}", n.name);
            }
            ExprKind::Field { base, field, optional } => {
                walk(base, out);
                out.push_str(if *optional { "?." } else { "." });
                out.push_str(&field.name);
            }
            ExprKind::Index(a, b) => {
                walk(a, out);
                out.push('[');
                walk(b, out);
                out.push(']');
            }
            ExprKind::Unary(op, e) => {
                let _ = write!(out, "({op:?} ");
                walk(e, out);
                out.push(')');
            }
            ExprKind::Binary(op, a, b) => {
                out.push('(');
                walk(a, out);
                let _ = write!(out, " {} ", op.as_str());
                walk(b, out);
                out.push(')');
            }
            ExprKind::List(items) | ExprKind::Call(_, items) => {
                if let ExprKind::Call(name, _) = &expr.kind {
                    out.push_str(&name.name);
                }
                out.push('[');
                for item in items {
                    walk(item, out);
                    out.push(',');
                }
                out.push(']');
            }
            ExprKind::Object(entries) => {
                out.push('{');
                for (k, v) in entries {
                    out.push_str(&k.name);
                    out.push(':');
                    walk(v, out);
                    out.push(',');
                }
                out.push('}');
            }
            ExprKind::Template(t) => out.push_str(&t.literal()),
            ExprKind::Error => out.push('?'),
        }
    }
    let mut out = String::new();
    walk(expr, &mut out);
    out
}

/// W0504: differ after folding, but by at most max(2, 10% of the longer) characters.
fn near(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    let longer = a.chars().count().max(b.chars().count());
    let limit = (longer / 10).max(2);
    // Cheap length test first: the distance is at least the length difference.
    if a.chars().count().abs_diff(b.chars().count()) > limit {
        return false;
    }
    strsim::levenshtein(a, b) <= limit
}
