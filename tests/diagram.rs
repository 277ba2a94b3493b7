//! `flow graph` draws exactly the compiled graph's edges: no more, no fewer.

use flow_compiler::diagram;
use std::path::Path;

fn example_graphs() -> Vec<flow_graph::CompiledGraph> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "flow"))
        .map(|p| {
            flow_compiler::compile(&std::fs::read_to_string(p).unwrap(), "x.flow")
                .graph
                .expect("example compiles")
        })
        .collect()
}

/// (from, to) of every compiled edge, `None` for a global exit.
fn compiled_edges(graph: &flow_graph::CompiledGraph) -> Vec<(String, String)> {
    let mut edges: Vec<_> = graph
        .edges
        .iter()
        .map(|e| (e.from.clone().unwrap_or_else(|| "<global>".into()), e.to.clone()))
        .collect();
    edges.sort();
    edges
}

#[test]
fn mermaid_draws_exactly_the_compiled_edges() {
    for graph in example_graphs() {
        let text = diagram::mermaid(&graph);
        let mut drawn: Vec<(String, String)> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<&str>>())
            .filter(|parts| parts.len() >= 3 && (parts[1].starts_with("-->") || parts[1].starts_with("-.->")))
            .filter(|parts| parts[0] != "s_start")
            .map(|parts| {
                let from = parts[0];
                let to = *parts.last().unwrap();
                let name = |id: &str| {
                    if id == "g_global" {
                        "<global>".to_string()
                    } else {
                        id.trim_start_matches("n_").to_string()
                    }
                };
                (name(from), name(to))
            })
            .collect();
        drawn.sort();
        assert_eq!(drawn, compiled_edges(&graph), "{}", graph.workflow.name);
        for node in &graph.nodes {
            assert!(text.contains(&format!("n_{}", node.id())), "node {} missing", node.id());
        }
    }
}

#[test]
fn dot_draws_exactly_the_compiled_edges_with_labels() {
    for graph in example_graphs() {
        let text = diagram::dot(&graph);
        let mut drawn: Vec<(String, String)> = text
            .lines()
            .filter(|l| l.contains("\" -> \"") && !l.trim_start().starts_with("\"__start\""))
            .map(|l| {
                let quoted: Vec<&str> = l.split('"').collect();
                let from = quoted[1].to_string();
                let to = quoted[3].to_string();
                (
                    if from.starts_with("global exits") {
                        "<global>".into()
                    } else {
                        from
                    },
                    to,
                )
            })
            .collect();
        drawn.sort();
        assert_eq!(drawn, compiled_edges(&graph), "{}", graph.workflow.name);
        for edge in &graph.edges {
            let label = diagram::edge_label(edge);
            // Only a plain `->` goes without a label.
            let plain = edge.condition.is_none()
                && edge.turns.is_none()
                && matches!(
                    edge.kind,
                    flow_graph::EdgeKind::Direct | flow_graph::EdgeKind::Conditional
                );
            assert_eq!(label.is_empty(), plain && edge.max_traversals.is_none(), "{label:?}");
            assert!(!label.contains("direct"), "{label}");
            if let Some(max) = edge.max_traversals {
                assert!(label.contains(&format!("max {max}")));
            }
        }
    }
}

#[test]
fn diagrams_of_the_examples_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "flow")) {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let graph = flow_compiler::compile(&std::fs::read_to_string(path).unwrap(), "x.flow")
            .graph
            .unwrap();
        insta::assert_snapshot!(format!("mermaid_{name}"), diagram::mermaid(&graph));
        insta::assert_snapshot!(format!("dot_{name}"), diagram::dot(&graph));
    }
}

#[test]
fn diagrams_mark_the_start_and_set_global_exits_companions_and_errors_apart() {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/order_support.flow")).unwrap();
    let graph = flow_compiler::compile(&source, "x.flow").graph.unwrap();
    assert!(!graph.global_exits.is_empty(), "the example has global exits");
    assert!(graph.edges.iter().any(|e| e.kind == flow_graph::EdgeKind::Error));
    let dot = diagram::dot(&graph);
    // One entry arrow into the start node.
    assert!(dot.contains(&format!("\"__start\" -> \"{}\";", graph.start)), "{dot}");
    // Global exits leave from a note in a cluster of their own.
    assert!(dot.contains("subgraph cluster_global {"), "{dot}");
    assert!(
        dot.contains("\"global exits\" [label=\"any agent\", shape=note];"),
        "{dot}"
    );
    // Error edges are red; the built-in end is labelled once; no "direct".
    assert!(
        dot.lines().any(|l| l.contains("label=\"on error\", color=red3")),
        "{dot}"
    );
    assert!(!dot.contains("direct"), "{dot}");
    let mermaid = diagram::mermaid(&graph);
    assert!(
        mermaid.contains(&format!("s_start((\" \")) --> n_{}", graph.start)),
        "{mermaid}"
    );
    assert!(mermaid.contains("subgraph g_exits [\"global exits\"]"), "{mermaid}");
    assert!(mermaid.contains("stroke:#c0392b"), "{mermaid}");
    assert!(!mermaid.contains("direct"), "{mermaid}");
}

#[test]
fn companion_edges_are_drawn_unlike_error_edges() {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/ok/travel_desk.flow")).unwrap();
    let graph = flow_compiler::compile(&source, "x.flow").graph.unwrap();
    let dot = diagram::dot(&graph);
    let companion = dot
        .lines()
        .find(|l| l.contains("label=\"also\""))
        .expect("a companion edge");
    assert!(companion.contains("style=dashed"), "{companion}");
    assert!(!companion.contains("red3"), "{companion}");
}

#[test]
fn the_built_in_end_is_labelled_once_and_a_lone_bound_reads_max_n() {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loan_prequalification.flow"))
            .unwrap();
    let graph = flow_compiler::compile(&source, "x.flow").graph.unwrap();
    let dot = diagram::dot(&graph);
    assert!(dot.contains("\"end\" [label=\"end\", shape=doublecircle];"), "{dot}");
    assert!(diagram::mermaid(&graph).contains("  n_end([\"end\"])\n"));
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/ok/travel_desk.flow")).unwrap();
    let graph = flow_compiler::compile(&source, "x.flow").graph.unwrap();
    assert!(diagram::dot(&graph).contains("\"sorry\" -> \"welcome\" [label=\"max 1\"];"));
}

#[test]
fn silence_edges_are_labelled_with_their_duration() {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/ok/form_body_and_silence.flow"),
    )
    .unwrap();
    let graph = flow_compiler::compile(&source, "x.flow").graph.expect("compiles");
    let mermaid = diagram::mermaid(&graph);
    assert!(
        mermaid.contains("n_chat -->|\"after 2m silence (max 3)\"| n_nudge"),
        "{mermaid}"
    );
    let dot = diagram::dot(&graph);
    assert!(dot.contains("label=\"after 2m silence (max 3)\""), "{dot}");
    let mut edge = graph.edges[1].clone();
    for (ms, text) in [
        (1500, "after 1500ms silence"),
        (3_000, "after 3s silence"),
        (7_200_000, "after 2h silence"),
    ] {
        edge.silence_ms = Some(ms);
        edge.max_traversals = None;
        assert_eq!(diagram::edge_label(&edge), text);
    }
}
