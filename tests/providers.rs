//! Fault injection for the real model providers (`openai`, `anthropic`) and
//! HTTP tools: a local mock server (wiremock, on 127.0.0.1) plays the OpenAI
//! chat-completions endpoint, the Anthropic Messages endpoint and the tools'
//! endpoint, while whole runs go through the `flow` binary as a child process.
//!
//! The workflow is `tests/providers/shop.flow`; its tool url starts with the
//! placeholder `MOCK_URL`, replaced by the mock's address in a temporary copy.
//! Every run also checks that neither API key nor the tool's secret reaches the
//! events file or the store (the SQLite file and its -wal / -shm files).

mod common;

use common::temp_dir;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const OPENAI_KEY: &str = "sk-openai-TESTKEY-1f3a9c27";
const ANTHROPIC_KEY: &str = "sk-ant-TESTKEY-7b2e4d91";
const SHOP_KEY: &str = "shop-SECRET-5c8d0e44";

const OPENAI_PATH: &str = "/v1/chat/completions";
const ANTHROPIC_PATH: &str = "/v1/messages";

const DONE: &str = "the customer is done";
const FETCH: &str = "the customer wants the order fetched";

// ---------------------------------------------------------------- the mock

/// Which call a model request is: the function forced by `tool_choice`
/// (`choose_exit`, `extract`), else `reply`. Works for both providers.
fn purpose_of(req: &Request) -> String {
    let body: Value = req.body_json().unwrap_or(Value::Null);
    body.pointer("/tool_choice/function/name")
        .or_else(|| body.pointer("/tool_choice/name"))
        .and_then(Value::as_str)
        .unwrap_or("reply")
        .to_string()
}

fn purpose(p: &'static str) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
    move |req: &Request| purpose_of(req) == p
}

/// An OpenAI chat completion saying `text`.
fn oa_text(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
        "choices": [{ "index": 0, "finish_reason": "stop",
                      "message": { "role": "assistant", "content": text } }],
        "usage": { "prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18 }
    }))
}

/// An OpenAI chat completion calling function `name` with `args`.
fn oa_call(name: &str, args: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-2", "object": "chat.completion", "model": "gpt-test",
        "choices": [{ "index": 0, "finish_reason": "tool_calls",
                      "message": { "role": "assistant", "content": null, "tool_calls": [
                          { "id": "call_1", "type": "function",
                            "function": { "name": name, "arguments": args.to_string() } }
                      ] } }],
        "usage": { "prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18 }
    }))
}

/// An Anthropic message saying `text`.
fn an_text(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{ "type": "text", "text": text }],
        "stop_reason": "end_turn",
        "usage": { "input_tokens": 21, "output_tokens": 5 }
    }))
}

/// An Anthropic message calling tool `name` with `input`.
fn an_call(name: &str, input: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "msg_2", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{ "type": "tool_use", "id": "toolu_1", "name": name, "input": input }],
        "stop_reason": "tool_use",
        "usage": { "input_tokens": 21, "output_tokens": 5 }
    }))
}

/// Answers in turn: the n-th request gets the n-th template, the last repeating.
struct Sequence {
    templates: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

fn sequence(templates: Vec<ResponseTemplate>) -> Sequence {
    Sequence {
        templates,
        next: AtomicUsize::new(0),
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        self.templates[n.min(self.templates.len() - 1)].clone()
    }
}

/// Mounts an answer for one purpose at one endpoint; a lower `priority` wins.
async fn answer(server: &MockServer, at: &str, p: &'static str, priority: u8, respond: impl Respond + 'static) {
    Mock::given(method("POST"))
        .and(path(at))
        .and(purpose(p))
        .respond_with(respond)
        .with_priority(priority)
        .mount(server)
        .await;
}

/// Harmless answers for every purpose at both providers (lowest priority).
async fn defaults(server: &MockServer) {
    answer(server, OPENAI_PATH, "reply", 50, oa_text("Hello from openai!")).await;
    answer(server, OPENAI_PATH, "extract", 50, oa_call("extract", json!({}))).await;
    answer(
        server,
        OPENAI_PATH,
        "choose_exit",
        50,
        oa_call("choose_exit", json!({ "exit": "none" })),
    )
    .await;
    answer(server, ANTHROPIC_PATH, "reply", 50, an_text("Hello from anthropic!")).await;
    answer(server, ANTHROPIC_PATH, "extract", 50, an_call("extract", json!({}))).await;
    answer(
        server,
        ANTHROPIC_PATH,
        "choose_exit",
        50,
        an_call("choose_exit", json!({ "exit": "none" })),
    )
    .await;
}

/// The requests the mock received at `at`.
async fn requests(server: &MockServer, at: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .into_iter()
        .filter(|r| r.url.path() == at)
        .collect()
}

fn json_of(req: &Request) -> Value {
    req.body_json().expect("a JSON request body")
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------- the runs

struct Fixture {
    server: MockServer,
    dir: PathBuf,
    flow: PathBuf,
    runs: AtomicUsize,
}

struct Outcome {
    code: Option<i32>,
    events: Vec<Value>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["type"] == kind).collect()
    }

