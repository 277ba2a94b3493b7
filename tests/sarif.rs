//! `flow check --format sarif` is valid SARIF 2.1.0 (checked against the
//! vendored OASIS schema), with one rule per code and regions on results.

mod common;

use std::path::Path;

/// `flow check --format sarif` over some case folders, run from the repository root.
fn sarif_of(folders: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec!["check", "--format", "sarif"];
    args.extend_from_slice(folders);
    let out = common::flow(&args, Path::new(env!("CARGO_MANIFEST_DIR")));
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).expect("SARIF is JSON"),
    )
}

#[test]
fn sarif_output_validates_against_the_sarif_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (status, log) = sarif_of(&["tests/cases/E0102", "tests/cases/E0301", "tests/cases/W0503"]);
    assert_eq!(status, Some(1));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tests/data/sarif-2.1.0-rtm.5.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), flow_compiler::Code::ALL.len(), "one rule per code");
    for rule in rules {
        assert!(!rule["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(rule["help"]["text"].as_str().unwrap().contains("## Wrong"));
    }
    let results = run["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "E0102"));
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "W0503" && r["level"] == "warning")
    );
    for result in results {
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    // A did-you-mean fix is carried as a SARIF fix.
    assert!(
        results
            .iter()
            .any(|r| r["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"].is_string())
    );
}

#[test]
fn sarif_of_the_test_cases_matches_its_snapshot() {
    let (_, mut log) = sarif_of(&["tests/cases/E0102", "tests/cases/E0204", "tests/cases/W0504"]);
    // The rules repeat the explanations, which have snapshots of their own (docs/diagnostics.md).
    log["runs"][0]["tool"]["driver"]["rules"] = serde_json::json!("<one rule per code>");
    log["runs"][0]["tool"]["driver"]["version"] = serde_json::json!("<version>");
    insta::assert_json_snapshot!(log);
}

/// `flow check --format sarif` of the W0503 cases with `FLOW_DOCS_URL` set to `docs`.
fn sarif_with_docs_url(docs: &str) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(["check", "--format", "sarif", "tests/cases/W0503"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("FLOW_DOCS_URL", docs)
        .output()
        .expect("run flow");
    serde_json::from_slice(&out.stdout).expect("SARIF is JSON")
}

#[test]
fn rules_link_to_the_docs_only_when_flow_docs_url_is_an_absolute_uri() {
    // By default there is no link (the tests run `flow` without FLOW_DOCS_URL).
    let (_, log) = sarif_of(&["tests/cases/W0503"]);
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r.get("helpUri").is_none()));

    let base = "https://git.example.com/acme/flow/blob/main/docs/diagnostics.md";
    let log = sarif_with_docs_url(base);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tests/data/sarif-2.1.0-rtm.5.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(validator.is_valid(&log));
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let w0503 = rules.iter().find(|r| r["id"] == "W0503").unwrap();
    assert_eq!(w0503["helpUri"], format!("{base}#w0503-declared-but-never-used"));
    // The anchor is the one docs/diagnostics.md's index links to.
    let docs = std::fs::read_to_string(root.join("docs/diagnostics.md")).unwrap();
    assert!(docs.contains("(#w0503-declared-but-never-used)"));

    // A relative path is not a URI SARIF accepts: left out.
    let log = sarif_with_docs_url("docs/diagnostics.md");
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r.get("helpUri").is_none()));
}
