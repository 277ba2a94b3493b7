//! The syntax tree of a `.flow` file, as lowered from the pest pairs.
//!
//! Every block holds its fields and exits in source order whatever its kind;
//! which kind takes which field is checked later (E0310, E0312), so a misplaced
//! field is one clear diagnostic instead of a syntax error.

use crate::span::Span;

/// A name and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Its span.
    pub span: Span,
}

/// A whole file.
#[derive(Debug, Clone, Default)]
pub struct File {
    /// The items in source order.
    pub items: Vec<Item>,
    /// Whether the file had a syntax error (E0001–E0003).
    pub has_syntax_errors: bool,
}

/// A top-level item.
#[derive(Debug, Clone)]
pub enum Item {
    /// `workflow`.
    Workflow(Workflow),
    /// `model`.
    Model(ModelDecl),
    /// `type`.
    Type(TypeDecl),
    /// `input` or `var`.
    Variable(VariableDecl),
    /// `secret`.
    Secret(Ident),
    /// `tool`.
    Tool(ToolDecl),
    /// `knowledge`.
    Knowledge(KnowledgeDecl),
    /// A node.
    Node(Node),
}

/// The `workflow` block.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Its name.
    pub name: Ident,
    /// Its title.
    pub title: Option<Text>,
    /// Its settings and global exits.
    pub body: Block,
    /// The whole item.
    pub span: Span,
}

/// `model NAME = "p:m" fallback "p:m"`.
#[derive(Debug, Clone)]
pub struct ModelDecl {
    /// Its name.
    pub name: Ident,
    /// The model strings in order.
    pub models: Vec<Text>,
}

/// `type Name ...`.
#[derive(Debug, Clone)]
pub struct TypeDecl {
    /// Its name.
    pub name: Ident,
    /// What it stands for.
    pub ty: TypeExpr,
}

/// Whether a variable is an input or workflow state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    /// `input`.
    Input,
    /// `var`.
    Var,
}

/// `input` or `var`.
#[derive(Debug, Clone)]
pub struct VariableDecl {
    /// Input or var.
    pub kind: VarKind,
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
    /// Its default value.
    pub default: Option<Expr>,
}

/// `tool name(params) -> T { ... }`.
#[derive(Debug, Clone)]
pub struct ToolDecl {
    /// Its name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Its return type.
    pub returns: TypeExpr,
    /// Its fields.
    pub body: Block,
}

/// One parameter of a tool.
#[derive(Debug, Clone)]
pub struct Param {
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
}

/// `knowledge name { ... }`.
#[derive(Debug, Clone)]
pub struct KnowledgeDecl {
    /// Its name.
    pub name: Ident,
    /// Its fields.
    pub body: Block,
}

/// The kind of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// An LLM step.
    Agent,
    /// A deterministic step.
    Action,
    /// A branch.
    Route,
    /// A fixed message.
    Say,
    /// A hand-off to humans.
    Handoff,
    /// A human decision.
    Approval,
    /// A terminal step.
    End,
}

impl NodeKind {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Agent => "agent",
            NodeKind::Action => "action",
            NodeKind::Route => "route",
            NodeKind::Say => "say",
            NodeKind::Handoff => "handoff",
            NodeKind::Approval => "approval",
            NodeKind::End => "end",
        }
    }

    /// The kind named by a keyword.
    pub fn from_keyword(word: &str) -> Option<NodeKind> {
        Some(match word {
            "agent" => NodeKind::Agent,
            "action" => NodeKind::Action,
            "route" => NodeKind::Route,
            "say" => NodeKind::Say,
            "handoff" => NodeKind::Handoff,
            "approval" => NodeKind::Approval,
            "end" => NodeKind::End,
            _ => return None,
        })
    }
}

/// A node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its kind.
    pub kind: NodeKind,
    /// Its name.
    pub name: Ident,
    /// Its fields and exits.
    pub body: Block,
    /// Whether its header or body had a syntax error.
    pub broken: bool,
}

/// The contents of a block.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Fields in source order.
    pub fields: Vec<Field>,
    /// Exits in source order.
    pub exits: Vec<Exit>,
    /// Whether a line of it could not be parsed.
    pub broken: bool,
}

