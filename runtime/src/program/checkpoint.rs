//! A loaded checkpoint checked against its graph, before the run goes on: every
//! node, edge and tool the state names must be in the graph, so the engine never
//! meets an unknown id mid-run. Counts an older runtime kept of edges without
//! `max N` are dropped (nothing reads them).

use super::{NodeIx, Program};
use crate::state::{Position, RunState};
use crate::store::StoreError;

impl Program {
    /// Checks that `state` names only nodes, edges and tools of this graph, and
    /// drops its counts of edges without a `max N`; gives the node the run is
    /// at. The error names the first unknown id and where the state names it.
    pub fn admit_state(&self, state: &mut RunState) -> Result<NodeIx, StoreError> {
        let run = &state.run_id;
        let node = state.node();
        let Some(at) = self.node_ix(node) else {
            let at = match state.position {
                Position::Enter { .. } => "is about to enter",
                Position::Waiting { .. } => "waits at",
                Position::Finished { .. } => "finished at",
            };
            return Err(StoreError::corrupt(format!(
                "the checkpoint of run {run} {at} node `{node}`, which its graph lacks"
            )));
        };
        for edge in state.edge_counts.keys() {
            if self.edge_ix(edge).is_none() {
                return Err(StoreError::corrupt(format!(
                    "the checkpoint of run {run} counts edge `{edge}`, which its graph lacks"
                )));
            }
        }
        for edge in &state.companions {
            let known = self
                .edge(edge)
                .is_some_and(|e| e.kind == flow_graph::EdgeKind::Companion);
            if !known {
                return Err(StoreError::corrupt(format!(
                    "the checkpoint of run {run} runs companion edge `{edge}`, which its graph lacks"
                )));
            }
        }
        for tool in state.tool_calls.keys() {
            if self.tool(tool).is_none() {
                return Err(StoreError::corrupt(format!(
                    "the checkpoint of run {run} counts calls of tool `{tool}`, which its graph lacks"
                )));
            }
        }
        for key in state.llm_calls.keys() {
            let node = key.rsplit_once('/').map_or(key.as_str(), |(node, _)| node);
            if self.node_ix(node).is_none() {
                return Err(StoreError::corrupt(format!(
                    "the checkpoint of run {run} counts model calls at node `{node}`, which its graph lacks"
                )));
            }
        }
        state
            .edge_counts
            .retain(|edge, _| self.edge(edge).is_some_and(|e| e.max_traversals.is_some()));
        Ok(at)
    }
}
