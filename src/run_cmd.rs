//! `flow run` and `flow resume`: drive a run from the command line (RUNTIME.md).
//! Stdin lines are user messages, stdout shows what the user sees, stderr the
//! trace and the pause notice. Exit 0 completed, 1 failed, 2 could not start,
//! 3 paused.

use crate::{EXIT_USAGE, files, run_output};
use flow_runtime::store::{SqliteStore, Store, StoreError};
use flow_runtime::{Answer, Inbox, Incoming, Program, Run, RunError, RunOptions, RunStatus, Runtime, StartError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// Exit status 3: the run is paused.
pub const EXIT_PAUSED: u8 = 3;

/// Where runs are kept: `--store`, else `$FLOW_STORE`, else `.flow/runs.sqlite`.
pub fn store_path(given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("FLOW_STORE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(".flow/runs.sqlite"))
}

/// Opens the store, or says why not (exit 2).
pub fn open_store(given: Option<&Path>) -> Result<Arc<dyn Store>, u8> {
    let path = store_path(given);
    match SqliteStore::open(&path) {
        Ok(store) => Ok(Arc::new(store)),
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_USAGE)
        }
    }
}

/// What both `flow run` and `flow resume` take.
pub struct Common {
    /// `--events PATH|-`.
    pub events: Option<String>,
    /// `--store PATH`.
    pub store: Option<PathBuf>,
    /// `--trace`.
    pub trace: bool,
    /// `--model GROUP=provider:model`.
    pub models: Vec<String>,
}

/// `flow run FILE ...`.
pub fn run(file: &Path, inputs: &[String], stubs: Option<&Path>, common: &Common) -> u8 {
    match start(file, inputs, stubs, common) {
        Ok(code) | Err(code) => code,
    }
}

fn start(file: &Path, inputs: &[String], stubs: Option<&Path>, common: &Common) -> Result<u8, u8> {
    let graph = files::load_graph(file, EXIT_USAGE)?;
    let program = Program::new(graph).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let program = Arc::new(program);
    let inputs = parse_inputs(&program, inputs).map_err(usage)?;
    let models = parse_models(&program, &common.models).map_err(usage)?;
    let stubs = stubs.map(absolute).transpose().map_err(usage)?;
    let options = RunOptions { models, stubs };
    let secrets = flow_runtime::secrets_from_env(&program).map_err(|e| usage(e.0))?;
    let store = open_store(common.store.as_deref())?;
    let runtime = Runtime::new(store);
    let mut run = runtime
        .start(program, inputs, options, secrets)
        .map_err(|e| usage(e.to_string()))?;
    let output = run_output::Output::open(common.events.as_deref(), common.trace).map_err(usage)?;
    output.attach(&mut run);
    let tokio = tokio_runtime()?;
    let mut inbox = StdinInbox::new();
    let status = tokio.block_on(run.run(&mut inbox));
    Ok(finish(&run, status))
}

/// `flow resume RUN_ID ...`.
pub fn resume(run_id: &str, answer: Option<Answer>, common: &Common) -> u8 {
    match resume_inner(run_id, answer, common) {
        Ok(code) | Err(code) => code,
    }
}

fn resume_inner(run_id: &str, answer: Option<Answer>, common: &Common) -> Result<u8, u8> {
    let store = open_store(common.store.as_deref())?;
    let runtime = Runtime::new(Arc::clone(&store));
    let mut run = runtime
        .load(run_id, |program: &Program| {
            let models = parse_models(program, &common.models).map_err(StartError)?;
            Ok((models, flow_runtime::secrets_from_env(program)?))
        })
        .map_err(|e| usage(e.to_string()))?;
    let output = run_output::Output::open(common.events.as_deref(), common.trace).map_err(usage)?;
    output.catch_up(store.as_ref(), run.id()).map_err(usage)?;
    output.attach(&mut run);
    let status = run.status();
    if status.is_finished() {
        return Err(usage(format!("run {run_id} has already {}", status.as_str())));
    }
    let tokio = tokio_runtime()?;
    let mut inbox = StdinInbox::new();
    let result = tokio.block_on(async {
        match answer {
            Some(answer) => run.answer(answer, &mut inbox).await,
            None => match run.expire(&mut inbox).await? {
                Some(status) => Ok(status),
                None if run.status() == RunStatus::WaitingForApproval => Err(RunError::Input(format!(
                    "run {run_id} waits for an approval: answer with --approve or --reject"
                ))),
                None if run.status() == RunStatus::WaitingForHuman => Err(RunError::Input(format!(
                    "run {run_id} waits for a human: hand it back with --return"
                ))),
                None => run.run(&mut inbox).await,
            },
        }
    });
    if let Err(RunError::Input(why)) = &result {
        return Err(usage(why.clone()));
    }
    Ok(finish(&run, result))
}

/// Reports how the command ended and gives its exit status.
fn finish(run: &Run, status: Result<RunStatus, RunError>) -> u8 {
    let state = run.state();
    match status {
        Err(e) => {
            eprintln!("error: run {}: {e}", run.id());
            1
        }
        Ok(RunStatus::Completed) => 0,
        Ok(RunStatus::Failed) => {
            eprintln!(
                "run {} failed at `{}`: {}",
                run.id(),
                state.node(),
                state.error.as_deref().unwrap_or("unknown error")
            );
            1
        }
        Ok(status) => {
            let how = match status {
                RunStatus::WaitingForApproval => " --approve (or --reject)",
                RunStatus::WaitingForHuman => " --return",
                _ => "",
            };
            eprintln!("run {} paused: {} at `{}`", run.id(), status.as_str(), state.node());
            eprintln!("continue with: flow resume {}{how}", run.id());
            EXIT_PAUSED
        }
    }
}

