//! Emission of the compiled graph (COMPILED_GRAPH.md) from a checked program.
//! Deterministic: everything follows source order.

use crate::ast::{self, BinOp, ExitKind, ExprKind, FieldKind, Literal, NodeKind, UnOp};
use crate::check::types::Ty;
use crate::check::{Program, VarRole};
use crate::span::LineIndex;
use flow_graph::*;
use indexmap::IndexMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Where names in an expression point: workflow variables or a tool's parameters.
#[derive(Clone, Copy, PartialEq)]
enum Root {
    Vars,
    Params,
}

/// Builds the compiled graph. Call only when the program has no errors.
pub fn emit(program: &Program<'_>, source: &str, file_name: &str) -> CompiledGraph {
    let lines = LineIndex::new(source);
    let workflow = program.workflow.expect("emit needs a workflow");
    let setting = |pick: fn(&FieldKind) -> bool| workflow.body.fields.iter().find(|f| pick(&f.kind)).map(|f| &f.kind);
    let start = match setting(|k| matches!(k, FieldKind::Start(_))) {
        Some(FieldKind::Start(n)) => n.name.clone(),
        _ => String::new(),
    };
    let default_model = match setting(|k| matches!(k, FieldKind::Model(_))) {
        Some(FieldKind::Model(m)) => Some(m.name.clone()),
        _ => None,
    };
    let instructions = match setting(|k| matches!(k, FieldKind::Instructions(_))) {
        Some(FieldKind::Instructions(t)) => Some(text(t, Root::Vars)),
        _ => None,
    };
    let max_steps = match setting(|k| matches!(k, FieldKind::MaxSteps(_))) {
        Some(FieldKind::MaxSteps(Some(n))) => n.value as u64,
        _ => 500,
    };
    let file = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name).to_string();
    let sha256 = Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let models = program
        .models
        .iter()
        .map(|(name, decl)| {
            let refs = decl
                .models
                .iter()
                .map(|t| {
                    let value = t.literal();
                    let (provider, model) = value.split_once(':').unwrap_or(("", &value));
                    ModelRef {
                        provider: provider.to_string(),
                        model: model.to_string(),
                    }
                })
                .collect();
            (name.clone(), refs)
        })
        .collect();
    let types = program
        .types
        .defs
        .iter()
        .map(|(name, ty)| (name.clone(), program.types.schema(ty)))
        .collect();
    let variables = program
        .vars
        .values()
        .filter(|v| v.role != VarRole::Secret)
        .map(|v| {
            let decl = v.decl.expect("inputs and vars have declarations");
            let default = decl.default.as_ref().map(const_value);
            Variable {
                name: v.name.name.clone(),
                kind: if v.role == VarRole::Input {
                    VariableKind::Input
                } else {
                    VariableKind::Var
                },
                schema: program.types.schema(&v.ty),
                required: v.role == VarRole::Input && default.is_none() && !v.ty.is_optional(),
                default,
            }
        })
        .collect();
    let secrets = program
        .vars
        .values()
        .filter(|v| v.role == VarRole::Secret)
        .map(|v| v.name.name.clone())
        .collect();
    let knowledge_bases = program
        .knowledge
        .iter()
        .map(|(name, kb)| {
            let field = |pick: fn(&FieldKind) -> Option<&ast::Text>| {
                kb.body.fields.iter().find_map(|f| pick(&f.kind)).map(|t| t.literal())
            };
            let kb = KnowledgeBase {
                description: field(|k| {
                    if let FieldKind::Description(t) = k {
                        Some(t)
                    } else {
                        None
                    }
                }),
                path: field(|k| if let FieldKind::Path(t) = k { Some(t) } else { None }),
            };
            (name.clone(), kb)
        })
        .collect();
    let tools = program.tools.values().map(|t| tool(program, t)).collect();

    let mut edges = Vec::new();
    let mut global_exits = Vec::new();
    for (i, exit) in workflow.body.exits.iter().enumerate() {
        let id = format!("global.{i}");
        global_exits.push(id.clone());
        edges.push(edge(id, None, exit));
    }
    let mut nodes = Vec::new();
    for node in &program.nodes {
        let ids: Vec<String> = (0..node.body.exits.len())
            .map(|i| format!("{}.{i}", node.name.name))
            .collect();
        for (exit, id) in node.body.exits.iter().zip(&ids) {
            edges.push(edge(id.clone(), Some(&node.name.name), exit));
        }
        nodes.push(emit_node(node, ids, &lines, source));
    }
    let targets_end = edges.iter().any(|e| e.to == "end");
    if targets_end {
        nodes.push(Node::End(EndNode {
            id: "end".into(),
            span: None,
            exits: vec![],
            say: None,
            outcome: "completed".into(),
        }));
    }
    CompiledGraph {
        schema_version: SCHEMA_VERSION,
        workflow: WorkflowInfo {
            name: workflow.name.name.clone(),
            title: workflow.title.as_ref().map(|t| t.literal()),
            instructions,
            max_steps,
            default_model,
            source: SourceInfo { file, sha256 },
        },
        start,
        models,
        types,
        variables,
        secrets,
        knowledge_bases,
        tools,
        nodes,
        edges,
        global_exits,
    }
}

