//! Hardening (issue 11): secrets that must not escape, tool urls that must not
//! traverse, tool calls and extracted values that must stay bounded, stubs
//! that must not go live. Whole runs go through the `flow` binary against
//! local mock servers (wiremock on 127.0.0.1); every workflow's `MOCK_URL` is
//! replaced by the mock's address.

mod common;

use common::{flow, temp_dir};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[path = "hardening/support.rs"]
mod support;
use support::*;

// ------------------------------------------------------------ redirects

const HOP: &str = r#"
workflow hop {
  start send
}

secret API_TOKEN

tool notify(text: string) -> { ok: bool } {
  http POST "MOCK_URL/notify"
  body { token: secret.API_TOKEN, text: text }
}

tool query(text: string) -> { ok: bool } {
  http GET "MOCK_URL/query?key={{secret.API_TOKEN}}"
}

tool plain(text: string) -> { ok: bool } {
  http POST "MOCK_URL/plain"
  header "X-Token" = "{{secret.API_TOKEN}}"
}

action send {
  call notify(text: "hello")
  on error -> ask
  -> ask
}

action ask {
  call query(text: "hello")
  on error -> tell
  -> tell
}

action tell {
  call plain(text: "hello")
  on error -> end
  -> end
}
"#;

/// A secret in a POST body (307) or in the url (302) is not carried to another
/// origin: the redirect is a tool error and the other origin gets nothing;
/// without a secret in body or url the redirect is followed (headers dropped).
#[tokio::test]
async fn redirects_to_another_origin_refuse_secrets_in_body_or_url() {
    let home = MockServer::start().await;
    let away = MockServer::start().await;
    let to = |p: &str| ResponseTemplate::new(307).insert_header("Location", format!("{}{p}", away.uri()).as_str());
    Mock::given(path("/notify"))
        .respond_with(to("/stolen-body"))
        .mount(&home)
        .await;
    Mock::given(path("/query"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", format!("{}/stolen-url", away.uri()).as_str()),
        )
        .mount(&home)
        .await;
    Mock::given(path("/plain"))
        .respond_with(to("/plain"))
        .mount(&home)
        .await;
    Mock::given(path("/plain"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "ok": true })))
        .mount(&away)
        .await;
    let secret = "tok-redirect-5f1e2a7b";
    let fx = Fixture::new("redirects", HOP, &home);
    let o = fx.run(&[], "", &[("API_TOKEN", secret)]);
    assert_eq!(o.code, Some(0), "{}", o.show());
    let results = o.of_type("tool_result");
    assert_eq!(results.len(), 3, "{}", o.show());
    let body = results[0]["error"].as_str().unwrap_or_default();
    assert!(body.contains("refused a redirect to another origin"), "{body}");
    assert!(body.contains("body"), "{body}");
    let url = results[1]["error"].as_str().unwrap_or_default();
    assert!(
        url.contains("refused a redirect to another origin") && url.contains("url"),
        "{url}"
    );
    assert_eq!(results[2]["output"], json!({ "ok": true }), "{}", o.show());
    let reached: Vec<String> = away
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        reached,
        ["/plain"],
        "only the request without a secret in body or url went away"
    );
    let plain = &away.received_requests().await.unwrap()[0];
    assert!(plain.headers.get("x-token").is_none(), "the secret header was dropped");
    fx.assert_hidden(secret, &o);
}

// ------------------------------------------------------------ encoded secrets

const ECHO: &str = r#"
workflow echo {
  start desk
  model m
}

model m = "openai:gpt-test"

secret API_TOKEN

tool echo(n: string) -> { raw: string, pct: string, form: string, nested: string, upper: string } {
  description "Echoes the caller's credentials, as a careless service does."
  http GET "MOCK_URL/echo/{{n}}"
  header "Authorization" = "Bearer {{secret.API_TOKEN}}"
}

tool broken(n: string) -> { ok: bool } {
  description "Answers 404 with the credentials in its body."
  http GET "MOCK_URL/broken/{{n}}"
  header "Authorization" = "Bearer {{secret.API_TOKEN}}"
}

agent desk {
  "Help."
  tools echo, broken
  when "the user is done" -> end
}
"#;

/// Echoes the `Authorization` token in every form a service might use.
struct EchoToken;