fn usage(message: String) -> u8 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the async runtime: {e}")))
}

fn absolute(path: &Path) -> Result<String, String> {
    std::path::absolute(path)
        .map(|p| p.display().to_string())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `--input NAME=VALUE`: strings as given for string-typed inputs, JSON otherwise.
fn parse_inputs(program: &Program, given: &[String]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for item in given {
        let (name, raw) = item
            .split_once('=')
            .ok_or_else(|| format!("--input {item}: expected NAME=VALUE"))?;
        let variable = program.input(name)?;
        let value = if takes_strings(&variable.schema) && !(raw == "null" && accepts_null(&variable.schema)) {
            Value::String(raw.to_string())
        } else {
            serde_json::from_str(raw).map_err(|e| format!("--input {name}={raw}: not JSON ({e})"))?
        };
        if out.insert(name.to_string(), value).is_some() {
            return Err(format!("--input {name} is given twice"));
        }
    }
    Ok(out)
}

fn takes_strings(schema: &Value) -> bool {
    match schema {
        Value::Object(m) => {
            m.get("type").and_then(Value::as_str) == Some("string")
                || m.get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|e| !e.is_empty() && e.iter().all(Value::is_string))
                || m.get("anyOf")
                    .and_then(Value::as_array)
                    .is_some_and(|alts| alts.iter().any(takes_strings))
        }
        _ => false,
    }
}

fn accepts_null(schema: &Value) -> bool {
    schema.get("anyOf").and_then(Value::as_array).is_some_and(|alts| {
        alts.iter()
            .any(|a| a.get("type").and_then(Value::as_str) == Some("null"))
    })
}

/// `--model GROUP=provider:model` (`*` for every group); `scripted:` paths made absolute.
fn parse_models(program: &Program, given: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for item in given {
        let (group, spec) = item
            .split_once('=')
            .ok_or_else(|| format!("--model {item}: expected GROUP=provider:model"))?;
        let (provider, model) = spec
            .split_once(':')
            .ok_or_else(|| format!("--model {item}: expected GROUP=provider:model"))?;
        let spec = if provider == "scripted" {
            let path = Path::new(model);
            if !path.is_file() {
                return Err(format!("--model {item}: no script file {model}"));
            }
            format!("scripted:{}", absolute(path)?)
        } else {
            spec.to_string()
        };
        if group == "*" {
            for g in program.graph.models.keys() {
                out.insert(g.clone(), spec.clone());
            }
        } else if program.graph.models.contains_key(group) {
            out.insert(group.to_string(), spec);
        } else {
            let known: Vec<&str> = program.graph.models.keys().map(String::as_str).collect();
            return Err(format!(
                "--model {item}: the workflow has no model group `{group}` (it has: {})",
                known.join(", ")
            ));
        }
    }
    Ok(out)
}

/// User messages from stdin, one per line; a prompt on stderr when it is a terminal.
/// Lines are read on a thread of their own, so a wait for the user can race a
/// silence deadline; a line typed after the deadline is kept for the next wait.
struct StdinInbox {
    interactive: bool,
    lines: Option<mpsc::Receiver<String>>,
}

impl StdinInbox {
    fn new() -> StdinInbox {
        StdinInbox {
            interactive: std::io::stdin().is_terminal(),
            lines: None,
        }
    }

    /// The lines of stdin; the channel closes at its end.
    fn lines(&mut self) -> &mpsc::Receiver<String> {
        self.lines.get_or_insert_with(|| {
            let (send, receive) = mpsc::channel();
            std::thread::spawn(move || {
                let stdin = std::io::stdin();
                let mut lock = stdin.lock();
                loop {
                    let mut line = String::new();
                    match lock.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            if send.send(line.trim_end_matches(['\n', '\r']).to_string()).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
            receive
        })
    }

    /// The next non-blank line, waiting at most until `until` (forever with `None`).
    fn next_line(&mut self, until: Option<Instant>) -> Incoming {
        loop {
            if self.interactive {
                eprint!("> ");
            }
            let line = match until {
                Some(until) => self
                    .lines()
                    .recv_timeout(until.saturating_duration_since(Instant::now())),
                None => self.lines().recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            match line {
                Ok(text) if text.trim().is_empty() => {}
                Ok(text) => return Incoming::Message(text),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.interactive {
                        eprintln!();
                    }
                    return Incoming::TimedOut;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Incoming::Closed,
            }
        }
    }
}

impl Inbox for StdinInbox {
    fn next_message(&mut self) -> Option<String> {
        match self.next_line(None) {
            Incoming::Message(text) => Some(text),
            _ => None,
        }
    }

    fn next_message_within(&mut self, limit: Duration) -> Incoming {
        self.next_line(Some(Instant::now() + limit))
    }
}

/// Says a store error in words.
pub fn store_error(e: &StoreError) -> u8 {
    usage(e.to_string())
}
