//! What the compiler guarantees, checked again when a graph is loaded, so that
//! a hand-edited or corrupted graph is refused before it runs: every edge a
//! node names is one of its own exits and of the right kind, no cycle lacks a
//! bounded edge, and no number is beyond the caps of [`flow_graph::limits`].

use super::{LoadError, Program};
use flow_graph::limits::{
    MAX_APPROVAL_TIMEOUT_MS, MAX_RETRIES, MAX_STEPS, MAX_TOOL_TIMEOUT_MS, MAX_TRAVERSALS, MAX_TURNS,
};
use flow_graph::{Condition, Edge, EdgeKind, Implementation, Node};
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};

fn fail<T>(message: String) -> Result<T, LoadError> {
    Err(LoadError::Invalid(message))
}

/// Checks that `n` lies in `1..=max`; `what` names the field and its owner.
fn in_range(n: u64, max: u64, what: &str) -> Result<(), LoadError> {
    if n == 0 || n > max {
        return fail(format!("{what} is {n}; it must be between 1 and {max}"));
    }
    Ok(())
}

impl Program {
    /// Runs every check of this module.
    pub(super) fn verify(&self) -> Result<(), LoadError> {
        let workflow = &self.graph.workflow;
        in_range(
            workflow.max_steps,
            MAX_STEPS,
            &format!("workflow `{}`: `max_steps`", workflow.name),
        )?;
        self.verify_tools()?;
        self.verify_models()?;
        for edge in &self.graph.edges {
            self.verify_edge(edge)?;
        }
        for node in &self.graph.nodes {
            self.verify_node(node)?;
        }
        self.verify_cycles()
    }

    fn verify_tools(&self) -> Result<(), LoadError> {
        for tool in &self.graph.tools {
            if let Implementation::Http {
                timeout_ms, retries, ..
            } = &tool.implementation
            {
                if *timeout_ms == 0 || *timeout_ms > MAX_TOOL_TIMEOUT_MS {
                    return fail(format!(
                        "tool `{}`: `timeout_ms` is {timeout_ms}; it must be between 1 and {MAX_TOOL_TIMEOUT_MS} (24h)",
                        tool.id
                    ));
                }
                if *retries > MAX_RETRIES {
                    return fail(format!(
                        "tool `{}`: `retries` is {retries}; it must be at most {MAX_RETRIES}",
                        tool.id
                    ));
                }
            }
        }
        Ok(())
    }

    fn verify_models(&self) -> Result<(), LoadError> {
        let known = |group: &Option<String>, what: &str| match group {
            Some(g) if !self.graph.models.contains_key(g) => fail(format!("{what} names unknown model `{g}`")),
            _ => Ok(()),
        };
        known(&self.graph.workflow.default_model, "workflow: `default_model`")?;
        for node in &self.graph.nodes {
            match node {
                Node::Agent(a) => {
                    known(&a.model, &format!("agent `{}`: `model`", a.id))?;
                    for kb in &a.knowledge_base_refs {
                        if !self.graph.knowledge_bases.contains_key(kb) {
                            return fail(format!(
                                "agent `{}`: `knowledge_base_refs` names unknown knowledge base `{kb}`",
                                a.id
                            ));
                        }
                    }
                }
                Node::Route(r) => known(&r.model, &format!("route `{}`: `model`", r.id))?,
                _ => {}
            }
        }
        Ok(())
    }