impl Respond for EchoToken {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let token = auth.strip_prefix("Bearer ").unwrap_or(auth);
        ResponseTemplate::new(200).set_body_json(json!({
            "raw": format!("you sent {token}"),
            "pct": format!("?t={}", percent(token, false)),
            "form": format!("t={}", form(token)),
            "nested": json!({ "token": token }).to_string(),
            "upper": percent(token, true),
        }))
    }
}

/// Answers 404 with the token percent-encoded in the body.
struct Broken;

impl Respond for Broken {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let token = auth.strip_prefix("Bearer ").unwrap_or(auth);
        ResponseTemplate::new(404).set_body_string(format!("no route /x?token={}", percent(token, true)))
    }
}

/// A secret with `" \ + / = %` and a space, echoed back by tools in every
/// encoding, reaches neither the model, the events, the trace, stdout, the
/// store nor `flow runs show`, in any form.
#[tokio::test]
async fn encoded_secrets_never_escape() {
    let server = MockServer::start().await;
    Mock::given(path_regex("^/echo/"))
        .respond_with(EchoToken)
        .mount(&server)
        .await;
    Mock::given(path_regex("^/broken/"))
        .respond_with(Broken)
        .mount(&server)
        .await;
    let calls = json!([
        { "id": "c1", "type": "function", "function": { "name": "echo", "arguments": "{\"n\":\"1\"}" } },
        { "id": "c2", "type": "function", "function": { "name": "broken", "arguments": "{\"n\":\"2\"}" } }
    ]);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Replies::new(vec![oa_calls(calls), oa_text("All done.")]))
        .mount(&server)
        .await;
    let secret = r#"Tk"a\b+c/d=e%f g-12"#;
    let fx = Fixture::new("encoded", ECHO, &server);
    let o = fx.run(&["--trace"], "", &openai_env(&server, &[("API_TOKEN", secret)]));
    assert_eq!(o.code, Some(3), "{}", o.show());
    let results = o.of_type("tool_result");
    assert_eq!(results.len(), 2, "{}", o.show());
    let output = &results[0]["output"];
    assert_eq!(output["raw"], "you sent [secret API_TOKEN]", "{output}");
    assert_eq!(output["pct"], "?t=[secret API_TOKEN]", "{output}");
    assert_eq!(output["form"], "t=[secret API_TOKEN]", "{output}");
    assert_eq!(output["nested"], r#"{"token":"[secret API_TOKEN]"}"#, "{output}");
    assert_eq!(output["upper"], "[secret API_TOKEN]", "{output}");
    let error = results[1]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("HTTP 404") && error.contains("token=[secret API_TOKEN]"),
        "{error}"
    );
    let model_requests = server.received_requests().await.unwrap();
    let to_model: Vec<&Request> = model_requests
        .iter()
        .filter(|r| r.url.path() == "/v1/chat/completions")
        .collect();
    assert_eq!(to_model.len(), 2, "one request with the results");
    for req in &to_model {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        assert_no_form_of(secret, &body, "a model request");
    }
    fx.assert_hidden(secret, &o);
}

// ------------------------------------------------------------ short secrets

const SHORT: &str = r#"
workflow short {
  start fetch
}

secret API_TOKEN

var reply: { raw: string, text: string }?

tool get() -> { raw: string, text: string } {
  http GET "MOCK_URL/short"
  header "X-Token" = "{{secret.API_TOKEN}}"
}

action fetch {
  call get()
  set reply = result
  -> show
}

say show {
  "raw={{reply?.raw}} text={{reply?.text}}"
  -> end
}
"#;

/// A secret under 8 characters refuses the start (naming it, not its value)
/// unless `FLOW_ALLOW_SHORT_SECRETS=1`; an allowed one is hidden only as a
/// whole token, so the words around it are left alone.
#[tokio::test]
async fn short_secrets_are_refused_or_redacted_as_tokens() {
    let server = MockServer::start().await;
    Mock::given(path("/short"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "raw": "Q", "text": "Quick reQuests, key=Q." })))
        .mount(&server)
        .await;
    let fx = Fixture::new("short", SHORT, &server);
    let o = fx.run(&[], "", &[("API_TOKEN", "Q")]);
    assert_eq!(o.code, Some(2), "{}", o.show());
    assert!(
        o.stderr.contains("secret `API_TOKEN` is shorter than 8 characters"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("FLOW_ALLOW_SHORT_SECRETS=1"), "{}", o.stderr);
    assert!(server.received_requests().await.unwrap().is_empty());

    let o = fx.run(&[], "", &[("API_TOKEN", "Q"), ("FLOW_ALLOW_SHORT_SECRETS", "1")]);
    assert_eq!(o.code, Some(0), "{}", o.show());
    assert_eq!(
        o.stdout.trim(),
        "raw=[secret API_TOKEN] text=Quick reQuests, key=[secret API_TOKEN]."
    );
}

