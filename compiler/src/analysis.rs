//! Graph analysis with petgraph (LANGUAGE.md §7): reachability (W0501),
//! unbounded cycles (E0301), dead ends (E0302, E0306, E0307), companions
//! (E0308, E0309, W0502) and definite assignment (E0204).

use crate::ast::*;
use crate::check::{Program, VarRole};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics, Edit, Fix};
use crate::span::Span;
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Bfs, EdgeRef};
use std::collections::{HashMap, HashSet, VecDeque};

/// One edge of the analysed graph.
#[derive(Debug, Clone, Copy)]
struct EdgeInfo<'a> {
    exit: &'a Exit,
    /// Whether it is a global exit (written in the workflow block).
    global: bool,
}

impl EdgeInfo<'_> {
    fn is_also(&self) -> bool {
        matches!(self.exit.kind, ExitKind::Also)
    }

    fn is_error(&self) -> bool {
        matches!(self.exit.kind, ExitKind::OnError)
    }
}

/// The graph of a checked program: node `i` is `program.nodes[i]`; the
/// built-in `end` is the last node when some exit targets it.
struct Graph<'a> {
    graph: DiGraph<usize, EdgeInfo<'a>>,
    /// The index of the built-in `end`, if present.
    end: Option<usize>,
}

impl<'a> Graph<'a> {
    fn build(program: &Program<'a>) -> Graph<'a> {
        let mut graph = DiGraph::new();
        for i in 0..program.nodes.len() {
            graph.add_node(i);
        }
        let targets_end = program
            .nodes
            .iter()
            .flat_map(|n| n.body.exits.iter())
            .chain(program.workflow.iter().flat_map(|w| w.body.exits.iter()))
            .any(|e| e.target.name == "end");
        let end = targets_end.then(|| {
            let i = program.nodes.len();
            graph.add_node(i);
            i
        });
        let resolve = |name: &str| -> Option<usize> {
            if name == "end" {
                end
            } else {
                program.node_index.get(name).copied()
            }
        };
        let globals: Vec<&'a Exit> = program
            .workflow
            .map(|w| {
                w.body
                    .exits
                    .iter()
                    .filter(|e| matches!(e.kind, ExitKind::When(_)))
                    .collect()
            })
            .unwrap_or_default();
        for (i, node) in program.nodes.iter().enumerate() {
            for exit in &node.body.exits {
                if let Some(to) = resolve(&exit.target.name) {
                    graph.add_edge(NodeIndex::new(i), NodeIndex::new(to), EdgeInfo { exit, global: false });
                }
            }
            if node.kind == NodeKind::Agent {
                for exit in &globals {
                    if let Some(to) = resolve(&exit.target.name) {
                        graph.add_edge(NodeIndex::new(i), NodeIndex::new(to), EdgeInfo { exit, global: true });
                    }
                }
            }
        }
        Graph { graph, end }
    }

    fn name<'p>(&self, program: &'p Program<'a>, i: usize) -> &'p str {
        if Some(i) == self.end {
            "end"
        } else {
            &program.nodes[i].name.name
        }
    }
}

/// Runs the graph checks. Those that would be noise on a partly parsed file
/// are skipped when `syntax_errors` is set.
pub fn analyse(program: &Program<'_>, syntax_errors: bool, diags: &mut Diagnostics) {
    let graph = Graph::build(program);
    let companions: HashSet<usize> = graph
        .graph
        .edge_references()
        .filter(|e| e.weight().is_also())
        .map(|e| e.target().index())
        .collect();
    check_companions(program, &graph, diags);
    check_error_exits(program, &companions, diags);
    if syntax_errors {
        return;
    }
    let start = program.workflow.and_then(|w| {
        w.body.fields.iter().find_map(|f| match &f.kind {
            FieldKind::Start(node) => program.node_index.get(&node.name).copied(),
            _ => None,
        })
    });
    check_dead_ends(program, &companions, diags);
    check_cycles(program, &graph, diags);
    if let Some(start) = start {
        let reachable = check_reachable(program, &graph, start, diags);
        check_definite_assignment(program, &graph, start, &reachable, diags);
    }
}

/// W0501: nodes that no path from `start` reaches. Returns the reachable set.
fn check_reachable(program: &Program<'_>, graph: &Graph<'_>, start: usize, diags: &mut Diagnostics) -> Vec<bool> {
    let mut reachable = vec![false; graph.graph.node_count()];
    let mut bfs = Bfs::new(&graph.graph, NodeIndex::new(start));
    while let Some(n) = bfs.next(&graph.graph) {
        reachable[n.index()] = true;
    }
    for (i, node) in program.nodes.iter().enumerate() {
        if !reachable[i] {
            diags.push(
                Diagnostic::new(
                    Code::W0501,
                    node.name.span,
                    format!("the node `{}` is not reachable from `start`", node.name.name),
                )
                .primary("never reached")
                .help("add an exit that leads here, or remove the node"),
            );
        }
    }
    reachable
}

/// E0301: one error per strongly connected part of the unbounded, non-`also` edges.
fn check_cycles(program: &Program<'_>, graph: &Graph<'_>, diags: &mut Diagnostics) {
    let mut unbounded: DiGraph<usize, EdgeInfo<'_>> = DiGraph::new();
    for i in 0..graph.graph.node_count() {
        unbounded.add_node(i);
    }
    for e in graph.graph.edge_references() {
        if !e.weight().is_also() && e.weight().exit.bound.is_none() {
            unbounded.add_edge(e.source(), e.target(), *e.weight());
        }
    }
    let mut parts = kosaraju_scc(&unbounded);
    // Report in source order of each part's first node.
    for part in &mut parts {
        part.sort();
    }
    parts.sort();
    for part in parts {
        let first = part[0];
        let cyclic = part.len() > 1 || unbounded.find_edge(first, first).is_some();
        if !cyclic {
            continue;
        }
        let members: HashSet<NodeIndex> = part.iter().copied().collect();
        let cycle = shortest_cycle(&unbounded, first, &members);
        let names: Vec<&str> = cycle.iter().map(|(n, _)| graph.name(program, n.index())).collect();
        let mut path = names.clone();
        path.push(names[0]);
        let (_, first_edge) = cycle[0];
        let edge = *unbounded.edge_weight(first_edge).expect("cycle edge");
        let mut diag = Diagnostic::new(
            Code::E0301,
            edge.exit.span,
            format!("this cycle has no bounded edge: {}", path.join(" -> ")),
        )
        .primary(if edge.global {
            "a global exit, taken from every agent: part of the cycle"
        } else {
            "an edge of the cycle"
        });
        for (n, _) in &cycle {
            if Some(n.index()) != graph.end {
                let node = program.nodes[n.index()];
                diag = diag.label(node.name.span, format!("`{}` is on the cycle", node.name.name));
            }
        }
        let insert_at = Span::new(edge.exit.span.end as usize, edge.exit.span.end as usize);
        diag = diag
            .help(format!(
                "bound one edge of the cycle so a run cannot loop forever, e.g. `-> {} max 3` in `{}`",
                names.get(1).unwrap_or(&names[0]),
                names[0]
            ))
            .fix("bound this edge with `max 3`", insert_at, " max 3");
        diags.push(diag);
    }
}

/// A shortest cycle through `start` inside one strongly connected part:
/// each step is a node and the edge leaving it.
fn shortest_cycle<E>(
    graph: &DiGraph<usize, E>,
    start: NodeIndex,
    members: &HashSet<NodeIndex>,
) -> Vec<(NodeIndex, petgraph::graph::EdgeIndex)> {
    let mut prev: HashMap<NodeIndex, (NodeIndex, petgraph::graph::EdgeIndex)> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    let mut closing = None;
    'search: while let Some(n) = queue.pop_front() {
        let mut edges: Vec<_> = graph.edges(n).collect();
        edges.sort_by_key(|e| e.id());
        for e in edges {
            let t = e.target();
            if !members.contains(&t) {
                continue;
            }
            if t == start {
                closing = Some((n, e.id()));
                break 'search;
            }
            if let std::collections::hash_map::Entry::Vacant(v) = prev.entry(t) {
                v.insert((n, e.id()));
                queue.push_back(t);
            }
        }
    }
    let Some((mut n, e)) = closing else {
        return vec![(start, graph.edges(start).next().map(|e| e.id()).unwrap_or_default())];
    };
    let mut steps = vec![(n, e)];
    while n != start {
        let (p, pe) = prev[&n];
        steps.push((p, pe));
        n = p;
    }
    steps.reverse();
    steps
}

