//! The engine: [`Runtime`] starts and loads runs; [`Run`] takes their steps.
//!
//! Every change of a run's state goes through [`Run`]: it records the events of
//! a step in a buffer, and [`Run::commit`] writes the state, the events and the
//! new conversation messages to the store in one transaction before anyone
//! sees the events. So there is no second copy of the state to drift, and a
//! crash between two commits loses nothing that was reported.

mod activity;
mod commit;
mod companion;
mod connect;
mod deliveries;
mod exits;
mod failure;
mod lease;
mod limits;
mod llm;
mod nodes;
mod returns;
mod run_error;
mod silence;
mod start;
mod start_error;
mod transition;

pub use activity::{Activity, ActivityHook};
pub use deliveries::Taken;
pub use failure::{FailureKind, SpentExit, StepFailure};
pub use run_error::{AnswerError, RunError};
pub use start::{Prepared, RunOptions, Runtime, StartError, secrets_from, secrets_from_env};

use crate::event::{Event, EventBody};
use crate::program::{NodeIx, Program};
use crate::state::{ChatMessage, Position, RetryStep, RunState, RunStatus};
use crate::store::{RunRecord, Store, StoreError, Timer};
use crate::tools::Toolbox;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::task::JoinSet;

/// An answer to a run paused at a handoff or an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Approve a pending approval.
    Approve,
    /// Reject a pending approval.
    Reject,
    /// A human hands a handoff back.
    Return,
    /// A human hands a handoff back and sets these variables first (each
    /// checked against its variable's type; an unknown name, an input or a
    /// secret is refused and nothing changes).
    ReturnWith(serde_json::Map<String, Value>),
}

/// Where user messages come from while a run waits for the user.
pub trait Inbox {
    /// The next message, or `None` when there is none now (the run then pauses).
    fn next_message(&mut self) -> Option<String>;

    /// Whether a message is already waiting, so the run takes it without
    /// pausing (and need not wait for its reply to be durable before reading
    /// it). The default says no: the reply is confirmed before every read.
    fn ready(&self) -> bool {
        false
    }

    /// The next message, waiting for it at most `limit` (an agent's silence
    /// exit fires when the limit passes first). The default does not wait: it
    /// gives [`Inbox::next_message`], or [`Incoming::Closed`] when there is none.
    fn next_message_within(&mut self, limit: std::time::Duration) -> Incoming {
        let _ = limit;
        self.next_message().map_or(Incoming::Closed, Incoming::Message)
    }
}

/// What an inbox gave while the run waited with a deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A user message.
    Message(String),
    /// The time passed with no message.
    TimedOut,
    /// No message now, nor any to wait for (the run then pauses).
    Closed,
}

/// An inbox over a list of messages.
impl Inbox for std::collections::VecDeque<String> {
    fn next_message(&mut self) -> Option<String> {
        self.pop_front()
    }

    fn ready(&self) -> bool {
        !self.is_empty()
    }
}

/// A listener of a run's committed events.
pub type Listener = Box<dyn FnMut(&Event) + Send>;

/// One run, held by this process (it holds the run's lock).
pub struct Run {
    store: Arc<dyn Store>,
    broadcast: broadcast::Sender<Event>,
    program: Arc<Program>,
    state: RunState,
    conversation: Vec<ChatMessage>,
    saved_messages: usize,
    models: HashMap<String, Vec<start::Connected>>,
    toolbox: Toolbox,
    buffer: Vec<Event>,
    companions: JoinSet<companion::CompanionDone>,
    listeners: Vec<Listener>,
    activity: Option<ActivityHook>,
    create: Option<RunRecord>,
    /// The node of the state's position, by index: set from the graph's start
    /// or the admitted checkpoint, and moved only by [`Run::take`].
    at: NodeIx,
    /// The host's clock: every "now" of the run (event times, deadlines,
    /// `today`, `time.*`) and its id.
    clock: Arc<dyn crate::clock::Clock>,
    /// The lease this run is held by, and what keeps it.
    hold: lease::Hold,
    /// The version of the run's last commit (the next one follows it).
    version: u64,
    /// The timer as last committed (`None` while not known: since a load).
    timer: Option<Option<Timer>>,
    /// Deliveries taken by the step being built, up to this inbox `seq`.
    consumed: Option<u64>,
    /// The last commit handed to the store and not yet confirmed: it
    /// resolves when durable; its events and its version wait for it.
    in_flight: Option<(crate::store::Pending, Vec<Event>, u64)>,
    /// A commit the store refused: the run can take no more steps here.
    lost: Option<StoreError>,
    /// The version confirmed durable (companions with effects wait for it).
    confirmed: tokio::sync::watch::Sender<u64>,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run").field("state", &self.state).finish()
    }
}

