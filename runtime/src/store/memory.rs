//! A store in memory: no durability, for hosts that keep runs elsewhere, for
//! tests and for measuring the engine alone.

use super::{Checkpoint, RunLock, RunRecord, RunSummary, Store, StoreError, StoredRun, failed};
use crate::state::{ChatMessage, RunState};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

struct MemoryRun {
    record: RunRecord,
    state: RunState,
    events: Vec<String>,
    messages: Vec<ChatMessage>,
}

#[derive(Default)]
struct Inner {
    runs: HashMap<String, MemoryRun>,
    graphs: HashMap<String, String>,
}

/// Runs kept in this process's memory.
#[derive(Default, Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
    locked: Arc<Mutex<HashSet<String>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn inner(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| failed("the memory store was poisoned by a panic"))
    }
}

impl Store for MemoryStore {
    fn commit(&self, cp: &Checkpoint<'_>) -> Result<(), StoreError> {
        let mut inner = self.inner()?;
        if let Some((record, graph)) = cp.create {
            inner
                .graphs
                .entry(record.graph_hash.clone())
                .or_insert_with(|| graph.to_string());
            inner.runs.insert(
                record.run_id.clone(),
                MemoryRun {
                    record: record.clone(),
                    state: cp.state.clone(),
                    events: Vec::new(),
                    messages: Vec::new(),
                },
            );
        }
        let run = inner
            .runs
            .get_mut(&cp.state.run_id)
            .ok_or_else(|| failed(format!("run {} is not in the store", cp.state.run_id)))?;
        if let Some(first) = cp.events.first()
            && first.seq != run.events.len() as u64 + 1
        {
            return Err(failed(format!(
                "event seq {} does not follow {}",
                first.seq,
                run.events.len()
            )));
        }
        run.state = cp.state.clone();
        run.events.extend(cp.events.iter().map(|e| e.to_line()));
        run.messages.truncate(cp.first_message);
        run.messages.extend_from_slice(cp.messages);
        Ok(())
    }

    fn load(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        Ok(self.inner()?.runs.get(run_id).map(|r| StoredRun {
            record: r.record.clone(),
            state: r.state.clone(),
            messages: r.messages.clone(),
        }))
    }

    fn graph(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self.inner()?.graphs.get(hash).cloned())
    }

    fn events_after(&self, run_id: &str, seq: u64) -> Result<Vec<String>, StoreError> {
        let inner = self.inner()?;
        let from = usize::try_from(seq).unwrap_or(usize::MAX);
        Ok(inner
            .runs
            .get(run_id)
            .map(|r| r.events.iter().skip(from).cloned().collect())
            .unwrap_or_default())
    }

    fn list(&self) -> Result<Vec<RunSummary>, StoreError> {
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

    fn lock(&self, run_id: &str) -> Result<RunLock, StoreError> {
        let mut locked = self.locked.lock().map_err(|_| failed("poisoned lock table"))?;
        if !locked.insert(run_id.to_string()) {
            return Err(StoreError::Busy(run_id.to_string()));
        }
        Ok(RunLock::new(Release {
            table: Arc::clone(&self.locked),
            run_id: run_id.to_string(),
        }))
    }
}

struct Release {
    table: Arc<Mutex<HashSet<String>>>,
    run_id: String,
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Ok(mut t) = self.table.lock() {
            t.remove(&self.run_id);
        }
    }
}
