//! Answers to a run, one path for all of them: a user message, an approval's
//! decision, a handoff's return, a deadline that passed, a cancel. Whoever
//! does not hold a run posts its answer to the run's inbox in the store
//! ([`crate::Runtime::post`]); the holder takes the inbox in order before
//! anything else ([`Run::take_inbox`]), each delivery consumed in the commit
//! of the step it caused. An answer that no longer fits (the approval was
//! decided while its timeout was on its way) is refused and consumed, so an
//! approval and its timeout racing each other give exactly one outcome.

use super::{Answer, AnswerError, Inbox, Incoming, Run, RunError};
use crate::event::EventBody;
use crate::state::{Position, RunStatus};
use crate::store::{Delivery, Posted};
use std::collections::VecDeque;

/// What became of a delivery taken from the inbox.
#[derive(Debug)]
pub struct Taken {
    /// Its `seq` in the inbox.
    pub seq: u64,
    /// What it said.
    pub delivery: Delivery,
    /// The run's status after it, or why it was refused.
    pub outcome: Result<RunStatus, RunError>,
}

/// An inbox that gives one message first, then another inbox's.
struct First<'a> {
    first: Option<String>,
    rest: &'a mut (dyn Inbox + Send),
}

impl Inbox for First<'_> {
    fn next_message(&mut self) -> Option<String> {
        self.first.take().or_else(|| self.rest.next_message())
    }

    fn ready(&self) -> bool {
        self.first.is_some() || self.rest.ready()
    }

    fn next_message_within(&mut self, limit: std::time::Duration) -> Incoming {
        match self.first.take() {
            Some(text) => Incoming::Message(text),
            None => self.rest.next_message_within(limit),
        }
    }
}

impl Run {
    /// Sends one user message and runs until the run waits or finishes.
    pub async fn send_message(&mut self, text: &str) -> Result<RunStatus, RunError> {
        let delivery = Delivery::Message { text: text.to_string() };
        self.deliver(delivery, &mut VecDeque::new()).await
    }

    /// Answers a handoff or an approval, then runs until the run waits or finishes.
    /// An approval whose deadline has passed takes `on timeout` whatever the answer.
    pub async fn answer(&mut self, answer: Answer, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        let delivery = match answer {
            Answer::Approve => Delivery::Approval {
                pause: None,
                approve: true,
                note: None,
            },
            Answer::Reject => Delivery::Approval {
                pause: None,
                approve: false,
                note: None,
            },
            Answer::Return => Delivery::Return {
                pause: None,
                set: Default::default(),
                note: None,
            },
            Answer::ReturnWith(set) => Delivery::Return {
                pause: None,
                set,
                note: None,
            },
        };
        self.deliver(delivery, inbox).await
    }

    /// At an approval whose deadline has passed, takes `on timeout`; at an
    /// agent whose silence deadline has passed, its silence exit. Returns
    /// whether it did, and then runs on.
    pub async fn expire(&mut self, inbox: &mut (dyn Inbox + Send)) -> Result<Option<RunStatus>, RunError> {
        if !self.deadline_passed() {
            return Ok(None);
        }
        let pause = self.state.pending.unwrap_or(0);
        self.deliver(Delivery::Timeout { pause }, inbox).await.map(Some)
    }

    /// Cancels the run: it ends as `cancelled` with a `run_cancelled` event.
    pub async fn cancel(&mut self, by: &str) -> Result<RunStatus, RunError> {
        let delivery = Delivery::Cancel { by: by.to_string() };
        self.deliver(delivery, &mut VecDeque::new()).await
    }

    /// Takes the deliveries already in the run's inbox, then applies this one
    /// and runs until the run waits or finishes. A delivery that does not fit
    /// the run's pause is refused ([`RunError::Answer`]) and changes nothing.
    pub async fn deliver(&mut self, delivery: Delivery, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        self.take_inbox(inbox).await?;
        self.apply(delivery, inbox).await
    }

    /// Takes every delivery waiting in the run's inbox, in order, each
    /// consumed in the commit of the step it caused (a refused one in a commit
    /// of its own). Store failures stop it; refusals are reported, not raised.
    pub async fn take_inbox(&mut self, inbox: &mut (dyn Inbox + Send)) -> Result<Vec<Taken>, RunError> {
        let posted = self.store.inbox(&self.state.run_id).await?;
        let mut taken = Vec::with_capacity(posted.len());
        for Posted { seq, delivery } in posted {
            self.consumed = Some(seq);
            let outcome = self.apply(delivery.clone(), inbox).await;
            if let Err(RunError::Store(e)) = outcome {
                return Err(RunError::Store(e));
            }
            // A refusal changed nothing but the inbox: commit that alone.
            self.commit_now().await?;
            taken.push(Taken { seq, delivery, outcome });
        }
        Ok(taken)
    }

    /// Applies one delivery to the run as it is now.
    async fn apply(&mut self, delivery: Delivery, inbox: &mut (dyn Inbox + Send)) -> Result<RunStatus, RunError> {
        match delivery {
            Delivery::Message { text } => {
                if self.state.status != RunStatus::WaitingForUser {
                    return Err(AnswerError::NotWaitingForMessage {
                        run_id: self.state.run_id.clone(),
                        status: self.state.status,
                    }
                    .into());
                }
                let mut first = First {
                    first: Some(text),
                    rest: inbox,
                };
                self.run(&mut first).await
            }
            Delivery::Approval { pause, approve, note } => {
                self.check_pause(pause)?;
                let answer = if approve { Answer::Approve } else { Answer::Reject };
                self.answer_pause(Some(answer), note)?;
                self.commit().await?;
                self.run(inbox).await
            }
            Delivery::Return { pause, set, note } => {
                self.check_pause(pause)?;
                let answer = if set.is_empty() {
                    Answer::Return
                } else {
                    Answer::ReturnWith(set)
                };
                self.answer_pause(Some(answer), note)?;
                self.commit().await?;
                self.run(inbox).await
            }
            Delivery::Timeout { pause } => {
                if !self.deadline_passed() || (pause != 0 && self.state.pending != Some(pause)) {
                    return Err(AnswerError::DeadlineNotPassed {
                        run_id: self.state.run_id.clone(),
                        pause,
                    }
                    .into());
                }
                if self.state.status == RunStatus::WaitingForUser {
                    let node = self.state.node().to_string();
                    self.take_silence(&node);
                } else {
                    self.answer_pause(None, None)?;
                }
                self.commit().await?;
                self.run(inbox).await
            }
            Delivery::Cancel { by } => {
                if self.state.status.is_finished() {
                    return Err(AnswerError::AlreadyFinished {
                        run_id: self.state.run_id.clone(),
                        status: self.state.status,
                    }
                    .into());
                }
                self.companions.abort_all();
                let node = self.state.node().to_string();
                let cancelled = EventBody::RunCancelled { node: node.clone(), by };
                self.state.retry = None;
                self.move_to(RunStatus::Cancelled, Position::Finished { node }, Some(cancelled));
                self.commit_now().await?;
                Ok(self.state.status)
            }
        }
    }

    /// Refuses an answer that names a pause other than the one the run waits at.
    fn check_pause(&self, pause: Option<u64>) -> Result<(), RunError> {
        match (pause, self.state.pending) {
            (None, _) => Ok(()),
            (Some(p), Some(q)) if p == q => Ok(()),
            (Some(asked), waiting) => Err(AnswerError::WrongPause {
                run_id: self.state.run_id.clone(),
                asked,
                waiting,
            }
            .into()),
        }
    }
}
