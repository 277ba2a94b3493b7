//! Evaluates the compiled graph's expressions and texts (COMPILED_GRAPH.md,
//! "Expressions and text") against a run's values. No parser: the tree is JSON.

use crate::clock::Clock;
use crate::program::{Program, Root};
use flow_graph::{Expr, Op, Text, TextPart};
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// The values an expression may read.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// `$.vars`: an object of inputs and variables.
    pub vars: &'a Value,
    /// `$.result`, in an action's `set` lines and exits.
    pub result: Option<&'a Value>,
    /// `$.params`, inside a tool.
    pub params: Option<&'a Value>,
    /// `$.secrets`, inside a tool.
    pub secrets: Option<&'a Value>,
    /// Where `today` reads the time.
    pub clock: &'a dyn Clock,
}

impl<'a> Scope<'a> {
    /// A scope of the variables only.
    pub fn vars(vars: &'a Value, clock: &'a dyn Clock) -> Scope<'a> {
        Scope {
            vars,
            result: None,
            params: None,
            secrets: None,
            clock,
        }
    }
}

pub use crate::eval_error::EvalError;

/// Evaluates an expression.
pub fn eval(program: &Program, e: &Expr, scope: Scope<'_>) -> Result<Value, EvalError> {
    match e {
        Expr::Path { path } => read_path(program, path, scope),
        Expr::Lit { lit } => Ok(lit.clone()),
        Expr::List { list } => list
            .iter()
            .map(|x| eval(program, x, scope))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Expr::Object { object } => {
            let mut map = Map::with_capacity(object.len());
            for (k, x) in object {
                map.insert(k.clone(), eval(program, x, scope)?);
            }
            Ok(Value::Object(map))
        }
        Expr::Template { template } => render(program, template, scope).map(Value::String),
        Expr::Call { call, args } => {
            let args = args
                .iter()
                .map(|x| eval(program, x, scope))
                .collect::<Result<Vec<_>, _>>()?;
            call_builtin(program, call, &args, scope.clock)
        }
        Expr::Op { op, args } => eval_op(program, *op, args, scope),
    }
}

/// Evaluates a condition, which must be a boolean.
pub fn eval_bool(program: &Program, e: &Expr, scope: Scope<'_>) -> Result<bool, EvalError> {
    match eval(program, e, scope)? {
        Value::Bool(b) => Ok(b),
        other => Err(EvalError::Type(format!(
            "a condition gave {}, not true or false",
            kind_of(&other)
        ))),
    }
}

/// Fills a text's templates.
pub fn render(program: &Program, text: &Text, scope: Scope<'_>) -> Result<String, EvalError> {
    let mut out = String::new();
    for part in text {
        match part {
            TextPart::Text { text } => out.push_str(text),
            TextPart::Expr { expr } => out.push_str(&show(&eval(program, expr, scope)?)),
        }
    }
    Ok(out)
}

/// A value shown in text: strings as they are, `null` as nothing, the rest as JSON.
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn read_path(program: &Program, path: &str, scope: Scope<'_>) -> Result<Value, EvalError> {
    let compiled = program
        .path(path)
        .ok_or_else(|| EvalError::Unprepared(format!("path `{path}`")))?;
    let base = match compiled.root {
        Root::Vars => Some(scope.vars),
        Root::Result => scope.result,
        Root::Params => scope.params,
        Root::Secrets => scope.secrets,
    };
    let Some(base) = base else { return Ok(Value::Null) };
    Ok(match &compiled.query {
        None => base.clone(),
        Some(q) => q.query(base).first().cloned().unwrap_or(Value::Null),
    })
}

