//! Outages: a run that failed because its model (or an HTTP tool) was down is
//! taken up again with `flow resume --retry`, and a model that keeps failing is
//! skipped by its circuit breaker. A local mock (wiremock, 127.0.0.1) plays
//! the OpenAI and Anthropic endpoints; runs go through the `flow` binary.

mod common;

use common::temp_dir;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CHAT: &str = "workflow chat {\n  start talk\n  model m\n}\n\nMODEL\n\nagent talk {\n  \"Chat.\"\n  when \"the user says bye\" -> bye\n}\n\nend bye {\n  outcome done\n}\n";

fn reply(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{ "index": 0, "finish_reason": "stop", "message": { "role": "assistant", "content": text } }]
    }))
}

/// 503 until `up` is set, then a reply (or a `choose_exit` of none).
struct Flaky {
    up: Arc<AtomicBool>,
}

impl Respond for Flaky {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !self.up.load(Ordering::SeqCst) {
            return ResponseTemplate::new(503).set_body_string("overloaded");
        }
        let body: Value = req.body_json().unwrap_or(Value::Null);
        if body.pointer("/tool_choice/function/name").is_some() {
            ResponseTemplate::new(200).set_body_json(json!({
                "choices": [{ "index": 0, "finish_reason": "tool_calls", "message": { "role": "assistant", "content": null,
                    "tool_calls": [{ "id": "c1", "type": "function",
                        "function": { "name": "choose_exit", "arguments": "{\"exit\":\"none\"}" } }] } }]
            }))
        } else {
            reply("Hello again!")
        }
    }
}

fn flow(dir: &Path, server: &MockServer, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(args)
        .current_dir(dir)
        .env_remove("FLOW_STORE")
        .env("OPENAI_BASE_URL", format!("{}/v1", server.uri()))
        .env("OPENAI_API_KEY", "sk-test-outage-0000")
        .env("ANTHROPIC_BASE_URL", server.uri())
        .env("ANTHROPIC_API_KEY", "sk-ant-test-outage-0000")
        .env("FLOW_RETRY_BASE_MS", "1")
        .env("FLOW_RETRY_MAX_MS", "2")
        .env("FLOW_MODEL_RETRIES", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flow");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    child.wait_with_output().expect("flow ran")
}

fn events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn setup(name: &str, model: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("chat.flow"), CHAT.replace("MODEL", model)).unwrap();
    dir
}

#[tokio::test]
async fn a_run_failed_on_an_outage_is_retried_once_the_model_is_back() {
    let server = MockServer::start().await;
    let up = Arc::new(AtomicBool::new(false));
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Flaky { up: Arc::clone(&up) })
        .mount(&server)
        .await;
    let dir = setup("outage-retry", "model m = \"openai:gpt-test\"");
    let run = ["run", "chat.flow", "--events", "events.jsonl"];
    let out = flow(&dir, &server, &run, "", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let first = events(&dir);
    let failed = of_type(&first, "run_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["retryable"], true, "{}", failed[0]);
    let id = first[0]["run_id"].as_str().unwrap().to_string();

    // While it is down, a plain resume says how to go on.
    let out = flow(&dir, &server, &["resume", &id], "", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--retry"), "{}", text(&out));

    up.store(true, Ordering::SeqCst);
    let out = flow(
        &dir,
        &server,
        &["resume", &id, "--retry", "--events", "events.jsonl"],
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello again!\n");
    let all = events(&dir);
    let seqs: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=all.len() as u64).collect::<Vec<_>>(), "seqs stay gap-free");
    let resumed = of_type(&all, "resumed");
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0]["with"], "retry");
    assert_eq!(of_type(&all, "node_entered").len(), 1, "the node is not entered again");
    let calls = of_type(&all, "llm_call");
    assert!(calls.first().unwrap()["error"].is_string());
    assert!(
        calls.last().unwrap()["error"].is_null(),
        "the failed reply was asked again"
    );
    assert_eq!(of_type(&all, "message").len(), 1);

    // The run goes on as any other: a message ends it.
    let out = flow(&dir, &server, &["resume", &id, "--retry"], "", &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a waiting run is not retried: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("only a failed run can be retried"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn a_failure_a_retry_would_not_cure_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(400).set_body_string("bad request"))
        .mount(&server)
        .await;
    let dir = setup("outage-fatal", "model m = \"openai:gpt-test\"");
    let out = flow(
        &dir,
        &server,
        &["run", "chat.flow", "--events", "events.jsonl"],
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let first = events(&dir);
    assert!(of_type(&first, "run_failed")[0].get("retryable").is_none());
    let id = first[0]["run_id"].as_str().unwrap().to_string();
    let out = flow(&dir, &server, &["resume", &id, "--retry"], "", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("a retry would not cure"), "{}", text(&out));
}

#[tokio::test]
async fn a_dead_primary_is_skipped_while_its_breaker_is_open() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(move |req: &Request| {
            let body: Value = req.body_json().unwrap_or(Value::Null);
            let content = if body.get("tool_choice").is_some() {
                json!([{ "type": "tool_use", "id": "t1", "name": "choose_exit", "input": { "exit": "none" } }])
            } else {
                json!([{ "type": "text", "text": "From the fallback." }])
            };
            ResponseTemplate::new(200).set_body_json(json!({ "content": content, "stop_reason": "end_turn" }))
        })
        .mount(&server)
        .await;
    let dir = setup(
        "outage-breaker",
        "model m = \"openai:gpt-test\" fallback \"anthropic:claude-test\"",
    );
    let out = flow(
        &dir,
        &server,
        &["run", "chat.flow", "--events", "events.jsonl"],
        "one\ntwo\nthree\n",
        &[("FLOW_MODEL_RETRIES", "0"), ("FLOW_BREAKER_COOLDOWN_MS", "600000")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = events(&dir);
    let openai: Vec<&Value> = of_type(&all, "llm_call")
        .into_iter()
        .filter(|c| c["provider"] == "openai")
        .collect();
    assert!(openai.len() > 3, "{openai:?}");
    let skipped: Vec<&&Value> = openai.iter().filter(|c| c["skipped"] == true).collect();
    assert_eq!(
        skipped.len(),
        openai.len() - 3,
        "every call after the third skips the primary"
    );
    assert!(
        skipped
            .iter()
            .all(|c| c["error"].as_str().unwrap().contains("circuit breaker is open"))
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("From the fallback.")
            .count(),
        4
    );
    server.verify().await;
}