/// What a step's work gives when it fails; [`Run::settle`] adds the node.
type Failure = FailureKind;

impl Run {
    /// The run's id.
    pub fn id(&self) -> &str {
        &self.state.run_id
    }

    /// The run's state as of its last step.
    pub fn state(&self) -> &RunState {
        &self.state
    }

    /// Its status.
    pub fn status(&self) -> RunStatus {
        self.state.status
    }

    /// The conversation so far.
    pub fn conversation(&self) -> &[ChatMessage] {
        &self.conversation
    }

    /// The graph it runs.
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// Records where a run that is not stored yet came from (its mode, its
    /// trigger, the service's revision): written with its first commit. The
    /// default is a live run started by `flow run`. Refused once the run is stored.
    pub fn set_origin(&mut self, origin: crate::store::Origin) -> Result<(), RunError> {
        match &mut self.create {
            Some(record) => {
                record.origin = origin;
                Ok(())
            }
            None => Err(AnswerError::AlreadyStored {
                run_id: self.state.run_id.clone(),
            }
            .into()),
        }
    }

    /// Calls `listener` with every event of this run once it is committed.
    pub fn on_event(&mut self, listener: impl FnMut(&Event) + Send + 'static) {
        self.listeners.push(Box::new(listener));
    }

    /// Takes steps until the run waits or finishes; user messages come from
    /// `inbox`. Every step is committed and shown before it returns.
    pub async fn run(&mut self, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        let stepped = self.steps(inbox).await;
        let confirmed = self.confirm().await;
        let status = stepped?;
        confirmed?;
        Ok(status)
    }

    async fn steps(&mut self, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        self.restart_companions();
        loop {
            debug_assert_eq!(self.program.node_at(self.at).id(), self.state.node());
            match self.state.position.clone() {
                Position::Finished { .. } => {
                    self.commit().await?;
                    return Ok(self.state.status);
                }
                Position::Enter { node } => {
                    self.move_to(RunStatus::Running, self.here(), None);
                    let outcome = self.enter(&node).await;
                    self.settle(&node, outcome, RetryStep::Enter).await;
                }
                Position::Waiting { node, paused, deadline } => {
                    self.join_companions().await;
                    if self.state.status != RunStatus::WaitingForUser {
                        self.commit().await?;
                        return Ok(self.state.status);
                    }
                    // What the agent said is shown before the run waits for an
                    // answer (not needed when the next message is already there).
                    self.commit().await?;
                    if !inbox.ready() {
                        self.confirm().await?;
                    }
                    let incoming = match silence::remaining(deadline.as_deref(), self.clock.now()) {
                        Some(left) if left.is_zero() => Incoming::TimedOut,
                        Some(left) => inbox.next_message_within(left),
                        None => inbox.next_message().map_or(Incoming::Closed, Incoming::Message),
                    };
                    match incoming {
                        Incoming::Message(text) => {
                            let outcome = self.on_message(&node, text).await;
                            self.settle(&node, outcome, RetryStep::Message).await;
                        }
                        Incoming::TimedOut => self.take_silence(&node),
                        Incoming::Closed => {
                            if !paused {
                                self.pause(&node);
                                self.emit(EventBody::Paused {
                                    node: node.clone(),
                                    state: RunStatus::WaitingForUser.as_str().into(),
                                    queue: None,
                                    message: None,
                                    prompt: None,
                                    deadline: self.deadline().map(Value::String),
                                });
                            }
                            self.commit().await?;
                            return Ok(self.state.status);
                        }
                    }
                }
            }
            self.commit().await?;
        }
    }

