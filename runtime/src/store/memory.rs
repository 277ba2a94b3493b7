//! A store in memory: no durability, for hosts that keep runs elsewhere, for
//! tests and for measuring the engine alone. Its lock is held only for the
//! few map operations of each call, never across an await.

use super::{
    Checkpoint, Delivery, Lease, Pending, PendingChange, Posted, RunQuery, RunRecord, RunRow, RunSummary, Store,
    StoreError, StoredRun, Timer, TimerChange, expiry, now_ms,
};
use crate::state::{ChatMessage, RunState};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct MemoryRun {
    record: RunRecord,
    state: RunState,
    version: u64,
    lease: Lease,
    events: Vec<String>,
    messages: Vec<ChatMessage>,
    timer: Option<Timer>,
    inbox: Vec<Posted>,
    posted: u64,
    position: u64,
    pending: Option<serde_json::Value>,
}

#[derive(Default)]
struct Inner {
    runs: HashMap<String, MemoryRun>,
    graphs: HashMap<String, String>,
    created: u64,
}

/// Runs kept in this process's memory.
#[derive(Default, Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn inner(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::io("the memory store was poisoned by a panic"))
    }
}

fn held(run: &MemoryRun, lease: &Lease) -> bool {
    run.lease.owner == lease.owner && run.lease.epoch == lease.epoch
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn acquire(&self, run_id: &str, owner: &str, ttl: Duration) -> Result<Lease, StoreError> {
        let mut inner = self.inner()?;
        let run = inner.runs.get_mut(run_id).ok_or_else(|| StoreError::NotFound {
            run_id: run_id.to_string(),
        })?;
        let lease = &mut run.lease;
        if lease.owner != owner && lease.expires_ms > now_ms() {
            return Err(StoreError::Busy {
                run_id: run_id.to_string(),
            });
        }
        lease.epoch += 1;
        lease.owner = owner.to_string();
        lease.expires_ms = expiry(ttl);
        Ok(lease.clone())
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease, StoreError> {
        let mut inner = self.inner()?;
        match inner.runs.get_mut(&lease.run_id) {
            Some(run) if held(run, lease) => {
                run.lease.expires_ms = expiry(ttl);
                Ok(run.lease.clone())
            }
            _ => Err(StoreError::conflict(
                &lease.run_id,
                "the lease was taken by another holder",
            )),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let mut inner = self.inner()?;
        if let Some(run) = inner.runs.get_mut(&lease.run_id)
            && held(run, lease)
        {
            run.lease.expires_ms = 0;
        }
        Ok(())
    }

    fn submit(&self, lease: &Lease, cp: &Checkpoint<'_>) -> Pending {
        let done = self.apply(lease, cp);
        Box::pin(std::future::ready(done))
    }

    async fn load(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        Ok(self.inner()?.runs.get(run_id).map(|r| StoredRun {
            record: r.record.clone(),
            state: r.state.clone(),
            messages: r.messages.clone(),
            version: r.version,
            pending: r.pending.clone(),
        }))
    }

    async fn graph(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self.inner()?.graphs.get(hash).cloned())
    }

    async fn events_after(&self, run_id: &str, seq: u64) -> Result<Vec<String>, StoreError> {
        let inner = self.inner()?;
        let from = usize::try_from(seq).unwrap_or(usize::MAX);
        Ok(inner
            .runs
            .get(run_id)
            .map(|r| r.events.iter().skip(from).cloned().collect())
            .unwrap_or_default())
    }

    async fn list(&self) -> Result<Vec<RunSummary>, StoreError> {
        let inner = self.inner()?;
        let mut out: Vec<RunSummary> = inner
            .runs
            .values()
            .map(|r| RunSummary {
                run_id: r.record.run_id.clone(),
                workflow: r.record.workflow.clone(),
                status: r.state.status.as_str().to_string(),
                node: r.state.node().to_string(),
                updated: r.state.updated.clone(),
            })
            .collect();
        out.sort_by(|a, b| b.updated.cmp(&a.updated).then(b.run_id.cmp(&a.run_id)));
        Ok(out)
    }

    async fn due_timers(&self, now_ms: i64) -> Result<Vec<Timer>, StoreError> {
        let inner = self.inner()?;
        let mut due: Vec<Timer> = inner
            .runs
            .values()
            .filter_map(|r| r.timer.clone())
            .filter(|t| t.due_ms <= now_ms)
            .collect();
        due.sort_by(|a, b| a.due_ms.cmp(&b.due_ms).then_with(|| a.run_id.cmp(&b.run_id)));
        Ok(due)
    }

    async fn post(&self, run_id: &str, delivery: &Delivery) -> Result<u64, StoreError> {
        let mut inner = self.inner()?;
        let run = inner.runs.get_mut(run_id).ok_or_else(|| StoreError::NotFound {
            run_id: run_id.to_string(),
        })?;
        run.posted += 1;
        run.inbox.push(Posted {
            seq: run.posted,
            delivery: delivery.clone(),
        });
        Ok(run.posted)
    }

    async fn inbox(&self, run_id: &str) -> Result<Vec<Posted>, StoreError> {
        Ok(self
            .inner()?
            .runs
            .get(run_id)
            .map(|r| r.inbox.clone())
            .unwrap_or_default())
    }

    async fn query(&self, query: &RunQuery) -> Result<Vec<RunRow>, StoreError> {
        let inner = self.inner()?;
        let mut rows: Vec<&MemoryRun> = inner
            .runs
            .values()
            .filter(|r| query.admits(&r.record, &r.state, r.position))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.position));
        Ok(rows
            .into_iter()
            .take(query.limit)
            .map(|r| RunRow {
                position: r.position,
                record: r.record.clone(),
                state: r.state.clone(),
                pending: r.pending.clone(),
            })
            .collect())
    }

    async fn delete_finished(&self, run_id: &str) -> Result<bool, StoreError> {
        let mut inner = self.inner()?;
        let run = inner.runs.get(run_id).ok_or_else(|| StoreError::NotFound {
            run_id: run_id.to_string(),
        })?;
        if !run.state.status.is_finished() {
            return Ok(false);
        }
        inner.runs.remove(run_id);
        Ok(true)
    }
}

