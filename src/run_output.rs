//! Where a run's events go on the command line: the `--events` file (or stdout),
//! the user's view on stdout, and the `--trace` on stderr.

use crate::shown::Shown;
use crate::terminal::{Palette, Role, escape};
use flow_runtime::Run;
use flow_runtime::store::Store;
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};

enum Sink {
    None,
    Stdout,
    File(File),
}

/// A run's outputs, ready to attach to it.
pub struct Output {
    sink: Sink,
    trace: bool,
    shown: Option<Shown>,
}

impl Output {
    /// Opens `--events` (`-` is stdout) for appending.
    pub fn open(events: Option<&str>, trace: bool) -> Result<Output, String> {
        let sink = match events {
            None => Sink::None,
            Some("-") => Sink::Stdout,
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .read(true)
                    .open(path)
                    .map_err(|e| format!("cannot open the events file {path}: {e}"))?;
                Sink::File(file)
            }
        };
        Ok(Output {
            sink,
            trace,
            shown: None,
        })
    }

    /// Marks each agent message printed on stdout in `shown` (see [`crate::shown`]).
    pub fn record_shown(mut self, shown: Shown) -> Output {
        self.shown = Some(shown);
        self
    }

    /// Prints on stdout the run's committed agent messages that no earlier
    /// `flow run` or `flow resume` printed (after the `seq` of `shown`), as the
    /// catch-up of `--events` does for its file. With `--events -` stdout is the
    /// events stream (a resume writes only new events there) and nothing is replayed.
    /// Returns how many messages it printed.
    pub fn replay_stdout(&self, store: &dyn Store, run_id: &str, shown: &Shown) -> Result<usize, String> {
        if matches!(self.sink, Sink::Stdout) {
            return Ok(0);
        }
        let mut printed = 0;
        for line in crate::wait::wait(store.events_after(run_id, shown.get()))?.map_err(|e| e.to_string())? {
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if event["type"] == "message"
                && event["role"] == "agent"
                && let (Some(text), Some(seq)) = (event["text"].as_str(), event["seq"].as_u64())
            {
                outln!("{}", Palette::stdout().paint(Role::Agent, &escape(text)));
                printed += 1;
                shown
                    .set(seq)
                    .map_err(|e| format!("cannot mark what stdout has shown: {e}"))?;
            }
        }
        Ok(printed)
    }

    /// Makes the `--events` file end with a line break (a new run's first event
    /// then starts a line of its own).
    pub fn end_last_line(&self) -> Result<(), String> {
        match &self.sink {
            Sink::File(file) => {
                crate::events_file::end_last_line(file).map_err(|e| format!("cannot write the events file: {e}"))
            }
            _ => Ok(()),
        }
    }

    /// Writes the stored events the `--events` file lacks (after its last `seq`
    /// for this run), dropping a last line a crash cut short when it is the start
    /// of an event of this run ([`crate::events_file::is_partial_event`]); any
    /// other unterminated last line is kept and ended.
    pub fn catch_up(&self, store: &dyn Store, run_id: &str) -> Result<(), String> {
        let Sink::File(file) = &self.sink else { return Ok(()) };
        let mut file = file;
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        file.read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read the events file: {e}"))?;
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if !text.is_empty() && !text.ends_with('\n') {
            let keep = text.rfind('\n').map_or(0, |i| i + 1);
            if crate::events_file::is_partial_event(&text[keep..], run_id) {
                let cut = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                file.set_len(cut as u64).map_err(|e| e.to_string())?;
                text.truncate(keep);
            } else {
                file.write_all(b"\n")
                    .map_err(|e| format!("cannot write the events file: {e}"))?;
            }
        }
        let last = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("run_id").and_then(Value::as_str) == Some(run_id))
            .filter_map(|v| v.get("seq").and_then(Value::as_u64))
            .max()
            .unwrap_or(0);
        let missing = crate::wait::wait(store.events_after(run_id, last))?.map_err(|e| e.to_string())?;
        let mut out = String::new();
        for line in missing {
            out.push_str(&line);
            out.push('\n');
        }
        file.write_all(out.as_bytes())
            .map_err(|e| format!("cannot write the events file: {e}"))
    }

    /// Sends the run's committed events to the outputs: agent lines on stdout
    /// and `--trace` lines on stderr with their control characters escaped, in
    /// colour on a terminal; when both are one terminal, the trace leaves out
    /// the agent lines stdout already shows.
    pub fn attach(self, run: &mut Run) {
        let Output { mut sink, trace, shown } = self;
        let (out_colour, err_colour) = (Palette::stdout(), Palette::stderr());
        let once = crate::terminal::same_terminal();
        run.on_event(move |event| {
            let json = event.to_json();
            match &mut sink {
                Sink::File(file) => {
                    let _ = file.write_all(format!("{json}\n").as_bytes());
                }
                Sink::Stdout => outln!("{json}"),
                Sink::None => {}
            }
            let mut printed = false;
            if let flow_runtime::EventBody::Message { role, text, .. } = &event.body
                && role == "agent"
            {
                if !matches!(sink, Sink::Stdout) {
                    outln!("{}", out_colour.paint(Role::Agent, &escape(text)));
                    printed = true;
                }
                // Printed (as itself, or inside its event): a resume need not print it.
                if let Some(shown) = &shown {
                    let _ = shown.set(event.seq);
                }
            }
            if trace
                && !(printed && once)
                && let Some(line) = trace_line(&json)
            {
                let role = if event.kind() == "paused" {
                    Role::Pause
                } else {
                    Role::Trace
                };
                eprintln!("{}", err_colour.paint(role, &line));
            }
        });
    }
}

