//! The builtin functions of expressions (LANGUAGE.md §6, LANGUAGE-2.md "Small
//! additions"): their arity and argument types, and the literal arguments
//! checked when compiling: the pattern of `matches` and the zone of `today`.

use super::types::{Ty, TypeTable};
use super::{Checker, Scope};
use crate::ast::*;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// The builtin functions of expressions, with their signatures.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("len", "len(string | [T]) -> int"),
    ("lower", "lower(string) -> string"),
    ("upper", "upper(string) -> string"),
    ("contains", "contains(string | [T], T) -> bool"),
    ("matches", "matches(string, PATTERN) -> bool"),
    ("today", "today(ZONE) -> string"),
    ("add_days", "add_days(string, int) -> string"),
    ("days_between", "days_between(string, string) -> int"),
];

fn stringy(t: &Ty, types: &TypeTable) -> bool {
    types.is_stringy(t)
}

/// Why `pattern` is not a regular expression the runtime can use, if it is not.
pub fn pattern_error(pattern: &str) -> Option<String> {
    if let Err(e) = regex_syntax::Parser::new().parse(pattern) {
        let (kind, span) = match &e {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), Some(*e.span())),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), Some(*e.span())),
            other => (other.to_string(), None),
        };
        let at = span
            .and_then(|s| pattern.get(s.start.offset..s.end.offset.max(s.start.offset)))
            .filter(|s| !s.is_empty())
            .map(|s| format!(", at `{s}`"))
            .unwrap_or_default();
        return Some(format!("{kind}{at}"));
    }
    match regex::Regex::new(pattern) {
        Ok(_) => None,
        Err(regex::Error::CompiledTooBig(limit)) => {
            Some(format!("the pattern is too big once compiled (over {limit} bytes)"))
        }
        Err(e) => Some(e.to_string()),
    }
}

/// Whether `zone` names a time zone of the bundled IANA database.
pub fn zone_exists(zone: &str) -> bool {
    jiff::tz::TimeZoneDatabase::bundled().get(zone).is_ok()
}