/// Every missing secret is named at once.
#[test]
fn every_missing_secret_is_named() {
    let dir = temp_dir("hardening-missing");
    std::fs::write(
        dir.join("two.flow"),
        r#"workflow two {
  start fetch
}

secret FIRST_KEY
secret SECOND_KEY

tool t() -> { ok: bool } {
  http GET "http://127.0.0.1:9/x"
  header "A" = "{{secret.FIRST_KEY}}"
  header "B" = "{{secret.SECOND_KEY}}"
}

action fetch {
  call t()
  on error -> end
  -> end
}
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(["run", "two.flow"])
        .current_dir(&dir)
        .env_remove("FIRST_KEY")
        .env_remove("SECOND_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`FIRST_KEY`, `SECOND_KEY` are not set"), "{stderr}");
}

// ------------------------------------------------------------ credentials in urls

const GREET: &str = r#"
workflow greet {
  start hello
  model m
}

model m = "openai:gpt-test"

agent hello {
  "Greet."
  when "the user is done" -> end
}
"#;

/// A base url with a user name, a password and a query: none of them reaches
/// an error text (events, stderr).
#[tokio::test]
async fn credentials_in_a_base_url_are_not_shown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "unexpected": true })))
        .mount(&server)
        .await;
    let fx = Fixture::new("baseurl", GREET, &server);
    let base = server.uri().replace("http://", "http://bob:hunter2-pass@") + "/v1?key=query-key-81d2";
    let o = fx.run(
        &[],
        "",
        &[
            ("OPENAI_BASE_URL", base.as_str()),
            ("OPENAI_API_KEY", "sk-test-base-url-77"),
            ("FLOW_MODEL_RETRIES", "0"),
        ],
    );
    assert_eq!(o.code, Some(1), "{}", o.show());
    let call = &o.of_type("llm_call")[0];
    let error = call["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("malformed reply from {}/v1", server.uri())),
        "{error}"
    );
    for leak in ["bob", "hunter2-pass", "query-key-81d2"] {
        assert!(
            !o.events_text.contains(leak),
            "`{leak}` in the events:\n{}",
            o.events_text
        );
        assert!(!o.stderr.contains(leak), "`{leak}` on stderr:\n{}", o.stderr);
    }
}

// ------------------------------------------------------------ dot segments

const ORDERS: &str = r#"
workflow orders {
  start fetch
}

input order_id: string

tool lookup(order_id: string) -> { id: string } {
  http GET "MOCK_URL/v1/orders/{{order_id}}"
}

action fetch {
  call lookup(order_id: order_id)
  on error -> end
  -> end
}
"#;

/// A value that makes a path segment empty, `.` or `..` (even encoded) is a
/// tool error, and no request is sent.
#[tokio::test]
async fn dot_segments_in_tool_urls_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "x" })))
        .mount(&server)
        .await;
    let fx = Fixture::new("dots", ORDERS, &server);
    for bad in ["..", ".", "", "%2e%2E", "%2E"] {
        let input = format!("order_id={bad}");
        let o = fx.run(&["--input", &input], "", NO_ENV);
        assert_eq!(o.code, Some(0), "{}", o.show());
        let result = &o.of_type("tool_result")[0];
        let error = result["error"].as_str().unwrap_or_default();
        assert!(error.contains("segment"), "{bad}: {error}");
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "no request was sent"
    );
    let o = fx.run(&["--input", "order_id=A-1"], "", NO_ENV);
    assert_eq!(
        o.of_type("tool_result")[0]["output"],
        json!({ "id": "x" }),
        "{}",
        o.show()
    );
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url.path(), "/v1/orders/A-1");
}

// ------------------------------------------------------------ tool-call cap

const CALLS: &str = r#"
workflow calls {
  start desk
  model m
}

model m = "openai:gpt-test"

tool lookup(order_id: string) -> { id: string } {
  description "Look up an order."
  http GET "MOCK_URL/orders/{{order_id}}"
}

