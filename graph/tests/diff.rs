//! `flow_graph::diff` on hand-made graphs: matching, what never counts, the JSON shape.
//! (Diffs of compiled `.flow` sources are in the top-level `tests/diff.rs`.)

use flow_graph::diff::{Changed, GraphDiff, diff};
use flow_graph::{CompiledGraph, Expr, Node, Op};
use serde_json::{Value, json};

/// A small valid graph: an action with `on error`, an approval with three
/// event exits, one global exit, a model group, a type, a variable, a secret.
fn base() -> Value {
    let edge = |id: &str, from: Value, to: &str, kind: &str, condition: Value| {
        json!({"id": id, "from": from, "to": to, "kind": kind, "condition": condition,
               "turns": null, "silence_ms": null, "max_traversals": null})
    };
    json!({
        "schema_version": 1,
        "workflow": {"name": "w", "title": null, "instructions": null, "max_steps": 500,
                     "default_model": "m", "source": {"file": "w.flow", "sha256": "aa"}},
        "start": "a",
        "models": {"m": [{"provider": "openai", "model": "gpt-4o-mini"}]},
        "types": {"T": {"type": "object", "properties": {"span": {"type": "string"}}}},
        "variables": [{"name": "x", "kind": "var", "schema": {"type": "integer"}, "default": 0, "required": false}],
        "secrets": ["KEY"],
        "knowledge_bases": {},
        "tools": [],
        "nodes": [
            {"type": "action", "id": "a", "span": {"line": 6, "column": 8}, "exits": ["a.0", "a.1"],
             "tool_id": null, "input_mapping": {}, "output_mapping": {"x": {"lit": 1}}, "on_error": "a.0"},
            {"type": "approval", "id": "b", "span": {"line": 12, "column": 10}, "exits": ["b.0", "b.1", "b.2"],
             "approval_prompt": [{"text": "ok?"}], "timeout_hours": 2.0,
             "approved_edge": "b.1", "rejected_edge": "b.2", "timeout_edge": "b.0"},
            {"type": "end", "id": "done", "span": null, "exits": [], "say": null, "outcome": "resolved"}
        ],
        "edges": [
            edge("global.0", Value::Null, "done", "conditional", json!({"llm": "the user says bye"})),
            edge("a.0", json!("a"), "b", "error", Value::Null),
            edge("a.1", json!("a"), "b", "direct", Value::Null),
            edge("b.0", json!("b"), "done", "timeout", Value::Null),
            edge("b.1", json!("b"), "done", "approved", Value::Null),
            edge("b.2", json!("b"), "done", "rejected", Value::Null)
        ],
        "global_exits": ["global.0"]
    })
}

fn graph(value: &Value) -> CompiledGraph {
    flow_graph::from_json_str(&value.to_string()).expect("a valid graph")
}

fn diff_of(change: impl FnOnce(&mut Value)) -> GraphDiff {
    let old = base();
    let mut new = old.clone();
    change(&mut new);
    diff(&graph(&old), &graph(&new))
}

fn changed(id: &str, fields: &[&str]) -> Changed {
    Changed {
        id: id.into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
    }
}

#[test]
fn the_json_has_every_section_and_list_even_when_empty() {
    let d = diff_of(|_| {});
    assert!(d.is_empty());
    let lists = json!({"added": [], "removed": [], "changed": []});
    assert_eq!(
        serde_json::to_value(&d).expect("json"),
        json!({"workflow": {"changed": []}, "nodes": lists, "edges": lists, "variables": lists,
               "tools": lists, "models": lists, "types": lists, "secrets": lists})
    );
}

#[test]
fn renumbered_edges_change_nothing() {
    // The same exits written in another order: every id moves, and the
    // node references and global exits follow them.
    let d = diff_of(|g| {
        let edges = g["edges"].as_array_mut().expect("edges");
        edges.swap(1, 2);
        edges[1]["id"] = json!("a.0");
        edges[2]["id"] = json!("a.1");
        g["nodes"][0]["on_error"] = json!("a.1");
        for (i, id) in ["b.2", "b.0", "b.1"].iter().enumerate() {
            g["edges"][3 + i]["id"] = json!(id);
        }
        g["nodes"][1]["approved_edge"] = json!("b.0");
        g["nodes"][1]["rejected_edge"] = json!("b.1");
        g["nodes"][1]["timeout_edge"] = json!("b.2");
        g["edges"][0]["id"] = json!("global.7");
        g["global_exits"] = json!(["global.7"]);
    });
    assert_eq!(d, GraphDiff::default(), "{d:#?}");
}

#[test]
fn an_event_edge_pointing_elsewhere_is_its_to_and_not_the_node() {
    let d = diff_of(|g| g["edges"][1]["to"] = json!("done"));
    assert_eq!(d.edges.changed, [changed("a.0", &["to"])]);
    assert!(d.nodes.changed.is_empty() && d.workflow.changed.is_empty(), "{d:#?}");
}