fn tool(program: &Program<'_>, sym: &crate::check::ToolSym<'_>) -> Tool {
    let decl = sym.decl;
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for (name, ty) in &sym.params {
        properties.insert(name.clone(), program.types.schema(ty));
        if !ty.is_optional() && !matches!(ty, Ty::Any) {
            required.push(Value::String(name.clone()));
        }
    }
    let input_schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    let mut description = None;
    let mut implementation = Implementation::Host {};
    let mut headers = IndexMap::new();
    let mut body = None;
    let mut timeout_ms = 30_000;
    let mut retries = None;
    for field in &decl.body.fields {
        match &field.kind {
            FieldKind::Description(t) => description = Some(t.literal()),
            FieldKind::Http(method, url) => {
                implementation = Implementation::Http {
                    method: method.clone(),
                    url: text(url, Root::Params),
                    headers: IndexMap::new(),
                    body: None,
                    timeout_ms: 0,
                    retries: 0,
                }
            }
            FieldKind::Builtin(name) => implementation = Implementation::Builtin { name: name.literal() },
            FieldKind::Header(name, value) => {
                headers.insert(name.literal(), text(value, Root::Params));
            }
            FieldKind::Body(e) => body = Some(Body::Json(expr(e, Root::Params))),
            FieldKind::FormBody(e) => body = Some(form_body(e)),
            FieldKind::Timeout(Some(ms)) => timeout_ms = *ms,
            FieldKind::Retry(Some(n)) => retries = Some(n.value as u32),
            _ => {}
        }
    }
    if let Implementation::Http {
        method,
        headers: h,
        body: b,
        timeout_ms: t,
        retries: r,
        ..
    } = &mut implementation
    {
        *h = headers;
        *b = body;
        *t = timeout_ms;
        *r = retries.unwrap_or(if method == "GET" { 2 } else { 0 });
    }
    Tool {
        id: decl.name.name.clone(),
        description,
        input_schema,
        output_schema: program.types.schema(&sym.returns),
        implementation,
    }
}

/// `body form { … }`: the object's entries, each compiled as an expression.
fn form_body(e: &ast::Expr) -> Body {
    let form = match &e.kind {
        ast::ExprKind::Object(fields) => fields
            .iter()
            .map(|(name, value)| (name.name.clone(), expr(value, Root::Params)))
            .collect(),
        _ => IndexMap::new(),
    };
    Body::Form { form }
}