    fn llm_calls(&self, p: &str) -> Vec<&Value> {
        self.of_type("llm_call")
            .into_iter()
            .filter(|e| e["purpose"] == p)
            .collect()
    }

    fn outcome(&self) -> Option<&str> {
        self.of_type("run_completed")
            .first()
            .and_then(|e| e["outcome"].as_str())
    }
}

async fn fixture(name: &str) -> Fixture {
    let server = MockServer::start().await;
    let dir = temp_dir(&format!("providers-{name}"));
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/providers/shop.flow")).unwrap();
    let flow = dir.join("shop.flow");
    std::fs::write(&flow, source.replace("MOCK_URL", &server.uri())).unwrap();
    Fixture {
        server,
        dir,
        flow,
        runs: AtomicUsize::new(0),
    }
}

impl Fixture {
    /// Runs the workflow with `stdin` as the user's messages; `env` adds to or
    /// overrides the defaults (both providers at the mock, fast back-off).
    fn run(&self, stdin: &str, env: &[(&str, &str)]) -> Outcome {
        let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        let events_path = self.dir.join(format!("events-{n}.jsonl"));
        let store = self.dir.join(".flow").join("runs.sqlite");
        let uri = self.server.uri();
        let mut command = Command::new(env!("CARGO_BIN_EXE_flow"));
        command
            .arg("run")
            .arg(&self.flow)
            .arg("--store")
            .arg(&store)
            .arg("--events")
            .arg(&events_path)
            .current_dir(&self.dir)
            .env_remove("FLOW_STORE")
            .env("OPENAI_BASE_URL", format!("{uri}/v1"))
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .env("ANTHROPIC_BASE_URL", &uri)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .env("SHOP_KEY", SHOP_KEY)
            .env("FLOW_RETRY_BASE_MS", "1")
            .env("FLOW_RETRY_MAX_MS", "5")
            .env("FLOW_MODEL_TIMEOUT_MS", "5000")
            .env("FLOW_MODEL_RETRIES", "2")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start flow");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().expect("flow ran");
        let text = std::fs::read_to_string(&events_path).unwrap_or_default();
        let events = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("an event per line"))
            .collect();
        let outcome = Outcome {
            code: out.status.code(),
            events,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.check_no_secrets(&text);
        outcome
    }

    /// No API key and no secret in the events file or any file of the store.
    fn check_no_secrets(&self, events: &str) {
        for secret in [OPENAI_KEY, ANTHROPIC_KEY, SHOP_KEY] {
            assert!(
                !events.contains(secret),
                "`{secret}` reached the events file:\n{events}"
            );
            let Ok(entries) = std::fs::read_dir(self.dir.join(".flow")) else {
                continue;
            };
            for entry in entries {
                let file = entry.unwrap().path();
                if file.is_file() {
                    let bytes = std::fs::read(&file).unwrap();
                    let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                    assert!(!found, "`{secret}` reached the store file {}", file.display());
                }
            }
        }
    }
}

fn show(o: &Outcome) -> String {
    let events: Vec<String> = o.events.iter().map(Value::to_string).collect();
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}\nevents:\n{}",
        o.code,
        o.stdout,
        o.stderr,
        events.join("\n")
    )
}

// ---------------------------------------------------------------- the tests

