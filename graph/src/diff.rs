//! The semantic difference of two compiled graphs (`shared/spec/SERVER.md`,
//! "Diff"): what `GET /v1/workflows/{name}/diff` answers and `flow diff OLD NEW`
//! prints. Pure: no IO.
//!
//! Items are matched by name (nodes and tools by id, variables and secrets by
//! name, models and types by key), edges by `(from, kind, condition, turns)`
//! and then by order among equal keys. A changed item lists the top-level
//! fields whose JSON values differ. What only moves never counts: `span`s, the
//! source (its file name and hash), edge ids, and a node's `exits` and
//! `exit_conditions` lists. A node's references to its own edges (`on_error`,
//! `approved_edge`, ...) and the workflow's `global_exits` are compared by the
//! edges' match keys, so renumbered edges change nothing.
//!
//! ```
//! # let json = r#"{"schema_version": 1, "workflow": {"name": "w", "title": null,
//! #   "instructions": null, "max_steps": 10, "default_model": null,
//! #   "source": {"file": "w.flow", "sha256": "00"}}, "start": "done", "models": {},
//! #   "types": {}, "variables": [], "secrets": [], "knowledge_bases": {}, "tools": [],
//! #   "nodes": [{"type": "end", "id": "done", "span": null, "exits": [], "say": null,
//! #   "outcome": "completed"}], "edges": [], "global_exits": []}"#;
//! let old = flow_graph::from_json_str(json).unwrap();
//! let mut new = old.clone();
//! new.workflow.max_steps = 20;
//! let d = flow_graph::diff::diff(&old, &new);
//! assert_eq!(d.workflow.changed, ["max_steps"]);
//! assert!(d.nodes.changed.is_empty());
//! ```

use crate::{CompiledGraph, Edge, Node};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// What differs between two compiled graphs, section by section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphDiff {
    /// The `workflow` block's settings that differ.
    pub workflow: WorkflowDiff,
    /// Nodes, by id.
    pub nodes: Changes,
    /// Edges, by `(from, kind, condition, turns)` and order among equals.
    pub edges: Changes,
    /// Inputs and variables, by name.
    pub variables: Changes,
    /// Tools, by id.
    pub tools: Changes,
    /// Model groups, by name.
    pub models: Changes,
    /// Named types, by name.
    pub types: Changes,
    /// Secrets, by name (only added or removed: a secret has no fields).
    pub secrets: Changes,
}

impl GraphDiff {
    /// Whether the two graphs mean the same workflow.
    pub fn is_empty(&self) -> bool {
        self.workflow.changed.is_empty() && self.sections().iter().all(|(_, c)| c.is_empty())
    }

    /// The sections of items with their singular names (`node`, `edge`, ...), in output order.
    pub fn sections(&self) -> [(&'static str, &Changes); 7] {
        [
            ("node", &self.nodes),
            ("edge", &self.edges),
            ("variable", &self.variables),
            ("tool", &self.tools),
            ("model", &self.models),
            ("type", &self.types),
            ("secret", &self.secrets),
        ]
    }
}

/// The settings of the `workflow` block that differ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDiff {
    /// Field names, in the order `name`, `title`, `instructions`, `max_steps`,
    /// `default_model`, `start`, `global_exits`.
    pub changed: Vec<String>,
}

/// The items of one section that were added, removed or changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    /// Items only in the new graph, in its order (edges by their new id).
    pub added: Vec<String>,
    /// Items only in the old graph, in its order (edges by their old id).
    pub removed: Vec<String>,
    /// Items in both whose fields differ, in the new graph's order.
    pub changed: Vec<Changed>,
}

impl Changes {
    /// Whether nothing was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// One item present in both graphs, and the fields that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Changed {
    /// The item's id or name (an edge's id in the new graph).
    pub id: String,
    /// The top-level field names whose values differ (for a model group, the
    /// positions of its models: `"0"`, `"1"`, ...).
    pub fields: Vec<String>,
}

/// Node fields that name one of the node's own edges by id.
const EDGE_REF_FIELDS: [&str; 4] = ["on_error", "approved_edge", "rejected_edge", "timeout_edge"];

