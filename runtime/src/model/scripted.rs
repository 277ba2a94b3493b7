//! The `scripted` provider: answers read from a file written by hand, for demos
//! and tests. The format (docs/runtime.md, "Scripted answers"):
//!
//! ```text
//! # Answers are grouped by the node that asks.
//! [greet]
//! reply: Hello! What is your order number?
//! extract: {"order_id": "12345"}
//! choose: the customer has given an order number
//!
//! [report]
//! call: lookup_order {"order_id": "12345"}
//! reply: Your order has shipped.
//! choose: none
//!
//! [*]
//! reply: Could you say that again?
//!
//! [tool lookup_order]
//! result: {"id": "12345", "status": "shipped"}
//! error: the order service is down
//! ```
//!
//! The n-th request of a purpose at a node takes the n-th answer of that
//! purpose in the node's section, then those of `[*]`, whose last answer
//! repeats. Consecutive `call:` lines form one round of tool calls of a reply.
//! With nothing left, a reply fails, `choose` answers `none` and `extract`
//! finds nothing. `[tool NAME]` sections are tool results for `--stubs`.

use super::{AnswerFuture, CallError, Model, ModelAnswer, ModelRequest, Purpose};
use crate::state::ToolCallRequest;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;

pub use super::script_error::ScriptError;

/// One scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Scripted {
    /// A reply's text.
    Reply(String),
    /// One round of tool calls of a reply.
    Calls(Vec<(String, Value)>),
    /// The exit condition that holds, or `none`, and the script line that says so.
    Choose {
        /// The condition's text as written after `choose:`.
        exit: String,
        /// The line of the script (1-based), for errors.
        line: usize,
    },
    /// Extracted values.
    Extract(Value),
}

/// A stubbed tool result.
#[derive(Debug, Clone, PartialEq)]
pub enum StubResult {
    /// The tool returns this value.
    Ok(Value),
    /// The tool fails with this error.
    Err(String),
}

#[derive(Debug, Default, Clone)]
struct Queues {
    reply: Vec<Scripted>,
    choose: Vec<Scripted>,
    extract: Vec<Scripted>,
}

impl Queues {
    fn of(&self, purpose: Purpose) -> &[Scripted] {
        match purpose {
            Purpose::Reply => &self.reply,
            Purpose::ChooseExit => &self.choose,
            Purpose::Extract => &self.extract,
        }
    }
}

/// A parsed script file.
#[derive(Debug, Default, Clone)]
pub struct Script {
    nodes: HashMap<String, Queues>,
    any: Queues,
    tools: HashMap<String, Vec<StubResult>>,
}

enum Section {
    None,
    Node(String),
    Any,
    Tool(String),
}