/// 1 (and 10): a reply round with a tool call, then text; a forced extract and
/// choose_exit; token usage in the events; the secret in the tool's header;
/// the keys sent only where they belong.
#[tokio::test]
async fn openai_happy_path() {
    let fx = fixture("happy").await;
    let server = &fx.server;
    answer(
        server,
        OPENAI_PATH,
        "reply",
        1,
        sequence(vec![
            oa_text("Hello! How can I help?"),
            oa_call("lookup", json!({ "order_id": "A1" })),
            oa_text("Order A1 has shipped."),
        ]),
    )
    .await;
    answer(
        server,
        OPENAI_PATH,
        "extract",
        1,
        sequence(vec![
            oa_call("extract", json!({ "order_id": "A1" })),
            oa_call("extract", json!({})),
        ]),
    )
    .await;
    answer(
        server,
        OPENAI_PATH,
        "choose_exit",
        1,
        sequence(vec![
            oa_call("choose_exit", json!({ "exit": "none" })),
            oa_call("choose_exit", json!({ "exit": DONE })),
        ]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/orders/A1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "A1", "status": "shipped" })))
        .mount(server)
        .await;
    defaults(server).await;

    let o = fx.run("Where is order A1?\nThanks, that is all.\n", &[]);
    assert_eq!(o.code, Some(0), "{}", show(&o));
    assert_eq!(o.outcome(), Some("done"), "{}", show(&o));
    assert_eq!(
        o.stdout.lines().collect::<Vec<_>>(),
        ["Hello! How can I help?", "Order A1 has shipped.", "Bye."]
    );

    // Every call answered by openai, first time, with its token usage.
    let calls = o.of_type("llm_call");
    assert_eq!(calls.len(), 7, "{}", show(&o)); // 3 replies, 2 extracts, 2 choices
    for call in &calls {
        assert_eq!(call["provider"], "openai");
        assert_eq!(call["model"], "gpt-test");
        assert_eq!(call["error"], Value::Null);
        assert_eq!(call["input_tokens"], 11);
        assert_eq!(call["output_tokens"], 7);
    }
    assert_eq!(o.llm_calls("reply").len(), 3);
    assert_eq!(o.llm_calls("extract").len(), 2);
    assert_eq!(o.llm_calls("choose_exit").len(), 2);
    let results = o.of_type("tool_result");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["tool"], "lookup");
    assert_eq!(results[0]["output"], json!({ "id": "A1", "status": "shipped" }));
    let sets = o.of_type("variable_set");
    assert!(sets.iter().any(|e| e["variable"] == "order_id" && e["value"] == "A1"));
    assert!(o.of_type("edge_taken").iter().any(|e| e["to"] == "bye"));

    // What openai was asked.
    let asked = requests(server, OPENAI_PATH).await;
    assert_eq!(asked.len(), 7);
    for req in &asked {
        assert_eq!(
            header(req, "authorization"),
            Some(format!("Bearer {OPENAI_KEY}").as_str())
        );
        assert_eq!(header(req, "x-api-key"), None);
        let body = json_of(req);
        assert_eq!(body["model"], "gpt-test");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(
            body["messages"][0]["content"],
            "You are the shop assistant.\n\nHelp the customer with their order."
        );
    }
    let choose: Vec<Value> = asked
        .iter()
        .filter(|r| purpose_of(r) == "choose_exit")
        .map(json_of)
        .collect();
    assert_eq!(choose.len(), 2);
    assert_eq!(
        choose[0]["tool_choice"],
        json!({ "type": "function", "function": { "name": "choose_exit" } })
    );
    let tools = choose[0]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0]["type"], "function");
    assert_eq!(tools[0]["function"]["name"], "choose_exit");
    assert_eq!(
        tools[0]["function"]["parameters"],
        json!({ "type": "object",
                "properties": { "exit": { "type": "string", "enum": [FETCH, DONE, "none"] } },
                "required": ["exit"] }),
        "the choose_exit parameters of RUNTIME.md"
    );
    let extract = asked.iter().find(|r| purpose_of(r) == "extract").map(json_of).unwrap();
    assert_eq!(
        extract["tool_choice"],
        json!({ "type": "function", "function": { "name": "extract" } })
    );
    assert_eq!(
        extract["tools"][0]["function"]["parameters"]["properties"]["order_id"],
        json!({ "type": "string", "description": "the order id" })
    );
    let replies: Vec<Value> = asked.iter().filter(|r| purpose_of(r) == "reply").map(json_of).collect();
    assert_eq!(replies.len(), 3);
    assert_eq!(replies[0]["tool_choice"], Value::Null, "a reply forces nothing");
    assert_eq!(replies[0]["tools"][0]["function"]["name"], "lookup");
    // The round after the tool call carries the call and its result.
    let messages = replies[2]["messages"].as_array().unwrap();
    let n = messages.len();
    assert_eq!(messages[n - 2]["role"], "assistant");
    assert_eq!(messages[n - 2]["tool_calls"][0]["id"], "call_1");
    assert_eq!(messages[n - 2]["tool_calls"][0]["function"]["name"], "lookup");
    assert_eq!(messages[n - 1]["role"], "tool");
    assert_eq!(messages[n - 1]["tool_call_id"], "call_1");
    let result: Value = serde_json::from_str(messages[n - 1]["content"].as_str().unwrap()).unwrap();
    assert_eq!(result, json!({ "id": "A1", "status": "shipped" }));

    // The tool got the secret exactly where the source put it, and nowhere else.
    let tool_calls = requests(server, "/orders/A1").await;
    assert_eq!(tool_calls.len(), 1);
    let call = &tool_calls[0];
    assert_eq!(call.method.as_str(), "GET");
    assert_eq!(header(call, "x-shop-key"), Some(format!("Key {SHOP_KEY}").as_str()));
    assert_eq!(
        header(call, "authorization"),
        None,
        "the model's key never goes to a tool"
    );
    assert_eq!(call.url.query(), None);
    assert!(call.body.is_empty());
}

/// Makes every OpenAI request of a test answer `template` (over the defaults).
async fn fail_openai(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(OPENAI_PATH))
        .respond_with(template)
        .with_priority(1)
        .mount(server)
        .await;
}

/// The run's reply came from Anthropic after one failed OpenAI call; its two `llm_call` events.
fn assert_fell_back(o: &Outcome) -> Vec<&Value> {
    assert_eq!(o.stdout.trim(), "Hello from anthropic!");
    let calls = o.of_type("llm_call");
    assert_eq!(calls.len(), 2, "{}", show(o));
    calls
}