/// E0302, E0306, E0307: nodes without the exits their kind needs.
fn check_dead_ends(program: &Program<'_>, companions: &HashSet<usize>, diags: &mut Diagnostics) {
    for (i, node) in program.nodes.iter().enumerate() {
        let exits = &node.body.exits;
        let has = |f: &dyn Fn(&ExitKind) -> bool| exits.iter().any(|e| f(&e.kind));
        let dead = match node.kind {
            NodeKind::Agent => !has(&|k| !matches!(k, ExitKind::Also)),
            NodeKind::Say => {
                !companions.contains(&i) && !has(&|k| matches!(k, ExitKind::Direct | ExitKind::If(_) | ExitKind::Else))
            }
            NodeKind::Action => {
                !companions.contains(&i) && !has(&|k| matches!(k, ExitKind::Direct | ExitKind::If(_) | ExitKind::Else))
            }
            NodeKind::Route => {
                if !has(&|k| matches!(k, ExitKind::Else)) && !program.exhaustive_routes.contains(&i) {
                    diags.push(
                        Diagnostic::new(
                            Code::E0306,
                            node.name.span,
                            format!(
                                "the route `{}` has no `else` and its `if` exits do not cover every case",
                                node.name.name
                            ),
                        )
                        .primary("may find no exit")
                        .help("add `else -> NODE` as the last exit, or an `if` for every value of the union")
                        .maybe_fix(append_line(node, "else -> end", "add `else -> end`")),
                    );
                }
                false
            }
            NodeKind::Approval => {
                check_approval(node, diags);
                false
            }
            NodeKind::Handoff | NodeKind::End => false,
        };
        if dead {
            let needs = match node.kind {
                NodeKind::Agent => "an exit other than `also` (`when`, `if`, `after N turns` or `->`)",
                NodeKind::Say => "a `->`, `if` or `else` exit",
                _ => "an exit to go on by (`->`, `if` or `else`); `on error` covers only failures",
            };
            diags.push(
                Diagnostic::new(
                    Code::E0302,
                    node.name.span,
                    format!(
                        "dead end: the {} `{}` has no exit to go on",
                        node.kind.as_str(),
                        node.name.name
                    ),
                )
                .primary("the run would be stuck here")
                .help(format!("add {needs}, e.g. `-> end`")),
            );
        }
    }
}