    /// Takes again the step of a run that failed on an outage (a model group or
    /// an HTTP tool that was down), then runs until the run waits or finishes.
    /// The retry is recorded as `resumed` with `with: "retry"`; the failed step's
    /// model or tool call is made again. A run that did not fail, or failed on
    /// an error a retry would not cure, is refused ([`AnswerError::NotFailed`],
    /// [`AnswerError::NotRetryable`]).
    pub async fn retry(&mut self, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        let id = self.state.run_id.clone();
        if self.state.status != RunStatus::Failed {
            return Err(AnswerError::NotFailed {
                run_id: id,
                status: self.state.status,
            }
            .into());
        }
        let Some(step) = self.state.retry else {
            return Err(AnswerError::NotRetryable {
                run_id: id,
                error: self.state.error.clone().unwrap_or_else(|| "unknown error".into()),
            }
            .into());
        };
        let node = self.state.node().to_string();
        self.state.error = None;
        self.state.retry = None;
        let position = match step {
            RetryStep::Enter => Position::Enter { node: node.clone() },
            RetryStep::Message => Position::Waiting {
                node: node.clone(),
                paused: false,
                deadline: None,
            },
        };
        let resumed = EventBody::Resumed {
            node: node.clone(),
            with: "retry".into(),
            note: None,
        };
        self.move_to(RunStatus::Running, position, Some(resumed));
        self.commit().await?;
        self.restart_companions();
        let outcome = match step {
            RetryStep::Enter => self.work(&node).await,
            RetryStep::Message => self.answer_message(&node).await,
        };
        self.settle(&node, outcome, step).await;
        self.commit().await?;
        self.run(inbox).await
    }

    fn pause(&mut self, node: &str) {
        let position = Position::Waiting {
            node: node.to_string(),
            paused: true,
            deadline: self.deadline(),
        };
        self.move_to(self.state.status, position, None);
    }

    fn deadline(&self) -> Option<String> {
        match &self.state.position {
            Position::Waiting { deadline, .. } => deadline.clone(),
            _ => None,
        }
    }

    /// The run's clock's current time in RFC 3339 (UTC, milliseconds).
    fn now_rfc3339(&self) -> String {
        crate::clock::rfc3339(self.clock.now())
    }

    /// Whether the pause's deadline (an approval's `timeout`, an agent's silence) has passed.
    fn deadline_passed(&self) -> bool {
        matches!(
            self.state.status,
            RunStatus::WaitingForApproval | RunStatus::WaitingForUser
        ) && self
            .deadline()
            .and_then(|d| d.parse::<jiff::Timestamp>().ok())
            .is_some_and(|d| d <= self.clock.now())
    }

    /// Records a step's failure as the run's end; an outage keeps the step for a retry.
    async fn settle(&mut self, node: &str, outcome: Result<(), Failure>, step: RetryStep) {
        if let Err(kind) = outcome {
            self.join_companions().await;
            let failure = StepFailure {
                node: node.to_string(),
                kind,
            };
            self.fail(&failure, step);
        }
    }

    /// Ends the run as failed at the failure's node: the one place a run fails.
    /// When the failure is an outage ([`StepFailure::retryable`]), `step` is kept
    /// as the step a retry takes again.
    fn fail(&mut self, failure: &StepFailure, step: RetryStep) {
        let error = self.redact(&failure.to_string());
        let retry = failure.retryable().then_some(step);
        let node = failure.node.clone();
        let failed = EventBody::RunFailed {
            node: node.clone(),
            error: error.clone(),
            retryable: retry.is_some(),
        };
        self.state.error = Some(error);
        self.state.retry = retry;
        self.move_to(RunStatus::Failed, Position::Finished { node }, Some(failed));
    }

    /// Adds an event to the current step.
    fn emit(&mut self, body: EventBody) -> usize {
        if matches!(body, EventBody::Paused { .. }) {
            self.state.pending = Some(self.state.next_seq);
        }
        let event = Event {
            run_id: self.state.run_id.clone(),
            seq: self.state.next_seq,
            ts: self.now_rfc3339(),
            body,
        };
        self.state.next_seq += 1;
        self.buffer.push(event);
        self.buffer.len() - 1
    }

    /// Replaces every secret's value in a text (errors may quote a url or a
    /// reply), in any of its forms ([`crate::secrets`]).
    fn redact(&self, text: &str) -> String {
        self.toolbox.redactor.redact(text)
    }

    /// A tool's result with every secret's value replaced in its strings, in
    /// case a service echoes one back: it would otherwise reach the model,
    /// events, variables and the store.
    fn redact_value(&self, value: Value) -> Value {
        self.toolbox.redactor.redact_value(value)
    }
}