impl Script {
    /// Reads and parses a script file.
    pub fn load(path: &Path) -> Result<Script, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScriptError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Script::parse(&text).map_err(|e| e.in_file(path))
    }

    /// Parses a script's text; an error starts with the line number.
    pub fn parse(text: &str) -> Result<Script, ScriptError> {
        let mut script = Script::default();
        let mut section = Section::None;
        let mut last_was_call = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(head) = line.strip_prefix('[') {
                let head = head
                    .strip_suffix(']')
                    .ok_or_else(|| ScriptError::syntax(n, "a section header ends with `]`".to_string()))?
                    .trim();
                section = if head == "*" {
                    Section::Any
                } else if let Some(tool) = head.strip_prefix("tool ") {
                    Section::Tool(tool.trim().to_string())
                } else if !head.is_empty() && head.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    Section::Node(head.to_string())
                } else {
                    return Err(ScriptError::syntax(
                        n,
                        format!("`[{head}]` is not a node name, `*` or `tool NAME`"),
                    ));
                };
                last_was_call = false;
                continue;
            }
            let (key, value) = line.split_once(':').ok_or_else(|| {
                ScriptError::syntax(
                    n,
                    "expected `reply:`, `call:`, `choose:`, `extract:`, `result:` or `error:`".to_string(),
                )
            })?;
            let (key, value) = (key.trim(), value.trim());
            if let Section::Tool(tool) = &section {
                let result = match key {
                    "result" => StubResult::Ok(parse_json(value, n)?),
                    "error" => StubResult::Err(unescape(value)),
                    _ => {
                        return Err(ScriptError::syntax(
                            n,
                            format!("a [tool] section holds `result:` and `error:` lines, not `{key}:`"),
                        ));
                    }
                };
                script.tools.entry(tool.clone()).or_default().push(result);
                continue;
            }
            let queues = match &section {
                Section::Node(node) => script.nodes.entry(node.clone()).or_default(),
                Section::Any => &mut script.any,
                _ => {
                    return Err(ScriptError::syntax(
                        n,
                        "an answer must follow a section header such as `[greet]` or `[*]`".to_string(),
                    ));
                }
            };
            let is_call = key == "call";
            match key {
                "reply" => queues.reply.push(Scripted::Reply(unescape(value))),
                "call" => {
                    let (name, args) = value.split_once(char::is_whitespace).unwrap_or((value, "{}"));
                    let call = (name.to_string(), parse_json(args.trim(), n)?);
                    match queues.reply.last_mut() {
                        Some(Scripted::Calls(calls)) if last_was_call => calls.push(call),
                        _ => queues.reply.push(Scripted::Calls(vec![call])),
                    }
                }
                "choose" => queues.choose.push(Scripted::Choose {
                    exit: value.to_string(),
                    line: n,
                }),
                "extract" => queues.extract.push(Scripted::Extract(parse_json(value, n)?)),
                _ => {
                    return Err(ScriptError::syntax(
                        n,
                        format!("unknown entry `{key}:`; expected `reply:`, `call:`, `choose:` or `extract:`"),
                    ));
                }
            }
            last_was_call = is_call;
        }
        Ok(script)
    }

    /// The answer for the `index`-th request of `purpose` at `node`.
    pub fn answer(&self, node: &str, purpose: Purpose, index: u32) -> Option<&Scripted> {
        let own = self.nodes.get(node).map(|q| q.of(purpose)).unwrap_or(&[]);
        let index = index as usize;
        if let Some(a) = own.get(index) {
            return Some(a);
        }
        let any = self.any.of(purpose);
        any.get(index - own.len()).or(any.last())
    }

    /// The stubbed results of a tool, if the script has a `[tool NAME]` section for it.
    pub fn tool_results(&self, tool: &str) -> Option<&[StubResult]> {
        self.tools.get(tool).map(Vec::as_slice)
    }

    /// The tools the script stubs.
    pub fn stubbed_tools(&self) -> impl Iterator<Item = &str> {
        self.tools.keys().map(String::as_str)
    }
}

fn parse_json(text: &str, line: usize) -> Result<Value, ScriptError> {
    serde_json::from_str(text).map_err(|e| ScriptError::syntax(line, format!("bad JSON: {e}")))
}

fn unescape(text: &str) -> String {
    text.replace("\\n", "\n")
}