fn check_approval(node: &Node, diags: &mut Diagnostics) {
    let has = |f: fn(&ExitKind) -> bool| node.body.exits.iter().find(|e| f(&e.kind));
    let timeout = node
        .body
        .fields
        .iter()
        .find(|f| matches!(f.kind, FieldKind::Timeout(_)));
    let mut missing = Vec::new();
    if has(|k| matches!(k, ExitKind::OnApproved)).is_none() {
        missing.push("`on approved`");
    }
    if has(|k| matches!(k, ExitKind::OnRejected)).is_none() {
        missing.push("`on rejected`");
    }
    let on_timeout = has(|k| matches!(k, ExitKind::OnTimeout));
    if timeout.is_some() && on_timeout.is_none() {
        missing.push("`on timeout` (it has a `timeout`)");
    }
    if !missing.is_empty() {
        diags.push(
            Diagnostic::new(
                Code::E0307,
                node.name.span,
                format!("the approval `{}` lacks {}", node.name.name, missing.join(" and ")),
            )
            .primary("missing exits")
            .help(
                "an approval needs `on approved` and `on rejected`, and `on timeout` exactly when it has a `timeout`",
            ),
        );
    }
    if let (None, Some(exit)) = (timeout, on_timeout) {
        diags.push(
            Diagnostic::new(
                Code::E0307,
                node.name.span,
                format!("the approval `{}` has `on timeout` but no `timeout`", node.name.name),
            )
            .primary("no `timeout` field")
            .label(exit.span, "this exit could never be taken")
            .help("add `timeout 24h` (or another duration), or remove `on timeout`"),
        );
    }
}

