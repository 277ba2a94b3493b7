//! Dense indices of a graph's nodes and edges, resolved once when the graph is
//! loaded (after its references are checked), so the engine looks a node or an
//! edge up by position and never meets an unknown id.

use super::Program;
use flow_graph::{Edge, EdgeKind, Node};

/// A node of a [`Program`], by its position in the graph's node list. Only the
/// program makes one, and only for a node it has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeIx(u32);

/// An edge of a [`Program`], by its position in the graph's edge list. Only the
/// program makes one, and only for an edge it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeIx(u32);

/// The graph's structure by index.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// Per node: its exits, in source order.
    exits: Vec<Vec<EdgeIx>>,
    /// Per node: its companion (`also`) exits, in source order.
    companions: Vec<Vec<EdgeIx>>,
    /// Per edge: the node it goes to.
    targets: Vec<NodeIx>,
    /// The global exits, in order.
    global_exits: Vec<EdgeIx>,
    /// Per node: its event exits (`on error`, `on approved`, `on rejected`,
    /// `on timeout`, `on return`) by kind.
    events: Vec<Vec<(EdgeKind, EdgeIx)>>,
    /// The start node.
    start: NodeIx,
}

fn ix(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Program {
    /// Resolves every node and edge reference of the graph to its index; the
    /// references were checked before, so each resolves.
    pub(super) fn build_index(&mut self) {
        let node = |id: &str| NodeIx(self.nodes.get(id).map_or(u32::MAX, |&i| ix(i)));
        let edge = |id: &str| EdgeIx(self.edges.get(id).map_or(u32::MAX, |&i| ix(i)));
        let exits: Vec<Vec<EdgeIx>> = self
            .graph
            .nodes
            .iter()
            .map(|n| n.exits().iter().map(|e| edge(e)).collect())
            .collect();
        let companions = exits
            .iter()
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|e| {
                        self.graph
                            .edges
                            .get(e.0 as usize)
                            .is_some_and(|e| e.kind == EdgeKind::Companion)
                    })
                    .collect()
            })
            .collect();
        let events = self
            .graph
            .nodes
            .iter()
            .map(|n| {
                let named: Vec<(EdgeKind, &Option<String>)> = match n {
                    Node::Action(a) => vec![(EdgeKind::Error, &a.on_error)],
                    Node::Approval(a) => vec![
                        (EdgeKind::Approved, &a.approved_edge),
                        (EdgeKind::Rejected, &a.rejected_edge),
                        (EdgeKind::Timeout, &a.timeout_edge),
                    ],
                    _ => Vec::new(),
                };
                let mut out: Vec<(EdgeKind, EdgeIx)> = named
                    .into_iter()
                    .filter_map(|(kind, e)| e.as_deref().map(|e| (kind, edge(e))))
                    .collect();
                if matches!(n, Node::Handoff(_))
                    && let Some(e) = n.exits().iter().map(|e| edge(e)).find(|e| {
                        self.graph
                            .edges
                            .get(e.0 as usize)
                            .is_some_and(|e| e.kind == EdgeKind::Return)
                    })
                {
                    out.push((EdgeKind::Return, e));
                }
                out
            })
            .collect();
        let index = Index {
            events,
            targets: self.graph.edges.iter().map(|e| node(&e.to)).collect(),
            global_exits: self.graph.global_exits.iter().map(|e| edge(e)).collect(),
            start: node(&self.graph.start),
            companions,
            exits,
        };
        self.index = index;
    }

    /// A node's index by id, `None` for an id the graph lacks.
    pub fn node_ix(&self, id: &str) -> Option<NodeIx> {
        self.nodes.get(id).map(|&i| NodeIx(ix(i)))
    }

    /// An edge's index by id, `None` for an id the graph lacks.
    pub fn edge_ix(&self, id: &str) -> Option<EdgeIx> {
        self.edges.get(id).map(|&i| EdgeIx(ix(i)))
    }

    /// The node at an index of this program.
    pub fn node_at(&self, node: NodeIx) -> &Node {
        &self.graph.nodes[node.0 as usize]
    }

    /// The edge at an index of this program.
    pub fn edge_at(&self, edge: EdgeIx) -> &Edge {
        &self.graph.edges[edge.0 as usize]
    }

    /// A node's exits, in source order.
    pub fn exits_at(&self, node: NodeIx) -> &[EdgeIx] {
        &self.index.exits[node.0 as usize]
    }

    /// A node's companion (`also`) exits, in source order.
    pub fn companions_at(&self, node: NodeIx) -> &[EdgeIx] {
        &self.index.companions[node.0 as usize]
    }

    /// The node an edge goes to.
    pub fn target(&self, edge: EdgeIx) -> NodeIx {
        self.index.targets[edge.0 as usize]
    }

    /// The global exits, in order.
    pub fn global_exits_ix(&self) -> &[EdgeIx] {
        &self.index.global_exits
    }

    /// A node's event exit of this kind (`on error` of an action; `on
    /// approved`, `on rejected`, `on timeout` of an approval; `on return` of
    /// a handoff), if it has one.
    pub fn event_exit(&self, node: NodeIx, kind: EdgeKind) -> Option<EdgeIx> {
        self.index.events[node.0 as usize]
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|&(_, e)| e)
    }

    /// The start node.
    pub fn start_ix(&self) -> NodeIx {
        self.index.start
    }
}

#[cfg(test)]
mod tests {
    use super::super::Program;
    use flow_graph::EdgeKind;

    const DESK: &str = r#"
workflow desk {
  start count
}
var n: int = 0
action count {
  set n = n + 1
  -> check
}
approval check {
  prompt "Go on?"
  on approved -> count max 2
  on rejected -> done
}
end done {
  outcome ok
}
"#;

    #[test]
    fn every_reference_resolves_to_the_index_of_its_id() {
        let graph = flow_compiler::compile(DESK, "desk.flow").graph.expect("compiles");
        let program = Program::new(graph).expect("loads");
        assert_eq!(program.node_at(program.start_ix()).id(), "count");
        for node in &program.graph.nodes {
            let at = program.node_ix(node.id()).expect("a node of the graph");
            assert_eq!(program.node_at(at).id(), node.id());
            let exits: Vec<&str> = program
                .exits_at(at)
                .iter()
                .map(|&e| program.edge_at(e).id.as_str())
                .collect();
            assert_eq!(exits, node.exits().iter().map(String::as_str).collect::<Vec<_>>());
            for &e in program.exits_at(at) {
                assert_eq!(program.node_at(program.target(e)).id(), program.edge_at(e).to);
            }
        }
        let check = program.node_ix("check").expect("the approval");
        let approved = program.event_exit(check, EdgeKind::Approved).expect("on approved");
        assert_eq!(program.edge_at(approved).kind, EdgeKind::Approved);
        assert_eq!(program.node_at(program.target(approved)).id(), "count");
        assert!(program.event_exit(check, EdgeKind::Timeout).is_none());
        assert!(program.node_ix("ghost").is_none() && program.edge_ix("ghost.0").is_none());
    }
}
