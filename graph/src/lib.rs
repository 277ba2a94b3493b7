//! The compiled graph of a `.flow` workflow (schema version 1).
//!
//! These serde types are the contract between the compiler, which writes them,
//! and the runtime, which reads them and never sees `.flow` source. They live in
//! a crate of their own so that the runtime does not depend on pest or the AST.
//! Field names follow `shared/spec/COMPILED_GRAPH.md`; the JSON Schema shipped in
//! `schema/compiled_graph.schema.json` is generated from these types.
//!
//! ```
//! let json = r#"{"path": "$.vars.order.id"}"#;
//! let expr: flow_graph::Expr = serde_json::from_str(json).unwrap();
//! assert_eq!(expr, flow_graph::Expr::Path { path: "$.vars.order.id".into() });
//! ```

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod diff;
pub mod limits;
mod read;

pub use read::{ReadError, from_json_str, json_depth};

/// The version of the format this crate reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole compiled workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompiledGraph {
    /// Always 1 for this format.
    pub schema_version: u32,
    /// The workflow's own settings.
    pub workflow: WorkflowInfo,
    /// The id of the first node.
    pub start: String,
    /// Model groups by name; the runtime tries each group's models in order.
    pub models: IndexMap<String, Vec<ModelRef>>,
    /// Named types as JSON Schemas (inlined: no `$ref`).
    pub types: IndexMap<String, Value>,
    /// Inputs and variables in source order.
    pub variables: Vec<Variable>,
    /// Names of the secrets the runtime reads from its environment.
    pub secrets: Vec<String>,
    /// Knowledge bases by name.
    pub knowledge_bases: IndexMap<String, KnowledgeBase>,
    /// Tools in source order.
    pub tools: Vec<Tool>,
    /// Nodes in source order, the built-in `end` last when some exit targets it.
    pub nodes: Vec<Node>,
    /// Edges: the global exits first, then each node's exits in source order.
    pub edges: Vec<Edge>,
    /// Ids of the global exits (edges with `from: null`), in source order.
    pub global_exits: Vec<String>,
}

/// The `workflow` block's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowInfo {
    /// The workflow's name.
    pub name: String,
    /// Its title, if given.
    pub title: Option<String>,
    /// The base system prompt of every agent, or null.
    pub instructions: Option<Text>,
    /// The most node entries one run may make.
    pub max_steps: u64,
    /// The workflow's model group, or null.
    pub default_model: Option<String>,
    /// Where the graph was compiled from.
    pub source: SourceInfo,
}

/// The source file a graph was compiled from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// The file's name, without folders.
    pub file: String,
    /// Lower-case hex SHA-256 of the source bytes.
    pub sha256: String,
}

/// One model of a model group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    /// `openai`, `anthropic` or `scripted`.
    pub provider: String,
    /// The provider's model name (for `scripted`, a file path).
    pub model: String,
}

/// Whether a variable is given at start or is workflow state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VariableKind {
    /// Given when a run starts.
    Input,
    /// Workflow state.
    Var,
}

/// An input or a variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// `input` or `var`.
    pub kind: VariableKind,
    /// Its type as a JSON Schema.
    pub schema: Value,
    /// Its default value, or null.
    pub default: Option<Value>,
    /// For inputs: whether a run must be given it.
    pub required: bool,
}

/// A knowledge base an agent may search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBase {
    /// What it holds, or null.
    pub description: Option<String>,
    /// Where its documents are, or null.
    pub path: Option<String>,
}

/// A tool an action may call or an agent may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// The tool's name.
    pub id: String,
    /// What it does (shown to the model), or null.
    pub description: Option<String>,
    /// A JSON Schema object of the parameters.
    pub input_schema: Value,
    /// A JSON Schema of the return type.
    pub output_schema: Value,
    /// How the runtime carries it out.
    pub implementation: Implementation,
}

/// How a tool is carried out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Implementation {
    /// An HTTP request.
    Http {
        /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
        method: String,
        /// The url, with templates over `$.params` and `$.secrets`.
        url: Text,
        /// Header values by name.
        headers: IndexMap<String, Text>,
        /// The request body; null means the parameters as a JSON object (none for GET).
        body: Option<Body>,
        /// Time-out of one attempt.
        timeout_ms: u64,
        /// Attempts after the first.
        retries: u32,
    },
    /// A function of the runtime.
    Builtin {
        /// `time.now`, `time.today`, `text.lower`, `text.upper` or `math.round`.
        name: String,
    },
    /// A handler registered by the host service.
    Host {},
}

/// A tool's request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum Body {
    /// `body form { … }`: sent as `application/x-www-form-urlencoded`, one
    /// pair per entry (strings as they are, numbers and bools as their JSON
    /// text, null left out).
    Form {
        /// The fields, in source order.
        form: IndexMap<String, Expr>,
    },
    /// `body { … }`: sent as JSON.
    Json(Expr),
}