/// A field and its span.
#[derive(Debug, Clone)]
pub struct Field {
    /// What it is.
    pub kind: FieldKind,
    /// The keyword's span (or the text's, for a bare text).
    pub keyword: Span,
    /// The whole line.
    pub span: Span,
}

/// The fields of all blocks.
#[derive(Debug, Clone)]
pub enum FieldKind {
    /// `start NODE`.
    Start(Ident),
    /// `model M`.
    Model(Ident),
    /// `instructions TEXT`.
    Instructions(Text),
    /// `max_steps N`.
    MaxSteps(Option<Number>),
    /// `tools a, b`.
    Tools(Vec<Ident>),
    /// `knowledge a, b`.
    Knowledge(Vec<Ident>),
    /// `extract var "hint"`.
    Extract(Ident, Option<Text>),
    /// `call tool(args)`.
    Call(Ident, Vec<(Ident, Expr)>),
    /// `set var = expr`.
    Set(Ident, Expr),
    /// `queue "id"`.
    Queue(Text),
    /// `message TEXT`.
    Message(Text),
    /// `prompt TEXT`.
    Prompt(Text),
    /// `timeout DURATION` (None when malformed).
    Timeout(Option<u64>),
    /// `say TEXT`.
    Say(Text),
    /// `outcome NAME`.
    Outcome(Ident),
    /// `description TEXT`.
    Description(Text),
    /// `http METHOD "url"`.
    Http(String, Text),
    /// `builtin "name"`.
    Builtin(Text),
    /// `host`.
    Host,
    /// `header "Name" = "value"`.
    Header(Text, Text),
    /// `body { ... }`: a JSON body.
    Body(Expr),
    /// `body form { ... }`: an `application/x-www-form-urlencoded` body.
    FormBody(Expr),
    /// `retry N`.
    Retry(Option<Number>),
    /// `path "dir"`.
    Path(Text),
    /// A bare string or prose block.
    Text(Text),
}

impl FieldKind {
    /// The keyword that names the field, as the author wrote it.
    pub fn keyword(&self) -> &'static str {
        match self {
            FieldKind::Start(_) => "start",
            FieldKind::Model(_) => "model",
            FieldKind::Instructions(_) => "instructions",
            FieldKind::MaxSteps(_) => "max_steps",
            FieldKind::Tools(_) => "tools",
            FieldKind::Knowledge(_) => "knowledge",
            FieldKind::Extract(..) => "extract",
            FieldKind::Call(..) => "call",
            FieldKind::Set(..) => "set",
            FieldKind::Queue(_) => "queue",
            FieldKind::Message(_) => "message",
            FieldKind::Prompt(_) => "prompt",
            FieldKind::Timeout(_) => "timeout",
            FieldKind::Say(_) => "say",
            FieldKind::Outcome(_) => "outcome",
            FieldKind::Description(_) => "description",
            FieldKind::Http(..) => "http",
            FieldKind::Builtin(_) => "builtin",
            FieldKind::Host => "host",
            FieldKind::Header(..) => "header",
            FieldKind::Body(_) | FieldKind::FormBody(_) => "body",
            FieldKind::Retry(_) => "retry",
            FieldKind::Path(_) => "path",
            FieldKind::Text(_) => "text",
        }
    }
}

/// A number literal: integer or not, with its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    /// The value.
    pub value: f64,
    /// Whether it was written without `.` or exponent.
    pub is_int: bool,
    /// Its span.
    pub span: Span,
}

/// An exit of a block.
#[derive(Debug, Clone)]
pub struct Exit {
    /// What kind of exit.
    pub kind: ExitKind,
    /// The target (`end` is the built-in terminal).
    pub target: Ident,
    /// `max N`.
    pub bound: Option<Number>,
    /// The whole exit.
    pub span: Span,
}

/// The kinds of exits.
#[derive(Debug, Clone)]
pub enum ExitKind {
    /// `-> target`.
    Direct,
    /// `when "text" ->`.
    When(Text),
    /// `if expr ->`.
    If(Expr),
    /// `else ->`.
    Else,
    /// `also ->`.
    Also,
    /// `on error ->`.
    OnError,
    /// `on approved ->`.
    OnApproved,
    /// `on rejected ->`.
    OnRejected,
    /// `on timeout ->`.
    OnTimeout,
    /// `on return ->`.
    OnReturn,
    /// `after N turns ->` (None when malformed).
    After(Option<Number>),
    /// `after DURATION silence ->`: the duration in milliseconds (None when malformed).
    Silence(Option<u64>),
}

