//! Diagrams of a compiled graph (`flow graph`): Mermaid and Graphviz DOT.
//! Drawn from the compiled graph alone, so they show exactly its nodes and
//! edges: one arrow per edge, labelled by kind, condition (shortened) and bound.

use flow_graph::{CompiledGraph, Condition, Edge, EdgeKind, Expr, Node, Op};
use std::fmt::Write;

/// The id of the pseudo-node global exits leave from.
const GLOBAL: &str = "global exits (any agent)";

/// How long a condition may be in a label.
const LABEL_CHARS: usize = 40;

fn shorten(text: &str) -> String {
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= LABEL_CHARS {
        text
    } else {
        let cut: String = text.chars().take(LABEL_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// An expression written back roughly as source, for labels.
fn expr_text(expr: &Expr) -> String {
    match expr {
        Expr::Path { path } => path.trim_start_matches("$.vars.").trim_start_matches("$.").to_string(),
        Expr::Lit { lit } => lit.to_string(),
        Expr::List { list } => format!("[{}]", list.iter().map(expr_text).collect::<Vec<_>>().join(", ")),
        Expr::Object { .. } => "{…}".to_string(),
        Expr::Call { call, args } => format!("{call}({})", args.iter().map(expr_text).collect::<Vec<_>>().join(", ")),
        Expr::Template { .. } => "\"…\"".to_string(),
        Expr::Op { op: Op::Get, args } if args.len() == 2 => format!("{}.{}", expr_text(&args[0]), expr_text(&args[1])),
        Expr::Op { op: Op::Not, args } => format!("not {}", args.first().map(expr_text).unwrap_or_default()),
        Expr::Op { op: Op::Neg, args } => format!("-{}", args.first().map(expr_text).unwrap_or_default()),
        Expr::Op { op, args } => args
            .iter()
            .map(expr_text)
            .collect::<Vec<_>>()
            .join(&format!(" {} ", op.as_str())),
    }
}

/// The label of an edge: its kind, condition and bound.
pub fn edge_label(edge: &Edge) -> String {
    let mut label = match &edge.condition {
        Some(Condition::Llm(text)) => format!("when: {}", shorten(text)),
        Some(Condition::Expr(expr)) => format!("if: {}", shorten(&expr_text(expr))),
        Some(Condition::Else(_)) => "else".to_string(),
        None => match (edge.turns, edge.silence_ms) {
            (Some(n), _) => format!("after {n} turns"),
            (None, Some(ms)) => format!("after {} silence", duration_text(ms)),
            (None, None) => edge.kind.as_str().to_string(),
        },
    };
    if let Some(max) = edge.max_traversals {
        let _ = write!(label, " (max {max})");
    }
    label
}

/// Milliseconds as the source writes a duration, in the largest unit that
/// divides them (`120000` is `2m`, `1500` is `1500ms`).
fn duration_text(ms: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")];
    for (size, unit) in UNITS {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

fn mermaid_id(name: &str) -> String {
    // `end` and other words are keywords in Mermaid: prefix every id.
    format!("n_{name}")
}

fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}

/// A Mermaid flowchart of the graph.
pub fn mermaid(graph: &CompiledGraph) -> String {
    let mut out = String::from("flowchart TD\n");
    let global_id = "g_global";
    if !graph.global_exits.is_empty() {
        let _ = writeln!(out, "  {global_id}((\"{GLOBAL}\"))");
    }
    for node in &graph.nodes {
        let id = mermaid_id(node.id());
        let label = mermaid_text(&format!("{} · {}", node.id(), node.kind()));
        let shape = match node {
            Node::Agent(_) => format!("(\"{label}\")"),
            Node::Action(_) => format!("[\"{label}\"]"),
            Node::Route(_) => format!("{{\"{label}\"}}"),
            Node::Say(_) => format!("[/\"{label}\"/]"),
            Node::Handoff(_) => format!("[[\"{label}\"]]"),
            Node::Approval(_) => format!("{{{{\"{label}\"}}}}"),
            Node::End(_) => format!("([\"{label}\"])"),
        };
        let _ = writeln!(out, "  {id}{shape}");
    }
    for edge in &graph.edges {
        let from = edge
            .from
            .as_deref()
            .map(mermaid_id)
            .unwrap_or_else(|| global_id.to_string());
        let arrow = match edge.kind {
            EdgeKind::Companion | EdgeKind::Error => "-.->",
            _ => "-->",
        };
        let _ = writeln!(
            out,
            "  {from} {arrow}|\"{}\"| {}",
            mermaid_text(&edge_label(edge)),
            mermaid_id(&edge.to)
        );
    }
    out
}

fn dot_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A Graphviz DOT digraph of the graph.
pub fn dot(graph: &CompiledGraph) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        dot_text(&graph.workflow.name)
    );
    if !graph.global_exits.is_empty() {
        let _ = writeln!(out, "  \"{GLOBAL}\" [shape=circle, style=dashed];");
    }
    for node in &graph.nodes {
        let shape = match node {
            Node::Agent(_) => "shape=box, style=rounded",
            Node::Action(_) => "shape=box",
            Node::Route(_) => "shape=diamond",
            Node::Say(_) => "shape=parallelogram",
            Node::Handoff(_) => "shape=house",
            Node::Approval(_) => "shape=hexagon",
            Node::End(_) => "shape=doublecircle",
        };
        let label = dot_text(&format!("{}\n{}", node.id(), node.kind()));
        let _ = writeln!(out, "  \"{}\" [label=\"{label}\", {shape}];", dot_text(node.id()));
    }
    for edge in &graph.edges {
        let from = edge.from.as_deref().unwrap_or(GLOBAL);
        let style = match edge.kind {
            EdgeKind::Companion | EdgeKind::Error => ", style=dashed",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{}\"{style}];",
            dot_text(from),
            dot_text(&edge.to),
            dot_text(&edge_label(edge))
        );
    }
    out.push_str("}\n");
    out
}