fn edge(id: String, from: Option<&str>, exit: &ast::Exit) -> Edge {
    let (kind, condition, turns) = match &exit.kind {
        ExitKind::Direct => (EdgeKind::Direct, None, None),
        ExitKind::When(t) => (EdgeKind::Conditional, Some(Condition::Llm(t.literal())), None),
        ExitKind::If(e) => (EdgeKind::Conditional, Some(Condition::Expr(expr(e, Root::Vars))), None),
        ExitKind::Else => (EdgeKind::Conditional, Some(Condition::Else(true)), None),
        ExitKind::Also => (EdgeKind::Companion, None, None),
        ExitKind::OnError => (EdgeKind::Error, None, None),
        ExitKind::OnApproved => (EdgeKind::Approved, None, None),
        ExitKind::OnRejected => (EdgeKind::Rejected, None, None),
        ExitKind::OnTimeout => (EdgeKind::Timeout, None, None),
        ExitKind::OnReturn => (EdgeKind::Return, None, None),
        ExitKind::After(n) => (EdgeKind::TurnLimit, None, n.map(|n| n.value as u32)),
        ExitKind::Silence(_) => (EdgeKind::Silence, None, None),
    };
    let silence_ms = match &exit.kind {
        ExitKind::Silence(ms) => *ms,
        _ => None,
    };
    Edge {
        id,
        from: from.map(str::to_string),
        to: exit.target.name.clone(),
        kind,
        condition,
        turns,
        silence_ms,
        max_traversals: exit.bound.map(|b| b.value as u32),
    }
}

