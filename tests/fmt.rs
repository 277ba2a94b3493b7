//! `flow fmt`: the formatter keeps meaning, is idempotent and ignores the
//! author's indentation, over every example and every test case without
//! syntax errors; and the command's exit codes and `--check`.

mod common;
use common::{flow, temp_dir};
use flow_compiler::format::format;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn flow_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            flow_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "flow") {
            out.push(path);
        }
    }
}

fn is_syntax_code(code: &str) -> bool {
    matches!(code, "E0001" | "E0002" | "E0003")
}

fn codes(source: &str) -> Vec<String> {
    let mut codes: Vec<String> = flow_compiler::compile(source, "x.flow")
        .diagnostics
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    codes.sort();
    codes
}

/// Every example, case and formatter fixture: (path, source, has syntax errors).
fn corpus() -> Vec<(PathBuf, String, bool)> {
    let mut paths = Vec::new();
    for dir in ["examples", "tests/cases", "tests/fmt"] {
        flow_files(&root().join(dir), &mut paths);
    }
    assert!(paths.len() > 50, "the corpus is missing files");
    paths
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).expect("read");
            let syntax = codes(&source).iter().any(|c| is_syntax_code(c));
            (path, source, syntax)
        })
        .collect()
}

/// The files without syntax errors, with their formatted text.
fn formatted_corpus() -> Vec<(PathBuf, String, String)> {
    corpus()
        .into_iter()
        .filter(|(_, _, syntax)| !syntax)
        .map(|(path, source, _)| {
            let formatted =
                format(&source).unwrap_or_else(|e| panic!("{}: refused without syntax errors: {e:#?}", path.display()));
            (path, source, formatted)
        })
        .collect()
}

#[test]
fn files_with_syntax_errors_are_refused() {
    let mut refused = 0;
    for (path, source, syntax) in corpus() {
        if !syntax {
            continue;
        }
        let errors = format(&source).expect_err(&format!("{} has syntax errors", path.display()));
        assert!(!errors.is_empty());
        assert!(
            errors.iter().all(|d| is_syntax_code(&d.code.to_string())),
            "{}: only syntax errors are returned",
            path.display()
        );
        refused += 1;
    }
    assert!(refused >= 5, "the corpus has files with syntax errors");
}

#[test]
fn formatting_is_idempotent() {
    for (path, _, formatted) in formatted_corpus() {
        let again = format(&formatted).unwrap_or_else(|e| panic!("{}: {e:#?}", path.display()));
        assert_eq!(again, formatted, "{}: formatting twice differs", path.display());
    }
}

#[test]
fn formatted_files_have_the_canonical_shape() {
    for (path, _, formatted) in formatted_corpus() {
        let name = path.display();
        assert!(
            formatted.is_empty() || (formatted.ends_with('\n') && !formatted.ends_with("\n\n")),
            "{name}: must end with exactly one line break"
        );
        assert!(!formatted.contains("\n\n\n"), "{name}: two blank lines in a row");
        assert!(!formatted.contains('\r') && !formatted.contains('\t'), "{name}");
        for line in formatted.lines() {
            assert_eq!(line, line.trim_end(), "{name}: trailing white space");
            let indent = line.len() - line.trim_start().len();
            assert_eq!(indent % 2, 0, "{name}: odd indentation in {line:?}");
        }
    }
}

/// The graph as JSON, without what depends on the layout.
fn graph_value(source: &str) -> Option<serde_json::Value> {
    let graph = flow_compiler::compile(source, "x.flow").graph?;
    let mut value = serde_json::to_value(&graph).expect("graph json");
    value["workflow"]["source"]["sha256"] = serde_json::Value::Null;
    for node in value["nodes"].as_array_mut().expect("nodes") {
        node["span"] = serde_json::Value::Null;
    }
    Some(value)
}

#[test]
fn formatting_keeps_the_compiled_graph() {
    let mut graphs = 0;
    for (path, source, formatted) in formatted_corpus() {
        let before = graph_value(&source);
        let after = graph_value(&formatted);
        assert_eq!(
            before.is_some(),
            after.is_some(),
            "{}: compiles to a graph before or after only",
            path.display()
        );
        if let (Some(before), Some(after)) = (before, after) {
            assert_eq!(after, before, "{}: the graph changed", path.display());
            graphs += 1;
        }
    }
    assert!(graphs >= 10, "the corpus has files that compile");
}

#[test]
fn formatting_keeps_the_diagnostic_codes() {
    for (path, source, formatted) in formatted_corpus() {
        assert_eq!(
            codes(&formatted),
            codes(&source),
            "{}: the diagnostics changed",
            path.display()
        );
    }
}

/// Every line moved right by four spaces (prose blocks included).
fn indent_all(source: &str) -> String {
    source.lines().map(|l| format!("    {l}\n")).collect()
}

/// Every line outside prose blocks stripped of its indentation.
fn strip_indentation(source: &str) -> String {
    let mut in_prose = false;
    let mut out = String::new();
    for line in source.lines() {
        out.push_str(if in_prose { line } else { line.trim_start() });
        out.push('\n');
        if line.matches("\"\"\"").count() % 2 == 1 {
            in_prose = !in_prose;
        }
    }
    out
}