/// 2: a 500 is retried within one call; the run goes on.
#[tokio::test]
async fn server_error_is_retried() {
    let fx = fixture("http500").await;
    Mock::given(method("POST"))
        .and(path(OPENAI_PATH))
        .respond_with(ResponseTemplate::new(500).set_body_string("internal error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fx.server)
        .await;
    defaults(&fx.server).await;
    let o = fx.run("", &[]);
    assert_eq!(o.code, Some(3), "{}", show(&o));
    assert_eq!(o.stdout.trim(), "Hello from openai!");
    let calls = o.of_type("llm_call");
    assert_eq!(calls.len(), 1, "{}", show(&o));
    assert_eq!(calls[0]["provider"], "openai");
    assert_eq!(calls[0]["error"], Value::Null);
    assert_eq!(requests(&fx.server, OPENAI_PATH).await.len(), 2);
    assert!(requests(&fx.server, ANTHROPIC_PATH).await.is_empty());
}

/// 3: a 429 with `Retry-After: 1` waits about a second before the retry.
#[tokio::test]
async fn rate_limit_honours_retry_after() {
    let fx = fixture("http429").await;
    let times = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&times);
    Mock::given(method("POST"))
        .and(path(OPENAI_PATH))
        .respond_with(move |_: &Request| {
            let mut seen = seen.lock().unwrap();
            seen.push(Instant::now());
            if seen.len() == 1 {
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(json!({ "error": { "message": "slow down" } }))
            } else {
                oa_text("Hello after waiting.")
            }
        })
        .mount(&fx.server)
        .await;
    let o = fx.run("", &[]);
    assert_eq!(o.code, Some(3), "{}", show(&o));
    assert_eq!(o.stdout.trim(), "Hello after waiting.");
    let times = times.lock().unwrap();
    assert_eq!(times.len(), 2);
    let gap = times[1] - times[0];
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, not after Retry-After"
    );
    assert!(gap < Duration::from_secs(5), "retried after {gap:?}");
    let calls = o.of_type("llm_call");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["error"], Value::Null);
}

/// 4: a model that hangs past the time-out is given up on; the group's next model answers.
#[tokio::test]
async fn hanging_model_falls_back() {
    let fx = fixture("hang").await;
    fail_openai(&fx.server, oa_text("too late").set_delay(Duration::from_secs(3))).await;
    defaults(&fx.server).await;
    let started = Instant::now();
    let o = fx.run("", &[("FLOW_MODEL_TIMEOUT_MS", "300"), ("FLOW_MODEL_RETRIES", "1")]);
    assert_eq!(o.code, Some(3), "{}", show(&o));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the time-out was not applied"
    );
    assert_eq!(o.stdout.trim(), "Hello from anthropic!");
    let calls = o.of_type("llm_call");
    assert_eq!(calls.len(), 2, "{}", show(&o));
    assert_eq!(calls[0]["provider"], "openai");
    let error = calls[0]["error"].as_str().unwrap();
    assert!(error.contains("no reply within 300 ms"), "{error}");
    assert!(error.contains("after 2 attempts"), "{error}");
    assert_eq!(calls[1]["provider"], "anthropic");
    assert_eq!(calls[1]["model"], "claude-test");
    assert_eq!(calls[1]["error"], Value::Null);
    assert_eq!(calls[1]["input_tokens"], 21);
    assert_eq!(calls[1]["output_tokens"], 5);
    assert_eq!(requests(&fx.server, OPENAI_PATH).await.len(), 2);
}

/// 5: a reply that is not JSON is a clear error (not retried); the fallback answers.
#[tokio::test]
async fn malformed_json_falls_back() {
    let fx = fixture("notjson").await;
    fail_openai(
        &fx.server,
        ResponseTemplate::new(200).set_body_raw("<html>gateway says hi</html>", "text/html"),
    )
    .await;
    defaults(&fx.server).await;
    let o = fx.run("", &[]);
    assert_eq!(o.code, Some(3), "{}", show(&o));
    let calls = assert_fell_back(&o);
    let error = calls[0]["error"].as_str().unwrap();
    assert!(error.contains("not JSON"), "{error}");
    assert!(error.contains("<html>gateway says hi</html>"), "{error}");
    assert_eq!(calls[1]["provider"], "anthropic");
    assert_eq!(calls[1]["error"], Value::Null);
    assert_eq!(
        requests(&fx.server, OPENAI_PATH).await.len(),
        1,
        "a malformed reply is not retried"
    );
}

