//! A compiled graph made ready to run: indexes by id, parsed JSONPaths and
//! compiled JSON Schema validators, all built once when the graph is loaded so
//! that a step never parses or compiles anything.

use flow_graph::{CompiledGraph, Edge, Expr, Implementation, Node, Text, TextPart, Tool};
use serde_json::Value;
use serde_json_path::JsonPath;
use std::collections::HashMap;
use std::fmt;

mod checkpoint;
mod index;
mod verify;

pub use index::{EdgeIx, NodeIx};

/// Where a JSONPath of the compiled graph starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `$.vars`: inputs and variables.
    Vars,
    /// `$.result`: the tool's return value in an action.
    Result,
    /// `$.params`: a tool's arguments.
    Params,
    /// `$.secrets`: secrets, only inside a tool.
    Secrets,
}

/// A JSONPath split into its root and the RFC 9535 query below it.
#[derive(Debug)]
pub struct CompiledPath {
    /// The root the path starts from.
    pub root: Root,
    /// The query below the root (`None` for the root itself).
    pub query: Option<JsonPath>,
}

mod check_error;
pub use check_error::{CheckError, LoadError};

/// A compiled graph with everything a run needs precomputed.
pub struct Program {
    /// The graph itself.
    pub graph: CompiledGraph,
    /// The graph as compact JSON (what the store keeps).
    pub json: String,
    /// A hash of `json`, naming the graph in the store.
    pub hash: String,
    nodes: HashMap<String, usize>,
    edges: HashMap<String, usize>,
    tools: HashMap<String, usize>,
    paths: HashMap<String, CompiledPath>,
    patterns: HashMap<String, regex::Regex>,
    variables: HashMap<String, usize>,
    var_validators: HashMap<String, jsonschema::Validator>,
    output_validators: HashMap<String, jsonschema::Validator>,
    input_validators: HashMap<String, jsonschema::Validator>,
    index: index::Index,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("workflow", &self.graph.workflow.name)
            .finish()
    }
}

impl Program {
    /// Reads a compiled graph from its JSON text.
    pub fn from_json(json: &str) -> Result<Program, LoadError> {
        let graph = flow_graph::from_json_str(json).map_err(|e| LoadError::NotAGraph { reason: e.to_string() })?;
        Program::new(graph)
    }

    /// Checks a compiled graph's internal references and prepares it to run.
    pub fn new(graph: CompiledGraph) -> Result<Program, LoadError> {
        if graph.schema_version != flow_graph::SCHEMA_VERSION {
            return Err(LoadError::SchemaVersion {
                found: graph.schema_version,
                supported: flow_graph::SCHEMA_VERSION,
            });
        }
        let json = serde_json::to_string(&graph).map_err(|e| LoadError::Invalid(e.to_string()))?;
        let hash = sha256_hex(json.as_bytes());
        let index = |ids: Vec<&str>, what: &str| -> Result<HashMap<String, usize>, LoadError> {
            let mut map = HashMap::with_capacity(ids.len());
            for (i, id) in ids.into_iter().enumerate() {
                if map.insert(id.to_string(), i).is_some() {
                    return Err(LoadError::Invalid(format!("the graph declares {what} `{id}` twice")));
                }
            }
            Ok(map)
        };
        let nodes = index(graph.nodes.iter().map(Node::id).collect(), "node")?;
        let edges = index(graph.edges.iter().map(|e| e.id.as_str()).collect(), "edge")?;
        let tools = index(graph.tools.iter().map(|t| t.id.as_str()).collect(), "tool")?;
        let variables = index(graph.variables.iter().map(|v| v.name.as_str()).collect(), "variable")?;
        let mut program = Program {
            graph,
            json,
            hash,
            nodes,
            edges,
            tools,
            paths: HashMap::new(),
            patterns: HashMap::new(),
            variables,
            var_validators: HashMap::new(),
            output_validators: HashMap::new(),
            input_validators: HashMap::new(),
            index: index::Index::default(),
        };
        program.check_references()?;
        program.build_index();
        program.verify()?;
        program.compile_paths()?;
        program.compile_calls()?;
        program.compile_validators()?;
        Ok(program)
    }