#[test]
fn any_reindentation_formats_to_the_same_bytes() {
    for (path, _, formatted) in formatted_corpus() {
        for (how, changed) in [
            ("indented by four spaces", indent_all(&formatted)),
            ("stripped of indentation", strip_indentation(&formatted)),
        ] {
            let again = format(&changed).unwrap_or_else(|e| panic!("{} {how}: {e:#?}", path.display()));
            assert_eq!(again, formatted, "{} {how}: formats differently", path.display());
        }
    }
    for (path, source, formatted) in formatted_corpus() {
        let again = format(&indent_all(&source)).expect("no syntax errors");
        assert_eq!(again, formatted, "{} indented: formats differently", path.display());
    }
}

#[test]
fn comments_stay_in_every_position() {
    let source = std::fs::read_to_string(root().join("tests/fmt/comments.flow")).expect("fixture");
    let formatted = format(&source).expect("the fixture has no syntax errors");
    insta::assert_snapshot!("comments", formatted);
    let mut comments = 0;
    for line in source.lines() {
        if let Some(at) = line.find('#') {
            let comment = line[at..].trim_end();
            assert!(formatted.contains(comment), "lost comment: {comment}");
            comments += 1;
        }
    }
    assert!(comments >= 20);
    assert_eq!(
        formatted.matches('#').count(),
        source.matches('#').count(),
        "as many comments after as before"
    );
}

#[test]
fn small_layout_decisions() {
    let cases = [
        // One-line blocks open up; an empty block stays `{}`.
        (
            "workflow w { start a }\nend a {}\n",
            "workflow w {\n  start a\n}\n\nend a {}\n",
        ),
        // The workflow comes first with its comment; declarations stay grouped.
        (
            "var a: int = 1\nvar b: int = 2\n# the workflow\nworkflow w {\nstart x\n}\nsay x {\n\"hi\"\n-> end\n}\n",
            "# the workflow\nworkflow w {\n  start x\n}\n\nvar a: int = 1\nvar b: int = 2\n\nsay x {\n  \"hi\"\n  -> end\n}\n",
        ),
        // Spacing of operators, brackets, objects and optional types.
        (
            "input  x :{a:[ string ]  ,b:int?}={a:[\"q\"],b:-1}\n",
            "input x: { a: [string], b: int? } = { a: [\"q\"], b: -1 }\n",
        ),
        // Blank lines: at most one, none after `{` or before `}`; file end.
        ("\n\n\nvar a: int\n\n\n\nvar b: int\n\n\n", "var a: int\n\nvar b: int\n"),
        ("", ""),
        ("# only a comment   \n\n\n", "# only a comment\n"),
    ];
    for (source, expected) in cases {
        assert_eq!(format(source).expect("formats"), expected, "formatting {source:?}");
    }
}

#[test]
fn crlf_line_ends_and_prose_are_handled() {
    let source = "workflow w {\r\n  start a\r\n  instructions \"\"\"\r\n        Hello.\r\n          Indented.\r\n        \"\"\"\r\n}\r\n";
    let expected = "workflow w {\n  start a\n  instructions \"\"\"\n    Hello.\n      Indented.\n    \"\"\"\n}\n";
    assert_eq!(format(source).expect("formats"), expected);
}

// ---------------------------------------------------------------------------
// The command

#[test]
fn fmt_check_then_fmt_then_check_again() {
    let dir = temp_dir("fmt-check");
    let source = std::fs::read_to_string(root().join("tests/fmt/comments.flow")).unwrap();
    std::fs::write(dir.join("messy.flow"), &source).unwrap();

    let out = flow(&["fmt", "--check", "messy.flow"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("messy.flow"));
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.flow")).unwrap(),
        source,
        "--check writes nothing"
    );

    let out = flow(&["fmt", "messy.flow"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.flow")).unwrap(),
        format(&source).unwrap()
    );

    let out = flow(&["fmt", "--check", "."], &dir);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn fmt_leaves_a_file_with_syntax_errors_untouched() {
    let dir = temp_dir("fmt-syntax");
    let broken = "workflow w {\n    start a\n}\n\nsay a {\n  \"unterminated\n  -> end\n}\n";
    assert!(format(broken).is_err());
    std::fs::write(dir.join("broken.flow"), broken).unwrap();
    std::fs::write(dir.join("fine.flow"), "workflow w {\n      start a\n}\n").unwrap();
    for args in [&["fmt", "--check", "."][..], &["fmt", "."][..]] {
        let out = flow(args, &dir);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("E0002") && stderr.contains("broken.flow"), "{stderr}");
        assert_eq!(std::fs::read_to_string(dir.join("broken.flow")).unwrap(), broken);
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("fine.flow")).unwrap(),
        "workflow w {\n  start a\n}\n",
        "the other files are still formatted"
    );
}

#[test]
fn fmt_usage_errors_exit_2() {
    let dir = temp_dir("fmt-usage");
    assert_eq!(flow(&["fmt", "missing.flow"], &dir).status.code(), Some(2));
    let out = flow(&["fmt"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `.flow` file"));
    assert_eq!(flow(&["fmt", "--chek"], &dir).status.code(), Some(2));
}

#[test]
fn the_examples_are_formatted() {
    let out = flow(&["fmt", "--check", "examples"], root());
    assert_eq!(
        out.status.code(),
        Some(0),
        "run `flow fmt examples`: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