/// One event as a readable line (for `--trace` and `flow runs show`).
pub fn trace_line(e: &Value) -> Option<String> {
    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
    let seq = e.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let body = match s("type") {
        "run_started" => format!(
            "run started: {} inputs {}",
            s("workflow"),
            e.get("inputs").cloned().unwrap_or(Value::Null)
        ),
        "node_entered" => format!("enter {} ({})", s("node"), s("kind")),
        "message" => format!("{} says: {}", s("role"), s("text").replace('\n', " / ")),
        "llm_call" => {
            let tokens = match (
                e.get("input_tokens").and_then(Value::as_u64),
                e.get("output_tokens").and_then(Value::as_u64),
            ) {
                (Some(i), Some(o)) => format!(", {i}+{o} tokens"),
                _ => String::new(),
            };
            let error = e
                .get("error")
                .and_then(Value::as_str)
                .map(|x| format!(" FAILED: {x}"))
                .unwrap_or_default();
            let rejected = e.get("rejected").and_then(Value::as_array).filter(|r| !r.is_empty());
            let rejected = rejected
                .map(|r| format!(" rejected {}", Value::Array(r.clone())))
                .unwrap_or_default();
            format!(
                "llm {} at {}: {}:{} ({} ms{tokens}){error}{rejected}",
                s("purpose"),
                s("node"),
                s("provider"),
                s("model"),
                e.get("latency_ms").and_then(Value::as_u64).unwrap_or(0)
            )
        }
        "tool_call" => format!("call {} {}", s("tool"), e.get("input").cloned().unwrap_or(Value::Null)),
        "tool_result" => {
            let what = match e.get("error").and_then(Value::as_str) {
                Some(err) => format!("failed: {err}"),
                None => format!("-> {}", e.get("output").cloned().unwrap_or(Value::Null)),
            };
            let companion = if e.get("companion").and_then(Value::as_bool) == Some(true) {
                " (companion)"
            } else {
                ""
            };
            format!(
                "tool {}{companion} {what} ({} ms)",
                s("tool"),
                e.get("latency_ms").and_then(Value::as_u64).unwrap_or(0)
            )
        }
        "variable_set" => format!(
            "set {} = {}",
            s("variable"),
            e.get("value").cloned().unwrap_or(Value::Null)
        ),
        "edge_taken" => format!("edge {}: {} -> {} ({})", s("edge"), s("from"), s("to"), s("kind")),
        "bound_spent" => format!("bound spent at {}: edge {}", s("node"), s("edge")),
        "paused" => match crate::pause_info::one_line(e, false) {
            details if details.is_empty() => format!("paused at {}: {}", s("node"), s("state")),
            details => format!("paused at {}: {} ({details})", s("node"), s("state")),
        },
        "resumed" => format!("resumed at {} with {}", s("node"), s("with")),
        "run_completed" => format!("run completed: {}", s("outcome")),
        "run_failed" => format!("run failed at {}: {}", s("node"), s("error")),
        _ => return None,
    };
    Some(format!("[{seq:>4}] {}", escape(&body)))
}
