//! `flow run` in a pseudo-terminal (rexpect): colour and `NO_COLOR`, escape
//! sequences from the model made visible, the spinner of a slow model call,
//! Ctrl-C at the prompt and during a call, and `flow resume` repeating the
//! agent's last message.
#![cfg(unix)]

mod common;

use common::{stored_run, temp_dir};
use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const FLOW: &str = include_str!("terminal/desk.flow");
const SCRIPT: &str = "[ask]\nreply: Which order?\nreply: Anything else?\nchoose: none\nchoose: none\n";

fn setup(name: &str, script: &str) -> PathBuf {
    let dir = temp_dir(&format!("terminal-{name}"));
    std::fs::write(dir.join("desk.flow"), FLOW).unwrap();
    std::fs::write(dir.join("s.script"), script).unwrap();
    dir
}

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flow"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("FLOW_STORE")
        .env_remove("NO_COLOR")
        .env("API_TOKEN", "token-abcdefgh")
        .envs(env.iter().copied());
    command
}

fn pty(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> PtySession {
    spawn_command(command(dir, args, env), Some(20_000)).expect("start flow in a pty")
}

const SCRIPTED: [&str; 6] = [
    "run",
    "desk.flow",
    "--input",
    "customer=Ann",
    "--model",
    "m=scripted:s.script",
];

fn exit_code(p: &PtySession) -> i32 {
    match p.process().wait().expect("wait for flow") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("flow did not exit: {other:?}"),
    }
}

fn show(dir: &Path, id: &str) -> String {
    let out = command(dir, &["runs", "show", id], &[]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn colour_on_a_terminal_and_none_with_no_color() {
    let dir = setup("colour", SCRIPT);
    let mut p = pty(&dir, &SCRIPTED, &[]);
    p.exp_string("\x1b[36mWhich order?\x1b[0m")
        .expect("the agent line in colour");
    p.exp_string("\x1b[1;32m> ").expect("the prompt in colour");
    p.send_control('d').unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("\x1b[33mrun "), "the pause notice in colour: {rest:?}");
    assert_eq!(exit_code(&p), 3);

    let dir = setup("no-colour", SCRIPT);
    let mut p = pty(&dir, &SCRIPTED, &[("NO_COLOR", "1")]);
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    let all = p.exp_eof().unwrap();
    assert!(!all.contains('\x1b'), "colour with NO_COLOR: {all:?}");
    assert_eq!(exit_code(&p), 3);
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    let dir = setup(
        "escapes",
        "[ask]\nreply: Hi\x1b]0;owned\x07\x1b[2J there\nchoose: none\n",
    );
    let mut p = pty(&dir, &[&SCRIPTED[..], &["--trace"]].concat(), &[("NO_COLOR", "1")]);
    p.exp_string("Hi\\x1b]0;owned\\x07\\x1b[2J there")
        .expect("the reply made visible");
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(!rest.contains('\x1b'), "{rest:?}");
    assert_eq!(exit_code(&p), 3);
}

#[test]
fn with_trace_on_one_terminal_each_agent_line_once() {
    let dir = setup("trace-once", SCRIPT);
    let mut p = pty(&dir, &[&SCRIPTED[..], &["--trace"]].concat(), &[("NO_COLOR", "1")]);
    let before = p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    let all = before + &p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 3);
    let (id, _) = stored_run(&dir).unwrap();
    let all = format!("{all}{}", show(&dir, &id));
    assert!(all.contains("enter ask (agent)"), "the trace is shown: {all}");
    assert_eq!(
        all.matches("Which order?").count(),
        2,
        "once live, once in `runs show`: {all}"
    );
}

#[test]
fn ctrl_c_at_the_prompt_checkpoints_and_resume_repeats_the_last_message() {
    let dir = setup("ctrl-c", SCRIPT);
    let mut p = pty(&dir, &SCRIPTED, &[("NO_COLOR", "1")]);
    p.exp_string("Which order?").unwrap();
    p.exp_string("> ").unwrap();
    p.send_line("order A-7").unwrap();
    p.exp_string("Anything else?").expect("the line is answered");
    p.exp_string("> ").unwrap();
    p.send("half a li").unwrap();
    p.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.send_control('c').unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("paused: waiting_for_user at `ask`"), "{rest}");
    assert!(rest.contains("continue with: flow resume "), "{rest}");
    assert_eq!(exit_code(&p), 130);
    let (id, state) = stored_run(&dir).unwrap();
    assert_eq!(state, "waiting_for_user");
    let history = show(&dir, &id);
    assert!(history.contains("user says: order A-7"), "{history}");
    assert!(!history.contains("half a li"), "a partial line was sent: {history}");

    let mut p = pty(&dir, &["resume", &id], &[("NO_COLOR", "1")]);
    let before = p.exp_string("> ").unwrap();
    assert!(
        before.contains("Anything else?"),
        "resume repeats the last message: {before:?}"
    );
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 3);
}

