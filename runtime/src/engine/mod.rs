//! The engine: [`Runtime`] starts and loads runs; [`Run`] takes their steps.
//!
//! Every change of a run's state goes through [`Run`]: it records the events of
//! a step in a buffer, and [`Run::commit`] writes the state, the events and the
//! new conversation messages to the store in one transaction before anyone
//! sees the events. So there is no second copy of the state to drift, and a
//! crash between two commits loses nothing that was reported.

mod activity;
mod companion;
mod exits;
mod limits;
mod llm;
mod nodes;
mod returns;
mod silence;
mod start;

pub use activity::{Activity, ActivityHook};
pub use start::{Prepared, RunOptions, Runtime, StartError, secrets_from_env};

use crate::event::{Event, EventBody, now_rfc3339};
use crate::program::{NodeIx, Program};
use crate::state::{ChatMessage, Position, RetryStep, RunState, RunStatus};
use crate::store::{Checkpoint, RunLock, RunRecord, Store, StoreError};
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
}

/// Why a run could not go on (as opposed to failing, which is an outcome).
#[derive(Debug)]
pub enum RunError {
    /// The store could not checkpoint; the run stops where its last checkpoint is.
    Store(StoreError),
    /// An answer that does not fit the pause.
    Input(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Store(e) => write!(f, "{e}"),
            RunError::Input(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> RunError {
        RunError::Store(e)
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
    /// Set when the step's failure is an outage (a model group or an HTTP tool down).
    outage: bool,
    /// The node of the state's position, by index: set from the graph's start
    /// or the admitted checkpoint, and moved only by [`Run::take`].
    at: NodeIx,
    /// Where expressions and builtin tools read the time of day.
    clock: Arc<dyn crate::clock::Clock>,
    _lock: RunLock,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run").field("state", &self.state).finish()
    }
}

/// A failure of the run at a node: it ends the run with `run_failed`.
type Failure = String;

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

    /// Calls `listener` with every event of this run once it is committed.
    pub fn on_event(&mut self, listener: impl FnMut(&Event) + Send + 'static) {
        self.listeners.push(Box::new(listener));
    }

    /// Takes steps until the run waits or finishes; user messages come from `inbox`.
    pub async fn run(&mut self, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        self.restart_companions();
        loop {
            self.apply_finished_companions();
            debug_assert_eq!(self.program.node_at(self.at).id(), self.state.node());
            match self.state.position.clone() {
                Position::Finished { .. } => {
                    self.commit()?;
                    return Ok(self.state.status);
                }
                Position::Enter { node } => {
                    self.state.status = RunStatus::Running;
                    let outcome = self.enter(&node).await;
                    self.settle(&node, outcome, RetryStep::Enter).await;
                }
                Position::Waiting { node, paused, deadline } => {
                    self.join_companions().await;
                    if self.state.status != RunStatus::WaitingForUser {
                        self.commit()?;
                        return Ok(self.state.status);
                    }
                    self.commit()?;
                    let incoming = match silence::remaining(deadline.as_deref()) {
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
                            self.commit()?;
                            return Ok(self.state.status);
                        }
                    }
                }
            }
            self.commit()?;
        }
    }

    /// Sends one user message and runs until the run waits or finishes.
    pub async fn send_message(&mut self, text: &str) -> Result<RunStatus, RunError> {
        if self.state.status != RunStatus::WaitingForUser {
            return Err(RunError::Input(format!(
                "run {} is {}, not waiting for a user message",
                self.state.run_id,
                self.state.status.as_str()
            )));
        }
        let mut inbox = std::collections::VecDeque::from([text.to_string()]);
        self.run(&mut inbox).await
    }

    /// Answers a handoff or an approval, then runs until the run waits or finishes.
    /// An approval whose deadline has passed takes `on timeout` whatever the answer.
    pub async fn answer(&mut self, answer: Answer, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        self.answer_pause(Some(answer))?;
        self.commit()?;
        self.run(inbox).await
    }

    /// At an approval whose deadline has passed, takes `on timeout`; at an
    /// agent whose silence deadline has passed, its silence exit. Returns
    /// whether it did, and then runs on.
    pub async fn expire(&mut self, inbox: &mut (dyn Inbox + Send)) -> Result<Option<RunStatus>, RunError> {
        if !self.deadline_passed() {
            return Ok(None);
        }
        if self.state.status == RunStatus::WaitingForUser {
            let node = self.state.node().to_string();
            self.take_silence(&node);
        } else {
            self.answer_pause(None)?;
        }
        self.commit()?;
        self.run(inbox).await.map(Some)
    }

