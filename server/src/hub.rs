//! Committed events fanned out to the streams that follow their run. One
//! task reads the runtime's broadcast of every event and hands each to the
//! channel of its run, if anyone follows it, so a thousand open streams cost
//! one wake-up per event, not a thousand. A stream that falls behind, or
//! misses an event (the hub lagged), reads the store again from its last seq:
//! the store is the truth, the hub only the fast path.

use flow_runtime::Event;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many events a run's channel holds for a slow stream before it lags.
const PER_RUN: usize = 256;

/// The fan-out of committed events by run.
#[derive(Clone, Default)]
pub struct Hub {
    runs: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>>,
}

impl Hub {
    /// Follows one run's events from now on.
    pub fn follow(&self, run_id: &str) -> broadcast::Receiver<Arc<Event>> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.entry(run_id.to_string())
            .or_insert_with(|| broadcast::channel(PER_RUN).0)
            .subscribe()
    }

    /// How many runs are followed now.
    pub fn followed(&self) -> usize {
        self.runs.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Hands one committed event to its run's followers.
    pub fn publish(&self, event: Event) {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = runs.get(&event.run_id) {
            if tx.receiver_count() == 0 {
                runs.remove(&event.run_id);
            } else {
                let _ = tx.send(Arc::new(event));
            }
        }
    }

    /// Drops the channels nobody follows any more.
    pub fn sweep(&self) {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.retain(|_, tx| tx.receiver_count() > 0);
    }

    /// Reads `events` (the runtime's broadcast) until it closes.
    pub async fn pump(self, mut events: broadcast::Receiver<Event>) {
        let mut published = 0u64;
        loop {
            match events.recv().await {
                Ok(event) => {
                    self.publish(event);
                    published += 1;
                    if published.is_multiple_of(4096) {
                        self.sweep();
                    }
                }
                // Streams notice the gap by seq and read the store again.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow_runtime::EventBody;

    fn event(run: &str, seq: u64) -> Event {
        Event {
            run_id: run.into(),
            seq,
            ts: "2026-01-05T09:00:00Z".into(),
            body: EventBody::Message {
                node: "a".into(),
                role: "agent".into(),
                text: "hi".into(),
            },
        }
    }

    #[test]
    fn a_follower_gets_its_runs_events_only() {
        let hub = Hub::default();
        let mut a = hub.follow("a");
        hub.publish(event("b", 1));
        hub.publish(event("a", 1));
        let got = a.try_recv().unwrap();
        assert_eq!((got.run_id.as_str(), got.seq), ("a", 1));
        assert!(a.try_recv().is_err());
        drop(a);
        hub.publish(event("a", 2));
        assert_eq!(hub.followed(), 0);
    }
}