    fn check_references(&self) -> Result<(), LoadError> {
        if !self.nodes.contains_key(&self.graph.start) {
            return Err(LoadError::Invalid(format!(
                "start node `{}` is not in the graph",
                self.graph.start
            )));
        }
        for edge in &self.graph.edges {
            if !self.nodes.contains_key(&edge.to) {
                return Err(LoadError::Invalid(format!(
                    "edge `{}` goes to unknown node `{}`",
                    edge.id, edge.to
                )));
            }
            if let Some(from) = &edge.from
                && !self.nodes.contains_key(from)
            {
                return Err(LoadError::Invalid(format!(
                    "edge `{}` leaves unknown node `{from}`",
                    edge.id
                )));
            }
        }
        for node in &self.graph.nodes {
            for exit in node.exits() {
                if !self.edges.contains_key(exit) {
                    return Err(LoadError::Invalid(format!(
                        "node `{}` lists unknown edge `{exit}`",
                        node.id()
                    )));
                }
            }
            match node {
                Node::Agent(a) => {
                    for t in &a.tool_refs {
                        self.tool_checked(t)?;
                    }
                    for x in &a.extract {
                        if !self.variables.contains_key(&x.variable) {
                            return Err(LoadError::Invalid(format!(
                                "agent `{}` extracts unknown `{}`",
                                a.id, x.variable
                            )));
                        }
                    }
                }
                Node::Action(a) => {
                    if let Some(t) = &a.tool_id {
                        self.tool_checked(t)?;
                    }
                    for v in a.output_mapping.keys() {
                        if !self.variables.contains_key(v) {
                            return Err(LoadError::Invalid(format!(
                                "action `{}` sets unknown variable `{v}`",
                                a.id
                            )));
                        }
                    }
                }
                _ => {}
            }
        }
        for id in &self.graph.global_exits {
            if !self.edges.contains_key(id) {
                return Err(LoadError::Invalid(format!("unknown global exit `{id}`")));
            }
        }
        Ok(())
    }

    fn tool_checked(&self, id: &str) -> Result<&Tool, LoadError> {
        self.tool(id)
            .ok_or_else(|| LoadError::Invalid(format!("unknown tool `{id}`")))
    }

    fn compile_paths(&mut self) -> Result<(), LoadError> {
        let mut found: Vec<String> = Vec::new();
        visit_graph(&self.graph, &mut |e| {
            if let Expr::Path { path } = e {
                found.push(path.clone());
            }
        });
        for path in found {
            if self.paths.contains_key(&path) {
                continue;
            }
            let compiled = compile_path(&path)?;
            self.paths.insert(path, compiled);
        }
        Ok(())
    }

    /// Compiles the pattern of every `matches` and checks the zone of every
    /// `today`: both must be literals (the compiler checked them already).
    fn compile_calls(&mut self) -> Result<(), LoadError> {
        let mut calls: Vec<(String, Option<Value>)> = Vec::new();
        visit_graph(&self.graph, &mut |e| {
            if let Expr::Call { call, args } = e {
                let literal = match call.as_str() {
                    "matches" => args.get(1),
                    "today" => args.first(),
                    _ => return,
                };
                let literal = match literal {
                    Some(Expr::Lit { lit }) => Some(lit.clone()),
                    _ => None,
                };
                calls.push((call.clone(), literal));
            }
        });
        for (call, literal) in calls {
            let Some(Value::String(text)) = literal else {
                return Err(LoadError::Invalid(format!(
                    "the graph calls `{call}` without a string literal"
                )));
            };
            if call == "today" {
                crate::clock::zone(&text).map_err(|e| LoadError::Invalid(format!("`today`: {e}")))?;
            } else if let std::collections::hash_map::Entry::Vacant(slot) = self.patterns.entry(text) {
                let regex = regex::Regex::new(slot.key()).map_err(|e| {
                    LoadError::Invalid(format!("`matches` has an invalid pattern {:?}: {e}", slot.key()))
                })?;
                slot.insert(regex);
            }
        }
        Ok(())
    }

