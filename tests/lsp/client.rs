//! A small LSP client for the tests: runs `flow lsp`, frames JSON-RPC with
//! Content-Length headers, and waits for replies and notifications with a
//! time-out, so a hang fails the test instead of blocking it.

// Each test binary uses only part of it.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// How long any one reply may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A running server and the messages it sent that no one has read yet.
pub struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    unread: Vec<Value>,
    next_id: u64,
    /// How long one reply may take ([`TIMEOUT`] unless a test allows more).
    pub patience: Duration,
}

impl Client {
    /// Starts `flow lsp` and initialises it.
    pub fn start() -> Client {
        Client::start_with_env(&[])
    }

    /// Starts `flow lsp` with these environment variables set (and
    /// `FLOW_DOCS_URL` unset unless given), and initialises it.
    pub fn start_with_env(env: &[(&str, &str)]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flow"))
            .arg("lsp")
            .env_remove("FLOW_DOCS_URL")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start flow lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (send, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if send.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            unread: Vec::new(),
            next_id: 1,
            patience: TIMEOUT,
        };
        let init = client.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        assert!(init["capabilities"]["completionProvider"].is_object(), "{init}");
        client.notify("initialized", json!({}));
        client
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its reply: the result, or the error object as `{"error": ...}`.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let reply = self.wait_for(|m| m["id"] == json!(id) && m.get("method").is_none(), method);
        match reply.get("error") {
            Some(error) => json!({ "error": error }),
            None => reply["result"].clone(),
        }
    }

    /// Waits for the next `publishDiagnostics` of `uri` for `version` (None:
    /// one without a version, as sent when a document is closed).
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Value {
        self.wait_for(
            |m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == uri
                    && m["params"]["version"] == json!(version)
            },
            "publishDiagnostics",
        )["params"]
            .clone()
    }

    /// Opens a document.
    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": text}}),
        );
    }

    /// Replaces a document's text.
    pub fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    /// Shuts the server down and checks it exits with status 0.
    pub fn shutdown(mut self) {
        let reply = self.request("shutdown", Value::Null);
        assert_eq!(reply, Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "flow lsp exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "flow lsp did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool, what: &str) -> Value {
        if let Some(i) = self.unread.iter().position(&wanted) {
            return self.unread.remove(i);
        }
        let patience = self.patience;
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .messages
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} from the server in {patience:?}"));
            if wanted(&message) {
                return message;
            }
            self.unread.push(message);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one framed message; None at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A fixture's text with its cursor markers `$0`, `$1`, … removed, and the
/// LSP position (UTF-16 columns) of each marker, by number.
pub fn markers(fixture: &str) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut found: Vec<(usize, Value)> = Vec::new();
    let (mut line, mut column) = (0u32, 0u32);
    let mut chars = fixture.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            let n = chars.next().and_then(|d| d.to_digit(10)).unwrap_or(0) as usize;
            found.push((n, json!({"line": line, "character": column})));
            continue;
        }
        text.push(c);
        if c == '\n' {
            (line, column) = (line + 1, 0);
        } else {
            column += c.len_utf16() as u32;
        }
    }
    found.sort_by_key(|(n, _)| *n);
    (text, found.into_iter().map(|(_, p)| p).collect())
}

/// The line of the fixture holding marker `$n`, with the cursor drawn as `|`.
pub fn cursor_line(fixture: &str, n: usize) -> String {
    let marker = format!("${n}");
    let line = fixture.lines().find(|l| l.contains(&marker)).unwrap_or("");
    let drawn = line.replace(&marker, "|");
    // Other markers on the line are not the cursor.
    (0..10).fold(drawn, |l, i| l.replace(&format!("${i}"), ""))
}
