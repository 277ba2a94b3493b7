//! Lowering: pest pairs to the AST. Bad lines and bad items become one E0001
//! each, explained by re-parsing them with a strict rule.

use super::expected::explain;
use super::reserved::{NameRole, ReservedName};
use super::{FlowParser, Rule};
use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::Span;
use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::OnceLock;

/// Deeper nesting than this is refused, so no input can exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Operators and field accesses one top-level expression may hold, brackets
/// included: a chain nests the tree as deep as it is long, and every later
/// pass walks the tree recursively, so this bounds the depth of every tree.
const MAX_CHAIN: usize = 256;

/// The deepest nesting of brackets or prefix operators handed to the parser.
/// Deeper input is refused before parsing, so no input can exhaust the stack
/// of the recursive-descent parser (whatever thread it runs on).
const MAX_NESTING: usize = 100;

/// Where the source first nests deeper than [`MAX_NESTING`], if it does.
fn too_deep(src: &str) -> Option<usize> {
    let bytes = src.as_bytes();
    let (mut depth, mut prefix_run) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let word_start =
            b.is_ascii_alphabetic() && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'-' if bytes.get(i + 1) != Some(&b'>') => prefix_run += 1,
            b'n' if word_start
                && src[i..].starts_with("not")
                && !bytes
                    .get(i + 3)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') =>
            {
                prefix_run += 1;
                i += 2;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => prefix_run = 0,
        }
        if depth > MAX_NESTING || prefix_run > MAX_NESTING {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Parses `src` and lowers it to a file, reporting syntax errors into `diags`.
pub fn lower(src: &str, diags: &mut Diagnostics) -> File {
    if let Some(at) = too_deep(src) {
        diags.push(
            Diagnostic::new(
                Code::E0001,
                Span::new(at, at + 1),
                format!("nested more than {MAX_NESTING} levels deep"),
            )
            .primary("too deep")
            .help("the file is not parsed: split deeply nested values into variables or named types"),
        );
        return File {
            items: Vec::new(),
            has_syntax_errors: true,
        };
    }
    let mut lowerer = Lowerer {
        src,
        diags,
        offset: 0,
        unterminated_prose: 0,
        depth: 0,
        expr_ops: 0,
        has_syntax_errors: false,
        reserved: Vec::new(),
    };
    let mut file = match FlowParser::parse(Rule::file, src) {
        Ok(mut pairs) => lowerer.file(pairs.next().expect("file pair")),
        Err(error) => {
            // The grammar recovers from every error; only the parser's own
            // limits (stack, call count) land here.
            let at = match error.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            lowerer.syntax_error();
            lowerer.diags.push(
                Diagnostic::new(Code::E0001, Span::new(at, at), "the file is too deeply nested to parse")
                    .help("split deeply nested expressions or types into variables or named types"),
            );
            File::default()
        }
    };
    lowerer.report_reserved();
    file.has_syntax_errors = lowerer.has_syntax_errors;
    file
}

/// The state of one lowering.
pub(super) struct Lowerer<'s> {
    pub(super) src: &'s str,
    pub(super) diags: &'s mut Diagnostics,
    /// Added to pair positions: non-zero while lowering a template's own parse.
    pub(super) offset: usize,
    /// How many unterminated prose blocks were reported so far.
    pub(super) unterminated_prose: usize,
    depth: usize,
    /// Operators and accesses counted so far in the current top-level expression.
    expr_ops: usize,
    has_syntax_errors: bool,
    /// Reserved words written as names, reported as E0006 at the end.
    pub(super) reserved: Vec<ReservedName>,
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_coalesce, Assoc::Left))
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::infix(Rule::op_in, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_mod, Assoc::Left))
            .op(Op::prefix(Rule::op_neg))
    })
}

/// How a number literal reads.
enum NumberText {
    Int(f64),
    Float(f64),
    Duration(u64),
    Malformed,
}

