//! Starting and loading runs: inputs checked against their types, secrets read,
//! model groups connected, host tools matched to handlers. Anything missing
//! refuses the run before its first step.

use super::Run;
use crate::clock::{Clock, SystemClock};
use crate::event::{EventBody, now_rfc3339};
use crate::model::breaker::{Breaker, BreakerSettings};
use crate::model::scripted::Script;
use crate::model::{Model, connect};
use crate::program::Program;
use crate::secrets::{ALLOW_SHORT_SECRETS, MIN_SECRET_CHARS, Redactor, short_secrets_allowed};
use crate::state::{Position, RunState, RunStatus};
use crate::store::{RunRecord, Store, StoreError};
use crate::tools::{HostTool, Toolbox};
use flow_graph::{Node, VariableKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::task::JoinSet;

/// Why a run could not start (or be loaded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError(pub String);

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for StartError {}

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> StartError {
        StartError(e.to_string())
    }
}

/// Choices stored with a run and applied again when it resumes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Model groups replaced for this run: group to `provider:model`.
    #[serde(default)]
    pub models: BTreeMap<String, String>,
    /// A script file whose `[tool NAME]` sections stand in for those tools.
    #[serde(default)]
    pub stubs: Option<String>,
    /// With `stubs`, let the tools they do not stub call their real services
    /// (otherwise such a call is a tool error).
    #[serde(default)]
    pub live_tools: bool,
}

/// What a resuming host gives for a loaded run: model groups to replace and the secrets.
pub type Prepared = (BTreeMap<String, String>, HashMap<String, String>);

/// Reads every secret of a graph from the environment; the error names every missing one.
pub fn secrets_from_env(program: &Program) -> Result<HashMap<String, String>, StartError> {
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    for name in &program.graph.secrets {
        match std::env::var(name) {
            Ok(v) => {
                out.insert(name.clone(), v);
            }
            Err(_) => missing.push(name.as_str()),
        }
    }
    match missing.as_slice() {
        [] => Ok(out),
        [name] => Err(StartError(format!(
            "secret `{name}` is not set: export the environment variable {name}"
        ))),
        names => Err(StartError(format!(
            "secrets `{}` are not set: export the environment variables {}",
            names.join("`, `"),
            names.join(", ")
        ))),
    }
}

/// Refuses secrets shorter than [`MIN_SECRET_CHARS`] unless the operator allows
/// them: a short value is easily guessed, and found inside other words.
fn check_secret_lengths(secrets: &HashMap<String, String>) -> Result<(), StartError> {
    if short_secrets_allowed() {
        return Ok(());
    }
    let mut short: Vec<&str> = secrets
        .iter()
        .filter(|(_, v)| v.chars().count() < MIN_SECRET_CHARS)
        .map(|(k, _)| k.as_str())
        .collect();
    if short.is_empty() {
        return Ok(());
    }
    short.sort_unstable();
    Err(StartError(format!(
        "secret `{}` is shorter than {MIN_SECRET_CHARS} characters: use a longer value, or allow short secrets with {ALLOW_SHORT_SECRETS}=1",
        short.join("`, `")
    )))
}

/// Starts, loads and runs workflows; holds the store and the host's tool handlers.
pub struct Runtime {
    store: Arc<dyn Store>,
    host: HashMap<String, Arc<dyn HostTool>>,
    broadcast: broadcast::Sender<crate::event::Event>,
    /// Connected models by `provider:model`, with their breakers, shared by every run of this runtime.
    models: std::sync::Mutex<HashMap<String, Connected>>,
    breaker: BreakerSettings,
    /// Where runs read the time of day (`today`, `time.now`, `time.today`).
    clock: Arc<dyn Clock>,
}

/// A connected model and its circuit breaker (one per `provider:model` and runtime).
#[derive(Clone)]
pub(super) struct Connected {
    pub(super) model: Arc<dyn Model>,
    pub(super) breaker: Arc<Breaker>,
}