/// The semantic difference from `old` to `new`.
pub fn diff(old: &CompiledGraph, new: &CompiledGraph) -> GraphDiff {
    let (old_edges, new_edges) = (EdgeKeys::new(&old.edges), EdgeKeys::new(&new.edges));
    let nodes = |g: &CompiledGraph, keys: &EdgeKeys| -> Vec<Item> {
        g.nodes
            .iter()
            .map(|n| Item::named(n.id(), node_value(n, keys)))
            .collect()
    };
    let edges = |g: &CompiledGraph, keys: &EdgeKeys| -> Vec<Item> {
        g.edges
            .iter()
            .zip(&keys.keys)
            .map(|(e, key)| Item {
                key: key.clone(),
                name: e.id.clone(),
                value: edge_value(e),
            })
            .collect()
    };
    let variables =
        |g: &CompiledGraph| -> Vec<Item> { g.variables.iter().map(|v| Item::named(&v.name, plain(v))).collect() };
    let tools = |g: &CompiledGraph| -> Vec<Item> { g.tools.iter().map(|t| Item::named(&t.id, plain(t))).collect() };
    let models = |g: &CompiledGraph| -> Vec<Item> { g.models.iter().map(|(k, v)| Item::named(k, plain(v))).collect() };
    let types = |g: &CompiledGraph| -> Vec<Item> { g.types.iter().map(|(k, v)| Item::named(k, plain(v))).collect() };
    let secrets = |g: &CompiledGraph| -> Vec<Item> { g.secrets.iter().map(|s| Item::named(s, Value::Null)).collect() };
    GraphDiff {
        workflow: WorkflowDiff {
            changed: changed_fields(&workflow_value(old, &old_edges), &workflow_value(new, &new_edges)),
        },
        nodes: compare(nodes(old, &old_edges), nodes(new, &new_edges)),
        edges: compare(edges(old, &old_edges), edges(new, &new_edges)),
        variables: compare(variables(old), variables(new)),
        tools: compare(tools(old), tools(new)),
        models: compare(models(old), models(new)),
        types: compare(types(old), types(new)),
        secrets: compare(secrets(old), secrets(new)),
    }
}

/// One item of a section: what it is matched by, what it is called, what it holds.
struct Item {
    key: Value,
    name: String,
    value: Value,
}

impl Item {
    fn named(name: &str, value: Value) -> Item {
        Item {
            key: Value::String(name.to_string()),
            name: name.to_string(),
            value,
        }
    }
}

/// Each edge's match key, `[from, kind, condition, turns, n]` where `n` counts
/// the earlier edges with the same four values, and the key of each edge id.
struct EdgeKeys {
    keys: Vec<Value>,
    by_id: HashMap<String, Value>,
}

impl EdgeKeys {
    fn new(edges: &[Edge]) -> EdgeKeys {
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut keys = Vec::with_capacity(edges.len());
        let mut by_id = HashMap::new();
        for edge in edges {
            let mut key = vec![
                plain(&edge.from),
                Value::String(edge.kind.as_str().to_string()),
                plain(&edge.condition),
                plain(&edge.turns),
            ];
            let n = seen.entry(Value::Array(key.clone()).to_string()).or_insert(0);
            key.push(Value::from(*n));
            *n += 1;
            let key = Value::Array(key);
            by_id.entry(edge.id.clone()).or_insert_with(|| key.clone());
            keys.push(key);
        }
        EdgeKeys { keys, by_id }
    }

    /// The key of the edge an id names; an unknown id stands for itself.
    fn of(&self, id: &str) -> Value {
        self.by_id
            .get(id)
            .cloned()
            .unwrap_or_else(|| Value::String(id.to_string()))
    }
}

