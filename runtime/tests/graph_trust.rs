//! A compiled graph is not trusted: each test compiles an example, changes one
//! thing in its JSON as a hand edit or a corruption would, and checks that
//! `Program::from_json` refuses it with an error naming the node or edge and
//! the field.

use flow_runtime::Program;
use serde_json::{Value, json};

/// The compiled graph of `examples/NAME.flow`, as JSON.
fn example(name: &str) -> Value {
    let path = format!("{}/../examples/{name}.flow", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).expect("read example");
    let graph = flow_compiler::compile(&source, &format!("{name}.flow"))
        .graph
        .expect("example compiles");
    serde_json::to_value(graph).expect("graph to JSON")
}

/// The error `Program::from_json` gives for the graph.
fn refusal(graph: &Value) -> String {
    match Program::from_json(&graph.to_string()) {
        Ok(_) => panic!("the changed graph was accepted"),
        Err(e) => e.to_string(),
    }
}

/// The object of the node `id`.
fn node<'a>(graph: &'a mut Value, id: &str) -> &'a mut Value {
    let nodes = graph["nodes"].as_array_mut().expect("nodes");
    nodes.iter_mut().find(|n| n["id"] == id).expect("node")
}

/// The object of the edge `id`.
fn edge<'a>(graph: &'a mut Value, id: &str) -> &'a mut Value {
    let edges = graph["edges"].as_array_mut().expect("edges");
    edges.iter_mut().find(|e| e["id"] == id).expect("edge")
}

/// The object of the tool `id`.
fn tool<'a>(graph: &'a mut Value, id: &str) -> &'a mut Value {
    let tools = graph["tools"].as_array_mut().expect("tools");
    tools.iter_mut().find(|t| t["id"] == id).expect("tool")
}

/// Applies `change` to the example's graph and checks the error.
fn refused(name: &str, change: impl FnOnce(&mut Value), expected: &str) {
    let mut graph = example(name);
    change(&mut graph);
    assert_eq!(refusal(&graph), expected);
}