impl Checker<'_, '_> {
    /// Types a call of a builtin function (E0108 for an unknown one, E0211 for a bad pattern or zone).
    pub(super) fn call(&mut self, expr: &Expr, name: &Ident, args: &[Expr], scope: &Scope) -> Ty {
        let arg_types: Vec<Ty> = args.iter().map(|a| self.infer(a, scope)).collect();
        let arity = match name.name.as_str() {
            "len" | "lower" | "upper" | "today" => 1,
            "contains" | "matches" | "add_days" | "days_between" => 2,
            _ => {
                let best = crate::suggest::closest(&name.name, FUNCTIONS.iter().map(|(f, _)| *f));
                let mut diag = Diagnostic::new(Code::E0108, name.span, format!("unknown function `{}`", name.name))
                    .primary("no builtin of this name");
                diag = match best {
                    Some(b) => {
                        diag.help(format!("did you mean `{b}`?"))
                            .fix(format!("replace with `{b}`"), name.span, b)
                    }
                    None => {
                        let all: Vec<String> = FUNCTIONS.iter().map(|(f, _)| format!("`{f}`")).collect();
                        let (last, rest) = all.split_last().expect("there are functions");
                        diag.help(format!("the functions are {} and {last}", rest.join(", ")))
                    }
                };
                self.push(diag);
                return Ty::Error;
            }
        };
        if args.len() != arity {
            self.push(
                Diagnostic::new(
                    Code::E0201,
                    expr.span,
                    format!(
                        "`{}` takes {arity} argument{}, found {}",
                        name.name,
                        if arity == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .primary("wrong number of arguments"),
            );
            return Ty::Error;
        }
        let types = &self.program.types;
        match name.name.as_str() {
            "matches" => {
                self.operand(&args[0], &arg_types[0], "matches", stringy, "a string");
                self.pattern(&args[1]);
                Ty::Bool
            }
            "today" => {
                self.zone(&args[0]);
                Ty::String
            }
            "add_days" => {
                self.operand(
                    &args[0],
                    &arg_types[0],
                    "add_days",
                    stringy,
                    "a date string (`YYYY-MM-DD`)",
                );
                let int = |t: &Ty, types: &TypeTable| matches!(types.resolve(t), Ty::Int | Ty::Any | Ty::Error);
                self.operand(&args[1], &arg_types[1], "add_days", int, "an int (the days to add)");
                Ty::String
            }
            "days_between" => {
                for (arg, ty) in args.iter().zip(&arg_types) {
                    self.operand(arg, ty, "days_between", stringy, "date strings (`YYYY-MM-DD`)");
                }
                Ty::Int
            }
            "len" => {
                self.operand(
                    &args[0],
                    &arg_types[0],
                    "len",
                    |t, types| types.is_stringy(t) || matches!(types.resolve(t), Ty::List(_)),
                    "a string or a list",
                );
                Ty::Int
            }
            "lower" | "upper" => {
                self.operand(
                    &args[0],
                    &arg_types[0],
                    &name.name.clone(),
                    |t, types| types.is_stringy(t),
                    "a string",
                );
                Ty::String
            }
            _ => {
                match types.resolve(arg_types[0].unwrap_optional()).clone() {
                    Ty::List(item) => {
                        if arg_types[0].is_optional() {
                            self.optional_used(&args[0], &arg_types[0]);
                        } else if !self.program.types.comparable(&arg_types[1], &item) {
                            self.push(
                                Diagnostic::new(
                                    Code::E0201,
                                    args[1].span,
                                    format!("`contains` looks for {} in a list of {item}", arg_types[1]),
                                )
                                .primary("wrong type"),
                            );
                        }
                    }
                    _ => {
                        let stringy = |t: &Ty, types: &TypeTable| types.is_stringy(t);
                        self.operand(&args[0], &arg_types[0], "contains", stringy, "a string or a list");
                        self.operand(&args[1], &arg_types[1], "contains", stringy, "a string");
                    }
                }
                Ty::Bool
            }
        }
    }

    /// The pattern of `matches`: a string literal that is a valid regular expression.
    fn pattern(&mut self, arg: &Expr) {
        let ExprKind::Lit(Literal::String(pattern)) = &arg.kind else {
            self.not_literal(arg, "the pattern of `matches`", "r\"^\\d{6}$\"");
            return;
        };
        if let Some(why) = pattern_error(pattern) {
            self.push(
                Diagnostic::new(Code::E0211, arg.span, format!("invalid regular expression: {why}"))
                    .primary("not a valid pattern")
                    .help("patterns follow the Rust `regex` syntax (no look-around or back-references); write them as raw strings, `r\"...\"`, so backslashes stay as written"),
            );
        }
    }

    /// The zone of `today`: a string literal naming an IANA time zone.
    fn zone(&mut self, arg: &Expr) {
        let ExprKind::Lit(Literal::String(zone)) = &arg.kind else {
            self.not_literal(arg, "the time zone of `today`", "\"Europe/Paris\"");
            return;
        };
        if zone_exists(zone) {
            return;
        }
        let db = jiff::tz::TimeZoneDatabase::bundled();
        let names: Vec<String> = db.available().map(|n| n.as_str().to_string()).collect();
        let best = crate::suggest::closest(zone, names.iter().map(String::as_str));
        let mut diag = Diagnostic::new(Code::E0211, arg.span, format!("unknown time zone {zone:?}"))
            .primary("not an IANA time zone");
        diag = match best {
            Some(b) => {
                let quoted = format!("{b:?}");
                diag.help(format!("did you mean {quoted}?"))
                    .fix(format!("replace with {quoted}"), arg.span, quoted)
            }
            None => {
                diag.help("name a zone of the IANA database, e.g. \"UTC\", \"Europe/Paris\" or \"America/New_York\"")
            }
        };
        self.push(diag);
    }

    fn not_literal(&mut self, arg: &Expr, what: &str, example: &str) {
        self.push(
            Diagnostic::new(Code::E0211, arg.span, format!("{what} must be a string literal"))
                .primary("not a string literal")
                .help(format!(
                    "it is checked when compiling: write it in place, e.g. `{example}`"
                )),
        );
    }
}