agent desk {
  "Help."
  tools lookup
  when "the user is done" -> end
}
"#;

/// One model answer of 300 tool calls: 16 are carried out (or
/// `FLOW_MAX_TOOL_CALLS`), the others are answered to the model as a tool
/// error and shown in the events.
#[tokio::test]
async fn tool_calls_of_one_answer_are_capped() {
    let server = MockServer::start().await;
    Mock::given(path_regex("^/orders/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "x" })))
        .mount(&server)
        .await;
    let calls: Vec<Value> = (0..300)
        .map(|i| json!({ "id": format!("c{i}"), "type": "function",
                         "function": { "name": "lookup", "arguments": json!({ "order_id": format!("O{i}") }).to_string() } }))
        .collect();
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Replies::new(vec![oa_calls(Value::Array(calls)), oa_text("Done.")]))
        .mount(&server)
        .await;
    let fx = Fixture::new("cap", CALLS, &server);
    let o = fx.run(&[], "", &openai_env(&server, &[]));
    assert_eq!(o.code, Some(3), "{}", o.show());
    let reached = |reqs: &[Request]| reqs.iter().filter(|r| r.url.path().starts_with("/orders/")).count();
    assert_eq!(reached(&server.received_requests().await.unwrap()), 16);
    let results = o.of_type("tool_result");
    assert_eq!(results.len(), 300);
    let refused: Vec<&&Value> = results
        .iter()
        .filter(|r| r["error"] == "too many tool calls (cap 16)")
        .collect();
    assert_eq!(refused.len(), 284);
    assert!(results[..16].iter().all(|r| r["output"] == json!({ "id": "x" })));
    let second = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/v1/chat/completions")
        .nth(1)
        .expect("the model was asked again");
    let body: Value = serde_json::from_slice(&second.body).unwrap();
    let tool_messages = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .count();
    assert_eq!(tool_messages, 300, "every call is answered");

    server.reset().await;
    Mock::given(path_regex("^/orders/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "x" })))
        .mount(&server)
        .await;
    let calls: Vec<Value> = (0..10)
        .map(|i| json!({ "id": format!("c{i}"), "type": "function",
                         "function": { "name": "lookup", "arguments": json!({ "order_id": format!("O{i}") }).to_string() } }))
        .collect();
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Replies::new(vec![oa_calls(Value::Array(calls)), oa_text("Done.")]))
        .mount(&server)
        .await;
    let o = fx.run(&[], "", &openai_env(&server, &[("FLOW_MAX_TOOL_CALLS", "3")]));
    assert_eq!(o.code, Some(3), "{}", o.show());
    assert_eq!(reached(&server.received_requests().await.unwrap()), 3);
    assert_eq!(o.of_type("tool_result")[3]["error"], "too many tool calls (cap 3)");
}

// ------------------------------------------------------------ partial stubs

const TWO_TOOLS: &str = r#"
workflow two_tools {
  start first
}

tool stubbed() -> { id: string } {
  http GET "MOCK_URL/stubbed"
}

tool unstubbed() -> { id: string } {
  http GET "MOCK_URL/unstubbed"
}

action first {
  call stubbed()
  -> second
}

action second {
  call unstubbed()
  -> end
}
"#;

/// With `--stubs`, a tool the script does not stub is an error (the run fails,
/// with a hint) and nothing reaches its service, unless `--live-tools`.
#[tokio::test]
async fn partial_stubs_do_not_go_live() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "live" })))
        .mount(&server)
        .await;
    let fx = Fixture::new("stubs", TWO_TOOLS, &server);
    let script = fx.dir.join("stubs.script");
    std::fs::write(&script, "[tool stubbed]\nresult: {\"id\": \"stub\"}\n").unwrap();
    let script = script.display().to_string();
    let o = fx.run(&["--stubs", &script], "", NO_ENV);
    assert_eq!(o.code, Some(1), "{}", o.show());
    let results = o.of_type("tool_result");
    assert_eq!(results[0]["output"], json!({ "id": "stub" }));
    let error = results[1]["error"].as_str().unwrap_or_default();
    assert!(error.contains("tool `unstubbed` is not stubbed"), "{error}");
    assert!(
        !error.contains("--live-tools"),
        "the library names no CLI flag: {error}"
    );
    assert!(
        o.stderr.contains("--live-tools"),
        "the CLI gives the hint: {}",
        o.stderr
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    let o = fx.run(&["--stubs", &script, "--live-tools"], "", NO_ENV);
    assert_eq!(o.code, Some(0), "{}", o.show());
    assert_eq!(o.of_type("tool_result")[1]["output"], json!({ "id": "live" }));
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url.path(), "/unstubbed");
}

