//! Helpers of tests/hardening.rs: a workflow run against a mock, the forms a
//! secret takes when encoded, and canned OpenAI answers.

use serde_json::{Value, json};
use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// No extra environment.
pub const NO_ENV: &[(&str, &str)] = &[];

/// A workflow in a temporary folder, its `MOCK_URL` the mock's address.
pub struct Fixture {
    /// The folder (the store is `.flow/runs.sqlite` in it).
    pub dir: PathBuf,
    flow: PathBuf,
    runs: AtomicUsize,
}

/// How one `flow run` ended.
pub struct Outcome {
    /// The exit status.
    pub code: Option<i32>,
    /// The events file, parsed.
    pub events: Vec<Value>,
    /// The events file as written.
    pub events_text: String,
    /// What the user saw.
    pub stdout: String,
    /// The trace, errors and pause notices.
    pub stderr: String,
}

impl Outcome {
    /// The events of one type.
    pub fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["type"] == kind).collect()
    }

    /// Everything, for an assertion's message.
    pub fn show(&self) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}\nevents:\n{}",
            self.code, self.stdout, self.stderr, self.events_text
        )
    }
}

impl Fixture {
    /// Writes `source` (with `MOCK_URL` replaced) to a fresh folder.
    pub fn new(name: &str, source: &str, server: &MockServer) -> Fixture {
        let dir = crate::common::temp_dir(&format!("hardening-{name}"));
        let flow = dir.join("w.flow");
        std::fs::write(&flow, source.replace("MOCK_URL", &server.uri())).unwrap();
        Fixture {
            dir,
            flow,
            runs: AtomicUsize::new(0),
        }
    }

    /// `flow run` of the workflow with `args`, `stdin` and `env` (fast back-off by default).
    pub fn run<K: AsRef<OsStr>, V: AsRef<OsStr>>(&self, args: &[&str], stdin: &str, env: &[(K, V)]) -> Outcome {
        let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        let events_path = self.dir.join(format!("events-{n}.jsonl"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_flow"))
            .arg("run")
            .arg(&self.flow)
            .arg("--store")
            .arg(self.dir.join(".flow").join("runs.sqlite"))
            .arg("--events")
            .arg(&events_path)
            .args(args)
            .current_dir(&self.dir)
            .env_remove("FLOW_STORE")
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("FLOW_ALLOW_SHORT_SECRETS")
            .env("FLOW_RETRY_BASE_MS", "1")
            .env("FLOW_RETRY_MAX_MS", "5")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start flow");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().expect("flow ran");
        let events_text = std::fs::read_to_string(&events_path).unwrap_or_default();
        Outcome {
            code: out.status.code(),
            events: events_text
                .lines()
                .map(|l| serde_json::from_str(l).expect("an event per line"))
                .collect(),
            events_text,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// No form of `secret` in the run's events, stdout, stderr (the trace),
    /// any file of the store (read as bytes) or `flow runs show`.
    pub fn assert_hidden(&self, secret: &str, o: &Outcome) {
        assert_no_form_of(secret, &o.events_text, "the events file");
        assert_no_form_of(secret, &o.stdout, "stdout");
        assert_no_form_of(secret, &o.stderr, "stderr");
        for entry in std::fs::read_dir(self.dir.join(".flow")).unwrap() {
            let file = entry.unwrap().path();
            if file.is_file() {
                let bytes = std::fs::read(&file).unwrap();
                assert_no_form_of(secret, &String::from_utf8_lossy(&bytes), &file.display().to_string());
            }
        }
        let run_id = o.events[0]["run_id"].as_str().unwrap();
        let store = self.dir.join(".flow").join("runs.sqlite");
        let shown = crate::common::flow(&["runs", "show", run_id, "--store", store.to_str().unwrap()], &self.dir);
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(text.contains(run_id), "flow runs show worked: {text}");
        assert_no_form_of(secret, &text, "flow runs show");
    }
}

/// The forms a secret takes: as it is, JSON-escaped (once and twice),
/// percent-encoded (both cases of hex) and form-encoded.
pub fn forms(secret: &str) -> Vec<String> {
    let once = json_escaped(secret);
    vec![
        secret.to_string(),
        once.clone(),
        json_escaped(&once),
        percent(secret, true),
        percent(secret, false),
        form(secret),
    ]
}

fn json_escaped(text: &str) -> String {
    let quoted = Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// Every byte but ASCII letters and digits as `%XX`, in upper or lower case.
pub fn percent(text: &str, upper: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b if b.is_ascii_alphanumeric() => (b as char).to_string(),
            b if upper => format!("%{b:02X}"),
            b => format!("%{b:02x}"),
        })
        .collect()
}

/// Form encoding: `+` for a space, `%XX` for the rest but letters and digits.
pub fn form(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b if b.is_ascii_alphanumeric() => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// Fails when `text` holds `secret` in any of its [`forms`].
pub fn assert_no_form_of(secret: &str, text: &str, place: &str) {
    for form in forms(secret) {
        assert!(
            !text.contains(&form),
            "`{form}` (a form of the secret) reached {place}:\n{text}"
        );
    }
}

/// An OpenAI chat completion saying `text`.
pub fn oa_text(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": text } }]
    }))
}

/// An OpenAI chat completion making the tool calls `calls`.
pub fn oa_calls(calls: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": null, "tool_calls": calls } }]
    }))
}

/// Answers in turn, the last one repeating.
pub struct Replies {
    templates: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Replies {
    /// Answers `templates` in order.
    pub fn new(templates: Vec<ResponseTemplate>) -> Replies {
        Replies {
            templates,
            next: AtomicUsize::new(0),
        }
    }
}

impl Respond for Replies {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        self.templates[n.min(self.templates.len() - 1)].clone()
    }
}