#[test]
fn every_example_loads_unchanged() {
    for name in [
        "order_support",
        "after_hours_triage",
        "appointment_scheduling",
        "loan_prequalification",
        "patient_intake",
    ] {
        let graph = example(name);
        if let Err(e) = Program::from_json(&graph.to_string()) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn an_unbounded_cycle_is_refused() {
    // `order_not_found -> identify max 2` is what bounds identify -> fetch_order -> order_not_found.
    refused(
        "order_support",
        |g| edge(g, "order_not_found.0")["max_traversals"] = Value::Null,
        "the nodes `identify`, `fetch_order`, `order_not_found` form a cycle with no bounded edge \
         (no edge of it has `max_traversals`)",
    );
}

#[test]
fn a_global_exit_that_closes_a_cycle_is_refused() {
    // A global exit back to the start is taken from every agent, the start included.
    refused(
        "appointment_scheduling",
        |g| edge(g, "global.2")["max_traversals"] = Value::Null,
        "the nodes `greet`, `toothache_notice`, `prefer_earliest`, `normalize_day`, `drop_weekend` and 3 more \
         form a cycle with no bounded edge (no edge of it has `max_traversals`)",
    );
}

#[test]
fn on_error_must_be_an_error_exit_of_its_action() {
    refused(
        "order_support",
        |g| node(g, "fetch_order")["on_error"] = json!("nowhere.0"),
        "action `fetch_order`: `on_error` names unknown edge `nowhere.0`",
    );
    refused(
        "order_support",
        |g| node(g, "fetch_order")["on_error"] = json!("track.0"),
        "action `fetch_order`: `on_error` names edge `track.0`, which is not an exit of `fetch_order`",
    );
    refused(
        "order_support",
        |g| node(g, "fetch_order")["on_error"] = json!("fetch_order.1"),
        "action `fetch_order`: `on_error` names edge `fetch_order.1` of kind direct, not error",
    );
}

#[test]
fn approval_edges_must_be_its_own_of_the_right_kind() {
    refused(
        "order_support",
        |g| node(g, "refund_approval")["approved_edge"] = json!("refund_approval.1"),
        "approval `refund_approval`: `approved_edge` names edge `refund_approval.1` of kind rejected, not approved",
    );
    refused(
        "order_support",
        |g| node(g, "refund_approval")["rejected_edge"] = json!("gone"),
        "approval `refund_approval`: `rejected_edge` names unknown edge `gone`",
    );
    refused(
        "order_support",
        |g| node(g, "refund_approval")["rejected_edge"] = Value::Null,
        "approval `refund_approval`: `rejected_edge` is missing",
    );
    refused(
        "order_support",
        |g| node(g, "refund_approval")["timeout_edge"] = json!("cancel.0"),
        "approval `refund_approval`: `timeout_edge` names edge `cancel.0`, which is not an exit of `refund_approval`",
    );
    refused(
        "order_support",
        |g| node(g, "refund_approval")["timeout_edge"] = Value::Null,
        "approval `refund_approval`: `timeout_hours` is set but `timeout_edge` is missing",
    );
}

#[test]
fn approval_timeouts_are_capped() {
    for hours in [json!(99999999), json!(0), json!(-1)] {
        refused(
            "order_support",
            |g| node(g, "refund_approval")["timeout_hours"] = hours.clone(),
            &format!(
                "approval `refund_approval`: `timeout_hours` is {}; it must be more than 0 and at most 8760 (365 days)",
                hours.as_f64().unwrap_or_default()
            ),
        );
    }
}

#[test]
fn exit_conditions_must_be_conditional_exits_of_the_agent() {
    refused(
        "order_support",
        |g| node(g, "identify")["exit_conditions"] = json!(["identify.1"]),
        "agent `identify`: `exit_conditions` names edge `identify.1` of kind turn_limit, not conditional",
    );
    refused(
        "order_support",
        |g| node(g, "identify")["exit_conditions"] = json!(["global.0"]),
        "agent `identify`: `exit_conditions` names edge `global.0`, which is not an exit of `identify`",
    );
    refused(
        "order_support",
        |g| node(g, "identify")["exit_conditions"] = json!(["identify.9"]),
        "agent `identify`: `exit_conditions` names unknown edge `identify.9`",
    );
}

#[test]
fn exits_and_sources_must_agree() {
    refused(
        "order_support",
        |g| edge(g, "track.1")["from"] = json!("identify"),
        "edge `track.1` leaves `identify`, but `identify` does not list it in `exits`",
    );
    refused(
        "order_support",
        |g| node(g, "tracking_report")["exits"] = json!(["tracking_report.0", "global.1"]),
        "say `tracking_report`: `exits` lists edge `global.1`, which leaves no node (a global exit)",
    );
    refused(
        "order_support",
        |g| {
            edge(g, "global.0")["condition"] = Value::Null;
            edge(g, "global.0")["kind"] = json!("direct");
        },
        "global exit `global.0`: it must be a `when` edge (an `llm` condition)",
    );
    refused(
        "order_support",
        |g| g["global_exits"] = json!(["global.1"]),
        "edge `global.0` has no `from` but is not in `global_exits`",
    );
}

#[test]
fn edge_fields_must_fit_the_kind() {
    refused(
        "order_support",
        |g| edge(g, "identify.1")["turns"] = Value::Null,
        "edge `identify.1`: a turn_limit edge needs `turns`",
    );
    refused(
        "order_support",
        |g| edge(g, "fetch_order.1")["turns"] = json!(3),
        "edge `fetch_order.1`: a direct edge takes no `turns`",
    );
    refused(
        "order_support",
        |g| edge(g, "triage.0")["condition"] = Value::Null,
        "edge `triage.0`: a conditional edge needs a `condition`",
    );
    refused(
        "order_support",
        |g| edge(g, "fetch_order.1")["condition"] = json!({"else": true}),
        "edge `fetch_order.1`: a direct edge takes no `condition`",
    );
}

#[test]
fn absurd_numbers_are_refused() {
    refused(
        "order_support",
        |g| g["workflow"]["max_steps"] = json!(u64::MAX),
        "workflow `order_support`: `max_steps` is 18446744073709551615; it must be between 1 and 1000000",
    );
    refused(
        "order_support",
        |g| g["workflow"]["max_steps"] = json!(0),
        "workflow `order_support`: `max_steps` is 0; it must be between 1 and 1000000",
    );
    refused(
        "order_support",
        |g| tool(g, "get_order")["implementation"]["retries"] = json!(4_000_000_000u32),
        "tool `get_order`: `retries` is 4000000000; it must be at most 10",
    );
    // `timeout 99999999h`.
    refused(
        "order_support",
        |g| tool(g, "get_order")["implementation"]["timeout_ms"] = json!(99_999_999u64 * 3_600_000),
        "tool `get_order`: `timeout_ms` is 359999996400000; it must be between 1 and 86400000 (24h)",
    );
    refused(
        "order_support",
        |g| tool(g, "get_order")["implementation"]["timeout_ms"] = json!(0),
        "tool `get_order`: `timeout_ms` is 0; it must be between 1 and 86400000 (24h)",
    );
    refused(
        "order_support",
        |g| edge(g, "order_not_found.0")["max_traversals"] = json!(u32::MAX),
        "edge `order_not_found.0`: `max_traversals` is 4294967295; it must be between 1 and 10000",
    );
    refused(
        "order_support",
        |g| edge(g, "order_not_found.0")["max_traversals"] = json!(0),
        "edge `order_not_found.0`: `max_traversals` is 0; it must be between 1 and 10000",
    );
    refused(
        "order_support",
        |g| edge(g, "identify.1")["turns"] = json!(10_001),
        "edge `identify.1`: `turns` is 10001; it must be between 1 and 10000",
    );
}

#[test]
fn model_and_knowledge_references_must_be_known() {
    refused(
        "order_support",
        |g| node(g, "identify")["model"] = json!("nope"),
        "agent `identify`: `model` names unknown model `nope`",
    );
    refused(
        "order_support",
        |g| g["workflow"]["default_model"] = json!("nope"),
        "workflow: `default_model` names unknown model `nope`",
    );
    refused(
        "order_support",
        |g| node(g, "identify")["knowledge_base_refs"] = json!(["nope"]),
        "agent `identify`: `knowledge_base_refs` names unknown knowledge base `nope`",
    );
}

#[test]
fn the_caps_themselves_are_accepted() {
    let mut graph = example("order_support");
    graph["workflow"]["max_steps"] = json!(1_000_000);
    tool(&mut graph, "get_order")["implementation"]["retries"] = json!(10);
    tool(&mut graph, "get_order")["implementation"]["timeout_ms"] = json!(86_400_000);
    edge(&mut graph, "order_not_found.0")["max_traversals"] = json!(10_000);
    edge(&mut graph, "identify.1")["turns"] = json!(10_000);
    node(&mut graph, "refund_approval")["timeout_hours"] = json!(8760);
    if let Err(e) = Program::from_json(&graph.to_string()) {
        panic!("refused: {e}");
    }
}

/// A value of a random kind: what a corruption or a careless edit leaves.
fn random_value(rng: &mut fastrand::Rng, ids: &[String]) -> Value {
    match rng.u8(0..9) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(u64::MAX - rng.u64(0..3)),
        3 => json!(rng.i64(-2..3)),
        4 => json!(f64::from(rng.u32(..)) * 1e300),
        5 => json!(ids[rng.usize(..ids.len())]),
        6 => json!([ids[rng.usize(..ids.len())]]),
        7 => json!({"op": "+", "args": [{"lit": 1}]}),
        _ => json!("x"),
    }
}

/// Replaces one random scalar, array or object somewhere in `v`.
fn mutate(v: &mut Value, rng: &mut fastrand::Rng, ids: &[String]) {
    let descend = rng.u8(0..4) > 0;
    match v {
        Value::Array(a) if descend && !a.is_empty() => {
            let i = rng.usize(..a.len());
            mutate(&mut a[i], rng, ids);
        }
        Value::Object(o) if descend && !o.is_empty() => {
            let i = rng.usize(..o.len());
            if let Some(child) = o.values_mut().nth(i) {
                mutate(child, rng, ids);
            }
        }
        _ => *v = random_value(rng, ids),
    }
}

#[test]
fn randomly_mutated_examples_are_refused_or_loaded_never_a_panic() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut refused = 0;
    for name in ["order_support", "appointment_scheduling", "after_hours_triage"] {
        let graph = example(name);
        let mut ids: Vec<String> = Vec::new();
        for key in ["nodes", "edges", "tools"] {
            for item in graph[key].as_array().into_iter().flatten() {
                ids.extend(item["id"].as_str().map(str::to_string));
            }
        }
        for _ in 0..400 {
            let mut changed = graph.clone();
            for _ in 0..rng.usize(1..4) {
                mutate(&mut changed, &mut rng, &ids);
            }
            let text = changed.to_string();
            let loaded = std::panic::catch_unwind(|| Program::from_json(&text).map(|p| p.json.clone()));
            match loaded {
                Err(_) => panic!("Program::from_json panicked on {text}"),
                Ok(Err(_)) => refused += 1,
                // What loads must load again from its own JSON.
                Ok(Ok(json)) => assert!(Program::from_json(&json).is_ok(), "{json}"),
            }
        }
    }
    assert!(refused > 600, "only {refused} of 1200 mutations were refused");
}