/// The README's demo still runs offline with its stubs, through the approval
/// and its resume, with no tool left unstubbed.
#[test]
fn readme_demo_runs_with_its_stubs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("hardening-readme");
    let store = dir.join("runs.sqlite");
    let demo = |args: &[&str], stdin: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flow"))
            .args(args)
            .arg("--store")
            .arg(&store)
            .current_dir(root)
            .env_remove("FLOW_STORE")
            .env("COMMERCE_API_KEY", "demo-commerce-key")
            .env("CARRIER_TOKEN", "demo-carrier-token")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, stderr) = demo(
        &[
            "run",
            "examples/order_support.flow",
            "--model",
            "*=scripted:examples/order_support.script",
            "--stubs",
            "examples/order_support.script",
        ],
        b"Hi\nBL-12345678, ana@example.com\nI want a refund\nThe lamp arrived cracked\n",
    );
    assert_eq!(code, Some(3), "the approval pauses the run: {stderr}");
    assert!(!stderr.contains("not stubbed"), "{stderr}");
    let run_id = stderr
        .lines()
        .find_map(|l| l.strip_prefix("run ")?.split_whitespace().next())
        .expect("the run id")
        .to_string();
    let (code, stderr) = demo(&["resume", &run_id, "--approve"], b"That's all, thanks\n");
    assert_eq!(code, Some(0), "{stderr}");
    let shown = flow(&["runs", "show", &run_id, "--store", store.to_str().unwrap()], &dir);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(!shown.contains("not stubbed"), "{shown}");
}

// ------------------------------------------------------------ extracted values

const EXTRACT: &str = r#"
workflow extract {
  start ask
  model m
}

model m = "openai:gpt-test"

var count: int = 0
var note: string = ""
var ratio: number = 0.0

agent ask {
  "Ask."
  extract count "a count"
  extract note "a note"
  extract ratio "a ratio"
  when "the user is done" -> end
}
"#;

/// An extracted string over 64 KiB and an `int` outside ±2^53 are rejected
/// like values of the wrong type; a large float is not an int and is kept.
#[test]
fn extracted_values_have_limits() {
    let dir = temp_dir("hardening-extract");
    std::fs::write(dir.join("extract.flow"), EXTRACT).unwrap();
    let long = "x".repeat(64 * 1024 + 1);
    let script = format!(
        "[ask]\nreply: Hello.\nextract: {{\"count\": 1e30, \"note\": \"{long}\", \"ratio\": 1e30}}\nreply: Thanks.\n"
    );
    std::fs::write(dir.join("extract.script"), script).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow"))
        .args([
            "run",
            "extract.flow",
            "--model",
            "m=scripted:extract.script",
            "--events",
            "events.jsonl",
        ])
        .current_dir(&dir)
        .env_remove("FLOW_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"here you go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let events: Vec<Value> = events.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let extract = events
        .iter()
        .find(|e| e["type"] == "llm_call" && e["purpose"] == "extract")
        .expect("an extract call");
    let rejected = extract["rejected"].as_array().unwrap();
    let reason = |name: &str| {
        rejected
            .iter()
            .find(|r| r["variable"] == name)
            .and_then(|r| r["reason"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(reason("count").contains("±2^53"), "{extract}");
    assert!(reason("note").contains("64 KiB"), "{}", reason("note"));
    assert_eq!(reason("ratio"), "", "a float may be large");
    let set: Vec<&Value> = events.iter().filter(|e| e["type"] == "variable_set").collect();
    assert_eq!(set.len(), 1);
    assert_eq!(set[0]["variable"], "ratio");
}

/// The mock's address as the OpenAI base, with a key, plus `more`.
fn openai_env<'a>(server: &MockServer, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, String)> {
    let mut env = vec![
        ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
        ("OPENAI_API_KEY", "sk-hardening-test-key-31".to_string()),
    ];
    env.extend(more.iter().map(|(k, v)| (*k, v.to_string())));
    env
}