fn slow_model(delay: Duration) -> (tokio::runtime::Runtime, MockServer) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = tokio.block_on(async {
        let server = MockServer::start().await;
        let reply = serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
            "choices": [{ "index": 0, "finish_reason": "stop",
                          "message": { "role": "assistant", "content": "Slow hello" } }],
            "usage": { "prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18 }
        });
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(reply).set_delay(delay))
            .mount(&server)
            .await;
        server
    });
    (tokio, server)
}

fn openai_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
        ("OPENAI_API_KEY", "sk-test-terminal".to_string()),
        ("NO_COLOR", "1".to_string()),
    ]
}

#[test]
fn a_slow_model_call_shows_a_spinner_then_erases_it() {
    let (_tokio, server) = slow_model(Duration::from_millis(1500));
    let dir = setup("spinner", SCRIPT);
    let env = openai_env(&server);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut p = pty(&dir, &["run", "desk.flow", "--input", "customer=Ann"], &env);
    let started = std::time::Instant::now();
    p.exp_string("waiting for model `m` (openai:gpt-4o-mini) at `ask`")
        .expect("a spinner line");
    let first = started.elapsed();
    let between = p.exp_string("Slow hello").unwrap();
    assert!(first < Duration::from_millis(1200), "the spinner came late: {first:?}");
    let redraws = between.matches("waiting for model").count();
    assert!(redraws >= 4, "redrawn at least every 0.5 s: {redraws} in {between:?}");
    assert!(between.ends_with("\r\x1b[2K"), "erased before the reply: {between:?}");
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 3);
}

#[test]
fn no_spinner_when_stderr_is_not_a_terminal() {
    let (_tokio, server) = slow_model(Duration::from_millis(700));
    let dir = setup("no-spinner", SCRIPT);
    let out = command(&dir, &["run", "desk.flow", "--input", "customer=Ann"], &[])
        .envs(openai_env(&server))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("waiting for"));
}

#[test]
fn ctrl_c_during_a_model_call_keeps_the_last_checkpoint() {
    let (_tokio, server) = slow_model(Duration::from_secs(30));
    let dir = setup("ctrl-c-call", SCRIPT);
    let env = openai_env(&server);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // Before the first step is committed there is no run to resume.
    let mut p = pty(&dir, &["run", "desk.flow", "--input", "customer=Ann"], &env);
    p.exp_string("waiting for model").unwrap();
    p.send_control('c').unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("there is nothing to resume"), "{rest}");
    assert_eq!(exit_code(&p), 130);
    assert!(stored_run(&dir).is_none());

    // A run at its prompt, resumed against the slow model and interrupted mid-call.
    let mut p = pty(&dir, &SCRIPTED, &env);
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 3);
    let (id, _) = stored_run(&dir).unwrap();
    let before = show(&dir, &id);
    let mut p = pty(&dir, &["resume", &id, "--model", "m=openai:gpt-4o-mini"], &env);
    p.exp_string("> ").unwrap();
    p.send_line("order A-7").unwrap();
    p.exp_string("waiting for model").unwrap();
    p.send_control('c').unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("your last message was not answered: order A-7"), "{rest}");
    assert!(
        rest.contains(&format!("run {id} stays at its last checkpoint")),
        "{rest}"
    );
    assert_eq!(exit_code(&p), 130);
    assert_eq!(stored_run(&dir).unwrap().1, "waiting_for_user");
    let after = show(&dir, &id);
    let history = |t: &str| t[t.find("history").unwrap()..].to_string();
    assert_eq!(history(&after), history(&before), "nothing half-done was committed");

    let out = command(&dir, &["resume", &id, "--model", "m=scripted:s.script"], &[])
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}