#[test]
fn a_changed_global_exit_condition_is_an_edge_removed_and_added() {
    let d = diff_of(|g| {
        g["edges"][0]["condition"] = json!({"llm": "the user says goodbye"});
        g["edges"][0]["id"] = json!("global.1");
        g["global_exits"] = json!(["global.1"]);
    });
    assert_eq!(d.edges.added, ["global.1"]);
    assert_eq!(d.edges.removed, ["global.0"]);
    assert_eq!(d.workflow.changed, ["global_exits"]);
}

#[test]
fn equal_keys_are_matched_in_order() {
    // Two `on error` edges from `a` (as a hand-made graph may hold): the
    // first old one is matched with the only new one, the second is removed.
    let two = |g: &mut Value| {
        let mut second = g["edges"][1].clone();
        second["id"] = json!("a.2");
        second["to"] = json!("done");
        g["edges"].as_array_mut().expect("edges").push(second);
    };
    let mut old = base();
    two(&mut old);
    let mut new = old.clone();
    new["edges"].as_array_mut().expect("edges").remove(1);
    let d = diff(&graph(&old), &graph(&new));
    assert_eq!(d.edges.changed, [changed("a.2", &["to"])]);
    assert_eq!(d.edges.removed, ["a.2"]);
    assert!(d.edges.added.is_empty());
}

#[test]
fn the_source_and_spans_never_count() {
    let d = diff_of(|g| {
        g["workflow"]["source"] = json!({"file": "other.flow", "sha256": "bb"});
        g["nodes"][0]["span"] = json!({"line": 60, "column": 1});
        g["nodes"][2]["span"] = json!({"line": 3, "column": 4});
    });
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn a_field_named_span_that_is_no_position_still_counts() {
    let d = diff_of(|g| g["types"]["T"]["properties"]["span"] = json!({"type": "integer"}));
    assert_eq!(d.types.changed, [changed("T", &["properties"])]);
}

#[test]
fn a_node_changing_kind_lists_the_fields_of_both() {
    let d = diff_of(|g| {
        g["nodes"][2] = json!({"type": "say", "id": "done", "span": null, "exits": [],
                               "message": [{"text": "bye"}]});
    });
    assert_eq!(
        d.nodes.changed,
        [changed("done", &["type", "message", "say", "outcome"])]
    );
}

#[test]
fn a_model_group_lists_the_positions_that_differ() {
    let d = diff_of(|g| {
        g["models"]["m"]
            .as_array_mut()
            .expect("group")
            .push(json!({"provider": "anthropic", "model": "claude"}));
        g["models"]["n"] = json!([{"provider": "openai", "model": "gpt-4o"}]);
    });
    assert_eq!(d.models.changed, [changed("m", &["1"])]);
    assert_eq!(d.models.added, ["n"]);
}

#[test]
fn secrets_are_only_added_or_removed() {
    let d = diff_of(|g| g["secrets"] = json!(["OTHER"]));
    assert_eq!(
        (d.secrets.added, d.secrets.removed),
        (vec!["OTHER".to_string()], vec!["KEY".to_string()])
    );
    assert!(d.secrets.changed.is_empty());
}

#[test]
fn workflow_fields_are_listed_in_a_fixed_order() {
    let d = diff_of(|g| {
        g["start"] = json!("b");
        g["workflow"]["title"] = json!("A title");
        g["workflow"]["default_model"] = Value::Null;
    });
    assert_eq!(d.workflow.changed, ["title", "default_model", "start"]);
}

#[test]
fn the_deepest_readable_graph_is_compared_without_overflow() {
    // An expression nested as deep as the reader allows, compared on a thread
    // with a main thread's stack (8 MiB, which the debug reader itself needs
    // to read such a graph): no overflow, and the change is found.
    let compare = || {
        let deep = |leaf: i64| {
            let mut expr = Expr::Lit { lit: json!(leaf) };
            for _ in 0..(flow_graph::limits::MAX_JSON_DEPTH - 8) / 2 {
                expr = Expr::Op {
                    op: Op::Neg,
                    args: vec![expr],
                };
            }
            expr
        };
        let (mut old, mut new) = (graph(&base()), graph(&base()));
        for (g, leaf) in [(&mut old, 1), (&mut new, 2)] {
            if let Node::Action(action) = &mut g.nodes[0] {
                action.output_mapping.insert("x".into(), deep(leaf));
            }
        }
        diff(&old, &new)
    };
    let d = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(compare)
        .expect("thread")
        .join()
        .expect("no overflow");
    assert_eq!(d.nodes.changed, [changed("a", &["output_mapping"])]);
}
