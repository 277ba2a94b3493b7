//! The semantic diff of two compiled workflows: `flow_graph::diff` on variants
//! of `examples/order_support.flow`, and the `flow diff OLD NEW` command.

mod common;

use common::{flow, temp_dir};
use flow_graph::diff::{GraphDiff, diff};
use serde_json::{Value, json};

/// `examples/order_support.flow`.
fn example() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/order_support.flow");
    std::fs::read_to_string(path).expect("example")
}

/// The example with `from` replaced by `to` (which must occur exactly once).
fn variant(from: &str, to: &str) -> String {
    let source = example();
    assert_eq!(source.matches(from).count(), 1, "`{from}` must occur once");
    source.replacen(from, to, 1)
}

fn compiled(source: &str, file: &str) -> flow_graph::CompiledGraph {
    let out = flow_compiler::compile(source, file);
    out.graph
        .unwrap_or_else(|| panic!("{file} does not compile: {:?}", out.diagnostics))
}

/// The diff from the example to `new`.
fn diff_to(new: &str) -> GraphDiff {
    diff(&compiled(&example(), "old.flow"), &compiled(new, "new.flow"))
}

fn changed(d: &GraphDiff) -> Value {
    serde_json::to_value(d).expect("json")
}

#[test]
fn the_same_source_gives_an_empty_diff() {
    let d = diff_to(&example());
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn blank_lines_move_spans_and_the_hash_but_change_nothing() {
    let moved = example()
        .replace("\nagent ", "\n\n\nagent ")
        .replace("\nsay ", "\n\nsay ");
    let (old, new) = (compiled(&example(), "a.flow"), compiled(&moved, "a.flow"));
    assert_ne!(old.workflow.source.sha256, new.workflow.source.sha256);
    assert_ne!(old.nodes[0], new.nodes[0], "the spans moved");
    assert!(diff(&old, &new).is_empty(), "{:#?}", diff(&old, &new));
}

#[test]
fn an_exit_inserted_before_the_others_is_one_added_edge() {
    let d = diff_to(&variant(
        "  model reasoning\n  tools product_info\n",
        "  model reasoning\n  tools product_info\n  when \"the customer asks about a warranty\" -> followup\n",
    ));
    // Every later exit of `triage` is renumbered, yet only the new one shows.
    let mut expected = GraphDiff::default();
    expected.edges.added = vec!["triage.0".into()];
    assert_eq!(d, expected, "{d:#?}");
}

#[test]
fn a_changed_prompt_is_the_node_changed_in_that_field() {
    let d = diff_to(&variant("Greet the customer and ask", "Welcome the customer and ask"));
    assert_eq!(
        changed(&d)["nodes"],
        json!({"added": [], "removed": [], "changed": [
            {"id": "identify", "fields": ["instructions"]}
        ]})
    );
    assert!(d.edges.is_empty() && d.workflow.changed.is_empty());
}

#[test]
fn a_removed_node_and_its_global_exit() {
    let source = variant(
        "  when \"the customer threatens legal action or a chargeback\" -> escalations\n",
        "",
    );
    let start = source.find("handoff escalations {").expect("node");
    let end = start + source[start..].find("}\n").expect("end of node") + 2;
    let source = format!("{}{}", &source[..start], &source[end..]);
    let d = diff_to(&source);
    assert_eq!(d.nodes.removed, ["escalations"]);
    assert!(d.nodes.added.is_empty() && d.nodes.changed.is_empty(), "{d:#?}");
    // The other global exit moves from `global.1` to `global.0`: not a change.
    assert_eq!(d.edges.removed, ["global.0"]);
    assert!(d.edges.added.is_empty() && d.edges.changed.is_empty(), "{d:#?}");
    assert_eq!(d.workflow.changed, ["global_exits"]);
}

#[test]
fn a_renamed_variable_is_removed_and_added() {
    let source = example()
        .replace("var refund_id:", "var refund_ref:")
        .replace("set refund_id =", "set refund_ref =")
        .replace("{{refund_id}}", "{{refund_ref}}");
    let d = diff_to(&source);
    assert_eq!(
        changed(&d)["variables"],
        json!({"added": ["refund_ref"], "removed": ["refund_id"], "changed": []})
    );
    let nodes: Vec<(&str, &[String])> = d.nodes.changed.iter().map(|c| (c.id.as_str(), &c.fields[..])).collect();
    assert_eq!(
        nodes,
        [
            ("issue_refund", &["output_mapping".to_string()][..]),
            ("refund_confirmed", &["message".to_string()][..])
        ]
    );
}

#[test]
fn a_model_group_change_names_the_group() {
    let d = diff_to(&variant(
        "fallback \"anthropic:claude-3-5-sonnet-latest\"",
        "fallback \"anthropic:claude-sonnet-4-0\"",
    ));
    assert_eq!(
        changed(&d)["models"],
        json!({"added": [], "removed": [], "changed": [{"id": "reasoning", "fields": ["1"]}]})
    );
    assert!(d.nodes.is_empty());
}

#[test]
fn a_changed_max_steps_is_a_workflow_change() {
    let d = diff_to(&variant("max_steps 400", "max_steps 300"));
    let mut expected = GraphDiff::default();
    expected.workflow.changed = vec!["max_steps".into()];
    assert_eq!(d, expected);
}

#[test]
fn tools_types_and_secrets_by_name() {
    let source = variant("  timeout 8s\n", "  timeout 9s\n")
        .replace(
            "  estimated_delivery: string?\n",
            "  estimated_delivery: string?\n  carrier_name: string?\n",
        )
        .replace("secret CARRIER_TOKEN\n", "secret CARRIER_TOKEN\nsecret SPARE_TOKEN\n");
    let d = diff_to(&source);
    // The type is inlined where it is used: in the tool's output and in a variable.
    assert_eq!(
        changed(&d)["tools"]["changed"],
        json!([{"id": "track_package", "fields": ["output_schema", "implementation"]}])
    );
    assert_eq!(
        changed(&d)["types"]["changed"],
        json!([{"id": "Tracking", "fields": ["properties"]}])
    );
    assert_eq!(
        changed(&d)["variables"]["changed"],
        json!([{"id": "tracking", "fields": ["schema"]}])
    );
    assert_eq!(
        changed(&d)["secrets"],
        json!({"added": ["SPARE_TOKEN"], "removed": [], "changed": []})
    );
}

// ---- the command ----

/// A temp folder holding the example as `old.flow` and `new` as `new.flow`.
fn two_files(name: &str, new: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("old.flow"), example()).expect("write");
    std::fs::write(dir.join("new.flow"), new).expect("write");
    dir
}