/// E0308 and E0309: what a companion target may be and write.
fn check_companions(program: &Program<'_>, graph: &Graph<'_>, diags: &mut Diagnostics) {
    let mut reported: HashSet<usize> = HashSet::new();
    // Who writes each variable (by `set` or `extract`), built once: (node, field span).
    let mut writers: HashMap<&str, Vec<(usize, Span)>> = HashMap::new();
    for (j, node) in program.nodes.iter().enumerate() {
        for f in &node.body.fields {
            if let FieldKind::Set(v, _) | FieldKind::Extract(v, _) = &f.kind {
                writers.entry(v.name.as_str()).or_default().push((j, f.span));
            }
        }
    }
    for e in graph.graph.edge_references().filter(|e| e.weight().is_also()) {
        let target = e.target().index();
        if Some(target) == graph.end {
            diags.push(
                Diagnostic::new(
                    Code::E0308,
                    e.weight().exit.span,
                    "a companion cannot be the built-in `end`",
                )
                .primary("not an `action` or `say`")
                .help("a companion is an `action` or `say` without exits, run alongside the main path"),
            );
            continue;
        }
        let node = program.nodes[target];
        let wrong_kind = !matches!(node.kind, NodeKind::Action | NodeKind::Say);
        if wrong_kind || !node.body.exits.is_empty() {
            let message = if wrong_kind {
                format!(
                    "the companion `{}` is a `{}`, not an `action` or `say`",
                    node.name.name,
                    node.kind.as_str()
                )
            } else {
                format!("the companion `{}` has exits of its own", node.name.name)
            };
            let mut diag = Diagnostic::new(Code::E0308, e.weight().exit.span, message)
                .primary("companion exit")
                .label(node.name.span, "the companion is declared here")
                .help("a companion runs alongside the main path: make it an `action` or `say` without exits");
            if !wrong_kind && let Some(first) = node.body.exits.first() {
                diag = diag.label(first.span, "its exit");
            }
            diags.push(diag);
        }
        if !reported.insert(target) {
            continue;
        }
        // E0309: a companion writes only variables no other node writes.
        for field in &node.body.fields {
            let FieldKind::Set(var, _) = &field.kind else { continue };
            let other = writers
                .get(var.name.as_str())
                .and_then(|ws| ws.iter().find(|(j, _)| *j != target))
                .map(|&(j, span)| (program.nodes[j], span));
            if let Some((other, span)) = other {
                diags.push(
                    Diagnostic::new(
                        Code::E0309,
                        field.span,
                        format!(
                            "the companion `{}` writes `{}`, which the node `{}` also writes",
                            node.name.name, var.name, other.name.name
                        ),
                    )
                    .primary("companion write")
                    .label(span, "also written here")
                    .help("a companion runs at the same time as the main path: give it a variable of its own"),
                );
            }
        }
    }
}

/// W0502: an action whose call has no `on error` (companions are exempt).
fn check_error_exits(program: &Program<'_>, companions: &HashSet<usize>, diags: &mut Diagnostics) {
    // The fix sends failures to the first hand-off to a person, if there is one.
    let target = program
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::Handoff)
        .map_or("end", |n| n.name.name.as_str());
    for (i, node) in program.nodes.iter().enumerate() {
        if node.kind != NodeKind::Action || companions.contains(&i) {
            continue;
        }
        let has_call = node.body.fields.iter().any(|f| matches!(f.kind, FieldKind::Call(..)));
        let has_on_error = node.body.exits.iter().any(|e| matches!(e.kind, ExitKind::OnError));
        if has_call && !has_on_error {
            diags.push(
                Diagnostic::new(
                    Code::W0502,
                    node.name.span,
                    format!("the action `{}` calls a tool but has no `on error`", node.name.name),
                )
                .primary("a failed call fails the run")
                .help("add `on error -> NODE` to recover, e.g. a handoff to a person")
                .maybe_fix(append_line(
                    node,
                    &format!("on error -> {target}"),
                    &format!("add `on error -> {target}`"),
                )),
            );
        }
    }
}

