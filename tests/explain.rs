//! Every code has a long explanation whose "wrong" example really produces
//! that code and whose "right" example compiles clean; docs/diagnostics.md is
//! generated from them.

use flow_compiler::Code;
use flow_compiler::codes::{explanation_examples, index_markdown};
use std::path::Path;

#[test]
fn every_code_has_an_explanation_with_working_examples() {
    for code in Code::ALL {
        let text = code.explanation();
        assert!(
            text.starts_with(&format!("# {code}: ")),
            "{code}: the explanation must start with `# {code}: title`"
        );
        let (wrong, right) = explanation_examples(text);
        let wrong = wrong.unwrap_or_else(|| panic!("{code}: no ```flow block under ## Wrong"));
        let right = right.unwrap_or_else(|| panic!("{code}: no ```flow block under ## Right"));
        let found: Vec<Code> = flow_compiler::compile(wrong, "wrong.flow")
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect();
        assert!(found.contains(code), "{code}: the wrong example reports {found:?}");
        let right_output = flow_compiler::compile(right, "right.flow");
        assert!(
            right_output.diagnostics.is_empty(),
            "{code}: the right example is not clean: {:?}",
            right_output.diagnostics
        );
    }
}

#[test]
fn diagnostics_index_is_in_sync() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
    let generated = index_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        shipped, generated,
        "docs/diagnostics.md is stale: run `UPDATE_DOCS=1 cargo test --test explain`"
    );
}