fn read_number(text: &str) -> NumberText {
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(digits_end);
    if unit.is_empty() {
        if let Ok(v) = num.parse::<f64>()
            && v.is_finite()
        {
            let is_int = num.bytes().all(|b| b.is_ascii_digit());
            return if is_int {
                NumberText::Int(v)
            } else {
                NumberText::Float(v)
            };
        }
        return NumberText::Malformed;
    }
    // Letters follow the digits: a duration, whose number must be an integer.
    let int_part: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
    let unit = &text[int_part.len()..];
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return NumberText::Malformed,
    };
    match int_part.parse::<u64>().ok().and_then(|n| n.checked_mul(factor)) {
        Some(ms) => NumberText::Duration(ms),
        None => NumberText::Malformed,
    }
}

impl<'s> Lowerer<'s> {
    pub(super) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        Span::of(pair.as_span()).shift(self.offset)
    }

    pub(super) fn syntax_error(&mut self) {
        self.has_syntax_errors = true;
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        self.plain_ident(&pair)
    }

    pub(super) fn plain_ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let mut items = Vec::new();
        for child in pair.into_inner() {
            let item = match child.as_rule() {
                Rule::workflow => Some(self.workflow(child)),
                Rule::model_decl => Some(self.model_decl(child)),
                Rule::type_decl => Some(self.type_decl(child)),
                Rule::input_decl => Some(self.variable_decl(child, VarKind::Input)),
                Rule::var_decl => Some(self.variable_decl(child, VarKind::Var)),
                Rule::secret_decl => {
                    let name = child.into_inner().nth(1).expect("secret name");
                    Some(Item::Secret(self.decl_ident(name, "a secret")))
                }
                Rule::tool_decl => Some(self.tool_decl(child)),
                Rule::knowledge_decl => Some(self.knowledge_decl(child)),
                Rule::node => Some(self.node(child)),
                Rule::bad_item => self.bad_item(child),
                Rule::EOI => None,
                rule => unreachable!("unexpected rule at top level: {rule:?}"),
            };
            items.extend(item);
        }
        File {
            items,
            has_syntax_errors: false,
        }
    }

    fn bad_item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        self.syntax_error();
        let span = self.span(&pair);
        let text = pair.as_str();
        let failure = explain(Rule::item_strict, text, span.start as usize);
        let (at, message) = match failure {
            Some(f) => (f.span, f.message),
            None => (span, "unexpected input".to_string()),
        };
        let starts_item = text
            .trim_start()
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .is_some_and(|w| {
                matches!(
                    w,
                    "workflow" | "model" | "type" | "input" | "var" | "secret" | "tool" | "knowledge"
                ) || NodeKind::from_keyword(w).is_some()
            });
        let help = if starts_item {
            "the item is skipped up to the next item; fix this line to check the rest of it"
        } else {
            "a file holds items: `workflow`, `model`, `type`, `input`, `var`, `secret`, `tool`, `knowledge` and nodes (`agent`, `action`, `route`, `say`, `handoff`, `approval`, `end`)"
        };
        self.diags.push(
            Diagnostic::new(Code::E0001, at, message)
                .primary("unexpected here")
                .help(help),
        );
        // A node whose header is malformed is still declared, so that exits
        // naming it do not cascade into unknown-node errors.
        let head = pair.into_inner().next().filter(|p| p.as_rule() == Rule::item_head)?;
        let mut inner = head.into_inner();
        let kind = NodeKind::from_keyword(inner.next()?.as_str())?;
        let name = self.decl_ident(inner.next()?, "a node");
        Some(Item::Node(Node {
            kind,
            name,
            body: Block {
                broken: true,
                ..Block::default()
            },
            broken: true,
        }))
    }

    fn workflow(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // `workflow`
        let name = self.decl_ident(inner.next().expect("workflow name"), "a workflow");
        let mut title = None;
        let mut rest = Vec::new();
        for child in inner {
            if child.as_rule() == Rule::string && title.is_none() && rest.is_empty() {
                title = Some(self.text(child));
            } else {
                rest.push(child);
            }
        }
        let body = self.block(rest, span, "workflow");
        Item::Workflow(Workflow {
            name,
            title,
            body,
            span,
        })
    }

    fn model_decl(&mut self, pair: Pair<'_, Rule>) -> Item {
        let mut inner = pair.into_inner();
        inner.next(); // `model`
        let name = self.decl_ident(inner.next().expect("model name"), "a model");
        let models = inner
            .filter(|p| p.as_rule() == Rule::string)
            .map(|p| self.text(p))
            .collect();
        Item::Model(ModelDecl { name, models })
    }

    fn type_decl(&mut self, pair: Pair<'_, Rule>) -> Item {
        let mut inner = pair.into_inner();
        inner.next(); // `type`
        let name = self.decl_ident(inner.next().expect("type name"), "a type");
        let def = inner.next().expect("type definition");
        let ty = match def.as_rule() {
            Rule::object_type => {
                let span = self.span(&def);
                TypeExpr {
                    kind: self.object_type(def),
                    span,
                }
            }
            _ => self.type_expr(def),
        };
        Item::Type(TypeDecl { name, ty })
    }

    fn variable_decl(&mut self, pair: Pair<'_, Rule>, kind: VarKind) -> Item {
        let mut inner = pair.into_inner();
        inner.next(); // `input` or `var`
        let what = if kind == VarKind::Input {
            "an input"
        } else {
            "a variable"
        };
        let name = self.decl_ident(inner.next().expect("variable name"), what);
        let ty = self.type_expr(inner.next().expect("variable type"));
        let default = inner.next().map(|p| self.const_value(p));
        Item::Variable(VariableDecl {
            kind,
            name,
            ty,
            default,
        })
    }

    fn tool_decl(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // `tool`
        let name = self.decl_ident(inner.next().expect("tool name"), "a tool");
        let mut params = Vec::new();
        let mut returns = None;
        let mut rest = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::params => {
                    for param in child.into_inner() {
                        let mut p = param.into_inner();
                        let name = self.field_name(p.next().expect("param name"), NameRole::Param);
                        let ty = self.type_expr(p.next().expect("param type"));
                        params.push(Param { name, ty });
                    }
                }
                Rule::arrow => {}
                Rule::type_expr if returns.is_none() => returns = Some(self.type_expr(child)),
                _ => rest.push(child),
            }
        }
        let body = self.block(rest, span, "tool");
        Item::Tool(ToolDecl {
            name,
            params,
            returns: returns.expect("tool return type"),
            body,
        })
    }

    fn knowledge_decl(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // `knowledge`
        let name = self.decl_ident(inner.next().expect("knowledge name"), "a knowledge base");
        let body = self.block(inner.collect(), span, "knowledge");
        Item::Knowledge(KnowledgeDecl { name, body })
    }

    fn node(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let kind = NodeKind::from_keyword(inner.next().expect("node kind").as_str()).expect("node kind keyword");
        let name = self.decl_ident(inner.next().expect("node name"), "a node");
        let body = self.block(inner.collect(), span, kind.as_str());
        Item::Node(Node {
            kind,
            name,
            broken: body.broken,
            body,
        })
    }

    /// Lowers the lines of a block; `what` names the block in messages.
    fn block(&mut self, lines: Vec<Pair<'_, Rule>>, item: Span, what: &str) -> Block {
        let mut block = Block::default();
        let prose_errors_before = self.unterminated_prose;
        for line in lines {
            match line.as_rule() {
                Rule::exit => {
                    let exit = self.exit(line);
                    block.exits.push(exit);
                }
                Rule::bad_line => {
                    block.broken = true;
                    self.bad_line(line);
                }
                Rule::block_close => {
                    // An unterminated prose block swallowed the `}`: that is one error, not two.
                    if line.as_str().is_empty() && self.unterminated_prose == prose_errors_before {
                        block.broken = true;
                        self.syntax_error();
                        let at = self.span(&line);
                        let open = self.src[item.range()].find('{').map(|i| item.start as usize + i);
                        let mut diag =
                            Diagnostic::new(Code::E0001, at, format!("expected `}}` to close this `{what}` block"))
                                .primary("the block should end before this")
                                .help("add `}` on a line of its own after the block's last line");
                        if let Some(open) = open {
                            diag = diag.label(Span::new(open, open + 1), "this `{` is never closed");
                        }
                        self.diags.push(diag);
                    }
                }
                _ => {
                    let field = self.field(line);
                    block.fields.push(field);
                }
            }
        }
        block
    }

    fn bad_line(&mut self, pair: Pair<'_, Rule>) {
        self.syntax_error();
        let span = self.span(&pair);
        let failure = explain(Rule::line_strict, pair.as_str(), span.start as usize);
        let (at, message) = match failure {
            Some(f) => (f.span, f.message),
            None => (span, "unexpected input".to_string()),
        };
        self.diags.push(
            Diagnostic::new(Code::E0001, at, message)
                .primary("unexpected here")
                .help("a block holds one field or exit per line, e.g. `when \"the caller is done\" -> goodbye`"),
        );
    }

    fn field(&mut self, pair: Pair<'_, Rule>) -> Field {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        if rule == Rule::f_text {
            let text = self.text(inner.next().expect("text"));
            return Field {
                keyword: text.span,
                kind: FieldKind::Text(text),
                span,
            };
        }
        let keyword_pair = inner.next().expect("field keyword");
        let keyword = self.span(&keyword_pair);
        let mut next = || inner.next().expect("field value");
        let kind = match rule {
            Rule::f_start => FieldKind::Start(self.ident(next())),
            Rule::f_model => FieldKind::Model(self.ident(next())),
            Rule::f_instructions => FieldKind::Instructions(self.text(next())),
            Rule::f_max_steps => FieldKind::MaxSteps(self.count(next(), "`max_steps`")),
            Rule::f_tools => FieldKind::Tools(inner.map(|p| self.ident(p)).collect()),
            Rule::f_knowledge => FieldKind::Knowledge(inner.map(|p| self.ident(p)).collect()),
            Rule::f_extract => {
                let var = self.ident(next());
                let hint = inner.next().map(|p| self.text(p));
                FieldKind::Extract(var, hint)
            }
            Rule::f_call => {
                let tool = self.ident(next());
                let args = inner
                    .map(|arg| {
                        let mut a = arg.into_inner();
                        let name = self.field_name(a.next().expect("arg name"), NameRole::Arg);
                        let value = self.expr(a.next().expect("arg value"));
                        (name, value)
                    })
                    .collect();
                FieldKind::Call(tool, args)
            }
            Rule::f_set => {
                let var = self.ident(next());
                let value = self.expr(next());
                FieldKind::Set(var, value)
            }
            Rule::f_queue => FieldKind::Queue(self.text(next())),
            Rule::f_message => FieldKind::Message(self.text(next())),
            Rule::f_prompt => FieldKind::Prompt(self.text(next())),
            Rule::f_timeout => FieldKind::Timeout(self.duration(next())),
            Rule::f_say => FieldKind::Say(self.text(next())),
            Rule::f_outcome => FieldKind::Outcome(self.decl_ident(next(), "an outcome")),
            Rule::f_description => FieldKind::Description(self.text(next())),
            Rule::f_http => {
                let method = next().as_str().to_string();
                FieldKind::Http(method, self.text(next()))
            }
            Rule::f_builtin => FieldKind::Builtin(self.text(next())),
            Rule::f_host => FieldKind::Host,
            Rule::f_header => {
                let name = self.text(next());
                let value = self.text(next());
                FieldKind::Header(name, value)
            }
            Rule::f_body => {
                let value = next();
                if value.as_rule() == Rule::kw_form {
                    FieldKind::FormBody(self.object_lit(next()))
                } else {
                    FieldKind::Body(self.object_lit(value))
                }
            }
            Rule::f_retry => FieldKind::Retry(self.count(next(), "`retry`")),
            Rule::f_path => FieldKind::Path(self.text(next())),
            rule => unreachable!("unexpected field rule: {rule:?}"),
        };
        Field { kind, keyword, span }
    }

    fn exit(&mut self, pair: Pair<'_, Rule>) -> Exit {
        let span = self.span(&pair);
        let mut kind = ExitKind::Direct;
        let mut target = None;
        let mut bound = None;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::exit_when => {
                    let text = child.into_inner().nth(1).expect("when text");
                    kind = ExitKind::When(self.text(text));
                }
                Rule::exit_if => {
                    let expr = child.into_inner().nth(1).expect("if expression");
                    kind = ExitKind::If(self.expr(expr));
                }
                Rule::exit_else => kind = ExitKind::Else,
                Rule::exit_also => kind = ExitKind::Also,
                Rule::exit_on => {
                    let event = child.into_inner().nth(1).expect("on event");
                    kind = match event.as_str() {
                        "error" => ExitKind::OnError,
                        "approved" => ExitKind::OnApproved,
                        "rejected" => ExitKind::OnRejected,
                        "timeout" => ExitKind::OnTimeout,
                        _ => ExitKind::OnReturn,
                    };
                }
                Rule::exit_after => {
                    let mut parts = child.into_inner().skip(1);
                    let n = parts.next().expect("after count");
                    let silence = parts.next().is_some_and(|p| p.as_rule() == Rule::kw_silence);
                    kind = if silence {
                        ExitKind::Silence(self.duration(n))
                    } else {
                        ExitKind::After(self.number_literal(n, "a turn count"))
                    };
                }
                Rule::arrow => {}
                Rule::target => target = Some(self.ident(child)),
                Rule::bound => {
                    let n = child.into_inner().nth(1).expect("bound count");
                    bound = self.number_literal(n, "a bound");
                    if bound.is_none() {
                        // A malformed bound still bounds the edge for the graph checks.
                        bound = Some(Number {
                            value: 1.0,
                            is_int: true,
                            span,
                        });
                    }
                }
                rule => unreachable!("unexpected rule in exit: {rule:?}"),
            }
        }
        Exit {
            kind,
            target: target.expect("exit target"),
            bound,
            span,
        }
    }

    /// An integer literal; malformed ones are E0003 and read as `None`.
    fn number_literal(&mut self, pair: Pair<'_, Rule>, what: &str) -> Option<Number> {
        let span = self.span(&pair);
        match read_number(pair.as_str()) {
            NumberText::Int(value) => Some(Number {
                value,
                is_int: true,
                span,
            }),
            _ => {
                self.syntax_error();
                self.diags.push(
                    Diagnostic::new(
                        Code::E0003,
                        span,
                        format!("malformed number: {what} must be a whole number"),
                    )
                    .primary("not a whole number")
                    .help("write digits only, e.g. `3`"),
                );
                None
            }
        }
    }

    fn count(&mut self, pair: Pair<'_, Rule>, what: &str) -> Option<Number> {
        self.number_literal(pair, &format!("{what}'s value"))
    }

    /// A duration in milliseconds; malformed ones are E0003.
    fn duration(&mut self, pair: Pair<'_, Rule>) -> Option<u64> {
        let span = self.span(&pair);
        match read_number(pair.as_str()) {
            NumberText::Duration(ms) => Some(ms),
            _ => {
                self.syntax_error();
                let unit = pair.as_str().trim_start_matches(|c: char| c.is_ascii_digit());
                let message = if unit.is_empty() {
                    format!("malformed duration `{}`: it has no unit", pair.as_str())
                } else {
                    format!("malformed duration `{}`: unknown unit `{unit}`", pair.as_str())
                };
                self.diags.push(
                    Diagnostic::new(Code::E0003, span, message)
                        .primary("not a duration")
                        .help(
                            "a duration is a whole number with a unit: `ms`, `s`, `m`, `h` or `d` (e.g. `30s`, `24h`)",
                        ),
                );
                None
            }
        }
    }

    fn guard_depth(&mut self, span: Span) -> bool {
        if self.depth >= MAX_DEPTH {
            self.syntax_error();
            self.diags.push(
                Diagnostic::new(Code::E0001, span, format!("nested more than {MAX_DEPTH} levels deep"))
                    .primary("too deep")
                    .help("split the value into variables or named types"),
            );
            return false;
        }
        true
    }

    pub(super) fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        if !self.guard_depth(span) {
            return TypeExpr {
                kind: TypeKind::Error,
                span,
            };
        }
        self.depth += 1;
        let mut atoms = Vec::new();
        let mut optional = false;
        for child in pair.into_inner() {
            if child.as_rule() == Rule::optional_mark {
                optional = true;
            } else {
                atoms.push(child);
            }
        }
        let kind = if atoms.len() == 1 && atoms[0].as_rule() != Rule::string {
            let atom = atoms.pop().expect("one atom");
            self.type_atom(atom)
        } else {
            let mut literals = Vec::new();
            let mut bad = false;
            for atom in atoms {
                let atom_span = self.span(&atom);
                if atom.as_rule() == Rule::string {
                    let text = self.text(atom);
                    literals.push((text.literal(), atom_span));
                } else if !bad {
                    bad = true;
                    self.syntax_error();
                    self.diags.push(
                        Diagnostic::new(Code::E0001, atom_span, "`|` joins string literals only")
                            .primary("not a string literal")
                            .help("a union lists the strings a value may be: `\"placed\" | \"shipped\"`"),
                    );
                }
            }
            if bad {
                TypeKind::Error
            } else {
                TypeKind::Union(literals)
            }
        };
        self.depth -= 1;
        let inner = TypeExpr { kind, span };
        if optional {
            TypeExpr {
                kind: TypeKind::Optional(Box::new(inner)),
                span,
            }
        } else {
            inner
        }
    }

    fn type_atom(&mut self, pair: Pair<'_, Rule>) -> TypeKind {
        match pair.as_rule() {
            Rule::prim_type => match pair.as_str() {
                "string" => TypeKind::String,
                "number" => TypeKind::Number,
                "int" => TypeKind::Int,
                "bool" => TypeKind::Bool,
                _ => TypeKind::Any,
            },
            Rule::list_type => {
                let inner = pair.into_inner().next().expect("list element type");
                TypeKind::List(Box::new(self.type_expr(inner)))
            }
            Rule::object_type => self.object_type(pair),
            Rule::ident => TypeKind::Named(self.ident(pair)),
            rule => unreachable!("unexpected type rule: {rule:?}"),
        }
    }

    fn object_type(&mut self, pair: Pair<'_, Rule>) -> TypeKind {
        let fields = pair
            .into_inner()
            .map(|field| {
                let mut f = field.into_inner();
                let name = self.field_name(f.next().expect("field name"), NameRole::Field);
                let ty = self.type_expr(f.next().expect("field type"));
                (name, ty)
            })
            .collect();
        TypeKind::Object(fields)
    }

    /// A literal default value.
    fn const_value(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("const value");
        if !self.guard_depth(span) {
            return Expr {
                kind: ExprKind::Error,
                span,
            };
        }
        self.depth += 1;
        let kind = match inner.as_rule() {
            Rule::neg_number => {
                let n = inner.into_inner().next().expect("number");
                match self.expr_number(n).kind {
                    ExprKind::Lit(Literal::Number(v, is_int)) => ExprKind::Lit(Literal::Number(-v, is_int)),
                    other => other,
                }
            }
            Rule::const_list => ExprKind::List(inner.into_inner().map(|p| self.const_value(p)).collect()),
            Rule::const_object => ExprKind::Object(
                inner
                    .into_inner()
                    .map(|entry| {
                        let mut e = entry.into_inner();
                        let key = self.field_name(e.next().expect("key"), NameRole::Key);
                        let value = self.const_value(e.next().expect("value"));
                        (key, value)
                    })
                    .collect(),
            ),
            _ => self.primary(inner).kind,
        };
        self.depth -= 1;
        Expr { kind, span }
    }

    pub(super) fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        if !self.guard_depth(span) {
            return Expr {
                kind: ExprKind::Error,
                span,
            };
        }
        if self.depth == 0 {
            self.expr_ops = 0;
        }
        self.expr_ops += pair
            .clone()
            .into_inner()
            .filter(|p| p.as_rule() != Rule::postfix_expr)
            .count();
        if self.expr_ops > MAX_CHAIN {
            return self.too_long(span);
        }
        self.depth += 1;
        let offset = self.offset;
        let expr = pratt()
            .map_primary(|p| self.postfix_expr(p))
            .map_prefix(|op, rhs| {
                let start = Span::of(op.as_span()).shift(offset);
                let op = if op.as_rule() == Rule::op_not {
                    UnOp::Not
                } else {
                    UnOp::Neg
                };
                Expr {
                    span: start.to(rhs.span),
                    kind: ExprKind::Unary(op, Box::new(rhs)),
                }
            })
            .map_infix(|lhs, op, rhs| {
                let op = match op.as_rule() {
                    Rule::op_coalesce => BinOp::Coalesce,
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_in => BinOp::In,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    Rule::op_div => BinOp::Div,
                    _ => BinOp::Rem,
                };
                Expr {
                    span: lhs.span.to(rhs.span),
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                }
            })
            .parse(pair.into_inner());
        self.depth -= 1;
        expr
    }

    fn too_long(&mut self, span: Span) -> Expr {
        self.syntax_error();
        self.diags.push(
            Diagnostic::new(
                Code::E0001,
                span,
                format!("this expression holds more than {MAX_CHAIN} operators and field accesses"),
            )
            .primary("too long")
            .help("split it into several `set` lines or variables"),
        );
        Expr {
            kind: ExprKind::Error,
            span,
        }
    }

    fn postfix_expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        self.expr_ops += pair.clone().into_inner().count().saturating_sub(1);
        if self.expr_ops > MAX_CHAIN {
            let span = self.span(&pair);
            return self.too_long(span);
        }
        let mut inner = pair.into_inner();
        let mut expr = self.primary(inner.next().expect("primary"));
        for post in inner {
            let span = expr.span.to(self.span(&post));
            let kind = match post.as_rule() {
                Rule::field_access | Rule::opt_field_access => {
                    let optional = post.as_rule() == Rule::opt_field_access;
                    let field = self.field_name(post.into_inner().next().expect("field name"), NameRole::FieldRead);
                    ExprKind::Field {
                        base: Box::new(expr),
                        field,
                        optional,
                    }
                }
                Rule::index_access => {
                    let index = self.expr(post.into_inner().next().expect("index"));
                    ExprKind::Index(Box::new(expr), Box::new(index))
                }
                rule => unreachable!("unexpected postfix rule: {rule:?}"),
            };
            expr = Expr { kind, span };
        }
        expr
    }

    fn expr_number(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match read_number(pair.as_str()) {
            NumberText::Int(v) => ExprKind::Lit(Literal::Number(v, true)),
            NumberText::Float(v) => ExprKind::Lit(Literal::Number(v, false)),
            NumberText::Duration(_) | NumberText::Malformed => {
                self.syntax_error();
                self.diags.push(
                    Diagnostic::new(Code::E0003, span, format!("malformed number `{}`", pair.as_str()))
                        .primary("not a number")
                        .help("numbers are written `42`, `0.5` or `1e3`; durations belong only in `timeout` fields"),
                );
                ExprKind::Error
            }
        };
        Expr { kind, span }
    }

    fn primary(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::number => return self.expr_number(pair),
            Rule::string => {
                let text = self.text(pair);
                if text.has_templates() {
                    ExprKind::Template(text)
                } else {
                    ExprKind::Lit(Literal::String(text.literal()))
                }
            }
            Rule::kw_true => ExprKind::Lit(Literal::Bool(true)),
            Rule::kw_false => ExprKind::Lit(Literal::Bool(false)),
            Rule::kw_null => ExprKind::Lit(Literal::Null),
            Rule::kw_result => ExprKind::Result,
            Rule::secret_ref => {
                let name = pair.into_inner().nth(1).expect("secret name");
                ExprKind::Secret(self.ident(name))
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let name = self.ident(inner.next().expect("function name"));
                let args = inner.map(|a| self.expr(a)).collect();
                ExprKind::Call(name, args)
            }
            Rule::ident => ExprKind::Name(self.ident(pair)),
            Rule::paren => {
                let inner = self.expr(pair.into_inner().next().expect("parenthesised expression"));
                return Expr { kind: inner.kind, span };
            }
            Rule::list_lit => ExprKind::List(pair.into_inner().map(|e| self.expr(e)).collect()),
            Rule::object_lit => return self.object_lit(pair),
            rule => unreachable!("unexpected primary rule: {rule:?}"),
        };
        Expr { kind, span }
    }

    fn object_lit(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let entries = pair
            .into_inner()
            .map(|entry| {
                let mut e = entry.into_inner();
                let key = self.field_name(e.next().expect("key"), NameRole::Key);
                let value = self.expr(e.next().expect("value"));
                (key, value)
            })
            .collect();
        Expr {
            kind: ExprKind::Object(entries),
            span,
        }
    }
}