    /// Takes again the step of a run that failed on an outage (a model group or
    /// an HTTP tool that was down), then runs until the run waits or finishes.
    /// The retry is recorded as `resumed` with `with: "retry"`; the failed step's
    /// model or tool call is made again. A run that did not fail, or failed on
    /// an error a retry would not cure, is refused ([`RunError::Input`]).
    pub async fn retry(&mut self, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        let id = self.state.run_id.clone();
        if self.state.status != RunStatus::Failed {
            return Err(RunError::Input(format!(
                "run {id} is {}: only a failed run can be retried",
                self.state.status.as_str()
            )));
        }
        let Some(step) = self.state.retry else {
            return Err(RunError::Input(format!(
                "run {id} failed on an error a retry would not cure (only outages of a model or an HTTP tool can be retried): {}",
                self.state.error.as_deref().unwrap_or("unknown error")
            )));
        };
        let node = self.state.node().to_string();
        self.emit(EventBody::Resumed {
            node: node.clone(),
            with: "retry".into(),
        });
        self.state.status = RunStatus::Running;
        self.state.error = None;
        self.state.retry = None;
        self.state.position = match step {
            RetryStep::Enter => Position::Enter { node: node.clone() },
            RetryStep::Message => Position::Waiting {
                node: node.clone(),
                paused: false,
                deadline: None,
            },
        };
        self.commit()?;
        self.restart_companions();
        let outcome = match step {
            RetryStep::Enter => self.work(&node).await,
            RetryStep::Message => self.answer_message(&node).await,
        };
        self.settle(&node, outcome, step).await;
        self.commit()?;
        self.run(inbox).await
    }

    fn pause(&mut self, node: &str) {
        self.state.position = Position::Waiting {
            node: node.to_string(),
            paused: true,
            deadline: self.deadline(),
        };
    }

    fn deadline(&self) -> Option<String> {
        match &self.state.position {
            Position::Waiting { deadline, .. } => deadline.clone(),
            _ => None,
        }
    }

    /// Whether the pause's deadline (an approval's `timeout`, an agent's silence) has passed.
    fn deadline_passed(&self) -> bool {
        matches!(
            self.state.status,
            RunStatus::WaitingForApproval | RunStatus::WaitingForUser
        ) && self
            .deadline()
            .and_then(|d| d.parse::<jiff::Timestamp>().ok())
            .is_some_and(|d| d <= jiff::Timestamp::now())
    }

    /// Records a step's failure as the run's end; an outage keeps the step for a retry.
    async fn settle(&mut self, node: &str, outcome: Result<(), Failure>, step: RetryStep) {
        let outage = std::mem::take(&mut self.outage);
        if let Err(error) = outcome {
            self.join_companions().await;
            self.fail(node, error, outage.then_some(step));
        }
    }

    /// Ends the run as failed at `node`: the one place a run fails. `retry` is
    /// the step to repeat when the failure was an outage (`flow resume --retry`).
    fn fail(&mut self, node: &str, error: Failure, retry: Option<RetryStep>) {
        let error = self.redact(&error);
        self.emit(EventBody::RunFailed {
            node: node.to_string(),
            error: error.clone(),
            retryable: retry.is_some(),
        });
        self.state.status = RunStatus::Failed;
        self.state.error = Some(error);
        self.state.retry = retry;
        self.state.position = Position::Finished { node: node.to_string() };
    }

    /// Adds an event to the current step.
    fn emit(&mut self, body: EventBody) -> usize {
        let event = Event {
            run_id: self.state.run_id.clone(),
            seq: self.state.next_seq,
            ts: now_rfc3339(),
            body,
        };
        self.state.next_seq += 1;
        self.buffer.push(event);
        self.buffer.len() - 1
    }

    /// Commits the current step, then hands its events to the listeners.
    fn commit(&mut self) -> Result<(), StoreError> {
        if self.buffer.is_empty() && self.saved_messages == self.conversation.len() && self.create.is_none() {
            return Ok(());
        }
        self.state.updated = now_rfc3339();
        let record = self.create.take();
        let checkpoint = Checkpoint {
            state: &self.state,
            events: &self.buffer,
            messages: &self.conversation[self.saved_messages..],
            first_message: self.saved_messages,
            create: record.as_ref().map(|r| (r, self.program.json.as_str())),
        };
        if let Err(e) = self.store.commit(&checkpoint) {
            self.create = record;
            return Err(e);
        }
        self.saved_messages = self.conversation.len();
        for event in self.buffer.drain(..) {
            for listener in &mut self.listeners {
                listener(&event);
            }
            if self.broadcast.receiver_count() > 0 {
                let _ = self.broadcast.send(event);
            }
        }
        Ok(())
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