impl MemoryStore {
    /// Applies a commit at once (the memory store has nothing to wait for).
    fn apply(&self, lease: &Lease, cp: &Checkpoint<'_>) -> Result<(), StoreError> {
        let mut inner = self.inner()?;
        let run_id = cp.state.run_id.as_str();
        if let Some((record, graph)) = cp.create {
            if inner.runs.contains_key(run_id) {
                return Err(StoreError::conflict(run_id, "the run already exists"));
            }
            inner
                .graphs
                .entry(record.graph_hash.clone())
                .or_insert_with(|| graph.to_string());
            inner.created += 1;
            let position = inner.created;
            inner.runs.insert(
                run_id.to_string(),
                MemoryRun {
                    record: record.clone(),
                    state: cp.state.clone(),
                    version: 0,
                    lease: lease.clone(),
                    events: Vec::new(),
                    messages: Vec::new(),
                    timer: None,
                    inbox: Vec::new(),
                    posted: 0,
                    position,
                    pending: None,
                },
            );
        }
        let run = inner.runs.get_mut(run_id).ok_or_else(|| StoreError::NotFound {
            run_id: run_id.to_string(),
        })?;
        if !held(run, lease) {
            return Err(StoreError::conflict(run_id, "the lease was taken by another holder"));
        }
        if run.version != cp.follows {
            return Err(StoreError::conflict(
                run_id,
                format!(
                    "the commit follows version {}, the run is at {}",
                    cp.follows, run.version
                ),
            ));
        }
        if let Some(first) = cp.events.first()
            && first.seq != run.events.len() as u64 + 1
        {
            return Err(StoreError::conflict(
                run_id,
                format!("event seq {} does not follow {}", first.seq, run.events.len()),
            ));
        }
        run.version += 1;
        run.state = cp.state.clone();
        run.events.extend(cp.events.iter().map(|e| e.to_line()));
        run.messages.truncate(cp.first_message);
        run.messages.extend_from_slice(cp.messages);
        match &cp.timer {
            TimerChange::Keep => {}
            TimerChange::Set(t) => run.timer = Some(t.clone()),
            TimerChange::Clear => run.timer = None,
        }
        if let Some(upto) = cp.consumed {
            run.inbox.retain(|p| p.seq > upto);
        }
        match cp.pending() {
            PendingChange::Keep => {}
            PendingChange::Set(paused) => run.pending = Some(paused),
            PendingChange::Clear => run.pending = None,
        }
        Ok(())
    }
}