/// 6: a choose_exit value that was not offered is asked again once, with a note in
/// the system message; the second answer is used.
#[tokio::test]
async fn unoffered_exit_is_retried_with_a_note() {
    let fx = fixture("badexit").await;
    answer(
        &fx.server,
        OPENAI_PATH,
        "choose_exit",
        1,
        sequence(vec![
            oa_call("choose_exit", json!({ "exit": "the customer is leaving" })),
            oa_call("choose_exit", json!({ "exit": DONE })),
        ]),
    )
    .await;
    defaults(&fx.server).await;
    let o = fx.run("I am done.\n", &[]);
    assert_eq!(o.code, Some(0), "{}", show(&o));
    assert_eq!(o.outcome(), Some("done"));
    assert_eq!(o.llm_calls("choose_exit").len(), 2);
    let asked: Vec<Value> = requests(&fx.server, OPENAI_PATH)
        .await
        .iter()
        .filter(|r| purpose_of(r) == "choose_exit")
        .map(json_of)
        .collect();
    assert_eq!(asked.len(), 2);
    let first = asked[0]["messages"][0]["content"].as_str().unwrap();
    let second = asked[1]["messages"][0]["content"].as_str().unwrap();
    assert!(!first.contains("not one of the options"), "{first}");
    assert!(second.starts_with(first), "the note is appended to the system message");
    assert!(
        second.contains("`the customer is leaving` is not one of the options"),
        "{second}"
    );
    assert!(second.contains(DONE) && second.ends_with("none."), "{second}");
}

