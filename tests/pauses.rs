//! Where a person decides a pause: the approval's prompt and deadline, the
//! handoff's queue and message, on the pause notice, in `flow runs`,
//! `flow runs show` and `--trace`; and `flow resume --return --set`.

mod common;

use common::{stored_run, temp_dir};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FLOW: &str = include_str!("terminal/desk.flow");

fn setup(name: &str, choose: &str) -> PathBuf {
    let dir = temp_dir(&format!("pauses-{name}"));
    std::fs::write(dir.join("desk.flow"), FLOW).unwrap();
    let script = format!("[ask]\nreply: Which order?\x1b]0;owned\x07\x1b[2J\nchoose: {choose}\n");
    std::fs::write(dir.join("s.script"), script).unwrap();
    dir
}

fn flow(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(args)
        .current_dir(dir)
        .env_remove("FLOW_STORE")
        .env("API_TOKEN", "token-abcdefgh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn start(dir: &Path) -> (Output, String) {
    let args = [
        "run",
        "desk.flow",
        "--input",
        "customer=Ann",
        "--model",
        "m=scripted:s.script",
        "--trace",
    ];
    let out = flow(dir, &args, "hello\n");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let (id, _) = stored_run(dir).unwrap();
    (out, id)
}

#[test]
fn an_approval_shows_its_prompt_and_deadline_wherever_it_is_decided() {
    let dir = setup("approval", "the customer wants a refund");
    let (out, id) = start(&dir);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("  prompt   Refund Ann 40 EUR?\n"), "{stderr}");
    assert!(stderr.contains("  deadline 20"), "{stderr}");
    assert!(
        stderr.contains("(in 1h 59m)") || stderr.contains("(in 2h 0m)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("paused at check: waiting_for_approval (prompt \"Refund Ann 40 EUR?\", deadline 20"),
        "the --trace line: {stderr}"
    );
    let list = text(&flow(&dir, &["runs"], "").stdout);
    assert!(list.contains("prompt \"Refund Ann 40 EUR?\", deadline 20"), "{list}");
    let show = text(&flow(&dir, &["runs", "show", &id], "").stdout);
    assert!(show.contains("\nprompt    Refund Ann 40 EUR?\n"), "{show}");
    assert!(show.contains("\ndeadline  20"), "{show}");
    let refused = flow(&dir, &["resume", &id], "");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("prompt   Refund Ann 40 EUR?"),
        "a refused resume repeats the prompt"
    );
}

#[test]
fn a_handoff_shows_its_queue_and_message() {
    let dir = setup("handoff", "the customer wants a human");
    let (out, id) = start(&dir);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("  queue    billing\n  message  Help Ann\n"), "{stderr}");
    let list = text(&flow(&dir, &["runs"], "").stdout);
    assert!(list.contains("queue billing, message \"Help Ann\""), "{list}");
    let show = text(&flow(&dir, &["runs", "show", &id], "").stdout);
    assert!(show.contains("\nqueue     billing\nmessage   Help Ann\n"), "{show}");
}

#[test]
fn return_sets_typed_variables_before_on_return() {
    let dir = setup("return-set", "the customer wants a human");
    let (_, id) = start(&dir);
    let refusals: [(&[&str], &str); 5] = [
        (&["--return", "--set", "credit=five"], "--set credit=five: not JSON"),
        (&["--return", "--set", "nope=1"], "unknown variable `nope`"),
        (&["--return", "--set", "customer=Bob"], "`customer` is an input"),
        (&["--return", "--set", "API_TOKEN=x"], "`API_TOKEN` is a secret"),
        (&["--set", "note=x"], "--return"),
    ];
    for (args, expected) in refusals {
        let mut all = vec!["resume", id.as_str()];
        all.extend_from_slice(args);
        let out = flow(&dir, &all, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(expected), "{args:?}: {}", text(&out.stderr));
        let show = text(&flow(&dir, &["runs", "show", &id], "").stdout);
        assert!(show.contains("state     waiting_for_human"), "{args:?} changed the run");
        assert!(
            !show.contains("set note") && !show.contains("set credit"),
            "{args:?} set a variable"
        );
    }
    let out = flow(
        &dir,
        &["resume", &id, "--return", "--set", "note=refunded", "--set", "credit=5"],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Back: refunded (5).\n");
    let show = text(&flow(&dir, &["runs", "show", &id], "").stdout);
    assert!(show.contains("resumed at desk with return"), "{show}");
    assert!(
        show.contains("set note = \"refunded\"") && show.contains("set credit = 5"),
        "{show}"
    );
}

#[test]
fn escape_sequences_from_the_model_are_made_visible() {
    let dir = setup("escapes", "the customer wants a human");
    let (out, id) = start(&dir);
    let stdout = text(&out.stdout);
    assert_eq!(stdout, "Which order?\\x1b]0;owned\\x07\\x1b[2J\n");
    assert!(
        !text(&out.stderr).contains('\x1b'),
        "the trace passes an escape: {}",
        text(&out.stderr)
    );
    let show = text(&flow(&dir, &["runs", "show", &id], "").stdout);
    assert!(show.contains("agent says: Which order?\\x1b]0;owned"), "{show}");
    assert!(!show.contains('\x1b'));
}
