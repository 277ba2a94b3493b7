//! Turns: a run taking steps until it waits or finishes, on the server's own
//! tasks (never a request's), so a client that disconnects changes nothing.
//! Starting a run, a user message, an approval, a return, a cancel and a
//! timer all go through [`drive`], which also takes what was posted to the
//! run's inbox meanwhile, gives the run back, and reports the turn.

use crate::admission::Admitted;
use crate::app::App;
use crate::problem::{ApiError, ApiResult};
use crate::views;
use flow_runtime::store::{Delivery, Origin, RunMode, StoredRun};
use flow_runtime::{Event, EventBody, Program, Run, RunOptions, RunStatus, StartError};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// What a turn answers: the run after it and the agent's messages of the turn.
#[derive(Debug)]
pub struct TurnOutput {
    /// `<run>`.
    pub run: Value,
    /// `{role, node, text, seq}` of each agent message of the turn.
    pub messages: Vec<Value>,
    /// The run's status after the turn.
    pub status: RunStatus,
}

/// What a turn does first.
enum Action {
    /// Runs on from where the run is.
    Run,
    /// Applies one answer, then runs on.
    Deliver(Delivery),
}

/// Starts a run of `program` and takes its first turn.
pub async fn start(
    app: &Arc<App>,
    program: Arc<Program>,
    inputs: Map<String, Value>,
    origin: Origin,
) -> ApiResult<TurnOutput> {
    let mode = origin.mode;
    let run = prepare(app, program, inputs, origin)?;
    first(app, run, mode, None).await
}

/// A new run of `program`, not yet stored: its inputs and secrets checked
/// (422 naming what is wrong or missing).
pub fn prepare(app: &Arc<App>, program: Arc<Program>, inputs: Map<String, Value>, origin: Origin) -> ApiResult<Run> {
    let secrets = app.runtime.secrets(&program)?;
    let mut run = app.runtime.start(program, inputs, RunOptions::default(), secrets)?;
    run.set_origin(origin)?;
    Ok(run)
}

/// Takes the first turn of a [`prepare`]d run, keeping `admitted` (its place
/// under its workflow's cap) until that turn has committed.
pub async fn first(app: &Arc<App>, run: Run, mode: RunMode, admitted: Option<Admitted>) -> ApiResult<TurnOutput> {
    if mode == RunMode::Live {
        app.metrics.run_started(&run.state().workflow);
    }
    spawn_held(app, run, mode, Action::Run, admitted).await
}

/// Loads a stored run (409 while another turn holds it) and applies `delivery`.
pub async fn deliver(app: &Arc<App>, run_id: &str, mode: RunMode, delivery: Delivery) -> ApiResult<TurnOutput> {
    let run = load(app, run_id).await?;
    spawn(app, run, mode, Action::Deliver(delivery)).await
}

/// Loads a stored run and runs it on from its last committed step (after a crash).
pub async fn resume(app: &Arc<App>, run_id: &str, mode: RunMode) -> ApiResult<TurnOutput> {
    let run = load(app, run_id).await?;
    spawn(app, run, mode, Action::Run).await
}

/// Takes a stored run for a turn.
pub async fn load(app: &Arc<App>, run_id: &str) -> ApiResult<Run> {
    let runtime = Arc::clone(&app.runtime);
    let loaded = app
        .runtime
        .load(run_id, move |program| Ok((BTreeMap::new(), runtime.secrets(program)?)))
        .await;
    match loaded {
        Ok(run) => Ok(run),
        Err(StartError::RunBusy { run_id })
        | Err(StartError::Store(flow_runtime::store::StoreError::Busy { run_id })) => Err(ApiError::conflict(format!(
            "run {run_id} is taking a step; try again when it has finished"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Runs the turn on a task of the server's and waits for its answer.
async fn spawn(app: &Arc<App>, run: Run, mode: RunMode, action: Action) -> ApiResult<TurnOutput> {
    spawn_held(app, run, mode, action, None).await
}

/// Same, dropping `admitted` once the turn has committed (on the task, so a
/// client that disconnects does not give the place back early).
async fn spawn_held(
    app: &Arc<App>,
    run: Run,
    mode: RunMode,
    action: Action,
    admitted: Option<Admitted>,
) -> ApiResult<TurnOutput> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task_app = Arc::clone(app);
    app.turns.spawn(async move {
        let out = drive(&task_app, run, mode, action).await;
        drop(admitted);
        let _ = tx.send(out);
    });
    rx.await
        .map_err(|_| ApiError::internal("a turn's task stopped before it answered"))?
}

/// One turn, start to end.
async fn drive(app: &Arc<App>, mut run: Run, mode: RunMode, action: Action) -> ApiResult<TurnOutput> {
    let said: Arc<Mutex<Vec<Value>>> = Arc::default();
    let workflow = run.state().workflow.clone();
    {
        let said = Arc::clone(&said);
        let metrics = (mode == RunMode::Live).then(|| app.metrics.clone());
        let workflow = workflow.clone();
        let mut last_step = std::time::Instant::now();
        run.on_event(move |event: &Event| {
            if let EventBody::Message { role, .. } = &event.body
                && role == "agent"
                && let Some(item) = views::message(&event.to_json())
            {
                said.lock().unwrap_or_else(|p| p.into_inner()).push(item);
            }
            if let Some(metrics) = &metrics {
                if matches!(event.body, EventBody::NodeEntered { .. }) {
                    metrics.step(last_step.elapsed());
                    last_step = std::time::Instant::now();
                }
                metrics.event(&workflow, event);
            }
        });
    }
    let outcome = match action {
        Action::Run => run.run(&mut VecDeque::new()).await,
        Action::Deliver(delivery) => run.deliver(delivery, &mut VecDeque::new()).await,
    };
    // What was posted while the turn ran (a cancel, a deadline) is taken
    // before the run is given back, so it does not wait for the next turn.
    if !matches!(outcome, Err(flow_runtime::RunError::Store(_))) {
        let _ = run.take_inbox(&mut VecDeque::new()).await;
    }
    let id = run.id().to_string();
    let closed = run.close().await;
    outcome?;
    closed?;
    let stored = app
        .runtime
        .store()
        .load(&id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("run {id} vanished after its turn")))?;
    let messages = std::mem::take(&mut *said.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(TurnOutput {
        run: run_view(&stored),
        messages,
        status: stored.state.status,
    })
}

/// `<run>` of a stored run.
pub fn run_view(stored: &StoredRun) -> Value {
    views::run(&stored.record, &stored.state, stored.pending.as_ref())
}