/// The kind of an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// `-> target`.
    Direct,
    /// `when`, `if` or `else`.
    Conditional,
    /// `also -> target`.
    Companion,
    /// `on error`.
    Error,
    /// `on approved`.
    Approved,
    /// `on rejected`.
    Rejected,
    /// `on timeout`.
    Timeout,
    /// `on return`.
    Return,
    /// `after N turns`.
    TurnLimit,
    /// `after DURATION silence`: the user has not answered for that long.
    Silence,
}

impl EdgeKind {
    /// The kind as written in the JSON (`direct`, `turn_limit`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Direct => "direct",
            EdgeKind::Conditional => "conditional",
            EdgeKind::Companion => "companion",
            EdgeKind::Error => "error",
            EdgeKind::Approved => "approved",
            EdgeKind::Rejected => "rejected",
            EdgeKind::Timeout => "timeout",
            EdgeKind::Return => "return",
            EdgeKind::TurnLimit => "turn_limit",
            EdgeKind::Silence => "silence",
        }
    }
}

/// The condition of a conditional edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Judged by the model.
    Llm(String),
    /// Evaluated by the runtime.
    Expr(Expr),
    /// The fallback (`else`); always `true`.
    Else(bool),
}

/// An edge of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// `NODE.INDEX`, or `global.INDEX` for a global exit.
    pub id: String,
    /// The source node, or null for a global exit.
    pub from: Option<String>,
    /// The target node.
    pub to: String,
    /// Its kind.
    pub kind: EdgeKind,
    /// The condition of a conditional edge, else null.
    pub condition: Option<Condition>,
    /// The `N` of `after N turns`, else null.
    pub turns: Option<u32>,
    /// The `DURATION` of `after DURATION silence` in milliseconds, else null.
    pub silence_ms: Option<u64>,
    /// The `N` of `max N`, else null.
    pub max_traversals: Option<u32>,
}

/// Where a node's name stands in the source (1-based; columns in Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceSpan {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

/// A node of the graph, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Node {
    /// An LLM step.
    Agent(AgentNode),
    /// A deterministic step.
    Action(ActionNode),
    /// A branch that says nothing.
    Route(RouteNode),
    /// A fixed message.
    Say(SayNode),
    /// A hand-off to a human queue.
    Handoff(HandoffNode),
    /// A human decision.
    Approval(ApprovalNode),
    /// A terminal step.
    End(EndNode),
}

impl Node {
    /// The node's id.
    pub fn id(&self) -> &str {
        match self {
            Node::Agent(n) => &n.id,
            Node::Action(n) => &n.id,
            Node::Route(n) => &n.id,
            Node::Say(n) => &n.id,
            Node::Handoff(n) => &n.id,
            Node::Approval(n) => &n.id,
            Node::End(n) => &n.id,
        }
    }

    /// The node's kind as written in the JSON (`agent`, `action`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Agent(_) => "agent",
            Node::Action(_) => "action",
            Node::Route(_) => "route",
            Node::Say(_) => "say",
            Node::Handoff(_) => "handoff",
            Node::Approval(_) => "approval",
            Node::End(_) => "end",
        }
    }

    /// The node's own edge ids, in source order.
    pub fn exits(&self) -> &[String] {
        match self {
            Node::Agent(n) => &n.exits,
            Node::Action(n) => &n.exits,
            Node::Route(n) => &n.exits,
            Node::Say(n) => &n.exits,
            Node::Handoff(n) => &n.exits,
            Node::Approval(n) => &n.exits,
            Node::End(n) => &n.exits,
        }
    }
}

/// An `agent` node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentNode {
    /// Its name.
    pub id: String,
    /// Where its name stands.
    pub span: Option<SourceSpan>,
    /// Its own edge ids in source order.
    pub exits: Vec<String>,
    /// Its instructions (appended to the workflow's).
    pub instructions: Text,
    /// Its own model group, or null for the workflow's.
    pub model: Option<String>,
    /// Tools it may call.
    pub tool_refs: Vec<String>,
    /// Knowledge bases it may search.
    pub knowledge_base_refs: Vec<String>,
    /// Variables filled from the conversation.
    pub extract: Vec<Extract>,
    /// Edge ids of its `when` and `if` exits.
    pub exit_conditions: Vec<String>,
}

/// One `extract` line of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extract {
    /// The variable filled.
    pub variable: String,
    /// What to look for, or null.
    pub hint: Option<String>,
}

/// An `action` node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionNode {
    /// Its name.
    pub id: String,
    /// Where its name stands.
    pub span: Option<SourceSpan>,
    /// Its own edge ids in source order.
    pub exits: Vec<String>,
    /// The tool it calls, or null.
    pub tool_id: Option<String>,
    /// The call's arguments by parameter.
    pub input_mapping: IndexMap<String, Expr>,
    /// The values it sets, by variable.
    pub output_mapping: IndexMap<String, Expr>,
    /// The edge id of its `on error` exit, or null.
    pub on_error: Option<String>,
}

