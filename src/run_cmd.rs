//! `flow run` and `flow resume`: drive a run from the command line (RUNTIME.md).
//! Stdin lines are user messages, stdout shows what the user sees, stderr the
//! trace and the pause notice. Exit 0 completed, 1 failed, 2 could not start,
//! 3 paused, 130 interrupted by Ctrl-C.

use crate::interactive::{Console, EXIT_INTERRUPTED};
use crate::shown::Shown;
use crate::terminal::{Palette, Role};
use crate::{EXIT_USAGE, files, pause_info, run_hints, run_output, spinner::Spinner};
use flow_runtime::inputs::coerce_text;
use flow_runtime::store::{SqliteStore, Store, StoreError};
use flow_runtime::{
    Answer, Program, Run, RunError, RunOptions, RunStatus, Runtime, StartError, parse_model_replacement,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// `flow run FILE ...`; `live_tools` lets tools the stubs do not stub run for real.
pub fn run(file: &Path, inputs: &[String], stubs: Option<&Path>, live_tools: bool, common: &Common) -> u8 {
    match start(file, inputs, stubs, live_tools, common) {
        Ok(code) | Err(code) => code,
    }
}

fn start(file: &Path, inputs: &[String], stubs: Option<&Path>, live_tools: bool, common: &Common) -> Result<u8, u8> {
    let graph = files::load_graph(file, EXIT_USAGE)?;
    let program = Program::new(graph).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let program = Arc::new(program);
    let inputs = program
        .parse_inputs(inputs)
        .map_err(|e| usage(run_hints::start_error(&e)))?;
    let models = parse_models(&program, &common.models).map_err(usage)?;
    let stubs = stubs.map(absolute).transpose().map_err(usage)?;
    let options = RunOptions {
        models,
        stubs,
        live_tools,
    };
    let secrets = flow_runtime::secrets_from_env(&program).map_err(|e| usage(run_hints::start_error(&e)))?;
    let store = open_store(common.store.as_deref())?;
    let mut runtime = Runtime::new(Arc::clone(&store));
    crate::clock_env::install(&mut runtime);
    let mut run = runtime
        .start(program, inputs, options, secrets)
        .map_err(|e| usage(run_hints::start_error(&e)))?;
    let output = run_output::Output::open(common.events.as_deref(), common.trace).map_err(usage)?;
    output.end_last_line().map_err(usage)?;
    let shown = Shown::create(&store_path(common.store.as_deref()), run.id()).map_err(usage)?;
    let mut inbox = watch(&mut run, output.record_shown(shown), false);
    let tokio = tokio_runtime()?;
    let status = tokio.block_on(run.run(&mut inbox));
    Ok(finish(&run, status, store.as_ref(), &inbox))
}

/// Attaches the outputs, the spinner and Ctrl-C handling to a run.
fn watch(run: &mut Run, output: run_output::Output, stored: bool) -> Console {
    let spinner = Spinner::on_terminal();
    if let Some(spinner) = &spinner {
        let spinner = spinner.clone();
        run.on_activity(move |activity| spinner.set(activity));
    }
    output.attach(run);
    let console = Console::new(spinner);
    console.track(run, stored);
    console
}

/// `flow resume RUN_ID ...`; `sets` are the `--set NAME=VALUE` of `--return`.
pub fn resume(run_id: &str, answer: Option<Answer>, sets: &[String], common: &Common) -> u8 {
    match resume_inner(run_id, answer, sets, common) {
        Ok(code) | Err(code) => code,
    }
}

/// `flow resume RUN_ID --retry`: takes again the failed step of a run that
/// failed on an outage; any other run is refused (exit 2).
pub fn retry(run_id: &str, common: &Common) -> u8 {
    match resume_with(run_id, None, &[], true, common) {
        Ok(code) | Err(code) => code,
    }
}

fn resume_inner(run_id: &str, answer: Option<Answer>, sets: &[String], common: &Common) -> Result<u8, u8> {
    resume_with(run_id, answer, sets, false, common)
}

fn resume_with(run_id: &str, answer: Option<Answer>, sets: &[String], retry: bool, common: &Common) -> Result<u8, u8> {
    let store = open_store(common.store.as_deref())?;
    let mut runtime = Runtime::new(Arc::clone(&store));
    crate::clock_env::install(&mut runtime);
    let tokio = tokio_runtime()?;
    // A bad `--model` is said with its argument; the runtime only hears that it was refused.
    let mut model_error = None;
    let mut run = tokio
        .block_on(runtime.load(run_id, |program: &Program| {
            let models = parse_models(program, &common.models).map_err(|why| {
                let refused = StartError::BadModelReplacement { text: why.clone() };
                model_error = Some(why);
                refused
            })?;
            Ok((models, flow_runtime::secrets_from_env(program)?))
        }))
        .map_err(|e| usage(model_error.take().unwrap_or_else(|| run_hints::start_error(&e))))?;
    let answer = match answer {
        Some(Answer::Return) if !sets.is_empty() => {
            Some(Answer::ReturnWith(parse_sets(run.program(), sets).map_err(usage)?))
        }
        other => other,
    };
    let output = run_output::Output::open(common.events.as_deref(), common.trace).map_err(usage)?;
    output.catch_up(store.as_ref(), run.id()).map_err(usage)?;
    let mut replayed = 0;
    let output = match Shown::open(&store_path(common.store.as_deref()), run.id()) {
        Some(shown) => {
            replayed = output.replay_stdout(store.as_ref(), run.id(), &shown).map_err(usage)?;
            output.record_shown(shown)
        }
        // A run without a mark shows only what it does from now on.
        None => {
            let shown = Shown::create(&store_path(common.store.as_deref()), run.id()).map_err(usage)?;
            let last = run.state().next_seq.saturating_sub(1);
            shown
                .set(last)
                .map_err(|e| usage(format!("cannot mark what stdout has shown: {e}")))?;
            output.record_shown(shown)
        }
    };
    // A replayed message is the last one already: say it once.
    let repeat = answer.is_none() && !retry && replayed == 0 && common.events.as_deref() != Some("-");
    let mut inbox = watch(&mut run, output, true);
    let status = run.status();
    if status.is_finished() && !retry {
        let hint = if run.state().retry.is_some() {
            " (it failed on an outage: take the failed step again with --retry)"
        } else {
            ""
        };
        return Err(usage(format!("run {run_id} has already {}{hint}", status.as_str())));
    }
    if repeat && status == RunStatus::WaitingForUser && std::io::stdin().is_terminal() {
        repeat_last_message(&run);
    }
    let result = tokio.block_on(async {
        if retry {
            return Ok(run.retry(&mut inbox).await?);
        }
        match answer {
            Some(answer) => Ok(run.answer(answer, &mut inbox).await?),
            None => match run.expire(&mut inbox).await? {
                Some(status) => Ok(status),
                None if run.status() == RunStatus::WaitingForApproval => Err(Refused::NeedsAnswer(format!(
                    "run {run_id} waits for an approval: answer with --approve or --reject"
                ))),
                None if run.status() == RunStatus::WaitingForHuman => Err(Refused::NeedsAnswer(format!(
                    "run {run_id} waits for a human: hand it back with --return"
                ))),
                None => Ok(run.run(&mut inbox).await?),
            },
        }
    });
    let (result, refusal) = match result {
        Ok(status) => (Ok(status), None),
        Err(Refused::NeedsAnswer(why)) => (Ok(run.status()), Some(why)),
        Err(Refused::Run(RunError::Answer(why))) => (Ok(run.status()), Some(run_hints::answer_error(&why))),
        Err(Refused::Run(e)) => (Err(e), None),
    };
    if let Some(why) = refusal {
        let code = usage(why);
        if matches!(run.status(), RunStatus::WaitingForApproval | RunStatus::WaitingForHuman) {
            print_pause_details(store.as_ref(), run.id());
        }
        return Err(code);
    }
    Ok(finish(&run, result, store.as_ref(), &inbox))
}

/// Why `flow resume` did not go on: the runtime refused, or the run needs an answer the command did not give.
enum Refused {
    /// The runtime's error.
    Run(RunError),
    /// A pause that needs `--approve`, `--reject` or `--return`.
    NeedsAnswer(String),
}

impl From<RunError> for Refused {
    fn from(e: RunError) -> Refused {
        Refused::Run(e)
    }
}

/// On a terminal, `flow resume` at an agent first says the agent's last message again.
fn repeat_last_message(run: &Run) {
    if let Some(last) = run.conversation().iter().rev().find(|m| m.role == "assistant") {
        let text = crate::terminal::escape(&last.text);
        outln!("{}", Palette::stdout().paint(Role::Agent, &text));
    }
}

/// Reports how the command ended and gives its exit status.
fn finish(run: &Run, status: Result<RunStatus, RunError>, store: &dyn Store, console: &Console) -> u8 {
    let state = run.state();
    let palette = Palette::stderr();
    match status {
        Err(e) => {
            let line = format!("error: run {}: {}", run.id(), crate::terminal::escape(&e.to_string()));
            eprintln!("{}", palette.paint(Role::Error, &line));
            1
        }
        Ok(RunStatus::Completed) => 0,
        Ok(RunStatus::Failed) => {
            let line = format!(
                "run {} failed at `{}`: {}",
                run.id(),
                state.node(),
                crate::terminal::escape(state.error.as_deref().unwrap_or("unknown error"))
            );
            eprintln!("{}", palette.paint(Role::Error, &line));
            if state
                .error
                .as_deref()
                .is_some_and(|e| e.contains(flow_runtime::tools::NOT_STUBBED))
            {
                eprintln!("hint: add a [tool NAME] section to the stubs script, or pass --live-tools");
            }
            1
        }
        Ok(status) => {
            let how = match status {
                RunStatus::WaitingForApproval => " --approve (or --reject)",
                RunStatus::WaitingForHuman => " --return",
                _ => "",
            };
            let line = format!("run {} paused: {} at `{}`", run.id(), status.as_str(), state.node());
            eprintln!("{}", palette.paint(Role::Pause, &line));
            print_pause_details(store, run.id());
            let line = format!("continue with: flow resume {}{how}", run.id());
            eprintln!("{}", palette.paint(Role::Pause, &line));
            if console.interrupted() && status == RunStatus::WaitingForUser {
                EXIT_INTERRUPTED
            } else {
                EXIT_PAUSED
            }
        }
    }
}

/// The prompt and deadline of an approval, the queue and message of a handoff, on stderr.
fn print_pause_details(store: &dyn Store, run_id: &str) {
    let Some(event) = pause_info::last_pause(store, run_id) else {
        return;
    };
    let palette = Palette::stderr();
    for (label, value) in pause_info::details(&event, true) {
        let value = value.replace('\n', "\n  ");
        eprintln!("  {}", palette.paint(Role::Pause, &format!("{label:<9}{value}")));
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

/// `--set NAME=VALUE` (with `--return`): typed like `--input` against the
/// variable; the runtime refuses unknown names, inputs and secrets.
fn parse_sets(program: &Program, given: &[String]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for item in given {
        let (name, raw) = item
            .split_once('=')
            .ok_or_else(|| format!("--set {item}: expected NAME=VALUE"))?;
        let schema = program.variable(name).map(|v| &v.schema);
        let value = coerce_text(schema, raw).map_err(|e| format!("--set {name}={raw}: not JSON ({e})"))?;
        if out.insert(name.to_string(), value).is_some() {
            return Err(format!("--set {name} is given twice"));
        }
    }
    Ok(out)
}

/// `--model GROUP=provider:model` (`*` for every group), parsed by the runtime;
/// the error names the argument.
fn parse_models(program: &Program, given: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for item in given {
        let groups = parse_model_replacement(item)
            .and_then(|(group, spec)| Ok((program.replaced_groups(&group)?, spec)))
            .map_err(|e| run_hints::model_error(item, &e))?;
        let (groups, spec) = groups;
        for g in groups {
            out.insert(g, spec.clone());
        }
    }
    Ok(out)
}

/// Says a store error in words.
pub fn store_error(e: &StoreError) -> u8 {
    usage(e.to_string())
}
