//! Committing a run's steps: each step's checkpoint is handed to the store
//! under the run's lease ([`crate::store::Store::submit`]) and confirmed later,
//! and only a confirmed step's events reach the listeners. The run's timer is
//! derived from its position here, so it is written with the step that set it.

use super::Run;
use crate::event::Event;
use crate::state::Position;
use crate::store::{Checkpoint, Lease, StoreError, Timer, TimerChange};

impl Run {
    /// Hands the current step's commit to the store under the run's lease. Its
    /// events reach the listeners once it is durable: when the next commit, a
    /// wait, a call with effects or the end of [`Run::run`] confirms it. A
    /// commit the store refuses (the lease was taken, the run moved on
    /// elsewhere) changes nothing and stops this holder.
    pub(super) async fn commit(&mut self) -> Result<(), StoreError> {
        if let Some(e) = &self.lost {
            return Err(e.clone());
        }
        let timer = self.wanted_timer();
        let (timer_change, timer_changed) = match &self.timer {
            Some(known) if *known == timer => (TimerChange::Keep, false),
            Some(_) => (timer.clone().map_or(TimerChange::Clear, TimerChange::Set), true),
            // Not known since the run was loaded: written with the next commit.
            None => (timer.clone().map_or(TimerChange::Clear, TimerChange::Set), false),
        };
        if self.buffer.is_empty()
            && self.saved_messages == self.conversation.len()
            && self.create.is_none()
            && self.consumed.is_none()
            && !timer_changed
        {
            return Ok(());
        }
        if !matches!(self.state.position, Position::Waiting { .. }) {
            self.state.pending = None;
        }
        self.state.updated = self.now_rfc3339();
        let record = self.create.take();
        let checkpoint = Checkpoint {
            state: &self.state,
            follows: self.version,
            events: &self.buffer,
            messages: &self.conversation[self.saved_messages..],
            first_message: self.saved_messages,
            timer: timer_change,
            consumed: self.consumed,
            create: record.as_ref().map(|r| (r, self.program.json.as_str())),
        };
        // A new run's lease is written by its first commit; later ones renew it first.
        if record.is_none()
            && let Err(e) = self.hold.keep().await
        {
            return Err(e);
        }
        let pending = self.store.submit(self.hold.lease(), &checkpoint);
        self.version += 1;
        self.timer = Some(timer);
        self.consumed = None;
        self.saved_messages = self.conversation.len();
        let events: Vec<Event> = self.buffer.drain(..).collect();
        // The step before is confirmed (by now it usually is) and shown; this
        // one stays in flight while the run goes on to work without effects.
        match self.in_flight.replace((pending, events, self.version)) {
            Some(previous) => self.show(previous).await,
            None => Ok(()),
        }
    }

    /// Commits the current step and waits until it is durable and shown.
    pub(super) async fn commit_now(&mut self) -> Result<(), StoreError> {
        self.commit().await?;
        self.confirm().await
    }

    /// Waits for the commit in flight, if any, then shows its events.
    pub(super) async fn confirm(&mut self) -> Result<(), StoreError> {
        if let Some(e) = &self.lost {
            return Err(e.clone());
        }
        match self.in_flight.take() {
            Some(previous) => self.show(previous).await,
            None => Ok(()),
        }
    }

    /// Waits for one commit; once durable, hands its events to the listeners.
    async fn show(
        &mut self,
        (pending, events, version): (crate::store::Pending, Vec<Event>, u64),
    ) -> Result<(), StoreError> {
        if let Err(e) = pending.await {
            self.lost = Some(e.clone());
            return Err(e);
        }
        self.confirmed.send_replace(version);
        for event in events {
            for listener in &mut self.listeners {
                listener(&event);
            }
            if self.broadcast.receiver_count() > 0 {
                let _ = self.broadcast.send(event);
            }
        }
        Ok(())
    }

    /// The timer the run's position calls for: the deadline of the pause it waits at, if any.
    pub(super) fn wanted_timer(&self) -> Option<Timer> {
        match &self.state.position {
            Position::Waiting {
                node,
                deadline: Some(deadline),
                ..
            } if self.state.status.is_waiting() => {
                let due = deadline.parse::<jiff::Timestamp>().ok()?;
                Some(Timer {
                    run_id: self.state.run_id.clone(),
                    node: node.clone(),
                    pause: self.state.pending.unwrap_or(0),
                    due_ms: due.as_millisecond(),
                })
            }
            _ => None,
        }
    }

    /// The lease this run is held by.
    pub fn lease(&self) -> &Lease {
        self.hold.lease()
    }

    /// Gives the run back: the lease is released, so another holder may take
    /// it at once. (Dropping a run releases it too, in the background.)
    pub async fn close(mut self) -> Result<(), StoreError> {
        let confirmed = self.confirm().await;
        self.hold.release().await?;
        confirmed
    }
}