/// 7: a call to a tool the agent does not have is asked again once; a second one fails the run.
#[tokio::test]
async fn unknown_tool_twice_fails_the_run() {
    let fx = fixture("unknowntool").await;
    answer(
        &fx.server,
        OPENAI_PATH,
        "reply",
        1,
        oa_call("delete_everything", json!({})),
    )
    .await;
    defaults(&fx.server).await;
    let o = fx.run("", &[]);
    assert_eq!(o.code, Some(1), "{}", show(&o));
    let failed = o.of_type("run_failed");
    assert_eq!(failed.len(), 1, "{}", show(&o));
    assert_eq!(failed[0]["node"], "greet");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(error.contains("unknown tool `delete_everything`"), "{error}");
    assert!(error.contains("again"), "{error}");
    assert!(o.of_type("tool_call").is_empty(), "an unknown tool is never called");
    let asked = requests(&fx.server, OPENAI_PATH).await;
    assert_eq!(asked.len(), 2);
    let note = json_of(&asked[1])["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("Only these tools exist: lookup."), "{note}");
}

/// The extract answer naming the order id the user's last message ends with.
fn extract_last_word(req: &Request) -> ResponseTemplate {
    let body: Value = req.body_json().unwrap();
    let last = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string();
    let id = last.split_whitespace().last().unwrap_or_default().to_string();
    oa_call("extract", json!({ "order_id": id }))
}

/// 8: tool failures are tool errors that take `on error`: a reply failing the
/// output schema, a non-2xx status (status and body excerpt in the error, a
/// secret in the body redacted), a non-JSON body, and a 5xx retried until it passes.
#[tokio::test]
async fn tool_failures_take_on_error() {
    let fx = fixture("toolfail").await;
    let server = &fx.server;
    answer(server, OPENAI_PATH, "extract", 1, extract_last_word).await;
    answer(
        server,
        OPENAI_PATH,
        "choose_exit",
        1,
        oa_call("choose_exit", json!({ "exit": FETCH })),
    )
    .await;
    defaults(server).await;
    let tool = |p: &str, t: ResponseTemplate| Mock::given(method("GET")).and(path(p.to_string())).respond_with(t);
    tool(
        "/orders/BADSHAPE",
        ResponseTemplate::new(200).set_body_json(json!({ "id": "BADSHAPE" })),
    )
    .mount(server)
    .await;
    tool(
        "/orders/MISSING",
        ResponseTemplate::new(404).set_body_string("no order MISSING here\nsorry"),
    )
    .mount(server)
    .await;
    tool(
        "/orders/LEAK",
        ResponseTemplate::new(403).set_body_string(format!("bad key: Key {SHOP_KEY}")),
    )
    .mount(server)
    .await;
    // The secret straddles the 200-character excerpt: no part of it may show.
    tool(
        "/orders/LONGLEAK",
        ResponseTemplate::new(401).set_body_string(format!("{} {SHOP_KEY} rest", "x".repeat(190))),
    )
    .mount(server)
    .await;
    tool(
        "/orders/HTML",
        ResponseTemplate::new(200).set_body_raw("<html>maintenance</html>", "text/html"),
    )
    .mount(server)
    .await;
    tool("/orders/FLAKY", ResponseTemplate::new(503).set_body_string("busy"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(server)
        .await;
    tool(
        "/orders/FLAKY",
        ResponseTemplate::new(200).set_body_json(json!({ "id": "FLAKY", "status": "packed" })),
    )
    .mount(server)
    .await;

    let cases: [(&str, &[&str]); 5] = [
        ("BADSHAPE", &["does not match the tool's return type", "status"]),
        ("MISSING", &["HTTP 404", "no order MISSING here sorry"]),
        ("LEAK", &["HTTP 403", "bad key: Key [secret SHOP_KEY]"]),
        ("LONGLEAK", &["HTTP 401", " [secret S…"]),
        ("HTML", &["not JSON", "<html>maintenance</html>"]),
    ];
    for (id, expected) in cases {
        let o = fx.run(&format!("Please fetch order {id}\n"), &[]);
        assert_eq!(o.code, Some(0), "{id}: {}", show(&o));
        assert_eq!(o.outcome(), Some("fetch_failed"), "{id}: {}", show(&o));
        let results = o.of_type("tool_result");
        assert_eq!(results.len(), 1, "{id}: {}", show(&o));
        assert_eq!(results[0]["output"], Value::Null);
        let error = results[0]["error"].as_str().unwrap_or_default();
        assert!(
            !error.contains(&SHOP_KEY[..6]),
            "{id}: a part of the secret shows: {error}"
        );
        for part in expected {
            assert!(error.contains(part), "{id}: `{part}` not in the error: {error}");
        }
        let edges = o.of_type("edge_taken");
        assert!(
            edges.iter().any(|e| e["from"] == "fetch" && e["to"] == "fetch_failed"),
            "{id}: {}",
            show(&o)
        );
        assert_eq!(o.stdout.lines().last(), Some("Could not fetch the order."));
    }
    // Client errors and bad bodies are not retried.
    for id in ["MISSING", "LEAK", "LONGLEAK", "HTML"] {
        assert_eq!(requests(&fx.server, &format!("/orders/{id}")).await.len(), 1, "{id}");
    }

    // A GET tool retries 5xx (twice by default) and goes on.
    let o = fx.run("Please fetch order FLAKY\n", &[]);
    assert_eq!(o.code, Some(0), "{}", show(&o));
    assert_eq!(o.outcome(), Some("fetched"), "{}", show(&o));
    assert_eq!(o.stdout.lines().last(), Some("Order status: packed."));
    assert_eq!(requests(&fx.server, "/orders/FLAKY").await.len(), 3);
}

/// 9: with openai unreachable (connection refused) the anthropic fallback
/// answers every call, and it is asked in the Messages API's shape.
#[tokio::test]
async fn unreachable_model_falls_back_to_anthropic() {
    let fx = fixture("refused").await;
    answer(
        &fx.server,
        ANTHROPIC_PATH,
        "extract",
        1,
        an_call("extract", json!({ "order_id": "Z9" })),
    )
    .await;
    answer(
        &fx.server,
        ANTHROPIC_PATH,
        "choose_exit",
        1,
        an_call("choose_exit", json!({ "exit": DONE })),
    )
    .await;
    defaults(&fx.server).await;
    let closed = format!("http://127.0.0.1:{}/v1", closed_port());
    let o = fx.run("Order Z9, and I am done.\n", &[("OPENAI_BASE_URL", &closed)]);
    assert_eq!(o.code, Some(0), "{}", show(&o));
    assert_eq!(o.outcome(), Some("done"));
    assert_eq!(o.stdout.lines().next(), Some("Hello from anthropic!"));
    let calls = o.of_type("llm_call");
    assert_eq!(calls.len(), 6, "{}", show(&o)); // reply, extract, choose: each openai then anthropic
    for pair in calls.chunks(2) {
        assert_eq!(pair[0]["provider"], "openai");
        let error = pair[0]["error"].as_str().unwrap();
        assert!(error.contains("could not connect"), "{error}");
        assert!(error.contains("after 3 attempts"), "{error}");
        assert_eq!(pair[0]["input_tokens"], Value::Null);
        assert_eq!(pair[1]["provider"], "anthropic");
        assert_eq!(pair[1]["model"], "claude-test");
        assert_eq!(pair[1]["error"], Value::Null);
        assert_eq!(pair[1]["purpose"], pair[0]["purpose"]);
        assert_eq!(pair[1]["input_tokens"], 21);
        assert_eq!(pair[1]["output_tokens"], 5);
    }
    assert!(
        o.of_type("variable_set")
            .iter()
            .any(|e| e["variable"] == "order_id" && e["value"] == "Z9")
    );

    let asked = requests(&fx.server, ANTHROPIC_PATH).await;
    assert_eq!(asked.len(), 3);
    for req in &asked {
        assert_eq!(header(req, "x-api-key"), Some(ANTHROPIC_KEY));
        assert_eq!(header(req, "anthropic-version"), Some("2023-06-01"));
        assert_eq!(header(req, "authorization"), None);
        let body = json_of(req);
        assert_eq!(body["model"], "claude-test");
        assert!(body["max_tokens"].as_u64().is_some_and(|n| n > 0));
        assert_eq!(
            body["system"],
            "You are the shop assistant.\n\nHelp the customer with their order."
        );
        assert_eq!(body["messages"][0]["role"], "user");
    }
    let choose = asked
        .iter()
        .find(|r| purpose_of(r) == "choose_exit")
        .map(json_of)
        .unwrap();
    assert_eq!(choose["tool_choice"], json!({ "type": "tool", "name": "choose_exit" }));
    assert_eq!(choose["tools"][0]["name"], "choose_exit");
    assert_eq!(
        choose["tools"][0]["input_schema"]["properties"]["exit"]["enum"],
        json!([FETCH, DONE, "none"])
    );
    let extract = asked.iter().find(|r| purpose_of(r) == "extract").map(json_of).unwrap();
    assert_eq!(extract["tool_choice"], json!({ "type": "tool", "name": "extract" }));
    let reply = asked.iter().find(|r| purpose_of(r) == "reply").map(json_of).unwrap();
    assert_eq!(reply["tool_choice"], Value::Null);
    assert_eq!(reply["tools"][0]["name"], "lookup");
    assert_eq!(reply["tools"][0]["input_schema"]["required"], json!(["order_id"]));
}

/// 9: every model of the group down fails the run with a clear error (exit 1).
#[tokio::test]
async fn all_models_down_fails_the_run() {
    let fx = fixture("alldown").await;
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let o = fx.run(
        "",
        &[
            ("OPENAI_BASE_URL", &format!("{closed}/v1")),
            ("ANTHROPIC_BASE_URL", &closed),
            ("FLOW_MODEL_RETRIES", "1"),
        ],
    );
    assert_eq!(o.code, Some(1), "{}", show(&o));
    let calls = o.of_type("llm_call");
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c["error"].as_str().is_some()));
    let failed = o.of_type("run_failed");
    assert_eq!(failed.len(), 1, "{}", show(&o));
    assert_eq!(failed[0]["node"], "greet");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(error.contains("every model of group `m` failed"), "{error}");
    assert!(error.contains("could not connect"), "{error}");
    assert!(o.of_type("run_completed").is_empty());
    assert!(o.stderr.contains("could not connect"), "{}", o.stderr);
}

/// 10: an API key echoed back in an error reply (as OpenAI's 401 does) never
/// reaches the events or the store.
#[tokio::test]
async fn echoed_api_keys_are_redacted() {
    let fx = fixture("echo").await;
    Mock::given(method("POST"))
        .and(path(OPENAI_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": { "message": format!("Incorrect API key provided: {OPENAI_KEY}."), "code": "invalid_api_key" }
        })))
        .with_priority(1)
        .mount(&fx.server)
        .await;
    Mock::given(method("POST"))
        .and(path(ANTHROPIC_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "type": "error", "error": { "type": "invalid_request_error", "message": format!("key {ANTHROPIC_KEY} is disabled") }
        })))
        .with_priority(1)
        .mount(&fx.server)
        .await;
    // `run` asserts that no key reaches the events file or the store.
    let o = fx.run("", &[]);
    assert_eq!(o.code, Some(1), "{}", show(&o));
    let calls = o.of_type("llm_call");
    assert_eq!(calls.len(), 2);
    let openai = calls[0]["error"].as_str().unwrap();
    assert!(openai.contains("HTTP 401"), "{openai}");
    assert!(
        openai.contains("Incorrect API key provided: [OPENAI_API_KEY]"),
        "{openai}"
    );
    let anthropic = calls[1]["error"].as_str().unwrap();
    assert!(anthropic.contains("HTTP 400"), "{anthropic}");
    assert!(anthropic.contains("key [ANTHROPIC_API_KEY] is disabled"), "{anthropic}");
    assert!(!o.stderr.contains(OPENAI_KEY) && !o.stderr.contains(ANTHROPIC_KEY));
    assert_eq!(requests(&fx.server, OPENAI_PATH).await.len(), 1, "a 401 is not retried");
}

