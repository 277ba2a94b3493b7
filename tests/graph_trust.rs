//! `flow run GRAPH.json` refuses a tampered compiled graph before any step,
//! with exit status 2 and an error naming the node, the field and the edge.

mod common;

use common::{flow, temp_dir};
use serde_json::{Value, json};

/// `examples/order_support.flow` compiled, as JSON.
fn order_support(dir: &std::path::Path) -> Value {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/order_support.flow");
    let out = flow(&["compile", example.to_str().expect("path")], dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("graph JSON")
}

fn refused(name: &str, change: impl FnOnce(&mut Value), expected: &str) {
    let dir = temp_dir(name);
    let mut graph = order_support(&dir);
    change(&mut graph);
    std::fs::write(dir.join("graph.json"), graph.to_string()).expect("write");
    let out = flow(&["run", "graph.json"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(expected), "stderr: {stderr}");
}

fn node<'a>(graph: &'a mut Value, id: &str) -> &'a mut Value {
    let nodes = graph["nodes"].as_array_mut().expect("nodes");
    nodes.iter_mut().find(|n| n["id"] == id).expect("node")
}

#[test]
fn flow_run_refuses_an_on_error_pointing_elsewhere() {
    refused(
        "trust-on-error",
        |g| node(g, "fetch_order")["on_error"] = json!("nowhere.0"),
        "graph.json: action `fetch_order`: `on_error` names unknown edge `nowhere.0`",
    );
}

#[test]
fn flow_run_refuses_absurd_max_steps_and_retries() {
    refused(
        "trust-max-steps",
        |g| g["workflow"]["max_steps"] = json!(u64::MAX),
        "graph.json: workflow `order_support`: `max_steps` is 18446744073709551615; it must be between 1 and 1000000",
    );
    refused(
        "trust-retries",
        |g| {
            let tools = g["tools"].as_array_mut().expect("tools");
            tools[0]["implementation"]["retries"] = json!(4_000_000_000u32);
        },
        "graph.json: tool `get_order`: `retries` is 4000000000; it must be at most 10",
    );
}

#[test]
fn flow_run_refuses_an_unbounded_cycle() {
    refused(
        "trust-cycle",
        |g| {
            let edges = g["edges"].as_array_mut().expect("edges");
            for e in edges.iter_mut() {
                e["max_traversals"] = Value::Null;
            }
        },
        "form a cycle with no bounded edge",
    );
}
