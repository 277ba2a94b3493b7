//! End-to-end tests of the `flow` binary: exit codes, formats, files and folders.

mod common;
use common::{flow, temp_dir};

const CLEAN: &str = "workflow w {\n  start hello\n  model m\n}\n\nmodel m = \"openai:gpt-4o-mini\"\n\nagent hello {\n  \"Say hello.\"\n  -> end\n}\n";
const WARNING: &str = "workflow w {\n  start hello\n  model m\n}\n\nmodel m = \"openai:gpt-4o-mini\"\nvar unused: string = \"\"\n\nagent hello {\n  \"Say hello.\"\n  -> end\n}\n";
const ERROR: &str = "workflow w {\n  start hello\n  model m\n}\n\nmodel m = \"openai:gpt-4o-mini\"\n\nagent hello {\n  \"Say hello.\"\n  -> goodby\n}\n\nend goodbye {\n  outcome done\n}\n";

#[test]
fn check_exit_codes_follow_the_spec() {
    let dir = temp_dir("cli-exit");
    std::fs::write(dir.join("clean.flow"), CLEAN).unwrap();
    std::fs::write(dir.join("warn.flow"), WARNING).unwrap();
    std::fs::write(dir.join("bad.flow"), ERROR).unwrap();
    assert_eq!(flow(&["check", "clean.flow"], &dir).status.code(), Some(0));
    assert_eq!(flow(&["check", "warn.flow"], &dir).status.code(), Some(0));
    assert_eq!(
        flow(&["check", "--deny-warnings", "warn.flow"], &dir).status.code(),
        Some(1)
    );
    assert_eq!(flow(&["check", "bad.flow"], &dir).status.code(), Some(1));
    assert_eq!(flow(&["check", "missing.flow"], &dir).status.code(), Some(2));
    assert_eq!(
        flow(&["check", "--format", "yaml", "clean.flow"], &dir).status.code(),
        Some(2)
    );
    let empty = temp_dir("cli-empty");
    let out = flow(&["check"], &empty);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `.flow` file"));
}

#[test]
fn check_json_reports_every_file_of_a_folder() {
    let dir = temp_dir("cli-json");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/bad.flow"), ERROR).unwrap();
    std::fs::write(dir.join("warn.flow"), WARNING).unwrap();
    let out = flow(&["check", "--format", "json", "."], &dir);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    assert_eq!(report["errors"], 1);
    assert_eq!(
        report["warnings"], 2,
        "W0503 in warn.flow, W0501 for the unreachable `goodbye`"
    );
    let diags = report["diagnostics"].as_array().unwrap();
    let bad = diags.iter().find(|d| d["code"] == "E0102").expect("E0102");
    assert_eq!(bad["file"], "sub/bad.flow");
    assert_eq!((bad["line"].as_u64(), bad["column"].as_u64()), (Some(10), Some(6)));
    assert_eq!(bad["end_column"], 12);
    assert_eq!(bad["help"], "did you mean `goodbye`?");
    assert_eq!(bad["fix"]["edits"][0]["text"], "goodbye");
    assert!(diags.iter().any(|d| d["code"] == "W0503" && d["file"] == "warn.flow"));
}

#[test]
fn human_report_has_no_colour_off_a_terminal_and_ends_with_a_summary() {
    let dir = temp_dir("cli-human");
    std::fs::write(dir.join("bad.flow"), ERROR).unwrap();
    let out = flow(&["check", "bad.flow"], &dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains('\u{1b}'),
        "no escape codes when stdout is not a terminal"
    );
    assert!(text.contains("E0102"));
    assert!(text.contains("unknown node `goodby`"));
    assert!(text.trim_end().ends_with("checked 1 file: 1 error, 1 warning"));
}

#[test]
fn compile_writes_the_graph_or_fails_with_diagnostics() {
    let dir = temp_dir("cli-compile");
    std::fs::write(dir.join("clean.flow"), CLEAN).unwrap();
    std::fs::write(dir.join("bad.flow"), ERROR).unwrap();
    let out = flow(&["compile", "clean.flow", "-o", "out.json"], &dir);
    assert_eq!(out.status.code(), Some(0));
    let graph: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap()).unwrap();
    assert_eq!(graph["start"], "hello");
    assert_eq!(graph["workflow"]["source"]["file"], "clean.flow");
    let stdout = flow(&["compile", "clean.flow"], &dir);
    assert_eq!(
        String::from_utf8_lossy(&stdout.stdout),
        std::fs::read_to_string(dir.join("out.json")).unwrap()
    );
    let bad = flow(&["compile", "bad.flow"], &dir);
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("E0102"));
    assert_eq!(flow(&["compile", "nope.flow"], &dir).status.code(), Some(2));
}

#[test]
fn explain_prints_a_code_or_lists_them_all() {
    let dir = temp_dir("cli-explain");
    let one = flow(&["explain", "E0301"], &dir);
    assert_eq!(one.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&one.stdout).starts_with("# E0301: "));
    let all = flow(&["explain"], &dir);
    let text = String::from_utf8_lossy(&all.stdout);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with('E') || l.starts_with('W'))
            .count(),
        flow_compiler::Code::ALL.len()
    );
    assert_eq!(flow(&["explain", "E9999"], &dir).status.code(), Some(2));
}

#[test]
fn github_format_prints_one_annotation_per_diagnostic() {
    let dir = temp_dir("cli-github");
    std::fs::write(dir.join("bad.flow"), ERROR).unwrap();
    let out = flow(&["check", "--format", "github", "bad.flow"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("::error file=bad.flow,line=10,col=6,endLine=10,endColumn=12,title=E0102::unknown node `goodby`%0Ahelp: did you mean `goodbye`?"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("::warning file=bad.flow,line=13,col=5,"),
        "{}",
        lines[1]
    );
}
