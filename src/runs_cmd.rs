//! `flow runs` (list) and `flow runs show RUN_ID` (one run in full).

use crate::pause_info;
use crate::run_cmd::{store_error, store_path};
use crate::run_output::trace_line;
use flow_runtime::store::{SqliteStore, Store, StoreError};
use serde_json::Value;
use std::path::Path;

/// Opens the store for reading only (nothing is created, nothing written), or
/// says why not (exit 2): a missing store is named.
fn open_store(given: Option<&Path>) -> Result<Box<dyn Store>, u8> {
    match SqliteStore::open_read_only(&store_path(given)) {
        Ok(store) => Ok(Box::new(store)),
        Err(e) => {
            eprintln!("error: {e}");
            Err(crate::EXIT_USAGE)
        }
    }
}

/// Lists the runs of the store, the most recently changed first.
pub fn list(store_path: Option<&Path>) -> u8 {
    let store = match open_store(store_path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runs = match crate::wait::wait(store.list()).unwrap_or_else(|e| Err(StoreError::io(e))) {
        Ok(runs) => runs,
        Err(e) => return store_error(&e),
    };
    if runs.is_empty() {
        eprintln!("no runs in {}", crate::run_cmd::store_path(store_path).display());
        return 0;
    }
    let width = |f: &dyn Fn(&flow_runtime::store::RunSummary) -> usize, min: usize| {
        runs.iter().map(f).max().unwrap_or(0).max(min)
    };
    let (w_wf, w_state, w_node) = (
        width(&|r| r.workflow.len(), 8),
        width(&|r| r.status.len(), 5),
        width(&|r| r.node.len(), 4),
    );
    outln!(
        "{:<36}  {:<w_wf$}  {:<w_state$}  {:<w_node$}  UPDATED",
        "RUN",
        "WORKFLOW",
        "STATE",
        "NODE"
    );
    for r in runs {
        outln!(
            "{:<36}  {:<w_wf$}  {:<w_state$}  {:<w_node$}  {}",
            r.run_id,
            r.workflow,
            r.status,
            r.node,
            r.updated
        );
        if matches!(r.status.as_str(), "waiting_for_approval" | "waiting_for_human")
            && let Some(pause) = pause_info::last_pause(store.as_ref(), &r.run_id)
        {
            outln!("{:<36}  {}", "", shorten(&pause_info::one_line(&pause, true), 160));
        }
    }
    0
}

/// At most `max` characters, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Shows one run: state, node, variables, conversation and history.
pub fn show(run_id: &str, store: Option<&Path>) -> u8 {
    let store = match open_store(store) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let stored = match crate::wait::wait(store.load(run_id)).unwrap_or_else(|e| Err(StoreError::io(e))) {
        Ok(Some(run)) => run,
        Ok(None) => {
            eprintln!("error: no run `{run_id}` in the store");
            return crate::EXIT_USAGE;
        }
        Err(e) => return store_error(&e),
    };
    let state = &stored.state;
    outln!("run       {}", state.run_id);
    outln!("workflow  {}", state.workflow);
    outln!("state     {}", state.status.as_str());
    outln!("node      {}", state.node());
    if let Some(outcome) = &state.outcome {
        outln!("outcome   {outcome}");
    }
    if let Some(error) = &state.error {
        outln!("error     {error}");
    }
    if state.status.is_waiting()
        && let Some(pause) = pause_info::last_pause(store.as_ref(), run_id)
    {
        for (label, value) in pause_info::details(&pause, true) {
            outln!("{label:<9} {}", value.replace('\n', "\n          "));
        }
    }
    outln!("steps     {}", state.steps);
    outln!("created   {}", state.created);
    outln!("updated   {}", state.updated);
    if let Some(models) = stored
        .record
        .options
        .get("models")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    {
        outln!("models    {}", Value::Object(models.clone()));
    }
    outln!("\nvariables");
    if let Value::Object(vars) = &state.vars {
        for (name, value) in vars {
            outln!("  {name} = {value}");
        }
    }
    match crate::wait::wait(store.events_after(run_id, 0)).unwrap_or_else(|e| Err(StoreError::io(e))) {
        Ok(events) => {
            outln!("\nhistory");
            for line in events {
                if let Some(text) = serde_json::from_str::<Value>(&line).ok().as_ref().and_then(trace_line) {
                    outln!("  {text}");
                }
            }
        }
        Err(e) => return store_error(&e),
    }
    0
}
