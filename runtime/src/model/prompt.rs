//! What the model is asked (RUNTIME.md, "What the model is asked"), built in one
//! place for the engine and for `flow inspect`, which shows the same requests
//! with templates as placeholders.

use super::FunctionSpec;
use crate::eval::display_text;
use crate::program::Program;
use flow_graph::{Condition, Node, Text};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The system message: the workflow's instructions, a blank line, the node's.
pub fn system_text<E>(
    program: &Program,
    node_instructions: Option<&Text>,
    fill: &mut dyn FnMut(&Text) -> Result<String, E>,
) -> Result<String, E> {
    let mut parts = Vec::new();
    if let Some(t) = &program.graph.workflow.instructions {
        parts.push(fill(t)?);
    }
    if let Some(t) = node_instructions {
        parts.push(fill(t)?);
    }
    Ok(parts.join("\n\n"))
}

/// The node's tools as functions: named by tool id, parameters = the input schema.
pub fn tool_functions(program: &Program, tool_refs: &[String]) -> Vec<FunctionSpec> {
    tool_refs
        .iter()
        .filter_map(|id| program.tool(id))
        .map(|t| FunctionSpec {
            name: t.id.clone(),
            description: t.description.clone(),
            parameters: t.input_schema.clone(),
        })
        .collect()
}

/// The forced `choose_exit` function over the offered conditions, `none` last.
pub fn choose_exit_function(options: &[String]) -> FunctionSpec {
    let mut values: Vec<Value> = options.iter().map(|o| Value::String(o.clone())).collect();
    values.push(Value::String("none".into()));
    FunctionSpec {
        name: "choose_exit".into(),
        description: Some("Choose the condition that holds now, or none.".into()),
        parameters: json!({
            "type": "object",
            "properties": { "exit": { "type": "string", "enum": values } },
            "required": ["exit"]
        }),
    }
}

/// The forced `extract` function: one optional property per `extract` line.
pub fn extract_function(program: &Program, extracts: &[flow_graph::Extract]) -> FunctionSpec {
    let mut properties = Map::new();
    for x in extracts {
        let mut schema = program
            .variable(&x.variable)
            .map(|v| v.schema.clone())
            .unwrap_or(json!({}));
        if let (Some(hint), Value::Object(map)) = (&x.hint, &mut schema) {
            map.insert("description".into(), Value::String(hint.clone()));
        }
        properties.insert(x.variable.clone(), schema);
    }
    FunctionSpec {
        name: "extract".into(),
        description: Some("Fill in the values the conversation gives; leave out what it does not.".into()),
        parameters: json!({ "type": "object", "properties": properties, "required": [] }),
    }
}

/// The `when` texts a node offers, in order: its own, then (at agents) the global
/// exits'; each with its edge id. `spent` says whether an edge's `max` is used up.
pub fn exit_options(program: &Program, node: &Node, spent: &dyn Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |id: &String| {
        if let Some(edge) = program.edge(id)
            && let Some(Condition::Llm(text)) = &edge.condition
            && !spent(id)
        {
            out.push((id.clone(), text.clone()));
        }
    };
    node.exits().iter().for_each(&mut push);
    if matches!(node, Node::Agent(_)) {
        program.graph.global_exits.iter().for_each(&mut push);
    }
    out
}

/// What `flow inspect` shows of one node.
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// The node.
    pub node: String,
    /// Its kind.
    pub kind: String,
    /// The model group that answers, if the node asks a model.
    pub model: Option<String>,
    /// The system message, templates shown as `{{ }}` placeholders.
    pub system: Option<String>,
    /// The tools offered with a reply.
    pub tools: Vec<Value>,
    /// The `choose_exit` options (before `none`), if the node has `when` exits.
    pub choose_exit: Vec<String>,
    /// The `extract` function's parameters, if the node extracts.
    pub extract: Option<Value>,
}

/// Why a node cannot be inspected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InspectError {
    /// The workflow has no node of that id; `known` are its nodes.
    UnknownNode {
        /// The id asked for.
        node: String,
        /// The workflow's nodes.
        known: Vec<String>,
    },
}

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InspectError::UnknownNode { node, known } => {
                write!(f, "no node `{node}` in the workflow (nodes: {})", known.join(", "))
            }
        }
    }
}

impl std::error::Error for InspectError {}

/// Builds what a node sends to the model, with the engine's own functions.
pub fn inspect(program: &Program, node_id: &str) -> Result<Inspection, InspectError> {
    let node = program.node(node_id).ok_or_else(|| InspectError::UnknownNode {
        node: node_id.to_string(),
        known: program.graph.nodes.iter().map(|n| n.id().to_string()).collect(),
    })?;
    let mut placeholders = |t: &Text| Ok::<_, InspectError>(display_text(t));
    let options: Vec<String> = exit_options(program, node, &|_| false)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let default_model = program.graph.workflow.default_model.clone();
    let function_json =
        |f: &FunctionSpec| json!({"name": f.name, "description": f.description, "parameters": f.parameters});
    let mut out = Inspection {
        node: node_id.to_string(),
        kind: node.kind().to_string(),
        model: None,
        system: None,
        tools: Vec::new(),
        choose_exit: options,
        extract: None,
    };
    match node {
        Node::Agent(a) => {
            out.model = a.model.clone().or(default_model);
            out.system = Some(system_text(program, Some(&a.instructions), &mut placeholders)?);
            out.tools = tool_functions(program, &a.tool_refs)
                .iter()
                .map(function_json)
                .collect();
            if !a.extract.is_empty() {
                out.extract = Some(extract_function(program, &a.extract).parameters);
            }
        }
        Node::Route(r) if !out.choose_exit.is_empty() => {
            out.model = r.model.clone().or(default_model);
            out.system = Some(system_text(program, None, &mut placeholders)?);
        }
        _ => {}
    }
    Ok(out)
}