/// Matches the items of both sides by key (then by order among equal keys) and
/// lists what was added, removed and changed.
fn compare(old: Vec<Item>, new: Vec<Item>) -> Changes {
    let old = with_ordinals(old);
    let new = with_ordinals(new);
    let old_by_key: HashMap<&str, &Item> = old.iter().map(|(k, item)| (k.as_str(), item)).collect();
    let new_keys: std::collections::HashSet<&str> = new.iter().map(|(k, _)| k.as_str()).collect();
    let mut changes = Changes::default();
    for (key, item) in &new {
        match old_by_key.get(key.as_str()) {
            None => changes.added.push(item.name.clone()),
            Some(before) if before.value != item.value => changes.changed.push(Changed {
                id: item.name.clone(),
                fields: changed_fields(&before.value, &item.value),
            }),
            Some(_) => {}
        }
    }
    changes.removed = old
        .iter()
        .filter(|(key, _)| !new_keys.contains(key.as_str()))
        .map(|(_, item)| item.name.clone())
        .collect();
    changes
}

/// Each item with its full key: its key and how many earlier items share it.
fn with_ordinals(items: Vec<Item>) -> Vec<(String, Item)> {
    let mut seen: HashMap<String, u64> = HashMap::new();
    items
        .into_iter()
        .map(|item| {
            let key = item.key.to_string();
            let n = seen.entry(key.clone()).or_insert(0);
            let full = Value::Array(vec![item.key.clone(), Value::from(*n)]).to_string();
            *n += 1;
            (full, item)
        })
        .collect()
}

/// The top-level fields (of objects) or positions (of arrays) whose values
/// differ: the new value's order first, then what only the old one has.
fn changed_fields(old: &Value, new: &Value) -> Vec<String> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut fields: Vec<String> = b
                .iter()
                .filter(|(k, v)| a.get(k.as_str()) != Some(v))
                .map(|(k, _)| k.clone())
                .collect();
            fields.extend(a.keys().filter(|k| !b.contains_key(k.as_str())).cloned());
            fields
        }
        (Value::Array(a), Value::Array(b)) => (0..a.len().max(b.len()))
            .filter(|&i| a.get(i) != b.get(i))
            .map(|i| i.to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// The workflow's settings as compared: the block's fields without the source,
/// the graph's `start`, and the global exits by their match keys.
fn workflow_value(graph: &CompiledGraph, keys: &EdgeKeys) -> Value {
    let mut value = plain(&graph.workflow);
    if let Value::Object(fields) = &mut value {
        fields.shift_remove("source");
        fields.insert("start".into(), Value::String(graph.start.clone()));
        let exits = graph.global_exits.iter().map(|id| keys.of(id)).collect();
        fields.insert("global_exits".into(), Value::Array(exits));
    }
    value
}

/// A node as compared: without its span and exit lists, its edge references by key.
fn node_value(node: &Node, keys: &EdgeKeys) -> Value {
    let mut value = plain(node);
    if let Value::Object(fields) = &mut value {
        for field in ["span", "exits", "exit_conditions"] {
            fields.shift_remove(field);
        }
        for field in EDGE_REF_FIELDS {
            if let Some(Value::String(id)) = fields.get(field) {
                let key = keys.of(id);
                fields.insert(field.into(), key);
            }
        }
    }
    value
}

/// An edge as compared: without its id.
fn edge_value(edge: &Edge) -> Value {
    let mut value = plain(edge);
    if let Value::Object(fields) = &mut value {
        fields.shift_remove("id");
    }
    value
}

/// Any part of the graph as JSON, with the source positions removed.
fn plain<T: Serialize>(item: &T) -> Value {
    let mut value = serde_json::to_value(item).unwrap_or(Value::Null);
    strip_spans(&mut value);
    value
}

/// Removes every `span` field holding a source position (`{"line", "column"}`),
/// at any depth. (A node's `span`, which may be null, is removed by [`node_value`];
/// a null `span` elsewhere may be a literal's own field and is kept.)
fn strip_spans(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            if fields.get("span").is_some_and(is_position) {
                fields.shift_remove("span");
            }
            fields.values_mut().for_each(strip_spans);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_spans),
        _ => {}
    }
}

/// Whether a value is exactly a source position: `{"line": N, "column": N}`.
fn is_position(value: &Value) -> bool {
    value.as_object().is_some_and(|fields: &Map<String, Value>| {
        fields.len() == 2
            && fields.get("line").is_some_and(Value::is_u64)
            && fields.get("column").is_some_and(Value::is_u64)
    })
}
