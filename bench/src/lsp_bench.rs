//! `flow-lsp-bench`: how fast `flow lsp` answers on a big file, and how much
//! memory it takes.
//!
//! ```text
//! cargo build --release
//! cargo run --release -p flow-bench --bin flow-lsp-bench [-- --nodes 360 --flow target/release/flow]
//! ```
//!
//! It generates a workflow of about 3,000 lines ([`flow_bench::generate`]),
//! starts the real `flow lsp` binary, opens the file over stdio and measures,
//! each as a median and 95th percentile of many runs: a one-character edit
//! (`didChange`) until its `publishDiagnostics` arrives; a completion after
//! `-> ` (every node of the file is a candidate); a hover on a node reference.
//! Then it reads the server's peak memory (`VmHWM` in `/proc/PID/status`).

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 60;
const TARGET_EDIT_MS: f64 = 50.0;
const TARGET_REQUEST_MS: f64 = 20.0;
const TARGET_MB: f64 = 100.0;
const URI: &str = "file:///bench/generated.flow";

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Server {
    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    fn read(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut header = String::new();
            let read = self.stdout.read_line(&mut header).expect("read from the server");
            assert!(read > 0, "the server closed its output");
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("Content-Length:") {
                length = value.trim().parse().expect("Content-Length");
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).expect("read a message");
        serde_json::from_slice(&body).expect("JSON")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.read();
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message["result"].clone();
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn wait_diagnostics(&mut self, version: i64) -> Value {
        loop {
            let message = self.read();
            if message["method"] == "textDocument/publishDiagnostics" && message["params"]["version"] == json!(version)
            {
                return message["params"]["diagnostics"].clone();
            }
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut nodes = 360;
    let mut flow = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("flow")))
        .unwrap_or_else(|| "target/release/flow".into());
    let mut i = 0;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1)) {
            ("--nodes", Some(n)) => nodes = n.parse().unwrap_or(nodes),
            ("--flow", Some(path)) => flow = path.into(),
            _ => {
                eprintln!("usage: flow-lsp-bench [--nodes N] [--flow PATH-TO-FLOW]");
                return ExitCode::from(2);
            }
        }
        i += 2;
    }
    let text = flow_bench::generate(nodes);
    println!(
        "flow lsp on a generated workflow: {} lines, {} bytes ({})",
        text.lines().count(),
        text.len(),
        flow.display()
    );
    let child = Command::new(&flow)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!(
                "cannot run {}: {e} (build it first: cargo build --release)",
                flow.display()
            );
            return ExitCode::from(2);
        }
    };
    let stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut server = Server {
        child,
        stdin,
        stdout,
        next_id: 1,
    };
    let ok = run(&mut server, &text);
    let _ = server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    let _ = server.child.wait();
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn run(server: &mut Server, text: &str) -> bool {
    server.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    server.notify("initialized", json!({}));
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "flow", "version": 1, "text": text}}),
    );
    let first = server.wait_diagnostics(1);
    println!("diagnostics on open: {}", first.as_array().map_or(0, Vec::len));

    // A one-character edit in the middle of the file: a letter of a `when`
    // condition, typed and removed in turn.
    let middle = text.len() / 2;
    let edit_at = middle + text[middle..].find("when \"").expect("a when exit") + 6;
    let mut edits = Vec::new();
    for run in 0..RUNS {
        let version = run as i64 + 2;
        let edited = if run % 2 == 0 {
            format!("{}x{}", &text[..edit_at], &text[edit_at..])
        } else {
            text.to_string()
        };
        let start = Instant::now();
        server.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": version}, "contentChanges": [{"text": edited}]}),
        );
        server.wait_diagnostics(version);
        edits.push(start.elapsed());
    }

    // The text is now the original again. Complete after `-> ` and hover on the target.
    let arrow = middle + text[middle..].find("-> ").expect("an exit") + 3;
    let line = text[..arrow].matches('\n').count();
    let column = text[..arrow].rsplit('\n').next().unwrap_or("").encode_utf16().count();
    let at =
        |character: usize| json!({"textDocument": {"uri": URI}, "position": {"line": line, "character": character}});
    let mut completions = Vec::new();
    let mut items = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let reply = server.request("textDocument/completion", at(column));
        completions.push(start.elapsed());
        items = reply.as_array().map_or(0, Vec::len);
    }
    let mut hovers = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let reply = server.request("textDocument/hover", at(column + 1));
        hovers.push(start.elapsed());
        assert!(reply["contents"].is_object(), "no hover: {reply}");
    }
    let peak_mb = peak_memory_mb(server.child.id());

    println!("\n| measure | median | p95 | target |");
    println!("|---|---|---|---|");
    let edit_ok = report("edit → publishDiagnostics", &mut edits, TARGET_EDIT_MS);
    let completion_ok = report(
        &format!("completion ({items} items)"),
        &mut completions,
        TARGET_REQUEST_MS,
    );
    let hover_ok = report("hover", &mut hovers, TARGET_REQUEST_MS);
    let memory_ok = match peak_mb {
        Some(mb) => {
            println!("| server peak memory (VmHWM) | {mb:.1} MB | | < {TARGET_MB} MB |");
            mb < TARGET_MB
        }
        None => {
            println!("| server peak memory | unavailable (no /proc) | | |");
            true
        }
    };
    edit_ok && completion_ok && hover_ok && memory_ok
}

/// Prints one row; whether the 95th percentile meets the target.
fn report(what: &str, times: &mut [Duration], target_ms: f64) -> bool {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(times[times.len() / 2]);
    let p95 = ms(times[(times.len() * 95 / 100).min(times.len() - 1)]);
    println!("| {what} | {median:.2} ms | {p95:.2} ms | < {target_ms} ms |");
    p95 < target_ms
}

/// The peak resident memory of a process, from `/proc/PID/status`.
fn peak_memory_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
