//! The bundled examples: each compiles clean, deterministically, to a graph
//! that matches the snapshot and validates against the shipped JSON Schema.

use std::path::{Path, PathBuf};

fn examples() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "flow"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 4, "at least four examples");
    paths
}

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/compiled_graph.schema.json")
}

fn compile(path: &Path) -> (String, serde_json::Value) {
    let source = std::fs::read_to_string(path).expect("read example");
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let output = flow_compiler::compile(&source, &name);
    assert!(
        output.diagnostics.is_empty(),
        "{name} must compile without any diagnostic: {:#?}",
        output.diagnostics
    );
    let graph = output.graph.expect("graph");
    let text = serde_json::to_string_pretty(&graph).expect("serialise");
    (text, serde_json::to_value(&graph).expect("value"))
}

#[test]
fn examples_compile_clean_and_match_their_snapshots() {
    for path in examples() {
        let (text, _) = compile(&path);
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(format!("graph_{name}"), text);
    }
}

#[test]
fn compilation_is_deterministic() {
    for path in examples() {
        let (first, _) = compile(&path);
        let (second, _) = compile(&path);
        assert_eq!(first, second, "{} compiled to different bytes", path.display());
    }
}

#[test]
fn shipped_schema_is_generated_from_the_types() {
    let generated = serde_json::to_string_pretty(&flow_graph::json_schema()).expect("schema") + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(schema_path().parent().unwrap()).unwrap();
        std::fs::write(schema_path(), &generated).unwrap();
    }
    let shipped = std::fs::read_to_string(schema_path()).expect("schema file (run with UPDATE_SCHEMA=1 to write it)");
    assert_eq!(
        shipped, generated,
        "schema/compiled_graph.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test --test examples`"
    );
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).expect("schema file")).expect("schema json");
    jsonschema::validator_for(&schema).expect("valid schema")
}

#[test]
fn compiled_examples_validate_against_the_schema() {
    let validator = validator();
    for path in examples() {
        let (_, value) = compile(&path);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn schema_rejects_a_misspelt_or_missing_field() {
    let validator = validator();
    let (_, value) = compile(&examples()[0]);
    assert!(validator.is_valid(&value));

    let mut misspelt = value.clone();
    let start = misspelt.as_object_mut().unwrap().remove("start").unwrap();
    misspelt.as_object_mut().unwrap().insert("strat".into(), start);
    assert!(
        !validator.is_valid(&misspelt),
        "a misspelt top-level field must be rejected"
    );

    let mut node_field = value.clone();
    let node = node_field["nodes"][0].as_object_mut().unwrap();
    let exits = node.remove("exits").unwrap();
    node.insert("exit".into(), exits);
    assert!(
        !validator.is_valid(&node_field),
        "a misspelt node field must be rejected"
    );

    let mut edge_missing = value.clone();
    edge_missing["edges"][0].as_object_mut().unwrap().remove("kind");
    assert!(
        !validator.is_valid(&edge_missing),
        "an edge without `kind` must be rejected"
    );
}