/// A `route` node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteNode {
    /// Its name.
    pub id: String,
    /// Where its name stands.
    pub span: Option<SourceSpan>,
    /// Its own edge ids in source order.
    pub exits: Vec<String>,
    /// The model judging its `when` exits, or null for the workflow's.
    pub model: Option<String>,
}

/// A `say` node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SayNode {
    /// Its name.
    pub id: String,
    /// Where its name stands.
    pub span: Option<SourceSpan>,
    /// Its own edge ids in source order.
    pub exits: Vec<String>,
    /// The message.
    pub message: Text,
}

/// A `handoff` node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffNode {
    /// Its name.
    pub id: String,
    /// Where its name stands.
    pub span: Option<SourceSpan>,
    /// Its own edge ids in source order.
    pub exits: Vec<String>,
    /// The human queue.
    pub queue_id: String,
    /// The message for the human, or null.
    pub handoff_message: Option<Text>,
    /// Whether the run goes on (by `on return`) when the human hands back.
    pub resume_on_return: bool,
}

/// An `approval` node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalNode {
    /// Its name.
    pub id: String,
    /// Where its name stands.
    pub span: Option<SourceSpan>,
    /// Its own edge ids in source order.
    pub exits: Vec<String>,
    /// What the reviewer is asked.
    pub approval_prompt: Text,
    /// The time-out in hours, or null.
    pub timeout_hours: Option<f64>,
    /// The `on approved` edge.
    pub approved_edge: Option<String>,
    /// The `on rejected` edge.
    pub rejected_edge: Option<String>,
    /// The `on timeout` edge.
    pub timeout_edge: Option<String>,
}

/// An `end` node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndNode {
    /// Its name.
    pub id: String,
    /// Where its name stands (null for the built-in `end`).
    pub span: Option<SourceSpan>,
    /// Always empty.
    pub exits: Vec<String>,
    /// The last message, or null.
    pub say: Option<Text>,
    /// The run's outcome.
    pub outcome: String,
}

/// Text filled in at run time: literal parts and template expressions.
pub type Text = Vec<TextPart>;

/// One part of a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum TextPart {
    /// Literal text.
    Text {
        /// The characters.
        text: String,
    },
    /// A template's value, shown as text.
    Expr {
        /// The expression.
        expr: Expr,
    },
}

/// An operator of an `op` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Op {
    /// A field or element of a value that is not a plain path.
    #[serde(rename = "get")]
    Get,
    /// `??`.
    #[serde(rename = "??")]
    Coalesce,
    /// `or`.
    #[serde(rename = "or")]
    Or,
    /// `and`.
    #[serde(rename = "and")]
    And,
    /// `not`.
    #[serde(rename = "not")]
    Not,
    /// `==`.
    #[serde(rename = "==")]
    Eq,
    /// `!=`.
    #[serde(rename = "!=")]
    Ne,
    /// `<`.
    #[serde(rename = "<")]
    Lt,
    /// `<=`.
    #[serde(rename = "<=")]
    Le,
    /// `>`.
    #[serde(rename = ">")]
    Gt,
    /// `>=`.
    #[serde(rename = ">=")]
    Ge,
    /// `in`.
    #[serde(rename = "in")]
    In,
    /// `+`.
    #[serde(rename = "+")]
    Add,
    /// `-`.
    #[serde(rename = "-")]
    Sub,
    /// `*`.
    #[serde(rename = "*")]
    Mul,
    /// `/`.
    #[serde(rename = "/")]
    Div,
    /// `%`.
    #[serde(rename = "%")]
    Rem,
    /// Unary minus.
    #[serde(rename = "neg")]
    Neg,
}

impl Op {
    /// The operator as written in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Coalesce => "??",
            Op::Or => "or",
            Op::And => "and",
            Op::Not => "not",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Rem => "%",
            Op::Neg => "neg",
        }
    }
}

/// An expression tree the runtime evaluates without a parser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum Expr {
    /// A JSONPath (RFC 9535) into the run context (`$.vars`, `$.result`, `$.params`, `$.secrets`).
    Path {
        /// The path, e.g. `$.vars.order.id`.
        path: String,
    },
    /// An operator applied to its arguments.
    Op {
        /// The operator.
        op: Op,
        /// Its operands.
        args: Vec<Expr>,
    },
    /// A literal JSON value.
    Lit {
        /// The value.
        lit: Value,
    },
    /// A list.
    List {
        /// Its elements.
        list: Vec<Expr>,
    },
    /// An object.
    Object {
        /// Its entries.
        object: IndexMap<String, Expr>,
    },
    /// A builtin function: `len`, `lower`, `upper`, `contains`.
    Call {
        /// The function.
        call: String,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// A string with templates (in a tool's `body`), shown as text.
    Template {
        /// The parts.
        template: Text,
    },
}

/// The JSON Schema of the compiled graph format, generated from these types.
pub fn json_schema() -> Value {
    let schema = schemars::schema_for!(CompiledGraph);
    serde_json::to_value(schema).unwrap_or(Value::Null)
}