/// 11: a reply over 10 MiB is refused with a clear error; the fallback answers.
#[tokio::test]
async fn oversized_reply_is_refused() {
    let fx = fixture("huge").await;
    let mut body = String::from(r#"{"choices":[{"message":{"role":"assistant","content":""#);
    body.push_str(&"x".repeat(11 * 1024 * 1024));
    body.push_str(r#""}}]}"#);
    fail_openai(
        &fx.server,
        ResponseTemplate::new(200).set_body_raw(body, "application/json"),
    )
    .await;
    defaults(&fx.server).await;
    let o = fx.run("", &[]);
    assert_eq!(o.code, Some(3), "{}", show(&o));
    let calls = assert_fell_back(&o);
    let error = calls[0]["error"].as_str().unwrap();
    assert!(error.contains("larger than 10 MiB"), "{error}");
    assert!(error.len() < 500, "the error is short: {error}");
    assert_eq!(requests(&fx.server, OPENAI_PATH).await.len(), 1, "not retried");
}

/// 12: a server that ignores `tool_choice` and answers the forced functions with
/// a JSON object in the message content (bare or in a ```json fence) is understood.
#[tokio::test]
async fn json_in_content_is_understood() {
    let fx = fixture("content").await;
    answer(&fx.server, OPENAI_PATH, "extract", 1, oa_text(r#"{"order_id": "C3"}"#)).await;
    answer(
        &fx.server,
        OPENAI_PATH,
        "choose_exit",
        1,
        oa_text(&format!("```json\n{{\"exit\": \"{DONE}\"}}\n```")),
    )
    .await;
    defaults(&fx.server).await;
    let o = fx.run("Order C3 is fine, bye.\n", &[]);
    assert_eq!(o.code, Some(0), "{}", show(&o));
    assert_eq!(o.outcome(), Some("done"), "{}", show(&o));
    assert!(
        o.of_type("variable_set")
            .iter()
            .any(|e| e["variable"] == "order_id" && e["value"] == "C3")
    );
    // Understood the first time: no retry with a note.
    assert_eq!(o.llm_calls("extract").len(), 1);
    assert_eq!(o.llm_calls("choose_exit").len(), 1);
}

/// Redirects: followed within the origin with the tool's headers; to another
/// origin without any header holding a secret; a loop is stopped after 5 with a
/// clear error.
#[tokio::test]
async fn redirects_keep_secrets_at_home() {
    let fx = fixture("redirects").await;
    let elsewhere = MockServer::start().await;
    let server = &fx.server;
    answer(server, OPENAI_PATH, "extract", 1, extract_last_word).await;
    answer(
        server,
        OPENAI_PATH,
        "choose_exit",
        1,
        oa_call("choose_exit", json!({ "exit": FETCH })),
    )
    .await;
    defaults(server).await;
    let redirect = |to: String| ResponseTemplate::new(302).insert_header("Location", to.as_str());
    Mock::given(method("GET"))
        .and(path("/orders/SAME"))
        .respond_with(redirect("/moved/SAME".into()))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/moved/SAME"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "SAME", "status": "moved" })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/AWAY"))
        .respond_with(redirect(format!("{}/moved/AWAY", elsewhere.uri())))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/moved/AWAY"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "AWAY", "status": "away" })))
        .mount(&elsewhere)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/LOOP"))
        .respond_with(redirect("/orders/LOOP".into()))
        .mount(server)
        .await;

    let o = fx.run("Please fetch order SAME\n", &[]);
    assert_eq!(o.outcome(), Some("fetched"), "{}", show(&o));
    let moved = requests(server, "/moved/SAME").await;
    assert_eq!(moved.len(), 1);
    assert_eq!(
        header(&moved[0], "x-shop-key"),
        Some(format!("Key {SHOP_KEY}").as_str())
    );

    let o = fx.run("Please fetch order AWAY\n", &[]);
    assert_eq!(o.outcome(), Some("fetched"), "{}", show(&o));
    assert_eq!(o.stdout.lines().last(), Some("Order status: away."));
    let away = requests(&elsewhere, "/moved/AWAY").await;
    assert_eq!(away.len(), 1);
    assert_eq!(
        header(&away[0], "x-shop-key"),
        None,
        "the secret followed a redirect to another origin"
    );
    assert!(
        away[0]
            .headers
            .values()
            .all(|v| !v.as_bytes().windows(6).any(|w| w == &SHOP_KEY.as_bytes()[..6])),
        "{:?}",
        away[0].headers
    );

    let o = fx.run("Please fetch order LOOP\n", &[]);
    assert_eq!(o.outcome(), Some("fetch_failed"), "{}", show(&o));
    let error = o.of_type("tool_result")[0]["error"].as_str().unwrap().to_string();
    assert!(error.contains("too many redirects"), "{error}");
    assert_eq!(
        requests(server, "/orders/LOOP").await.len(),
        6,
        "the first request and 5 redirects"
    );
}

/// A model's `choose_exit` answer that is not one of the options is refused
/// and asked once more with a note naming the options; a second wrong answer
/// counts as `none` (the agent replies again and waits).
#[tokio::test]
async fn choose_exit_off_the_list_is_asked_again() {
    let fx = fixture("choose-off-list").await;
    let server = &fx.server;
    answer(
        server,
        OPENAI_PATH,
        "choose_exit",
        1,
        sequence(vec![
            oa_call("choose_exit", json!({ "exit": "the customer wants espresso" })),
            oa_call("choose_exit", json!({ "exit": "large" })),
            oa_call("choose_exit", json!({ "exit": "medium" })),
            oa_call("choose_exit", json!({ "exit": DONE })),
        ]),
    )
    .await;
    defaults(server).await;

    let o = fx.run("Hi\nThat is all.\n", &[]);
    assert_eq!(o.code, Some(0), "{}", show(&o));
    assert_eq!(o.outcome(), Some("done"), "{}", show(&o));
    // First message: two wrong answers, so none holds and the agent replies
    // again; second message: a wrong answer, then the right one.
    assert_eq!(o.llm_calls("choose_exit").len(), 4, "{}", show(&o));
    assert_eq!(o.llm_calls("reply").len(), 2, "{}", show(&o));
    let asked: Vec<Value> = requests(server, OPENAI_PATH)
        .await
        .iter()
        .map(json_of)
        .filter(|b| b.pointer("/tool_choice/function/name") == Some(&json!("choose_exit")))
        .collect();
    let text = |b: &Value| b["messages"].to_string();
    assert!(!text(&asked[0]).contains("is not one of the options"));
    assert!(text(&asked[1]).contains("`the customer wants espresso` is not one of the options"));
    assert!(text(&asked[1]).contains(DONE), "the note names the options");
    assert!(!text(&asked[2]).contains("is not one of the options"));
    assert!(text(&asked[3]).contains("`medium` is not one of the options"));
}
