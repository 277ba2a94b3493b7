//! Typing expressions and templates (LANGUAGE.md §6): strict optionals with
//! narrowing inside one expression, operators, builtins, `result`, secrets.

use super::types::Ty;
use super::{Checker, Namespace, Read, Scope, VarRole};
use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use std::rc::Rc;

/// A path written as `a.b.c`, used as the key of narrowing.
pub(super) fn path_key(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(n) => Some(n.name.clone()),
        ExprKind::Result => Some("result".into()),
        ExprKind::Field { base, field, .. } => Some(format!("{}.{}", path_key(base)?, field.name)),
        _ => None,
    }
}

/// The paths `expr` proves present when it is true (`want_true`) or false.
fn null_tests(expr: &Expr, want_true: bool, out: &mut Vec<String>) {
    match &expr.kind {
        ExprKind::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b) => {
            let path = match (&a.kind, &b.kind) {
                (_, ExprKind::Lit(Literal::Null)) => a,
                (ExprKind::Lit(Literal::Null), _) => b,
                _ => return,
            };
            let proves_present = (*op == BinOp::Ne) == want_true;
            if proves_present && let Some(key) = path_key(path) {
                out.push(key);
            }
        }
        ExprKind::Binary(BinOp::And, a, b) if want_true => {
            null_tests(a, true, out);
            null_tests(b, true, out);
        }
        ExprKind::Binary(BinOp::Or, a, b) if !want_true => {
            null_tests(a, false, out);
            null_tests(b, false, out);
        }
        ExprKind::Unary(UnOp::Not, inner) => null_tests(inner, !want_true, out),
        _ => {}
    }
}

impl Checker<'_, '_> {
    /// Checks `expr` against an expected type (E0201, or E0202 for an optional).
    pub(crate) fn expect(&mut self, expr: &Expr, expected: &Ty, scope: &Scope, what: &str) -> Ty {
        let found = self.infer(expr, scope);
        self.expect_found(expr, &found, expected, what);
        found
    }

    /// Reports `found` not fitting `expected`.
    pub(crate) fn expect_found(&mut self, expr: &Expr, found: &Ty, expected: &Ty, what: &str) {
        let types = &self.program.types;
        if types.assignable(found, expected) {
            return;
        }
        if found.is_optional() && types.assignable(found.unwrap_optional(), expected) {
            self.optional_used(expr, found);
            return;
        }
        let message = match (types.resolve(expected), types.resolve(found)) {
            (Ty::Union(items), Ty::Union(lits)) if lits.len() == 1 => {
                format!("{what}: {:?} is not one of {}", lits[0], Ty::Union(items.clone()))
            }
            _ => format!("{what}: expected {expected}, found {found}"),
        };
        self.push(
            Diagnostic::new(Code::E0201, expr.span, message)
                .primary(format!("this is {found}"))
                .help(format!("give a value of type {expected}")),
        );
    }

    pub(super) fn optional_used(&mut self, expr: &Expr, found: &Ty) {
        let name = path_key(expr).unwrap_or_else(|| "this value".into());
        self.push(
            Diagnostic::new(
                Code::E0202,
                expr.span,
                format!("`{name}` is optional ({found}) and may be null here"),
            )
            .primary("may be null")
            .help(format!(
                "use `{name} ?? default`, read a field with `?.`, or test `{name} != null and ...` first"
            )),
        );
    }