    /// An edge's own fields, and that its source lists it.
    fn verify_edge(&self, edge: &Edge) -> Result<(), LoadError> {
        let id = &edge.id;
        let kind = edge.kind.as_str();
        if let Some(n) = edge.max_traversals {
            in_range(
                n.into(),
                MAX_TRAVERSALS.into(),
                &format!("edge `{id}`: `max_traversals`"),
            )?;
            if edge.kind == EdgeKind::Companion {
                return fail(format!("edge `{id}`: a companion edge takes no `max_traversals`"));
            }
        }
        match (edge.kind, edge.turns) {
            (EdgeKind::TurnLimit, Some(n)) => in_range(n.into(), MAX_TURNS.into(), &format!("edge `{id}`: `turns`"))?,
            (EdgeKind::TurnLimit, None) => return fail(format!("edge `{id}`: a turn_limit edge needs `turns`")),
            (_, Some(_)) => return fail(format!("edge `{id}`: a {kind} edge takes no `turns`")),
            (_, None) => {}
        }
        match (edge.kind, &edge.condition) {
            (EdgeKind::Conditional, None) => {
                return fail(format!("edge `{id}`: a conditional edge needs a `condition`"));
            }
            (EdgeKind::Conditional, Some(Condition::Else(false))) => {
                return fail(format!("edge `{id}`: `condition` `else` must be true"));
            }
            (EdgeKind::Conditional, Some(_)) | (_, None) => {}
            (_, Some(_)) => return fail(format!("edge `{id}`: a {kind} edge takes no `condition`")),
        }
        match &edge.from {
            Some(from) => {
                let listed = self.node(from).is_some_and(|n| n.exits().contains(id));
                if !listed {
                    return fail(format!(
                        "edge `{id}` leaves `{from}`, but `{from}` does not list it in `exits`"
                    ));
                }
            }
            None => {
                if !self.graph.global_exits.contains(id) {
                    return fail(format!("edge `{id}` has no `from` but is not in `global_exits`"));
                }
                if !matches!(edge.condition, Some(Condition::Llm(_))) {
                    return fail(format!(
                        "global exit `{id}`: it must be a `when` edge (an `llm` condition)"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The edge named by `field` of `node`: one of the node's own exits, of kind `kind`.
    fn own_edge(&self, node: &Node, field: &str, edge_id: &str, kind: EdgeKind) -> Result<(), LoadError> {
        let what = format!("{} `{}`: `{field}`", node.kind(), node.id());
        let Some(edge) = self.edge(edge_id) else {
            return fail(format!("{what} names unknown edge `{edge_id}`"));
        };
        if edge.from.as_deref() != Some(node.id()) || !node.exits().iter().any(|e| e == edge_id) {
            return fail(format!(
                "{what} names edge `{edge_id}`, which is not an exit of `{}`",
                node.id()
            ));
        }
        if edge.kind != kind {
            return fail(format!(
                "{what} names edge `{edge_id}` of kind {}, not {}",
                edge.kind.as_str(),
                kind.as_str()
            ));
        }
        Ok(())
    }

    fn verify_node(&self, node: &Node) -> Result<(), LoadError> {
        for exit in node.exits() {
            let from = self.edge(exit).and_then(|e| e.from.as_deref());
            if from != Some(node.id()) {
                return fail(format!(
                    "{} `{}`: `exits` lists edge `{exit}`, which leaves {}",
                    node.kind(),
                    node.id(),
                    from.map_or("no node (a global exit)".to_string(), |f| format!("`{f}`"))
                ));
            }
        }
        match node {
            Node::Agent(a) => {
                for e in &a.exit_conditions {
                    self.own_edge(node, "exit_conditions", e, EdgeKind::Conditional)?;
                }
            }
            Node::Action(a) => {
                if let Some(e) = &a.on_error {
                    self.own_edge(node, "on_error", e, EdgeKind::Error)?;
                }
            }
            Node::Approval(a) => {
                let what = format!("approval `{}`", a.id);
                for (field, edge, kind) in [
                    ("approved_edge", &a.approved_edge, EdgeKind::Approved),
                    ("rejected_edge", &a.rejected_edge, EdgeKind::Rejected),
                    ("timeout_edge", &a.timeout_edge, EdgeKind::Timeout),
                ] {
                    match edge {
                        Some(e) => self.own_edge(node, field, e, kind)?,
                        None if kind != EdgeKind::Timeout => return fail(format!("{what}: `{field}` is missing")),
                        None => {}
                    }
                }
                match a.timeout_hours {
                    Some(h) => {
                        let max = MAX_APPROVAL_TIMEOUT_MS as f64 / 3_600_000.0;
                        if !(h.is_finite() && h > 0.0 && h <= max) {
                            return fail(format!(
                                "{what}: `timeout_hours` is {h}; it must be more than 0 and at most {max} (365 days)"
                            ));
                        }
                        if a.timeout_edge.is_none() {
                            return fail(format!("{what}: `timeout_hours` is set but `timeout_edge` is missing"));
                        }
                    }
                    None if a.timeout_edge.is_some() => {
                        return fail(format!("{what}: `timeout_edge` is set but `timeout_hours` is missing"));
                    }
                    None => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Every cycle of edges other than companions holds an edge with `max_traversals`
    /// (global exits count as edges from every agent, as the compiler counts them).
    fn verify_cycles(&self) -> Result<(), LoadError> {
        let mut graph: DiGraph<usize, &str> = DiGraph::with_capacity(self.graph.nodes.len(), self.graph.edges.len());
        for i in 0..self.graph.nodes.len() {
            graph.add_node(i);
        }
        let unbounded = |e: &&Edge| e.kind != EdgeKind::Companion && e.max_traversals.is_none();
        let index = |id: &str| self.nodes.get(id).map(|&i| NodeIndex::new(i));
        for edge in self.graph.edges.iter().filter(unbounded) {
            let Some(to) = index(&edge.to) else { continue };
            match &edge.from {
                Some(from) => {
                    if let Some(from) = index(from) {
                        graph.add_edge(from, to, &edge.id);
                    }
                }
                None => {
                    for (i, node) in self.graph.nodes.iter().enumerate() {
                        if matches!(node, Node::Agent(_)) {
                            graph.add_edge(NodeIndex::new(i), to, &edge.id);
                        }
                    }
                }
            }
        }
        for part in kosaraju_scc(&graph) {
            let Some(&first) = part.first() else { continue };
            let cyclic = part.len() > 1 || graph.find_edge(first, first).is_some();
            if !cyclic {
                continue;
            }
            let mut part = part;
            part.sort_unstable();
            let names: Vec<&str> = part.iter().map(|n| self.graph.nodes[n.index()].id()).collect();
            let shown = names.len().min(5);
            let more = if names.len() > shown {
                format!(" and {} more", names.len() - shown)
            } else {
                String::new()
            };
            return fail(format!(
                "the nodes `{}`{more} form a cycle with no bounded edge (no edge of it has `max_traversals`)",
                names[..shown].join("`, `")
            ));
        }
        Ok(())
    }
}