fn emit_node(node: &ast::Node, exits: Vec<String>, lines: &LineIndex, source: &str) -> Node {
    let at = lines.line_col(source, node.name.span.start);
    let span = Some(SourceSpan {
        line: at.line,
        column: at.column,
    });
    let id = node.name.name.clone();
    let fields = &node.body.fields;
    let find_text = |pick: fn(&FieldKind) -> Option<&ast::Text>| fields.iter().find_map(|f| pick(&f.kind));
    let edge_of = |pick: fn(&ExitKind) -> bool| {
        node.body
            .exits
            .iter()
            .position(|e| pick(&e.kind))
            .map(|i| exits[i].clone())
    };
    match node.kind {
        NodeKind::Agent => {
            let mut tool_refs = Vec::new();
            let mut knowledge_base_refs = Vec::new();
            let mut extract = Vec::new();
            let mut model = None;
            for field in fields {
                match &field.kind {
                    FieldKind::Tools(t) => tool_refs.extend(t.iter().map(|i| i.name.clone())),
                    FieldKind::Knowledge(k) => knowledge_base_refs.extend(k.iter().map(|i| i.name.clone())),
                    FieldKind::Extract(v, hint) => extract.push(Extract {
                        variable: v.name.clone(),
                        hint: hint.as_ref().map(|h| h.literal()),
                    }),
                    FieldKind::Model(m) => model = Some(m.name.clone()),
                    _ => {}
                }
            }
            let exit_conditions = node
                .body
                .exits
                .iter()
                .zip(&exits)
                .filter(|(e, _)| matches!(e.kind, ExitKind::When(_) | ExitKind::If(_)))
                .map(|(_, id)| id.clone())
                .collect();
            let instructions = find_text(|k| if let FieldKind::Text(t) = k { Some(t) } else { None })
                .map(|t| text(t, Root::Vars))
                .unwrap_or_default();
            Node::Agent(AgentNode {
                id,
                span,
                exits,
                instructions,
                model,
                tool_refs,
                knowledge_base_refs,
                extract,
                exit_conditions,
            })
        }
        NodeKind::Action => {
            let mut tool_id = None;
            let mut input_mapping = IndexMap::new();
            let mut output_mapping = IndexMap::new();
            for field in fields {
                match &field.kind {
                    FieldKind::Call(tool, args) => {
                        tool_id = Some(tool.name.clone());
                        for (name, value) in args {
                            input_mapping.insert(name.name.clone(), expr(value, Root::Vars));
                        }
                    }
                    FieldKind::Set(var, value) => {
                        output_mapping.insert(var.name.clone(), expr(value, Root::Vars));
                    }
                    _ => {}
                }
            }
            let on_error = edge_of(|k| matches!(k, ExitKind::OnError));
            Node::Action(ActionNode {
                id,
                span,
                exits,
                tool_id,
                input_mapping,
                output_mapping,
                on_error,
            })
        }
        NodeKind::Route => {
            let model = fields.iter().find_map(|f| match &f.kind {
                FieldKind::Model(m) => Some(m.name.clone()),
                _ => None,
            });
            Node::Route(RouteNode { id, span, exits, model })
        }
        NodeKind::Say => {
            let message = find_text(|k| if let FieldKind::Text(t) = k { Some(t) } else { None })
                .map(|t| text(t, Root::Vars))
                .unwrap_or_default();
            Node::Say(SayNode {
                id,
                span,
                exits,
                message,
            })
        }
        NodeKind::Handoff => {
            let queue_id = find_text(|k| if let FieldKind::Queue(t) = k { Some(t) } else { None })
                .map(|t| t.literal())
                .unwrap_or_default();
            let handoff_message =
                find_text(|k| if let FieldKind::Message(t) = k { Some(t) } else { None }).map(|t| text(t, Root::Vars));
            let resume_on_return = node.body.exits.iter().any(|e| matches!(e.kind, ExitKind::OnReturn));
            Node::Handoff(HandoffNode {
                id,
                span,
                exits,
                queue_id,
                handoff_message,
                resume_on_return,
            })
        }
        NodeKind::Approval => {
            let approval_prompt = find_text(|k| if let FieldKind::Prompt(t) = k { Some(t) } else { None })
                .map(|t| text(t, Root::Vars))
                .unwrap_or_default();
            let timeout_hours = fields.iter().find_map(|f| match f.kind {
                FieldKind::Timeout(Some(ms)) => Some(ms as f64 / 3_600_000.0),
                _ => None,
            });
            Node::Approval(ApprovalNode {
                id,
                span,
                approved_edge: edge_of(|k| matches!(k, ExitKind::OnApproved)),
                rejected_edge: edge_of(|k| matches!(k, ExitKind::OnRejected)),
                timeout_edge: edge_of(|k| matches!(k, ExitKind::OnTimeout)),
                exits,
                approval_prompt,
                timeout_hours,
            })
        }
        NodeKind::End => {
            let say =
                find_text(|k| if let FieldKind::Say(t) = k { Some(t) } else { None }).map(|t| text(t, Root::Vars));
            let outcome = fields
                .iter()
                .find_map(|f| match &f.kind {
                    FieldKind::Outcome(o) => Some(o.name.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "completed".into());
            Node::End(EndNode {
                id,
                span,
                exits,
                say,
                outcome,
            })
        }
    }
}

fn text(t: &ast::Text, root: Root) -> Text {
    t.parts
        .iter()
        .map(|part| match part {
            ast::TextPart::Lit(s) => TextPart::Text { text: s.clone() },
            ast::TextPart::Template(Some(e), _) => TextPart::Expr { expr: expr(e, root) },
            ast::TextPart::Template(None, _) => TextPart::Text { text: String::new() },
        })
        .collect()
}

/// A JSONPath for a plain path, if the expression is one.
fn json_path(e: &ast::Expr, root: Root) -> Option<String> {
    match &e.kind {
        ExprKind::Name(n) => Some(format!(
            "{}{}",
            if root == Root::Params { "$.params" } else { "$.vars" },
            path_segment(&n.name)
        )),
        ExprKind::Result => Some("$.result".into()),
        ExprKind::Secret(n) => Some(format!("$.secrets.{}", n.name)),
        ExprKind::Field { base, field, .. } => Some(format!("{}{}", json_path(base, root)?, path_segment(&field.name))),
        ExprKind::Index(base, index) => match &index.kind {
            ExprKind::Lit(Literal::Number(v, true)) if *v >= 0.0 => {
                Some(format!("{}[{}]", json_path(base, root)?, *v as u64))
            }
            _ => None,
        },
        _ => None,
    }
}

/// One member of a JSONPath (RFC 9535): `.name` for a name the shorthand
/// takes, else `['name']` with `'`, `\\` and control characters escaped.
fn path_segment(name: &str) -> String {
    let mut chars = name.chars();
    let shorthand = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if shorthand {
        return format!(".{name}");
    }
    let mut out = String::from("['");
    for c in name.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push_str("']");
    out
}

fn op(op: Op, args: Vec<Expr>) -> Expr {
    Expr::Op { op, args }
}

fn expr(e: &ast::Expr, root: Root) -> Expr {
    if let Some(path) = json_path(e, root) {
        return Expr::Path { path };
    }
    match &e.kind {
        ExprKind::Lit(l) => Expr::Lit { lit: literal(l) },
        ExprKind::Template(t) => Expr::Template {
            template: text(t, root),
        },
        ExprKind::Field { base, field, .. } => {
            op(Op::Get, vec![expr(base, root), Expr::Lit { lit: json!(field.name) }])
        }
        ExprKind::Index(base, index) => op(Op::Get, vec![expr(base, root), expr(index, root)]),
        ExprKind::Unary(UnOp::Not, inner) => op(Op::Not, vec![expr(inner, root)]),
        ExprKind::Unary(UnOp::Neg, inner) => op(Op::Neg, vec![expr(inner, root)]),
        ExprKind::Binary(b, l, r) => {
            let o = match b {
                BinOp::Coalesce => Op::Coalesce,
                BinOp::Or => Op::Or,
                BinOp::And => Op::And,
                BinOp::Eq => Op::Eq,
                BinOp::Ne => Op::Ne,
                BinOp::Lt => Op::Lt,
                BinOp::Le => Op::Le,
                BinOp::Gt => Op::Gt,
                BinOp::Ge => Op::Ge,
                BinOp::In => Op::In,
                BinOp::Add => Op::Add,
                BinOp::Sub => Op::Sub,
                BinOp::Mul => Op::Mul,
                BinOp::Div => Op::Div,
                BinOp::Rem => Op::Rem,
            };
            op(o, vec![expr(l, root), expr(r, root)])
        }
        ExprKind::List(items) => Expr::List {
            list: items.iter().map(|i| expr(i, root)).collect(),
        },
        ExprKind::Object(entries) => Expr::Object {
            object: entries.iter().map(|(k, v)| (k.name.clone(), expr(v, root))).collect(),
        },
        ExprKind::Call(name, args) => Expr::Call {
            call: name.name.clone(),
            args: args.iter().map(|a| expr(a, root)).collect(),
        },
        // Names and the rest are paths, handled above; errors never reach emission.
        _ => Expr::Lit { lit: Value::Null },
    }
}

fn literal(l: &Literal) -> Value {
    match l {
        Literal::Number(v, true) if v.abs() < 9.0e15 => json!(*v as i64),
        Literal::Number(v, _) => json!(v),
        Literal::String(s) => json!(s),
        Literal::Bool(b) => json!(b),
        Literal::Null => Value::Null,
    }
}

/// The JSON value of a literal default.
fn const_value(e: &ast::Expr) -> Value {
    match &e.kind {
        ExprKind::Lit(l) => literal(l),
        ExprKind::List(items) => Value::Array(items.iter().map(const_value).collect()),
        ExprKind::Object(entries) => {
            Value::Object(entries.iter().map(|(k, v)| (k.name.clone(), const_value(v))).collect())
        }
        ExprKind::Template(t) => json!(t.literal()),
        _ => Value::Null,
    }
}
