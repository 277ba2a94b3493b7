//! Fuzzes the whole compiler pipeline: `compile` must never panic, and
//! emitting the graph as JSON must succeed whenever a graph is produced.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let output = flow_compiler::compile(text, "fuzz.flow");
    if let Some(graph) = &output.graph {
        serde_json::to_string(graph).expect("compiled graph serializes to JSON");
    }
});