fn stdout_json(out: &std::process::Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.ends_with("}\n") && !text.ends_with("\n\n"),
        "one trailing newline: {text:?}"
    );
    serde_json::from_str(&text).expect("JSON on stdout")
}

#[test]
fn flow_diff_prints_the_diff_of_two_flow_files_and_exits_0() {
    let dir = two_files("diff-cli-two", &variant("max_steps 400", "max_steps 300"));
    let json = stdout_json(&flow(&["diff", "old.flow", "new.flow"], &dir));
    assert_eq!(json["workflow"], json!({"changed": ["max_steps"]}));
    for section in ["nodes", "edges", "variables", "tools", "models", "types", "secrets"] {
        assert_eq!(
            json[section],
            json!({"added": [], "removed": [], "changed": []}),
            "{section}"
        );
    }
    // No difference is exit 0 too.
    let same = stdout_json(&flow(&["diff", "old.flow", "old.flow"], &dir));
    assert_eq!(same["workflow"]["changed"], json!([]));
}

#[test]
fn flow_diff_reads_compiled_json_graphs() {
    let dir = two_files(
        "diff-cli-json",
        &variant("Greet the customer and ask", "Welcome the customer and ask"),
    );
    let out = flow(&["compile", "old.flow", "-o", "old.json"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json = stdout_json(&flow(&["diff", "old.json", "new.flow"], &dir));
    assert_eq!(
        json["nodes"]["changed"],
        json!([{"id": "identify", "fields": ["instructions"]}])
    );
}

#[test]
fn flow_diff_human_lists_one_change_a_line() {
    let source = variant("max_steps 400", "max_steps 300")
        .replace("var refund_id:", "var refund_ref:")
        .replace("set refund_id =", "set refund_ref =");
    let dir = two_files("diff-cli-human", &source.replace("{{refund_id}}", "{{refund_ref}}"));
    let out = flow(&["diff", "--format", "human", "old.flow", "new.flow"], &dir);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "~ workflow: max_steps\n~ node issue_refund: output_mapping\n~ node refund_confirmed: message\n\
         + variable refund_ref\n- variable refund_id\n"
    );
    let same = flow(&["diff", "--format", "human", "old.flow", "old.flow"], &dir);
    assert_eq!(String::from_utf8_lossy(&same.stdout), "no differences\n");
}

#[test]
fn flow_diff_exits_2_on_unreadable_input_naming_the_file() {
    let dir = two_files("diff-cli-bad", &variant("-> fetch_order", "-> fetch_ordr"));
    std::fs::write(dir.join("bad.json"), "{\"schema_version\": 1,").expect("write");
    let cases = [
        (["diff", "old.flow", "missing.flow"], "error: cannot read missing.flow"),
        (
            ["diff", "bad.json", "old.flow"],
            "error: bad.json is not a compiled graph",
        ),
        (["diff", "old.flow", "new.flow"], "error: new.flow has errors"),
    ];
    for (args, expected) in cases {
        let out = flow(&args, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // A file with errors shows its diagnostics, as `flow compile` does.
    let out = flow(&["diff", "old.flow", "new.flow"], &dir);
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0102"));
}