fn eval_op(program: &Program, op: Op, args: &[Expr], scope: Scope<'_>) -> Result<Value, EvalError> {
    let arg = |i: usize| -> Result<Value, EvalError> {
        let e = args
            .get(i)
            .ok_or_else(|| EvalError::MissingOperand { op: op.as_str().into() })?;
        eval(program, e, scope)
    };
    match op {
        Op::Coalesce => {
            for e in args {
                let v = eval(program, e, scope)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Ok(Value::Null)
        }
        Op::And | Op::Or => {
            for e in args {
                match eval(program, e, scope)? {
                    Value::Bool(b) if b == (op == Op::Or) => return Ok(Value::Bool(b)),
                    Value::Bool(_) => {}
                    other => {
                        return Err(EvalError::Type(format!(
                            "`{}` needs true or false, got {}",
                            op.as_str(),
                            kind_of(&other)
                        )));
                    }
                }
            }
            Ok(Value::Bool(op == Op::And))
        }
        Op::Not => match arg(0)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            other => Err(EvalError::Type(format!(
                "`not` needs true or false, got {}",
                kind_of(&other)
            ))),
        },
        Op::Neg => match arg(0)? {
            Value::Number(n) => Ok(negate(&n)),
            other => Err(EvalError::Type(format!("`-` needs a number, got {}", kind_of(&other)))),
        },
        Op::Get => Ok(get(&arg(0)?, &arg(1)?)),
        Op::Eq => Ok(Value::Bool(equal(&arg(0)?, &arg(1)?))),
        Op::Ne => Ok(Value::Bool(!equal(&arg(0)?, &arg(1)?))),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let (a, b) = (arg(0)?, arg(1)?);
            let ord = compare(&a, &b)
                .ok_or_else(|| EvalError::Type(format!("cannot order {} and {}", kind_of(&a), kind_of(&b))))?;
            Ok(Value::Bool(match op {
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                Op::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        Op::In => {
            let (needle, hay) = (arg(0)?, arg(1)?);
            match (&needle, &hay) {
                (_, Value::Array(items)) => Ok(Value::Bool(items.iter().any(|x| equal(x, &needle)))),
                (Value::String(n), Value::String(h)) => Ok(Value::Bool(h.contains(n.as_str()))),
                _ => Err(EvalError::Type(format!(
                    "`in` cannot look for {} in {}",
                    kind_of(&needle),
                    kind_of(&hay)
                ))),
            }
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem => {
            let (a, b) = (arg(0)?, arg(1)?);
            arithmetic(op, &a, &b)
        }
    }
}

fn arithmetic(op: Op, a: &Value, b: &Value) -> Result<Value, EvalError> {
    if op == Op::Add
        && let (Value::String(x), Value::String(y)) = (a, b)
    {
        return Ok(Value::String(format!("{x}{y}")));
    }
    let (Value::Number(x), Value::Number(y)) = (a, b) else {
        return Err(EvalError::Type(format!(
            "`{}` needs two numbers, got {} and {}",
            op.as_str(),
            kind_of(a),
            kind_of(b)
        )));
    };
    if op != Op::Div
        && let (Some(i), Some(j)) = (x.as_i64(), y.as_i64())
    {
        let exact = match op {
            Op::Add => i.checked_add(j),
            Op::Sub => i.checked_sub(j),
            Op::Mul => i.checked_mul(j),
            _ if j == 0 => return Err(EvalError::RemainderByZero),
            _ => i.checked_rem(j),
        };
        if let Some(v) = exact {
            return Ok(Value::from(v));
        }
    }
    let (i, j) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
    if matches!(op, Op::Div | Op::Rem) && j == 0.0 {
        return Err(EvalError::DivisionByZero);
    }
    let v = match op {
        Op::Add => i + j,
        Op::Sub => i - j,
        Op::Mul => i * j,
        Op::Div => i / j,
        _ => i % j,
    };
    Number::from_f64(v)
        .map(Value::Number)
        .ok_or_else(|| EvalError::Overflow { op: op.as_str().into() })
}

fn negate(n: &Number) -> Value {
    match n.as_i64().and_then(i64::checked_neg) {
        Some(i) => Value::from(i),
        None => Number::from_f64(-n.as_f64().unwrap_or(0.0)).map_or(Value::Null, Value::Number),
    }
}

/// A field (string key) or element (integer index) of a value; `null` when absent.
pub fn get(base: &Value, key: &Value) -> Value {
    match (base, key) {
        (Value::Object(m), Value::String(k)) => m.get(k).cloned().unwrap_or(Value::Null),
        (Value::Array(items), Value::Number(n)) => n
            .as_u64()
            .and_then(|i| items.get(usize::try_from(i).ok()?))
            .cloned()
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Equality where `1` and `1.0` are the same number.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => Some(i.cmp(&j)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn call_builtin(program: &Program, name: &str, args: &[Value], clock: &dyn Clock) -> Result<Value, EvalError> {
    match (name, args) {
        ("matches", [Value::String(s), Value::String(pattern)]) => match program.pattern(pattern) {
            Some(regex) => Ok(Value::Bool(regex.is_match(s))),
            None => Err(EvalError::Unprepared(format!("the pattern {pattern:?}"))),
        },
        ("today", [Value::String(zone)]) => crate::clock::today(clock, zone).map(Value::String),
        ("add_days", [Value::String(date), Value::Number(n)]) => {
            let days = n
                .as_i64()
                .ok_or_else(|| EvalError::Date(format!("`add_days` takes a whole number of days, not {n}")))?;
            let span = jiff::Span::new()
                .try_days(days)
                .map_err(|_| EvalError::Date(format!("`add_days`: {days} days is too many")))?;
            let day = parse_date("add_days", date)?.checked_add(span).map_err(|_| {
                EvalError::Date(format!("`add_days`: {date} + {days} days is out of the range of dates"))
            })?;
            Ok(Value::String(day.to_string()))
        }
        ("days_between", [Value::String(a), Value::String(b)]) => {
            let (from, to) = (parse_date("days_between", a)?, parse_date("days_between", b)?);
            let span = from
                .until(to)
                .map_err(|e| EvalError::Date(format!("`days_between`: from {a} to {b}: {e}")))?;
            Ok(Value::from(span.get_days()))
        }
        ("len", [Value::String(s)]) => Ok(Value::from(s.chars().count())),
        ("len", [Value::Array(items)]) => Ok(Value::from(items.len())),
        ("lower", [Value::String(s)]) => Ok(Value::String(s.to_lowercase())),
        ("upper", [Value::String(s)]) => Ok(Value::String(s.to_uppercase())),
        ("contains", [Value::String(h), Value::String(n)]) => Ok(Value::Bool(h.contains(n.as_str()))),
        ("contains", [Value::Array(items), x]) => Ok(Value::Bool(items.iter().any(|i| equal(i, x)))),
        _ => {
            let kinds: Vec<&str> = args.iter().map(kind_of).collect();
            Err(EvalError::Type(format!("`{name}` cannot take ({})", kinds.join(", "))))
        }
    }
}

/// A date written `YYYY-MM-DD` (and nothing else); the error names the value.
fn parse_date(function: &str, text: &str) -> Result<jiff::civil::Date, EvalError> {
    let bad = || EvalError::Date(format!("`{function}`: {text:?} is not a date written YYYY-MM-DD"));
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<i16>().map_err(|_| bad());
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let month = i8::try_from(month).map_err(|_| bad())?;
    let day = i8::try_from(day).map_err(|_| bad())?;
    jiff::civil::Date::new(year, month, day).map_err(|_| bad())
}

/// A value's JSON kind, for error messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Shows an expression as `.flow` source, for `flow inspect` and traces.
pub fn display(e: &Expr) -> String {
    match e {
        Expr::Path { path } => display_path(path),
        Expr::Lit { lit } => lit.to_string(),
        Expr::List { list } => format!("[{}]", list.iter().map(display).collect::<Vec<_>>().join(", ")),
        Expr::Object { object } => {
            let entries: Vec<String> = object.iter().map(|(k, v)| format!("{k}: {}", display(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
        Expr::Template { template } => format!("\"{}\"", display_text(template)),
        Expr::Call { call, args } => format!("{call}({})", args.iter().map(display).collect::<Vec<_>>().join(", ")),
        Expr::Op { op, args } => match (op, args.as_slice()) {
            (Op::Not, [a]) => format!("not {}", display(a)),
            (Op::Neg, [a]) => format!("-{}", display(a)),
            (Op::Get, [a, Expr::Lit { lit: Value::String(k) }]) => format!("({}).{k}", display(a)),
            (Op::Get, [a, k]) => format!("({})[{}]", display(a), display(k)),
            (op, args) => {
                let parts: Vec<String> = args.iter().map(display_operand).collect();
                parts.join(&format!(" {} ", op.as_str()))
            }
        },
    }
}

fn display_operand(e: &Expr) -> String {
    match e {
        Expr::Op { op, .. } if !matches!(op, Op::Get | Op::Neg) => format!("({})", display(e)),
        _ => display(e),
    }
}

fn display_path(path: &str) -> String {
    let rest = path.strip_prefix("$.").unwrap_or(path);
    let shown = if let Some(r) = rest.strip_prefix("vars.") {
        r.to_string()
    } else if let Some(r) = rest.strip_prefix("params.") {
        r.to_string()
    } else if let Some(r) = rest.strip_prefix("params") {
        r.trim_start_matches('.').to_string()
    } else if let Some(r) = rest.strip_prefix("secrets.") {
        format!("secret.{r}")
    } else {
        rest.to_string()
    };
    quoted_members(&shown)
}

/// `a['page-size']` shown as source: `a."page-size"`.
fn quoted_members(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(at) = rest.find("['") {
        out.push_str(&rest[..at]);
        let mut name = String::new();
        let mut chars = rest[at + 2..].char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, e)) = chars.next() {
                        name.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                    }
                }
                '\'' => {
                    end = Some(at + 2 + i + 2);
                    break;
                }
                c => name.push(c),
            }
        }
        let Some(end) = end.filter(|e| *e <= rest.len()) else {
            out.push_str(&rest[at..]);
            return out;
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&Value::String(name).to_string());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Shows a text with its templates as `{{ expr }}` placeholders.
pub fn display_text(text: &Text) -> String {
    let mut out = String::new();
    for part in text {
        match part {
            TextPart::Text { text } => out.push_str(text),
            TextPart::Expr { expr } => {
                out.push_str("{{");
                out.push_str(&display(expr));
                out.push_str("}}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A program whose only node's message holds `exprs`, so their paths are prepared.
    fn program_with(exprs: &[Expr]) -> Program {
        let parts: Vec<Value> = exprs.iter().map(|e| json!({ "expr": e })).collect();
        let graph = json!({
            "schema_version": 1,
            "workflow": {"name": "t", "title": null, "instructions": null, "max_steps": 10,
                         "default_model": null, "source": {"file": "t.flow", "sha256": ""}},
            "start": "s", "models": {}, "types": {}, "variables": [], "secrets": [],
            "knowledge_bases": {}, "tools": [],
            "nodes": [{"type": "say", "id": "s", "span": null, "exits": [], "message": parts}],
            "edges": [], "global_exits": []
        });
        Program::from_json(&graph.to_string()).unwrap()
    }

    fn e(v: Value) -> Expr {
        serde_json::from_value(v).unwrap()
    }

    fn run(expr: Value, vars: Value) -> Result<Value, EvalError> {
        let expr = e(expr);
        let program = program_with(std::slice::from_ref(&expr));
        eval(&program, &expr, Scope::vars(&vars, &crate::clock::SystemClock))
    }

    #[test]
    fn paths_read_vars_and_missing_values_are_null() {
        let vars = json!({"order": {"id": "A1", "items": [{"sku": "x"}]}, "n": null});
        assert_eq!(run(json!({"path": "$.vars.order.id"}), vars.clone()), Ok(json!("A1")));
        assert_eq!(
            run(json!({"path": "$.vars.order.items[0].sku"}), vars.clone()),
            Ok(json!("x"))
        );
        assert_eq!(run(json!({"path": "$.vars.n.id"}), vars.clone()), Ok(Value::Null));
        assert_eq!(run(json!({"path": "$.vars.nope"}), vars.clone()), Ok(Value::Null));
        assert_eq!(run(json!({"path": "$.result.x"}), vars), Ok(Value::Null));
    }

    #[test]
    fn operators_follow_the_language() {
        let v = json!({"a": 7, "b": 2, "s": "ab", "l": [1, 2], "o": null});
        let op = |op: &str, x: Value, y: Value| run(json!({"op": op, "args": [x, y]}), v.clone());
        let a = json!({"path": "$.vars.a"});
        let b = json!({"path": "$.vars.b"});
        assert_eq!(op("+", a.clone(), b.clone()), Ok(json!(9)));
        assert_eq!(op("/", a.clone(), b.clone()), Ok(json!(3.5)));
        assert_eq!(op("%", a.clone(), b.clone()), Ok(json!(1)));
        assert_eq!(op("-", b.clone(), a.clone()), Ok(json!(-5)));
        assert_eq!(op("+", json!({"lit": "x"}), json!({"lit": "y"})), Ok(json!("xy")));
        assert!(op("/", a.clone(), json!({"lit": 0})).is_err());
        assert_eq!(op("==", json!({"lit": 1}), json!({"lit": 1.0})), Ok(json!(true)));
        assert_eq!(op("<", json!({"lit": "a"}), json!({"lit": "b"})), Ok(json!(true)));
        assert_eq!(op(">=", a.clone(), json!({"lit": 7.5})), Ok(json!(false)));
        assert_eq!(
            op("in", json!({"lit": 2}), json!({"path": "$.vars.l"})),
            Ok(json!(true))
        );
        assert_eq!(
            op("in", json!({"lit": "b"}), json!({"path": "$.vars.s"})),
            Ok(json!(true))
        );
        assert_eq!(
            op("??", json!({"path": "$.vars.o"}), json!({"lit": "d"})),
            Ok(json!("d"))
        );
        assert_eq!(op("get", json!({"path": "$.vars.l"}), json!({"lit": 1})), Ok(json!(2)));
        assert_eq!(
            op("get", json!({"path": "$.vars.o"}), json!({"lit": "k"})),
            Ok(Value::Null)
        );
        // `and` stops at the first false, so a bad right side is never reached.
        assert_eq!(op("and", json!({"lit": false}), json!({"lit": 3})), Ok(json!(false)));
        assert!(op("and", json!({"lit": true}), json!({"lit": 3})).is_err());
        assert_eq!(
            op("+", json!({"lit": i64::MAX}), json!({"lit": 1})),
            Ok(json!(9.223372036854776e18))
        );
        assert_eq!(run(json!({"op": "neg", "args": [a]}), v.clone()), Ok(json!(-7)));
        assert_eq!(
            run(json!({"call": "len", "args": [{"path": "$.vars.s"}]}), v.clone()),
            Ok(json!(2))
        );
        assert_eq!(
            run(json!({"call": "upper", "args": [{"lit": "é"}]}), v.clone()),
            Ok(json!("É"))
        );
        assert_eq!(
            run(
                json!({"call": "contains", "args": [{"path": "$.vars.l"}, {"lit": 3}]}),
                v
            ),
            Ok(json!(false))
        );
    }

    #[test]
    fn texts_show_values_and_display_shows_source() {
        let text: Text = serde_json::from_value(json!([
            {"text": "Hi "}, {"expr": {"path": "$.vars.name"}}, {"text": ", "},
            {"expr": {"path": "$.vars.o"}}, {"expr": {"path": "$.vars.l"}}
        ]))
        .unwrap();
        let exprs: Vec<Expr> = text
            .iter()
            .filter_map(|p| match p {
                TextPart::Expr { expr } => Some(expr.clone()),
                TextPart::Text { .. } => None,
            })
            .collect();
        let program = program_with(&exprs);
        let vars = json!({"name": "Ana", "o": null, "l": [1, "a"]});
        assert_eq!(
            render(&program, &text, Scope::vars(&vars, &crate::clock::SystemClock)),
            Ok("Hi Ana, [1,\"a\"]".into())
        );
        let shown = display(&e(
            json!({"op": "??", "args": [{"path": "$.vars.order.id"}, {"lit": "none"}]}),
        ));
        assert_eq!(shown, "order.id ?? \"none\"");
        assert_eq!(display(&e(json!({"path": "$.secrets.KEY"}))), "secret.KEY");
    }

    #[test]
    fn matches_searches_with_the_prepared_pattern() {
        let v = json!({"code": "ab123456", "zip": "123456"});
        let call = |path: &str, pattern: &str| {
            run(
                json!({"call": "matches", "args": [{"path": path}, {"lit": pattern}]}),
                v.clone(),
            )
        };
        assert_eq!(call("$.vars.zip", r"^\d{6}$"), Ok(json!(true)));
        assert_eq!(call("$.vars.code", r"^\d{6}$"), Ok(json!(false)));
        // A search, not a whole-string match.
        assert_eq!(call("$.vars.code", r"\d{6}"), Ok(json!(true)));
        // The pattern must be a literal the program prepared.
        let program = program_with(&[]);
        let expr = e(json!({"call": "matches", "args": [{"lit": "x"}, {"lit": "x"}]}));
        assert!(eval(&program, &expr, Scope::vars(&v, &crate::clock::SystemClock)).is_err());
    }

    #[test]
    fn today_reads_the_scope_s_clock_in_the_zone() {
        let clock = crate::clock::FixedClock("2024-03-10T03:00:00Z".parse().unwrap());
        let expr = e(json!({"call": "today", "args": [{"lit": "America/New_York"}]}));
        let program = program_with(std::slice::from_ref(&expr));
        let vars = json!({});
        // 03:00 UTC is still the evening before in New York.
        assert_eq!(
            eval(&program, &expr, Scope::vars(&vars, &clock)),
            Ok(json!("2024-03-09"))
        );
        let tokyo = e(json!({"call": "today", "args": [{"lit": "Asia/Tokyo"}]}));
        let program = program_with(std::slice::from_ref(&tokyo));
        assert_eq!(
            eval(&program, &tokyo, Scope::vars(&vars, &clock)),
            Ok(json!("2024-03-10"))
        );
    }

    #[test]
    fn date_functions_count_calendar_days() {
        let v = json!({"d": "2024-02-28", "bad": "2024-02-30", "loose": "2024-2-28"});
        let add = |date: Value, days: Value| run(json!({"call": "add_days", "args": [date, days]}), v.clone());
        let d = json!({"path": "$.vars.d"});
        assert_eq!(add(d.clone(), json!({"lit": 1})), Ok(json!("2024-02-29")));
        assert_eq!(add(d.clone(), json!({"lit": 2})), Ok(json!("2024-03-01")));
        assert_eq!(add(d.clone(), json!({"lit": -59})), Ok(json!("2023-12-31")));
        assert_eq!(add(d.clone(), json!({"lit": 366})), Ok(json!("2025-02-28")));
        let bad = add(json!({"path": "$.vars.bad"}), json!({"lit": 1})).unwrap_err();
        assert!(matches!(bad, EvalError::Date(_)), "{bad:?}");
        let bad = bad.to_string();
        assert!(bad.contains("\"2024-02-30\"") && bad.contains("YYYY-MM-DD"), "{bad}");
        assert!(add(json!({"path": "$.vars.loose"}), json!({"lit": 1})).is_err());
        assert!(add(d.clone(), json!({"lit": 1.5})).is_err());
        assert!(add(json!({"lit": "9999-12-31"}), json!({"lit": 1})).is_err());
        let between = |a: &str, b: &str| {
            run(
                json!({"call": "days_between", "args": [{"lit": a}, {"lit": b}]}),
                v.clone(),
            )
        };
        assert_eq!(between("2024-02-28", "2024-03-01"), Ok(json!(2)));
        assert_eq!(between("2024-03-01", "2024-02-28"), Ok(json!(-2)));
        assert_eq!(between("2023-01-01", "2024-01-01"), Ok(json!(365)));
        assert_eq!(between("2024-01-01", "2024-01-01"), Ok(json!(0)));
        let err = between("2024-01-01", "soon").unwrap_err();
        assert!(matches!(err, EvalError::Date(_)), "{err:?}");
        let err = err.to_string();
        assert!(err.contains("\"soon\""), "{err}");
    }

    #[test]
    fn bracket_paths_read_quoted_members_and_show_as_source() {
        let vars = json!({"reply": {"number": 5, "page-size": 20, "it's": true}});
        assert_eq!(run(json!({"path": "$.vars.reply.number"}), vars.clone()), Ok(json!(5)));
        assert_eq!(
            run(json!({"path": "$.vars.reply['page-size']"}), vars.clone()),
            Ok(json!(20))
        );
        assert_eq!(run(json!({"path": "$.vars.reply['it\\'s']"}), vars), Ok(json!(true)));
        assert_eq!(
            display(&e(json!({"path": "$.vars.reply['page-size']"}))),
            "reply.\"page-size\""
        );
        assert_eq!(display(&e(json!({"path": "$.params['page-size']"}))), "\"page-size\"");
        assert_eq!(display(&e(json!({"path": "$.vars.x[0]['a b']"}))), "x[0].\"a b\"");
    }
}
