//! Starting and loading runs: inputs checked against their types, secrets read,
//! model groups connected, host tools matched to handlers. Anything missing
//! refuses the run before its first step.

use super::Run;
use super::connect::connect_models;
use super::lease::{Held, Hold};
pub use super::start_error::StartError;
use crate::clock::{Clock, SystemClock};
use crate::event::EventBody;
use crate::model::Model;
use crate::model::breaker::{Breaker, BreakerSettings};
use crate::model::scripted::Script;
use crate::program::Program;
use crate::secrets::{MIN_SECRET_CHARS, Redactor, short_secrets_allowed};
use crate::state::{Position, RunState, RunStatus};
use crate::store::{Delivery, Lease, RunRecord, Store};
use crate::tools::{HostTool, Toolbox};
use flow_graph::VariableKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinSet;

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

/// A run's secrets: name to value.
pub type Secrets = HashMap<String, String>;

/// What a resuming host gives for a loaded run: model groups to replace and the secrets.
pub type Prepared = (BTreeMap<String, String>, HashMap<String, String>);

/// Reads every secret of a graph from the environment; the error names every missing one.
pub fn secrets_from_env(program: &Program) -> Result<Secrets, StartError> {
    secrets_from(program, &SystemClock)
}

/// Reads every secret of a graph from `host` ([`Clock::secret`]); the error
/// names every missing one.
pub fn secrets_from(program: &Program, host: &dyn Clock) -> Result<Secrets, StartError> {
    let mut out = HashMap::new();
    let mut missing: Vec<String> = Vec::new();
    for name in &program.graph.secrets {
        match host.secret(name) {
            Some(v) => {
                out.insert(name.clone(), v);
            }
            None => missing.push(name.clone()),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(StartError::MissingSecrets { names: missing })
    }
}

/// Refuses secrets shorter than [`MIN_SECRET_CHARS`] unless the operator allows
/// them: a short value is easily guessed, and found inside other words.
fn check_secret_lengths(secrets: &HashMap<String, String>) -> Result<(), StartError> {
    if short_secrets_allowed() {
        return Ok(());
    }
    let mut short: Vec<String> = secrets
        .iter()
        .filter(|(_, v)| v.chars().count() < MIN_SECRET_CHARS)
        .map(|(k, _)| k.clone())
        .collect();
    if short.is_empty() {
        return Ok(());
    }
    short.sort_unstable();
    Err(StartError::ShortSecrets { names: short })
}

/// Starts, loads and runs workflows; holds the store and the host's tool handlers.
pub struct Runtime {
    store: Arc<dyn Store>,
    host: HashMap<String, Arc<dyn HostTool>>,
    broadcast: broadcast::Sender<crate::event::Event>,
    /// Connected models by `provider:model`, with their breakers, shared by every run of this runtime.
    models: std::sync::Mutex<HashMap<String, Connected>>,
    breaker: BreakerSettings,
    /// The host's clock, ids and secrets for every run of this runtime.
    clock: Arc<dyn Clock>,
    /// Who this runtime is when it holds a lease (unique to it).
    owner: String,
    /// How long a lease lasts unless renewed.
    lease_ttl: Duration,
    /// The runs this runtime holds now.
    held: Held,
    /// Programs of loaded runs by graph hash, so a run loaded at every turn
    /// does not parse and check its graph again.
    programs: std::sync::Mutex<HashMap<String, Arc<Program>>>,
}

/// The lease time to live unless `FLOW_LEASE_TTL` (seconds) says otherwise.
const LEASE_TTL: Duration = Duration::from_secs(30);

fn lease_ttl_from_env() -> Duration {
    std::env::var("FLOW_LEASE_TTL")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .unwrap_or(LEASE_TTL)
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
            owner: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple()),
            lease_ttl: lease_ttl_from_env(),
            held: Held::default(),
            programs: std::sync::Mutex::default(),
        }
    }

    /// How long this runtime's leases last unless renewed (by default
    /// `FLOW_LEASE_TTL` seconds, or 30): a holder that dies is taken over
    /// after this time (at once on the SQLite store, which sees the process die).
    pub fn set_lease_ttl(&mut self, ttl: Duration) {
        self.lease_ttl = ttl;
    }

    /// The name this runtime holds leases under.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Posts a delivery to a run's inbox, for its holder to take in order (see
    /// [`Run::take_inbox`]); its `seq`. Use it for a run another task or
    /// process may hold; a host holding the run calls [`Run::deliver`].
    pub async fn post(&self, run_id: &str, delivery: &Delivery) -> Result<u64, StartError> {
        self.store.post(run_id, delivery).await.map_err(StartError::from)
    }

    /// Fires every timer due by now: for each run whose pause deadline has
    /// passed, takes the run and its `on timeout` (or silence) exit, then runs
    /// it until it waits or finishes and gives it back. A run held elsewhere
    /// gets the timeout in its inbox, for its holder to take; it is then
    /// listed as not fired. A host calls this in a loop. `prepare` is as for
    /// [`Runtime::load`]. Returns the runs it moved on and their status.
    pub async fn fire_due_timers(
        &self,
        prepare: impl Fn(&Program) -> Result<Prepared, StartError>,
    ) -> Result<Vec<(String, RunStatus)>, StartError> {
        let now = self.clock.now().as_millisecond();
        let mut fired = Vec::new();
        for timer in self.store.due_timers(now).await? {
            let delivery = Delivery::Timeout { pause: timer.pause };
            match self.load(&timer.run_id, &prepare).await {
                Ok(mut run) => {
                    let status = run.deliver(delivery, &mut std::collections::VecDeque::new()).await;
                    let _ = run.close().await;
                    if let Ok(status) = status {
                        fired.push((timer.run_id, status));
                    }
                }
                Err(_) => {
                    let pending = self.store.inbox(&timer.run_id).await.unwrap_or_default();
                    if !pending.iter().any(|p| p.delivery == delivery) {
                        let _ = self.store.post(&timer.run_id, &delivery).await;
                    }
                }
            }
        }
        Ok(fired)
    }

    /// Replaces the clock the runs of this runtime read every "now" from
    /// (event times, `created`/`updated`, approval and silence deadlines and
    /// whether they passed, `today(ZONE)`, the `time.*` builtins), make new run
    /// ids with, and [`Runtime::secrets`] reads secrets from; the default is
    /// the [`SystemClock`]. Applies to runs started or loaded after the call.
    pub fn set_clock(&mut self, clock: impl Clock + 'static) {
        self.clock = Arc::new(clock);
    }

    /// The clock its runs read.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Reads every secret of a graph from the runtime's clock ([`Clock::secret`];
    /// the environment by default); the error names every missing one.
    pub fn secrets(&self, program: &Program) -> Result<HashMap<String, String>, StartError> {
        secrets_from(program, &*self.clock)
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
        let run_id = self.clock.new_id();
        let lease = Lease::new_run(&run_id, &self.owner, self.lease_ttl);
        let hold = Hold::new(Arc::clone(&self.store), lease, self.lease_ttl, Arc::clone(&self.held))
            .ok_or_else(|| StartError::RunBusy { run_id: run_id.clone() })?;
        let now = crate::clock::rfc3339(self.clock.now());
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
            pending: None,
            created: now.clone(),
            updated: now,
        };
        let record = RunRecord {
            run_id,
            workflow: program.graph.workflow.name.clone(),
            graph_hash: program.hash.clone(),
            options: serde_json::to_value(&options).map_err(|e| StartError::Internal {
                reason: format!("the run's options do not serialise: {e}"),
            })?,
            origin: crate::store::Origin::default(),
        };
        let mut run = self.assemble(program, state, Vec::new(), &options, secrets, &mut Some(hold))?;
        run.create = Some(record);
        run.timer = Some(None);
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
    pub async fn load(
        &self,
        run_id: &str,
        prepare: impl FnOnce(&Program) -> Result<Prepared, StartError>,
    ) -> Result<Run, StartError> {
        if !Hold::claim(&self.held, run_id) {
            return Err(StartError::RunBusy {
                run_id: run_id.to_string(),
            });
        }
        let lease = match self.store.acquire(run_id, &self.owner, self.lease_ttl).await {
            Ok(lease) => lease,
            Err(e) => {
                Hold::unclaim(&self.held, run_id);
                return Err(StartError::from(e));
            }
        };
        let mut hold = Some(Hold::claimed(
            Arc::clone(&self.store),
            lease,
            self.lease_ttl,
            Arc::clone(&self.held),
        ));
        let loaded = self.load_held(run_id, prepare, &mut hold).await;
        // A run that could not be loaded is given back at once.
        if let Some(mut hold) = hold.take() {
            let _ = hold.release().await;
        }
        loaded
    }

    /// The rest of [`Runtime::load`], once the lease is held: `hold` is taken by the run.
    async fn load_held(
        &self,
        run_id: &str,
        prepare: impl FnOnce(&Program) -> Result<Prepared, StartError>,
        hold: &mut Option<Hold>,
    ) -> Result<Run, StartError> {
        let stored = self.store.load(run_id).await?.ok_or_else(|| StartError::RunNotFound {
            run_id: run_id.to_string(),
        })?;
        let program = self.program_of(run_id, &stored.record.graph_hash).await?;
        let mut options: RunOptions = serde_json::from_value(stored.record.options.clone()).unwrap_or_default();
        let (models, secrets) = prepare(&program)?;
        options.models.extend(models);
        let mut state = stored.state;
        let at = program.admit_state(&mut state)?;
        if let Position::Waiting { paused, .. } = &mut state.position {
            *paused = true;
        }
        let messages = stored.messages;
        let saved = messages.len();
        let mut run = self.assemble(program, state, messages, &options, secrets, hold)?;
        run.saved_messages = saved;
        run.version = stored.version;
        run.confirmed.send_replace(stored.version);
        run.at = at;
        Ok(run)
    }

    /// The program of a stored graph, parsed and checked once per runtime.
    async fn program_of(&self, run_id: &str, hash: &str) -> Result<Arc<Program>, StartError> {
        if let Some(known) = self.programs.lock().ok().and_then(|p| p.get(hash).cloned()) {
            return Ok(known);
        }
        let json = self.store.graph(hash).await?.ok_or_else(|| StartError::GraphMissing {
            run_id: run_id.to_string(),
        })?;
        let program = Arc::new(Program::from_json(&json)?);
        if let Ok(mut programs) = self.programs.lock() {
            // A bound on what a long-lived host keeps: graphs are few, runs many.
            if programs.len() >= 256 {
                programs.clear();
            }
            programs.insert(hash.to_string(), Arc::clone(&program));
        }
        Ok(program)
    }

    fn assemble(
        &self,
        program: Arc<Program>,
        state: RunState,
        conversation: Vec<crate::state::ChatMessage>,
        options: &RunOptions,
        secrets: HashMap<String, String>,
        hold: &mut Option<Hold>,
    ) -> Result<Run, StartError> {
        check_secret_lengths(&secrets)?;
        let models = connect_models(&program, options, &self.models, self.breaker)?;
        let stubs = match &options.stubs {
            Some(path) => Some(Arc::new(
                Script::load(std::path::Path::new(path)).map_err(|e| StartError::Stubs { reason: e.to_string() })?,
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
            return Err(StartError::Stubs {
                reason: format!("the workflow has no tool `{unknown}`"),
            });
        }
        let missing: Vec<String> = program
            .host_tools()
            .filter(|t| !toolbox.can_run(&program, &t.id))
            .map(|t| t.id.clone())
            .collect();
        if !missing.is_empty() {
            return Err(StartError::UnregisteredHostTool { names: missing });
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
            at: program_start,
            clock: Arc::clone(&self.clock),
            hold: hold.take().ok_or_else(|| StartError::Internal {
                reason: "the run's lease was given back".to_string(),
            })?,
            version: 0,
            timer: None,
            consumed: None,
            in_flight: None,
            lost: None,
            confirmed: tokio::sync::watch::Sender::new(0),
        })
    }
}

/// The variables at start: inputs given or defaulted, vars defaulted; every input checked.
fn initial_vars(program: &Program, mut inputs: Map<String, Value>) -> Result<Value, StartError> {
    if let Some(name) = inputs.keys().find(|name| program.input(name).is_err()) {
        return Err(StartError::UnknownInput {
            name: name.clone(),
            known: program.inputs().map(|v| v.name.clone()).collect(),
        });
    }
    let mut vars = Map::new();
    for v in &program.graph.variables {
        let value = match (v.kind, inputs.remove(&v.name)) {
            (VariableKind::Input, Some(given)) => {
                if let Err(why) = program.check_variable(&v.name, &given) {
                    return Err(StartError::BadInput {
                        name: v.name.clone(),
                        value: given,
                        reason: why.to_string(),
                    });
                }
                given
            }
            (VariableKind::Input, None) if v.required => {
                return Err(StartError::MissingInput { name: v.name.clone() });
            }
            _ => v.default.clone().unwrap_or(Value::Null),
        };
        vars.insert(v.name.clone(), value);
    }
    Ok(Value::Object(vars))
}