impl ExitKind {
    /// How the exit is written, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ExitKind::Direct => "`->`",
            ExitKind::When(_) => "`when`",
            ExitKind::If(_) => "`if`",
            ExitKind::Else => "`else`",
            ExitKind::Also => "`also`",
            ExitKind::OnError => "`on error`",
            ExitKind::OnApproved => "`on approved`",
            ExitKind::OnRejected => "`on rejected`",
            ExitKind::OnTimeout => "`on timeout`",
            ExitKind::OnReturn => "`on return`",
            ExitKind::After(_) => "`after N turns`",
            ExitKind::Silence(_) => "`after DURATION silence`",
        }
    }

    /// Whether it is tried in order with the other conditions (`if`, `when`, `after`, `else`, `->`).
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            ExitKind::Direct | ExitKind::When(_) | ExitKind::If(_) | ExitKind::Else | ExitKind::After(_)
        )
    }
}

/// Text: literal parts and templates.
#[derive(Debug, Clone)]
pub struct Text {
    /// The parts, literal text already unescaped (and dedented for prose).
    pub parts: Vec<TextPart>,
    /// The whole literal, quotes included.
    pub span: Span,
}

impl Text {
    /// The text without its templates (which are shown as `{{...}}`).
    pub fn literal(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TextPart::Lit(text) => out.push_str(text),
                TextPart::Template(..) => out.push_str("{{...}}"),
            }
        }
        out
    }

    /// Whether it holds any template.
    pub fn has_templates(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, TextPart::Template(..)))
    }
}

/// A part of a text.
#[derive(Debug, Clone)]
pub enum TextPart {
    /// Literal characters.
    Lit(String),
    /// A template's expression (None when it did not parse) and the span of `{{ ... }}`.
    Template(Option<Expr>, Span),
}

/// A type as written.
#[derive(Debug, Clone)]
pub struct TypeExpr {
    /// Its shape.
    pub kind: TypeKind,
    /// Its span.
    pub span: Span,
}

/// The shapes of types.
#[derive(Debug, Clone)]
pub enum TypeKind {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// `any`.
    Any,
    /// `"a" | "b"`.
    Union(Vec<(String, Span)>),
    /// `[T]`.
    List(Box<TypeExpr>),
    /// `{ f: T }`.
    Object(Vec<(Ident, TypeExpr)>),
    /// A named type.
    Named(Ident),
    /// `T?`.
    Optional(Box<TypeExpr>),
    /// A type that did not parse.
    Error,
}

/// An expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// Its shape.
    pub kind: ExprKind,
    /// Its span.
    pub span: Span,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number.
    Number(f64, bool),
    /// A string (templates are not allowed in expressions except a tool's body).
    String(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `??`.
    Coalesce,
    /// `or`.
    Or,
    /// `and`.
    And,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `in`.
    In,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Rem,
}

impl BinOp {
    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Coalesce => "??",
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }

    /// Whether it compares (`==` … `in`).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In
        )
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `not`.
    Not,
    /// `-`.
    Neg,
}

/// The shapes of expressions.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A literal.
    Lit(Literal),
    /// A string with templates (only in a tool's `body`).
    Template(Text),
    /// A variable or parameter name.
    Name(Ident),
    /// `result`.
    Result,
    /// `secret.NAME`.
    Secret(Ident),
    /// `base.field` or `base?.field`.
    Field {
        /// The value.
        base: Box<Expr>,
        /// The field.
        field: Ident,
        /// Whether `?.` was written.
        optional: bool,
    },
    /// `base[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// A prefix operator.
    Unary(UnOp, Box<Expr>),
    /// An infix operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{ k: v }`.
    Object(Vec<(Ident, Expr)>),
    /// `f(args)`.
    Call(Ident, Vec<Expr>),
    /// An expression that did not parse (already reported).
    Error,
}