/// E0204: a dataflow over the graph (cycles included) of the tracked
/// variables that every path from `start` has set.
fn check_definite_assignment(
    program: &Program<'_>,
    graph: &Graph<'_>,
    start: usize,
    reachable: &[bool],
    diags: &mut Diagnostics,
) {
    let tracked: Vec<&str> = program
        .vars
        .iter()
        .filter(|(_, v)| v.role == VarRole::Var && v.tracked())
        .map(|(n, _)| n.as_str())
        .collect();
    if tracked.is_empty() || program.reads.is_empty() {
        return;
    }
    let index: HashMap<&str, usize> = tracked.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let words = tracked.len().div_ceil(64);
    let count = graph.graph.node_count();
    // What each node's non-error exits assign (its `set` lines).
    let mut sets = vec![vec![0u64; words]; count];
    for (i, node) in program.nodes.iter().enumerate() {
        if node.kind != NodeKind::Action {
            continue;
        }
        for field in &node.body.fields {
            if let FieldKind::Set(var, _) = &field.kind
                && let Some(&v) = index.get(var.name.as_str())
            {
                sets[i][v / 64] |= 1 << (v % 64);
            }
        }
    }
    let gens = |edge: &EdgeInfo<'_>| !edge.global && !edge.is_error() && !edge.is_also();
    let full = vec![u64::MAX; words];
    let mut assigned_in = vec![full.clone(); count];
    assigned_in[start] = vec![0; words];
    let mut queue: VecDeque<usize> = VecDeque::from([start]);
    let mut queued = vec![false; count];
    queued[start] = true;
    while let Some(n) = queue.pop_front() {
        queued[n] = false;
        for e in graph.graph.edges(NodeIndex::new(n)) {
            let t = e.target().index();
            let mut out = assigned_in[n].clone();
            if gens(e.weight()) {
                for w in 0..words {
                    out[w] |= sets[n][w];
                }
            }
            let mut changed = false;
            for w in 0..words {
                let meet = assigned_in[t][w] & out[w];
                if meet != assigned_in[t][w] {
                    assigned_in[t][w] = meet;
                    changed = true;
                }
            }
            if changed && !queued[t] {
                queued[t] = true;
                queue.push_back(t);
            }
        }
    }
    let mut reads: Vec<_> = program.reads.iter().collect();
    reads.sort_by_key(|r| (r.span.start, r.node));
    // One report per variable: its first unset read, in source order.
    let mut unset: Vec<(&str, usize, Vec<_>)> = Vec::new();
    for read in reads {
        let Some(&v) = index.get(read.var.as_str()) else {
            continue;
        };
        if !reachable[read.node] {
            continue;
        }
        let bit = |bits: &[u64]| bits[v / 64] & (1 << (v % 64)) != 0;
        if bit(&assigned_in[read.node]) || (read.after_sets && bit(&sets[read.node])) {
            continue;
        }
        match unset.iter_mut().find(|(var, _, _)| *var == read.var.as_str()) {
            Some((_, _, found)) => found.push(read),
            None => unset.push((read.var.as_str(), v, vec![read])),
        }
    }
    for (var, v, found) in unset {
        let first = found[0];
        let path = unset_path(program, graph, start, first.node, &sets, v, &gens);
        let mut diag = Diagnostic::new(
            Code::E0204,
            first.span,
            format!("`{var}` may be unset here, on the path {path}: nothing sets it"),
        )
        .primary("read before it is set on some path");
        for read in &found[1..] {
            diag = diag.label(read.span, "also read where it may be unset");
        }
        diags.push(
            diag.label(program.vars[var].name.span, "declared without a default")
                .help(format!(
                    "set `{var}` in an action on every path to its reads, give it a default (`= ...`), or make it optional (`{var}: T?`)"
                )),
        );
    }
}

/// A shortest path from `start` to `to` on which variable `v` is never set.
fn unset_path(
    program: &Program<'_>,
    graph: &Graph<'_>,
    start: usize,
    to: usize,
    sets: &[Vec<u64>],
    v: usize,
    gens: &dyn Fn(&EdgeInfo<'_>) -> bool,
) -> String {
    let mut prev: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    let mut seen = HashSet::from([start]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            break;
        }
        for e in graph.graph.edges(NodeIndex::new(n)) {
            let t = e.target().index();
            let sets_it = gens(e.weight()) && sets[n][v / 64] & (1 << (v % 64)) != 0;
            if sets_it || !seen.insert(t) {
                continue;
            }
            prev.insert(t, n);
            queue.push_back(t);
        }
    }
    let mut nodes = vec![to];
    let mut n = to;
    while let Some(&p) = prev.get(&n) {
        nodes.push(p);
        n = p;
    }
    nodes.reverse();
    let mut parts = vec!["start".to_string()];
    parts.extend(nodes.iter().map(|&n| graph.name(program, n).to_string()));
    parts.join(" -> ")
}

/// A fix that adds `line` as a new last line of `node`'s body, after its last
/// field or exit. Nodes stand at the top level, so their lines are indented by
/// two spaces in the canonical layout. None for an empty body, whose braces the
/// syntax tree does not locate.
fn append_line(node: &Node, line: &str, message: &str) -> Option<Fix> {
    let last = node
        .body
        .fields
        .iter()
        .map(|f| f.span.end)
        .chain(node.body.exits.iter().map(|e| e.span.end))
        .max()?;
    Some(Fix {
        message: message.to_string(),
        edits: vec![Edit {
            span: Span { start: last, end: last },
            text: format!("\n  {line}"),
        }],
    })
}