    /// The compiled regular expression of a `matches` pattern of the graph.
    pub fn pattern(&self, pattern: &str) -> Option<&regex::Regex> {
        self.patterns.get(pattern)
    }

    fn compile_validators(&mut self) -> Result<(), LoadError> {
        for v in &self.graph.variables {
            let validator = jsonschema::validator_for(&v.schema)
                .map_err(|e| LoadError::Invalid(format!("variable `{}` has a bad schema: {e}", v.name)))?;
            self.var_validators.insert(v.name.clone(), validator);
        }
        for t in &self.graph.tools {
            let validator = jsonschema::validator_for(&t.output_schema)
                .map_err(|e| LoadError::Invalid(format!("tool `{}` has a bad output schema: {e}", t.id)))?;
            self.output_validators.insert(t.id.clone(), validator);
            let validator = jsonschema::validator_for(&t.input_schema)
                .map_err(|e| LoadError::Invalid(format!("tool `{}` has a bad input schema: {e}", t.id)))?;
            self.input_validators.insert(t.id.clone(), validator);
        }
        Ok(())
    }

    /// A node by id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id).map(|&i| &self.graph.nodes[i])
    }

    /// An edge by id.
    pub fn edge(&self, id: &str) -> Option<&Edge> {
        self.edges.get(id).map(|&i| &self.graph.edges[i])
    }

    /// A tool by id.
    pub fn tool(&self, id: &str) -> Option<&Tool> {
        self.tools.get(id).map(|&i| &self.graph.tools[i])
    }

    /// A variable (or input) by name.
    pub fn variable(&self, name: &str) -> Option<&flow_graph::Variable> {
        self.variables.get(name).map(|&i| &self.graph.variables[i])
    }

    /// The inputs (not the vars) of the workflow, in source order.
    pub fn inputs(&self) -> impl Iterator<Item = &flow_graph::Variable> {
        self.graph
            .variables
            .iter()
            .filter(|v| v.kind == flow_graph::VariableKind::Input)
    }

    /// An input by name; the error names the workflow's inputs.
    pub fn input(&self, name: &str) -> Result<&flow_graph::Variable, crate::engine::StartError> {
        if let Some(v) = self
            .variable(name)
            .filter(|v| v.kind == flow_graph::VariableKind::Input)
        {
            return Ok(v);
        }
        Err(crate::engine::StartError::UnknownInput {
            name: name.to_string(),
            known: self.inputs().map(|v| v.name.clone()).collect(),
        })
    }

    /// The parsed form of a path that occurs in the graph.
    pub fn path(&self, path: &str) -> Option<&CompiledPath> {
        self.paths.get(path)
    }

    /// Checks a value against a variable's type; the error says why it does not fit.
    pub fn check_variable(&self, name: &str, value: &Value) -> Result<(), CheckError> {
        match self.var_validators.get(name) {
            Some(v) => first_error(v, value),
            None => Err(CheckError::UnknownVariable { name: name.to_string() }),
        }
    }

    /// Checks a tool's return value against its output schema.
    pub fn check_output(&self, tool: &str, value: &Value) -> Result<(), CheckError> {
        match self.output_validators.get(tool) {
            Some(v) => first_error(v, value),
            None => Ok(()),
        }
    }

    /// Checks a tool's arguments against its input schema.
    pub fn check_input(&self, tool: &str, value: &Value) -> Result<(), CheckError> {
        match self.input_validators.get(tool) {
            Some(v) => first_error(v, value),
            None => Err(CheckError::UnknownTool { tool: tool.to_string() }),
        }
    }

    /// The host tools of the graph.
    pub fn host_tools(&self) -> impl Iterator<Item = &Tool> {
        self.graph
            .tools
            .iter()
            .filter(|t| matches!(t.implementation, Implementation::Host {}))
    }
}