/// The answers a `choose_exit` request offers (its `exit` enum, `none` last).
fn offered_exits(req: &ModelRequest<'_>) -> Vec<String> {
    req.functions
        .iter()
        .find(|f| f.name == "choose_exit")
        .and_then(|f| f.parameters.pointer("/properties/exit/enum"))
        .and_then(Value::as_array)
        .map(|values| values.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// A model answering from a script file.
pub struct ScriptedModel {
    name: String,
    script: Script,
}

impl ScriptedModel {
    /// Loads the script at `path`.
    pub fn load(path: &Path) -> Result<ScriptedModel, ScriptError> {
        Ok(ScriptedModel {
            name: path.display().to_string(),
            script: Script::load(path)?,
        })
    }

    /// A model answering from an already parsed script.
    pub fn new(name: &str, script: Script) -> ScriptedModel {
        ScriptedModel {
            name: name.to_string(),
            script,
        }
    }

    fn answer(&self, req: &ModelRequest<'_>) -> Result<ModelAnswer, CallError> {
        let scripted = self.script.answer(req.node, req.purpose, req.call_index);
        let call = |name: &str, arguments: Value| ToolCallRequest {
            id: format!("call_{}_{}", req.node, req.call_index),
            name: name.to_string(),
            arguments,
        };
        let answer = match (req.purpose, scripted) {
            (Purpose::Reply, Some(Scripted::Reply(text))) => ModelAnswer {
                text: Some(text.clone()),
                ..ModelAnswer::default()
            },
            (Purpose::Reply, Some(Scripted::Calls(calls))) => ModelAnswer {
                tool_calls: calls
                    .iter()
                    .enumerate()
                    .map(|(i, (name, args))| ToolCallRequest {
                        id: format!("call_{}_{}_{i}", req.node, req.call_index),
                        name: name.clone(),
                        arguments: args.clone(),
                    })
                    .collect(),
                ..ModelAnswer::default()
            },
            (Purpose::Reply, _) => {
                return Err(CallError::fatal(format!(
                    "the script has no reply left for node `{}` (add `reply:` lines under [{}] or [*])",
                    req.node, req.node
                )));
            }
            (Purpose::ChooseExit, Some(Scripted::Choose { exit, line })) => {
                let offered = offered_exits(req);
                if !offered.iter().any(|o| o == exit) {
                    let list = offered
                        .iter()
                        .map(|o| format!("\"{o}\""))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(CallError::fatal(format!(
                        "{}:{line}: `choose: {exit}` is not a condition offered at `{}`; offered: {list}",
                        self.name, req.node
                    )));
                }
                ModelAnswer {
                    tool_calls: vec![call("choose_exit", json!({ "exit": exit }))],
                    ..ModelAnswer::default()
                }
            }
            (Purpose::ChooseExit, _) => ModelAnswer {
                tool_calls: vec![call("choose_exit", json!({ "exit": "none" }))],
                ..ModelAnswer::default()
            },
            (Purpose::Extract, Some(Scripted::Extract(values))) => ModelAnswer {
                tool_calls: vec![call("extract", values.clone())],
                ..ModelAnswer::default()
            },
            (Purpose::Extract, _) => ModelAnswer {
                tool_calls: vec![call("extract", json!({}))],
                ..ModelAnswer::default()
            },
        };
        Ok(answer)
    }
}

impl Model for ScriptedModel {
    fn provider(&self) -> &str {
        "scripted"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn complete<'a>(&'a self, request: &'a ModelRequest<'a>) -> AnswerFuture<'a> {
        let answer = self.answer(request);
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_by_node_then_any_with_the_last_repeating() {
        let script = Script::parse(
            "[greet]\nreply: one\nreply: two\n[*]\nreply: again\nreply: last\nchoose: none\n[tool t]\nresult: 1\nerror: down\n",
        )
        .unwrap();
        let reply = |i| match script.answer("greet", Purpose::Reply, i) {
            Some(Scripted::Reply(t)) => t.clone(),
            other => format!("{other:?}"),
        };
        assert_eq!(reply(0), "one");
        assert_eq!(reply(1), "two");
        assert_eq!(reply(2), "again");
        assert_eq!(reply(3), "last");
        assert_eq!(reply(9), "last");
        assert_eq!(script.tool_results("t").map(<[_]>::len), Some(2));
    }

    #[test]
    fn groups_consecutive_calls_into_one_round() {
        let script = Script::parse("[a]\ncall: x {\"k\": 1}\ncall: y\nreply: done\ncall: z {}\n").unwrap();
        assert!(matches!(script.answer("a", Purpose::Reply, 0), Some(Scripted::Calls(c)) if c.len() == 2));
        assert!(matches!(
            script.answer("a", Purpose::Reply, 1),
            Some(Scripted::Reply(_))
        ));
        assert!(matches!(script.answer("a", Purpose::Reply, 2), Some(Scripted::Calls(c)) if c.len() == 1));
    }

    #[test]
    fn errors_name_the_line() {
        let err = Script::parse("[a]\nreply: ok\nsmile: x\n").unwrap_err();
        assert!(matches!(err, ScriptError::Syntax { line: 3, .. }), "{err:?}");
        assert!(err.to_string().starts_with("3: unknown entry `smile:`"), "{err}");
        let err = Script::parse("reply: x\n").unwrap_err();
        assert!(err.to_string().starts_with("1: an answer must follow"), "{err}");
        let err = Script::parse("[a]\nextract: {oops\n").unwrap_err();
        assert!(err.to_string().starts_with("2: bad JSON"), "{err}");
    }
}
