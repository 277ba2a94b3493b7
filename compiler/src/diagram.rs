//! Diagrams of a compiled graph (`flow graph`): Mermaid and Graphviz DOT.
//! Drawn from the compiled graph alone, so they show exactly its nodes and
//! edges: one arrow per edge, labelled by event, condition (shortened) and
//! bound (a plain `->` has no label). The start node has an entry arrow from
//! a dot; global exits leave from one note, "any agent", in a dashed cluster
//! of its own; companion (`also`) edges are dashed and grey, error edges red.

use flow_graph::{CompiledGraph, Condition, Edge, EdgeKind, Expr, Node, Op};
use std::fmt::Write;

/// The id (DOT) of the note global exits leave from.
const GLOBAL: &str = "global exits";

/// The id (DOT) of the dot the start arrow leaves from.
const START: &str = "__start";

/// The title of the cluster that holds the global exits' note.
const GLOBAL_TITLE: &str = "global exits";

/// The text of the global exits' note.
const GLOBAL_NOTE: &str = "any agent";

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

/// The label of an edge: its event or condition, and bound; empty for a
/// plain `->` without a bound.
pub fn edge_label(edge: &Edge) -> String {
    let mut label = match &edge.condition {
        Some(Condition::Llm(text)) => format!("when: {}", shorten(text)),
        Some(Condition::Expr(expr)) => format!("if: {}", shorten(&expr_text(expr))),
        Some(Condition::Else(_)) => "else".to_string(),
        None => match (edge.turns, edge.silence_ms, edge.kind) {
            (Some(n), _, _) => format!("after {n} turns"),
            (None, Some(ms), _) => format!("after {} silence", duration_text(ms)),
            (None, None, EdgeKind::Direct | EdgeKind::Conditional) => String::new(),
            (None, None, EdgeKind::Companion) => "also".to_string(),
            (None, None, EdgeKind::Error) => "on error".to_string(),
            (None, None, EdgeKind::Approved) => "on approved".to_string(),
            (None, None, EdgeKind::Rejected) => "on rejected".to_string(),
            (None, None, EdgeKind::Timeout) => "on timeout".to_string(),
            (None, None, EdgeKind::Return) => "on return".to_string(),
            (None, None, EdgeKind::TurnLimit) => "turn limit".to_string(),
            (None, None, EdgeKind::Silence) => "silence".to_string(),
        },
    };
    if let Some(max) = edge.max_traversals {
        if label.is_empty() {
            let _ = write!(label, "max {max}");
        } else {
            let _ = write!(label, " (max {max})");
        }
    }
    label
}

/// A node's label: its name and kind, or the name alone where the two are one
/// word (the built-in `end`).
fn node_label(node: &Node, separator: &str) -> String {
    if node.id() == node.kind() {
        node.id().to_string()
    } else {
        format!("{}{separator}{}", node.id(), node.kind())
    }
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
    let _ = writeln!(out, "  s_start((\" \")) --> {}", mermaid_id(&graph.start));
    if !graph.global_exits.is_empty() {
        let _ = writeln!(
            out,
            "  subgraph g_exits [\"{GLOBAL_TITLE}\"]\n    {global_id}>\"{GLOBAL_NOTE}\"]\n  end"
        );
    }
    for node in &graph.nodes {
        let id = mermaid_id(node.id());
        let label = mermaid_text(&node_label(node, " · "));
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
    // Link 0 is the start arrow; styles go by link index.
    let mut styles = vec!["  style s_start fill:#333,stroke:#333".to_string()];
    if !graph.global_exits.is_empty() {
        styles.push("  style g_exits fill:none,stroke-dasharray:5 5".to_string());
    }
    for (i, edge) in graph.edges.iter().enumerate() {
        let from = edge
            .from
            .as_deref()
            .map(mermaid_id)
            .unwrap_or_else(|| global_id.to_string());
        let arrow = match (edge.kind, edge.from.is_none()) {
            (EdgeKind::Companion, _) | (_, true) => "-.->",
            _ => "-->",
        };
        let label = edge_label(edge);
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("|\"{}\"|", mermaid_text(&label))
        };
        let _ = writeln!(out, "  {from} {arrow}{label} {}", mermaid_id(&edge.to));
        match edge.kind {
            EdgeKind::Companion => styles.push(format!("  linkStyle {} stroke:#888,color:#888", i + 1)),
            EdgeKind::Error => styles.push(format!("  linkStyle {} stroke:#c0392b,color:#c0392b", i + 1)),
            _ => {}
        }
    }
    for style in styles {
        let _ = writeln!(out, "{style}");
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
    let _ = writeln!(out, "  \"{START}\" [shape=point, width=0.15, label=\"\"];");
    let _ = writeln!(out, "  \"{START}\" -> \"{}\";", dot_text(&graph.start));
    if !graph.global_exits.is_empty() {
        let _ = writeln!(
            out,
            "  subgraph cluster_global {{\n    label=\"{GLOBAL_TITLE}\";\n    style=dashed;\n    fontname=\"Helvetica\";\n    \"{GLOBAL}\" [label=\"{GLOBAL_NOTE}\", shape=note];\n  }}"
        );
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
        let label = dot_text(&node_label(node, "\n"));
        let _ = writeln!(out, "  \"{}\" [label=\"{label}\", {shape}];", dot_text(node.id()));
    }
    for edge in &graph.edges {
        let from = edge.from.as_deref().unwrap_or(GLOBAL);
        let style = match (edge.kind, edge.from.is_none()) {
            (EdgeKind::Companion, _) => ", style=dashed, color=gray50, fontcolor=gray40",
            (EdgeKind::Error, _) => ", color=red3, fontcolor=red3",
            (_, true) => ", style=dotted",
            _ => "",
        };
        let label = edge_label(edge);
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("label=\"{}\"", dot_text(&label))
        };
        let attributes = format!("{label}{style}");
        let attributes = attributes.trim_start_matches(", ");
        if attributes.is_empty() {
            let _ = writeln!(out, "  \"{}\" -> \"{}\";", dot_text(from), dot_text(&edge.to));
        } else {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [{attributes}];",
                dot_text(from),
                dot_text(&edge.to)
            );
        }
    }
    out.push_str("}\n");
    out
}