fn first_error(validator: &jsonschema::Validator, value: &Value) -> Result<(), CheckError> {
    match validator.iter_errors(value).next() {
        None => Ok(()),
        Some(e) => Err(CheckError::Mismatch {
            at: e.instance_path().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Splits `$.vars.a.b` into its root and an RFC 9535 query `$.a.b` for the rest.
pub fn compile_path(path: &str) -> Result<CompiledPath, LoadError> {
    let bad = || LoadError::Invalid(format!("bad path `{path}` in the graph"));
    let rest = path.strip_prefix("$.").ok_or_else(bad)?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    let root = match &rest[..end] {
        "vars" => Root::Vars,
        "result" => Root::Result,
        "params" => Root::Params,
        "secrets" => Root::Secrets,
        _ => return Err(bad()),
    };
    let tail = &rest[end..];
    let query = if tail.is_empty() {
        None
    } else {
        Some(JsonPath::parse(&format!("${tail}")).map_err(|e| LoadError::Invalid(format!("bad path `{path}`: {e}")))?)
    };
    Ok(CompiledPath { root, query })
}

/// The tool parameter a `$.params` path starts with: `a` for `$.params.a.b`,
/// `page-size` for `$.params['page-size']`.
pub fn param_of_path(path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("$.params.") {
        return Some(rest.split(['.', '[']).next().unwrap_or(rest).to_string());
    }
    let rest = path.strip_prefix("$.params['")?;
    let mut name = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => return Some(name),
            '\\' => match chars.next()? {
                'b' => name.push('\u{8}'),
                'f' => name.push('\u{c}'),
                'n' => name.push('\n'),
                'r' => name.push('\r'),
                't' => name.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    name.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => name.push(other),
            },
            c => name.push(c),
        }
    }
    None
}

/// Calls `f` on every expression of the graph, nested ones included.
pub fn visit_graph(graph: &CompiledGraph, f: &mut dyn FnMut(&Expr)) {
    let text = |t: &Text, f: &mut dyn FnMut(&Expr)| {
        for part in t {
            if let TextPart::Expr { expr } = part {
                visit_expr(expr, f);
            }
        }
    };
    if let Some(t) = &graph.workflow.instructions {
        text(t, f);
    }
    for tool in &graph.tools {
        if let Implementation::Http { url, headers, body, .. } = &tool.implementation {
            text(url, f);
            for h in headers.values() {
                text(h, f);
            }
            match body {
                Some(flow_graph::Body::Json(b)) => visit_expr(b, f),
                Some(flow_graph::Body::Form { form }) => form.values().for_each(|v| visit_expr(v, f)),
                None => {}
            }
        }
    }
    for edge in &graph.edges {
        if let Some(flow_graph::Condition::Expr(e)) = &edge.condition {
            visit_expr(e, f);
        }
    }
    for node in &graph.nodes {
        match node {
            Node::Agent(a) => text(&a.instructions, f),
            Node::Action(a) => {
                for e in a.input_mapping.values().chain(a.output_mapping.values()) {
                    visit_expr(e, f);
                }
            }
            Node::Say(s) => text(&s.message, f),
            Node::Handoff(h) => {
                if let Some(t) = &h.handoff_message {
                    text(t, f);
                }
            }
            Node::Approval(a) => text(&a.approval_prompt, f),
            Node::End(e) => {
                if let Some(t) = &e.say {
                    text(t, f);
                }
            }
            Node::Route(_) => {}
        }
    }
}

/// Calls `f` on an expression and every expression inside it.
pub fn visit_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Op { args, .. } | Expr::Call { args, .. } | Expr::List { list: args } => {
            for a in args {
                visit_expr(a, f);
            }
        }
        Expr::Object { object } => {
            for a in object.values() {
                visit_expr(a, f);
            }
        }
        Expr::Template { template } => {
            for part in template {
                if let TextPart::Expr { expr } = part {
                    visit_expr(expr, f);
                }
            }
        }
        Expr::Path { .. } | Expr::Lit { .. } => {}
    }
}

/// The SHA-256 of the graph's JSON names it in the store.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
