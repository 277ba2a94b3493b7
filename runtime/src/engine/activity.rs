//! What a run is waiting for while it waits: a model or a tool. Not an event
//! (nothing is stored): it lets a host show progress, such as the spinner of
//! `flow run`, while a slow call is in flight.

use super::Run;
use std::sync::Arc;

/// A call the run has started and waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// A model request of `group` at `node` (`purpose` as in `llm_call`).
    Model {
        /// The model group.
        group: String,
        /// The provider and model asked, `provider:model`.
        model: String,
        /// The node that asks.
        node: String,
        /// `reply`, `choose_exit`, `extract`, ...
        purpose: String,
    },
    /// A tool call at `node` (not a companion's: those run in the background).
    Tool {
        /// The tool.
        tool: String,
        /// The node that calls it.
        node: String,
    },
}

/// A watcher of a run's activity: called with `Some` when a call starts and
/// with `None` when it ends.
pub type ActivityHook = Arc<dyn Fn(Option<&Activity>) + Send + Sync>;

impl Run {
    /// Calls `watcher` when a model or tool call starts (`Some`) and ends (`None`).
    pub fn on_activity(&mut self, watcher: impl Fn(Option<&Activity>) + Send + Sync + 'static) {
        self.activity = Some(Arc::new(watcher));
    }

    /// Tells the watcher, if any.
    pub(super) fn report(&self, activity: Option<&Activity>) {
        if let Some(watcher) = &self.activity {
            watcher(activity);
        }
    }
}
