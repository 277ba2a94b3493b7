//! What every request handler shares: the runtime (and its store), the
//! catalog, the event hub, metrics, limits and the server's lifecycle.

use crate::admission::Admissions;
use crate::catalog::Catalog;
use crate::hub::Hub;
use crate::metrics::Metrics;
use flow_runtime::{Program, Runtime};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, watch};
use tokio_util::task::TaskTracker;

/// How many event streams may be open at once unless configured.
pub const MAX_STREAMS: usize = 10_000;

/// The shared state of the service.
pub struct App {
    /// The runtime: it runs every run and holds the store.
    pub runtime: Arc<Runtime>,
    /// Workflows, revisions, keys.
    pub catalog: Arc<dyn Catalog>,
    /// Committed events by run, for streams.
    pub hub: Hub,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Permits for open event streams.
    pub streams: Arc<Semaphore>,
    /// Whether requests need no key (loopback only).
    pub no_auth: bool,
    /// Set on SIGTERM: new turns are refused, streams end, `/readyz` is 503.
    pub stopping: watch::Sender<bool>,
    /// The turns in flight (run steps on the server's own tasks), waited for on shutdown.
    pub turns: TaskTracker,
    /// Programs of revisions by graph hash.
    programs: Mutex<HashMap<String, Arc<Program>>>,
    /// Whether the store answered the last readiness probe.
    pub ready: AtomicBool,
    /// Places under workflows' `max_concurrent_runs` for runs being started.
    pub admissions: Admissions,
}

impl App {
    /// The shared state over a runtime and a catalog.
    pub fn new(runtime: Runtime, catalog: Arc<dyn Catalog>, no_auth: bool, max_streams: usize) -> App {
        App {
            runtime: Arc::new(runtime),
            catalog,
            hub: Hub::default(),
            metrics: Metrics::default(),
            streams: Arc::new(Semaphore::new(max_streams)),
            no_auth,
            stopping: watch::Sender::new(false),
            turns: TaskTracker::new(),
            programs: Mutex::default(),
            ready: AtomicBool::new(true),
            admissions: Admissions::default(),
        }
    }

    /// Whether the server is shutting down.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// The program of a compiled revision's graph, parsed once.
    pub fn program(&self, hash: &str, graph: &str) -> Result<Arc<Program>, crate::problem::ApiError> {
        if let Some(p) = self.programs.lock().ok().and_then(|m| m.get(hash).cloned()) {
            return Ok(p);
        }
        let program = Arc::new(Program::from_json(graph).map_err(crate::problem::ApiError::internal)?);
        if let Ok(mut m) = self.programs.lock() {
            if m.len() >= 256 {
                m.clear();
            }
            m.insert(hash.to_string(), Arc::clone(&program));
        }
        Ok(program)
    }

    /// Marks the store's readiness.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }
}