    /// The type of an expression, reporting what is wrong in it.
    pub(crate) fn infer(&mut self, expr: &Expr, scope: &Scope) -> Ty {
        match &expr.kind {
            ExprKind::Error => Ty::Error,
            ExprKind::Lit(Literal::Number(_, true)) => Ty::Int,
            ExprKind::Lit(Literal::Number(_, false)) => Ty::Number,
            ExprKind::Lit(Literal::String(s)) => Ty::Union(Rc::from(vec![s.clone()])),
            ExprKind::Lit(Literal::Bool(_)) => Ty::Bool,
            ExprKind::Lit(Literal::Null) => Ty::Null,
            ExprKind::Template(text) => {
                if scope.params.is_some() {
                    self.template_text(text, scope);
                } else {
                    self.literal_text(text, "a string in an expression");
                }
                Ty::String
            }
            ExprKind::Name(name) => self.name(name, scope),
            ExprKind::Result => match &scope.result {
                Some(ty) => ty.clone(),
                // A variable wrongly named `result` (E0006 at its declaration): read it, without a cascade.
                None if self.program.vars.contains_key("result") => Ty::Any,
                None => {
                    self.push(
                        Diagnostic::new(Code::E0206, expr.span, "`result` is used outside an action with a `call`")
                            .primary("no tool result here")
                            .help("`result` is the tool's return value: use it in the `set` lines and exits of an action that has a `call`"),
                    );
                    Ty::Error
                }
            },
            ExprKind::Secret(name) => self.secret(expr, name, scope),
            ExprKind::Field { base, field, optional } => {
                let base_ty = self.infer(base, scope);
                let key = path_key(base);
                let narrowed = key.as_ref().is_some_and(|k| self.narrowed.contains(k));
                let mut present = base_ty.clone();
                if base_ty.is_optional() {
                    if *optional || narrowed {
                        present = base_ty.unwrap_optional().clone();
                    } else {
                        self.optional_used(base, &base_ty);
                        return Ty::Error;
                    }
                }
                let field_ty = self.field_type(&present, field);
                if *optional && base_ty.is_optional() && !narrowed {
                    field_ty.optional()
                } else {
                    field_ty
                }
            }
            ExprKind::Index(base, index) => {
                let base_ty = self.infer(base, scope);
                let index_ty = self.infer(index, scope);
                let narrowed = path_key(base).is_some_and(|k| self.narrowed.contains(&k));
                if base_ty.is_optional() && !narrowed {
                    self.optional_used(base, &base_ty);
                    return Ty::Error;
                }
                let resolved = self.program.types.resolve(base_ty.unwrap_optional()).clone();
                match resolved {
                    Ty::List(item) => {
                        self.expect_found(index, &index_ty, &Ty::Int, "a list index");
                        (*item).clone().optional()
                    }
                    Ty::Any | Ty::Error => Ty::Any,
                    other => {
                        self.push(
                            Diagnostic::new(Code::E0207, expr.span, format!("`[...]` takes a list, not {other}"))
                                .primary("indexed here")
                                .help("index lists only; read an object's field with `.field`"),
                        );
                        Ty::Error
                    }
                }
            }
            ExprKind::Unary(op, inner) => {
                let ty = self.infer(inner, scope);
                match op {
                    UnOp::Not => {
                        self.operand(
                            inner,
                            &ty,
                            "not",
                            |t, types| matches!(types.resolve(t), Ty::Bool | Ty::Any | Ty::Error),
                            "bool",
                        );
                        Ty::Bool
                    }
                    UnOp::Neg => {
                        self.operand(inner, &ty, "-", |t, types| types.is_numeric(t), "a number");
                        if matches!(self.program.types.resolve(&ty), Ty::Int) {
                            Ty::Int
                        } else {
                            Ty::Number
                        }
                    }
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(expr, *op, a, b, scope),
            ExprKind::List(items) => {
                let mut item_ty: Option<Ty> = None;
                for item in items {
                    let ty = self.infer(item, scope);
                    item_ty = Some(match item_ty {
                        None => ty,
                        Some(prev) => self.join(&prev, &ty).unwrap_or_else(|| {
                            self.push(
                                Diagnostic::new(
                                    Code::E0201,
                                    item.span,
                                    format!("list items differ: expected {prev}, found {ty}"),
                                )
                                .primary(format!("this is {ty}"))
                                .help("every item of a list has one type"),
                            );
                            prev
                        }),
                    });
                }
                Ty::List(Rc::new(item_ty.unwrap_or(Ty::Any)))
            }
            ExprKind::Object(entries) => {
                let mut fields: Vec<(String, Ty)> = Vec::new();
                for (key, value) in entries {
                    let ty = self.infer(value, scope);
                    if fields.iter().any(|(k, _)| *k == key.name) {
                        self.push(
                            Diagnostic::new(Code::E0101, key.span, format!("the key `{}` is given twice", key.name))
                                .primary("given again here"),
                        );
                        continue;
                    }
                    fields.push((key.name.clone(), ty));
                }
                Ty::Object(Rc::from(fields))
            }
            ExprKind::Call(name, args) => self.call(expr, name, args, scope),
        }
    }

    fn name(&mut self, name: &Ident, scope: &Scope) -> Ty {
        if let Some(params) = &scope.params {
            if let Some((_, ty)) = params.iter().find(|(p, _)| *p == name.name) {
                return ty.clone();
            }
            let mut diag = Diagnostic::new(Code::E0103, name.span, format!("unknown variable `{}`", name.name))
                .primary("not a parameter of this tool");
            if let Some(best) = crate::suggest::closest(&name.name, params.iter().map(|(p, _)| p.as_str())) {
                diag =
                    diag.help(format!("did you mean `{best}`?"))
                        .fix(format!("replace with `{best}`"), name.span, best);
            } else if self.program.vars.contains_key(&name.name) {
                diag = diag.help(format!(
                    "a tool sees only its parameters: add a parameter `{}` and pass the value in the `call`",
                    name.name
                ));
            }
            self.push(diag);
            return Ty::Error;
        }
        match self.program.vars.get(&name.name) {
            Some(var) if var.role == VarRole::Secret => {
                self.mention(Namespace::Variable, &name.name);
                let text = format!("secret.{}", name.name);
                self.push(
                    Diagnostic::new(
                        Code::E0103,
                        name.span,
                        format!("`{}` is a secret, not a variable", name.name),
                    )
                    .primary("a secret's bare name")
                    .help(format!(
                        "refer to a secret as `{text}`, and only in a tool's url, headers or body"
                    ))
                    .fix(format!("replace with `{text}`"), name.span, text.clone()),
                );
                Ty::Error
            }
            Some(var) => {
                let ty = var.ty.clone();
                let tracked = var.tracked();
                self.mention(Namespace::Variable, &name.name);
                if tracked && let Some(node) = scope.node {
                    self.program.reads.push(Read {
                        node,
                        var: name.name.clone(),
                        span: name.span,
                        after_sets: scope.after_sets,
                    });
                }
                if self.narrowed.contains(&name.name) {
                    return ty.unwrap_optional().clone();
                }
                ty
            }
            None => {
                let candidates = self.var_names(|role| role != VarRole::Secret);
                self.unknown(Code::E0103, "variable", name, candidates);
                Ty::Error
            }
        }
    }

    fn secret(&mut self, expr: &Expr, name: &Ident, scope: &Scope) -> Ty {
        match self.program.vars.get(&name.name) {
            Some(var) if var.role == VarRole::Secret => {
                self.mention(Namespace::Variable, &name.name);
            }
            _ => {
                let candidates = self.var_names(|role| role == VarRole::Secret);
                self.unknown(Code::E0111, "secret", name, candidates);
            }
        }
        if let Some(place) = scope.secret_place {
            self.push(
                Diagnostic::new(
                    Code::E0401,
                    expr.span,
                    format!(
                        "the secret `{}` is used in {place}, where it would reach a model or a person",
                        name.name
                    ),
                )
                .primary("secret used here")
                .help("secrets belong only in a tool's `http` url, `header` values and `body`"),
            );
        }
        Ty::String
    }

    fn field_type(&mut self, base: &Ty, field: &Ident) -> Ty {
        match self.program.types.resolve(base).clone() {
            Ty::Object(fields) => match fields.iter().find(|(n, _)| *n == field.name) {
                Some((_, ty)) => ty.clone(),
                None => {
                    let best = crate::suggest::closest(&field.name, fields.iter().map(|(n, _)| n.as_str()));
                    let mut diag =
                        Diagnostic::new(Code::E0203, field.span, format!("{base} has no field `{}`", field.name))
                            .primary("no such field");
                    diag = match best {
                        Some(b) => {
                            let b = crate::syntax::reserved::name_source(b);
                            diag.help(format!("did you mean `{b}`?"))
                                .fix(format!("replace with `{b}`"), field.span, b)
                        }
                        None => {
                            let names: Vec<String> = fields.iter().map(|(n, _)| format!("`{n}`")).collect();
                            diag.help(format!("its fields are {}", names.join(", ")))
                        }
                    };
                    self.push(diag);
                    Ty::Error
                }
            },
            Ty::Any | Ty::Error => Ty::Any,
            other => {
                self.push(
                    Diagnostic::new(
                        Code::E0203,
                        field.span,
                        format!("{other} has no field `{}`", field.name),
                    )
                    .primary("no such field")
                    .help("only objects have fields"),
                );
                Ty::Error
            }
        }
    }

    /// Checks one operand of an operator (E0207, or E0202 for an optional).
    pub(super) fn operand(
        &mut self,
        expr: &Expr,
        ty: &Ty,
        op: &str,
        accepts: impl Fn(&Ty, &super::types::TypeTable) -> bool,
        wanted: &str,
    ) -> bool {
        let narrowed = path_key(expr).is_some_and(|k| self.narrowed.contains(&k));
        if ty.is_optional() && !narrowed {
            if accepts(ty.unwrap_optional(), &self.program.types) {
                self.optional_used(expr, ty);
            } else {
                self.bad_operand(expr, ty, op, wanted);
            }
            return false;
        }
        if !accepts(ty.unwrap_optional(), &self.program.types) {
            self.bad_operand(expr, ty, op, wanted);
            return false;
        }
        true
    }

    fn bad_operand(&mut self, expr: &Expr, ty: &Ty, op: &str, wanted: &str) {
        self.push(
            Diagnostic::new(Code::E0207, expr.span, format!("`{op}` takes {wanted}, not {ty}"))
                .primary(format!("this is {ty}"))
                .help(format!("give `{op}` {wanted}")),
        );
    }

    fn binary(&mut self, expr: &Expr, op: BinOp, a: &Expr, b: &Expr, scope: &Scope) -> Ty {
        let ta = self.infer(a, scope);
        // The right side of `and` sees what the left proves true; of `or`, what it proves false.
        let mut facts = Vec::new();
        match op {
            BinOp::And => null_tests(a, true, &mut facts),
            BinOp::Or => null_tests(a, false, &mut facts),
            _ => {}
        }
        let pushed = facts.len();
        self.narrowed.extend(facts);
        let tb = self.infer(b, scope);
        self.narrowed.truncate(self.narrowed.len() - pushed);
        let types = &self.program.types;
        match op {
            BinOp::Coalesce => {
                let left = ta.unwrap_optional().clone();
                if types.assignable(tb.unwrap_optional(), &left) {
                    if tb.is_optional() { left.optional() } else { left }
                } else if types.assignable(&left, tb.unwrap_optional()) {
                    tb
                } else if types.is_stringy(&left) && types.is_stringy(&tb) {
                    Ty::String
                } else {
                    self.push(
                        Diagnostic::new(Code::E0201, b.span, format!("`??` gives {tb} where {left} is expected"))
                            .primary(format!("this is {tb}"))
                            .help(format!("the fallback of `??` has the type of the left side: {left}")),
                    );
                    left
                }
            }
            BinOp::And | BinOp::Or => {
                let is_bool = |t: &Ty, types: &super::types::TypeTable| {
                    matches!(types.resolve(t), Ty::Bool | Ty::Any | Ty::Error)
                };
                self.operand(a, &ta, op.as_str(), is_bool, "bool");
                self.operand(b, &tb, op.as_str(), is_bool, "bool");
                Ty::Bool
            }
            BinOp::Eq | BinOp::Ne => {
                self.compare_equal(expr, a, &ta, b, &tb);
                Ty::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let both_numbers = types.is_numeric(ta.unwrap_optional()) && types.is_numeric(tb.unwrap_optional());
                let both_strings = types.is_stringy(ta.unwrap_optional()) && types.is_stringy(tb.unwrap_optional());
                if both_numbers || both_strings {
                    let accepts = |t: &Ty, types: &super::types::TypeTable| types.is_numeric(t) || types.is_stringy(t);
                    self.operand(a, &ta, op.as_str(), accepts, "two numbers or two strings");
                    self.operand(b, &tb, op.as_str(), accepts, "two numbers or two strings");
                } else {
                    let bad = if types.is_numeric(ta.unwrap_optional()) || types.is_stringy(ta.unwrap_optional()) {
                        (b, &tb)
                    } else {
                        (a, &ta)
                    };
                    self.bad_operand(bad.0, bad.1, op.as_str(), "two numbers or two strings");
                }
                Ty::Bool
            }
            BinOp::In => {
                let right = types.resolve(tb.unwrap_optional()).clone();
                if tb.is_optional() && !path_key(b).is_some_and(|k| self.narrowed.contains(&k)) {
                    self.optional_used(b, &tb);
                    return Ty::Bool;
                }
                match right {
                    Ty::List(item) => {
                        if !self.program.types.comparable(&ta, &item) {
                            self.push(
                                Diagnostic::new(
                                    Code::E0201,
                                    a.span,
                                    format!("`in` looks for {ta} in a list of {item}"),
                                )
                                .primary(format!("this is {ta}"))
                                .help(format!("look for a value of type {item}")),
                            );
                        }
                    }
                    Ty::String | Ty::Union(_) => {
                        self.operand(
                            a,
                            &ta,
                            "in",
                            |t, types| types.is_stringy(t),
                            "a string (to find in a string)",
                        );
                    }
                    Ty::Any | Ty::Error => {}
                    other => self.bad_operand(b, &other, "in", "a list or a string on its right"),
                }
                Ty::Bool
            }
            BinOp::Add
                if types.is_stringy(ta.unwrap_optional())
                    && types.is_stringy(tb.unwrap_optional())
                    && !matches!(types.resolve(&ta), Ty::Any | Ty::Error) =>
            {
                let accepts = |t: &Ty, types: &super::types::TypeTable| types.is_stringy(t);
                self.operand(a, &ta, "+", accepts, "two strings or two numbers");
                self.operand(b, &tb, "+", accepts, "two strings or two numbers");
                Ty::String
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                let wanted = if op == BinOp::Add {
                    "two numbers or two strings"
                } else {
                    "numbers"
                };
                let ok_a = self.operand(a, &ta, op.as_str(), |t, types| types.is_numeric(t), wanted);
                let ok_b = self.operand(b, &tb, op.as_str(), |t, types| types.is_numeric(t), wanted);
                let types = &self.program.types;
                let ints = matches!(types.resolve(&ta), Ty::Int) && matches!(types.resolve(&tb), Ty::Int);
                if !(ok_a && ok_b) {
                    Ty::Error
                } else if ints && op != BinOp::Div {
                    Ty::Int
                } else {
                    Ty::Number
                }
            }
        }
    }

    fn compare_equal(&mut self, expr: &Expr, a: &Expr, ta: &Ty, b: &Expr, tb: &Ty) {
        let types = &self.program.types;
        if types.comparable(ta, tb) {
            return;
        }
        // A union compared with a literal outside it.
        let (ra, rb) = (types.resolve(ta.unwrap_optional()), types.resolve(tb.unwrap_optional()));
        let message = match (ra, rb) {
            (Ty::Union(items), Ty::Union(lit)) if lit.len() == 1 => {
                Some((b, format!("{:?} is not one of {}", lit[0], Ty::Union(items.clone()))))
            }
            (Ty::Union(lit), Ty::Union(items)) if lit.len() == 1 => {
                Some((a, format!("{:?} is not one of {}", lit[0], Ty::Union(items.clone()))))
            }
            _ => None,
        };
        let (at, message) = message.unwrap_or((expr, format!("cannot compare {ta} with {tb}")));
        self.push(
            Diagnostic::new(Code::E0201, at.span, message)
                .primary("never equal")
                .help("compare values of the same type"),
        );
    }

    /// The common type of two list items, if any.
    fn join(&self, a: &Ty, b: &Ty) -> Option<Ty> {
        let types = &self.program.types;
        if let (Ty::Union(x), Ty::Union(y)) = (types.resolve(a), types.resolve(b)) {
            let mut merged: Vec<String> = x.to_vec();
            merged.extend(y.iter().filter(|s| !x.contains(s)).cloned());
            return Some(Ty::Union(Rc::from(merged)));
        }
        if types.assignable(b, a) {
            Some(a.clone())
        } else if types.assignable(a, b) {
            Some(b.clone())
        } else if types.is_stringy(a) && types.is_stringy(b) {
            Some(Ty::String)
        } else if types.is_numeric(a) && types.is_numeric(b) {
            Some(Ty::Number)
        } else {
            None
        }
    }

    /// Checks the templates of a text filled in at run time.
    pub(crate) fn template_text(&mut self, text: &Text, scope: &Scope) {
        let scope = Scope {
            template: true,
            ..scope.clone()
        };
        for part in &text.parts {
            if let TextPart::Template(Some(expr), _) = part {
                self.infer(expr, &scope);
            }
        }
    }
}