impl Runtime {
    /// A runtime keeping its runs in `store`.
    pub fn new(store: Arc<dyn Store>) -> Runtime {
        let (broadcast, _) = broadcast::channel(1024);
        Runtime {
            store,
            host: HashMap::new(),
            broadcast,
            models: std::sync::Mutex::default(),
            breaker: BreakerSettings::from_env(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the clock the runs of this runtime read the time of day from
    /// (`today(ZONE)`, the `time.now` and `time.today` builtins); the default is the system's.
    pub fn set_clock(&mut self, clock: impl Clock + 'static) {
        self.clock = Arc::new(clock);
    }

    /// Sets when the models' circuit breakers open and for how long (by default
    /// from `FLOW_BREAKER_FAILURES` and `FLOW_BREAKER_COOLDOWN_MS`); applies to
    /// models connected after the call.
    pub fn set_breaker(&mut self, settings: BreakerSettings) {
        self.breaker = settings;
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Registers the handler of a `host` tool, by the tool's name.
    pub fn register_host_tool(&mut self, name: &str, handler: impl HostTool + 'static) {
        self.host.insert(name.to_string(), Arc::new(handler));
    }

    /// Every committed event of every run of this runtime, as it happens.
    pub fn subscribe(&self) -> broadcast::Receiver<crate::event::Event> {
        self.broadcast.subscribe()
    }

    /// Starts a run. Nothing is stored until its first step is committed by [`Run::run`].
    pub fn start(
        &self,
        program: Arc<Program>,
        inputs: Map<String, Value>,
        options: RunOptions,
        secrets: HashMap<String, String>,
    ) -> Result<Run, StartError> {
        let vars = initial_vars(&program, inputs)?;
        let run_id = uuid::Uuid::now_v7().to_string();
        let lock = self.store.lock(&run_id)?;
        let now = now_rfc3339();
        let state = RunState {
            run_id: run_id.clone(),
            workflow: program.graph.workflow.name.clone(),
            status: RunStatus::Running,
            position: Position::Enter {
                node: program.graph.start.clone(),
            },
            vars,
            edge_counts: BTreeMap::new(),
            steps: 0,
            turns: 0,
            llm_calls: BTreeMap::new(),
            tool_calls: BTreeMap::new(),
            companions: Vec::new(),
            next_seq: 1,
            outcome: None,
            error: None,
            retry: None,
            created: now.clone(),
            updated: now,
        };
        let record = RunRecord {
            run_id,
            workflow: program.graph.workflow.name.clone(),
            graph_hash: program.hash.clone(),
            options: serde_json::to_value(&options).map_err(|e| StartError(e.to_string()))?,
        };
        let mut run = self.assemble(program, state, Vec::new(), &options, secrets, lock)?;
        run.create = Some(record);
        let inputs: Map<String, Value> = run
            .program
            .inputs()
            .map(|v| {
                (
                    v.name.clone(),
                    run.state.vars.get(&v.name).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        run.emit(EventBody::RunStarted {
            workflow: run.program.graph.workflow.name.clone(),
            inputs: Value::Object(inputs),
        });
        Ok(run)
    }

    /// Loads a stored run to go on with it; its lock is taken. `prepare` sees the
    /// run's graph and gives model groups to replace again (merged over the
    /// stored replacements) and the secrets.
    pub fn load(
        &self,
        run_id: &str,
        prepare: impl FnOnce(&Program) -> Result<Prepared, StartError>,
    ) -> Result<Run, StartError> {
        let lock = self.store.lock(run_id)?;
        let stored = self
            .store
            .load(run_id)?
            .ok_or_else(|| StartError(format!("no run `{run_id}` in the store")))?;
        let json = self
            .store
            .graph(&stored.record.graph_hash)?
            .ok_or_else(|| StartError(format!("the graph of run `{run_id}` is missing from the store")))?;
        let program = Arc::new(Program::from_json(&json).map_err(|e| StartError(e.to_string()))?);
        let mut options: RunOptions = serde_json::from_value(stored.record.options.clone()).unwrap_or_default();
        let (models, secrets) = prepare(&program)?;
        options.models.extend(models);
        let mut state = stored.state;
        let at = program.admit_state(&mut state).map_err(|e| StartError(e.to_string()))?;
        if let Position::Waiting { paused, .. } = &mut state.position {
            *paused = true;
        }
        let messages = stored.messages;
        let saved = messages.len();
        let mut run = self.assemble(program, state, messages, &options, secrets, lock)?;
        run.saved_messages = saved;
        run.at = at;
        Ok(run)
    }

    fn assemble(
        &self,
        program: Arc<Program>,
        state: RunState,
        conversation: Vec<crate::state::ChatMessage>,
        options: &RunOptions,
        secrets: HashMap<String, String>,
        lock: crate::store::RunLock,
    ) -> Result<Run, StartError> {
        check_secret_lengths(&secrets)?;
        let models = connect_models(&program, options, &self.models, self.breaker)?;
        let stubs = match &options.stubs {
            Some(path) => Some(Arc::new(
                Script::load(std::path::Path::new(path)).map_err(|e| StartError(format!("stubs: {e}")))?,
            )),
            None => None,
        };
        let secrets = Value::Object(secrets.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
        let toolbox = Toolbox {
            host: self.host.clone(),
            stubs,
            redactor: Arc::new(Redactor::of_secrets(&secrets)),
            secrets: Arc::new(secrets),
            live_tools: options.live_tools,
            clock: Arc::clone(&self.clock),
        };
        if let Some(script) = &toolbox.stubs
            && let Some(unknown) = script.stubbed_tools().find(|t| program.tool(t).is_none())
        {
            return Err(StartError(format!("stubs: the workflow has no tool `{unknown}`")));
        }
        let missing: Vec<&str> = program
            .host_tools()
            .filter(|t| !toolbox.can_run(&program, &t.id))
            .map(|t| t.id.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(StartError(format!(
                "host tool `{}` has no handler: register one (or stub it with --stubs)",
                missing.join("`, `")
            )));
        }
        let program_start = program.start_ix();
        Ok(Run {
            store: Arc::clone(&self.store),
            broadcast: self.broadcast.clone(),
            program,
            state,
            saved_messages: 0,
            conversation,
            models,
            toolbox,
            buffer: Vec::new(),
            companions: JoinSet::new(),
            listeners: Vec::new(),
            activity: None,
            create: None,
            outage: false,
            at: program_start,
            clock: Arc::clone(&self.clock),
            _lock: lock,
        })
    }
}

/// Connects every model group the graph uses, with the run's replacements.
fn connect_models(
    program: &Program,
    options: &RunOptions,
    cache: &std::sync::Mutex<HashMap<String, Connected>>,
    breaker: BreakerSettings,
) -> Result<HashMap<String, Vec<Connected>>, StartError> {
    if let Some(unknown) = options.models.keys().find(|g| !program.graph.models.contains_key(*g)) {
        let known: Vec<&str> = program.graph.models.keys().map(String::as_str).collect();
        return Err(StartError(format!(
            "--model names unknown model group `{unknown}` (the workflow has: {})",
            known.join(", ")
        )));
    }
    let mut used: Vec<&String> = program.graph.workflow.default_model.iter().collect();
    for node in &program.graph.nodes {
        match node {
            Node::Agent(a) => used.extend(a.model.iter()),
            Node::Route(r) => used.extend(r.model.iter()),
            _ => {}
        }
    }
    let mut out = HashMap::new();
    for group in used {
        if out.contains_key(group) {
            continue;
        }
        let specs: Vec<(String, String)> = match options.models.get(group) {
            Some(s) => {
                let (p, m) = s
                    .split_once(':')
                    .ok_or_else(|| StartError(format!("--model {group}={s}: expected provider:model")))?;
                vec![(p.to_string(), m.to_string())]
            }
            None => program
                .graph
                .models
                .get(group)
                .map(|ms| ms.iter().map(|m| (m.provider.clone(), m.model.clone())).collect())
                .unwrap_or_default(),
        };
        let mut models = Vec::new();
        for (provider, model) in specs {
            let key = format!("{provider}:{model}");
            let cached = cache.lock().ok().and_then(|c| c.get(&key).cloned());
            let m = match cached {
                Some(m) => m,
                None => {
                    let m = connect(&provider, &model)
                        .map_err(|e| StartError(format!("model group `{group}` ({key}): {e}")))?;
                    let m = Connected {
                        model: m,
                        breaker: Arc::new(Breaker::new(breaker)),
                    };
                    if let Ok(mut c) = cache.lock() {
                        c.insert(key, m.clone());
                    }
                    m
                }
            };
            models.push(m);
        }
        out.insert(group.clone(), models);
    }
    Ok(out)
}

/// The variables at start: inputs given or defaulted, vars defaulted; every input checked.
fn initial_vars(program: &Program, mut inputs: Map<String, Value>) -> Result<Value, StartError> {
    for name in inputs.keys() {
        program.input(name).map_err(StartError)?;
    }
    let mut vars = Map::new();
    for v in &program.graph.variables {
        let value = match (v.kind, inputs.remove(&v.name)) {
            (VariableKind::Input, Some(given)) => {
                program
                    .check_variable(&v.name, &given)
                    .map_err(|why| StartError(format!("input `{}` = {given}: {why}", v.name)))?;
                given
            }
            (VariableKind::Input, None) if v.required => {
                return Err(StartError(format!(
                    "missing input `{}`: give it with --input {}=VALUE",
                    v.name, v.name
                )));
            }
            _ => v.default.clone().unwrap_or(Value::Null),
        };
        vars.insert(v.name.clone(), value);
    }
    Ok(Value::Object(vars))
}
