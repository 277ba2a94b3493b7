//! Quoted names compile to JSONPaths the runtime parses (RFC 9535, through
//! `serde_json_path`): bracket members for names that are not identifiers,
//! and the real names in JSON Schemas and argument mappings.

use serde_json::{Value, json};

const SOURCE: &str = r#"
workflow demo {
  start lookup
}

type Reply {
  "number": int
  "page-size": int?
  "it's": { "end": string }?
}

tool list("page-size": int, "end": string) -> Reply {
  host
}

var reply: Reply?
var n: int = 0
var size: int = 0
var ends: string = ""

action lookup {
  call list("page-size": 20, "end": "x")
  set reply = result
  set n = result."number"
  set size = result."page-size" ?? 0
  set ends = result."it's"?."end" ?? ""
  -> end
  on error -> end
}
"#;

fn paths(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(p)) = map.get("path") {
                out.push(p.clone());
            }
            map.values().for_each(|v| paths(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| paths(v, out)),
        _ => {}
    }
}

#[test]
fn quoted_names_compile_to_bracket_paths_and_real_property_names() {
    let output = flow_compiler::compile(SOURCE, "demo.flow");
    assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics);
    let graph = output.graph.expect("a graph");
    let value = serde_json::to_value(&graph).unwrap();
    let mut found = Vec::new();
    paths(&value["nodes"], &mut found);
    for want in [
        "$.result",
        "$.result.number",
        "$.result['page-size']",
        "$.result['it\\'s'].end",
    ] {
        assert!(found.iter().any(|p| p == want), "no path {want} in {found:?}");
    }
    let tool = &value["tools"][0];
    assert_eq!(tool["input_schema"]["required"], json!(["page-size", "end"]));
    assert!(tool["output_schema"]["properties"]["page-size"].is_object());
    assert!(tool["output_schema"]["properties"]["it's"].is_object());
    let action = value["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "lookup")
        .unwrap();
    let keys: Vec<&String> = action["input_mapping"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["page-size", "end"]);
    // The runtime parses every path of the graph when it loads it.
    flow_runtime::Program::new(graph).expect("the runtime loads the graph");
}
