//! The keywords of the language: which fit in which block, and a one-line
//! description of each for hover and completion.

use flow_compiler::ast::NodeKind;

/// The words that are never identifiers (LANGUAGE.md §2).
pub const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "true", "false", "null", "result", "secret", "end", "string", "number", "int", "bool",
    "any",
];

/// The keywords that start a top-level item.
pub const ITEMS: &[&str] = &[
    "workflow",
    "model",
    "type",
    "input",
    "var",
    "secret",
    "tool",
    "knowledge",
    "agent",
    "action",
    "route",
    "say",
    "handoff",
    "approval",
    "end",
];

/// The built-in functions of expressions, with their snippets.
pub const BUILTINS: &[(&str, &str, &str)] = &[
    ("len", "len(${1:value})", "len(string | [T]) -> int"),
    ("lower", "lower(${1:text})", "lower(string) -> string"),
    ("upper", "upper(${1:text})", "upper(string) -> string"),
    (
        "contains",
        "contains(${1:haystack}, ${2:needle})",
        "contains(string, string) -> bool, contains([T], T) -> bool",
    ),
    (
        "matches",
        "matches(${1:text}, r\"${2:pattern}\")",
        "matches(string, PATTERN) -> bool",
    ),
    ("today", "today(\"${1:UTC}\")", "today(ZONE) -> string"),
    (
        "add_days",
        "add_days(${1:date}, ${2:days})",
        "add_days(string, int) -> string",
    ),
    (
        "days_between",
        "days_between(${1:from}, ${2:to})",
        "days_between(string, string) -> int",
    ),
];

/// The field and exit keywords that may start a line in the `workflow` block.
pub const WORKFLOW_LINES: &[&str] = &["start", "model", "instructions", "max_steps", "when"];

/// The field keywords of a tool's body (the checker's own list).
pub const TOOL_LINES: &[&str] = flow_compiler::check::TOOL_FIELDS;

/// The field keywords of a knowledge base (the checker's own list).
pub const KNOWLEDGE_LINES: &[&str] = flow_compiler::check::KNOWLEDGE_FIELDS;

/// The words that may start a line in a node of `kind`: its fields, then its exits.
pub fn node_lines(kind: NodeKind) -> &'static [&'static str] {
    match kind {
        NodeKind::Agent => &[
            "model",
            "tools",
            "knowledge",
            "extract",
            "when",
            "if",
            "after",
            "->",
            "also",
        ],
        NodeKind::Action => &["call", "set", "->", "if", "else", "on error", "also"],
        NodeKind::Route => &["if", "when", "else"],
        NodeKind::Say => &["->", "if", "else", "also"],
        NodeKind::Handoff => &["queue", "message", "on return"],
        NodeKind::Approval => &["prompt", "timeout", "on approved", "on rejected", "on timeout"],
        NodeKind::End => &["say", "outcome"],
    }
}

/// One line about a keyword, or None for a word that is not one.
pub fn doc(word: &str) -> Option<&'static str> {
    Some(match word {
        "workflow" => {
            "`workflow NAME \"Title\"? { ... }`: the one workflow of the file: `start`, `model`, `instructions`, `max_steps` and global `when` exits."
        }
        "model" => {
            "`model NAME = \"provider:model\" (fallback \"provider:model\")*` declares a model group; inside a block, `model M` picks one."
        }
        "fallback" => "`fallback \"provider:model\"`: the next model of a group, tried when the one before fails.",
        "type" => "`type Name { field: Type }` or `type Name = Type`: a named type.",
        "input" => "`input name: Type (= default)?`: a value given when a run starts.",
        "var" => "`var name: Type (= default)?`: workflow state, set by `set` or `extract`.",
        "secret" => {
            "`secret NAME`: read from the environment at run time; usable only as `secret.NAME` in a tool's url, headers and body."
        }
        "tool" => "`tool name(param: Type) -> Type { ... }`: a function an action calls or an agent may use.",
        "knowledge" => "`knowledge name { description \"...\" path \"dir\" }`: a knowledge base an agent can search.",
        "agent" => "`agent name { ... }`: an LLM step: instructions, tools, `extract`, and `when`/`if`/`after` exits.",
        "action" => {
            "`action name { ... }`: a deterministic step: at most one `call`, any `set`, exits `->`, `if`, `else`, `on error`."
        }
        "route" => "`route name { ... }`: a branch that says nothing: `if`, `when` and `else` exits.",
        "say" => "`say`: a node with a fixed message (no LLM); inside an `end`, its last message.",
        "handoff" => {
            "`handoff name { queue \"id\" ... }`: hands the conversation to a human queue; `on return` resumes."
        }
        "approval" => {
            "`approval name { prompt \"...\" ... }`: waits for a human decision: `on approved`, `on rejected`, `on timeout`."
        }
        "end" => "`end`: a terminal step (`end name { say \"...\" outcome x }`), or the built-in terminal target.",
        "start" => "`start NODE`: the node a run begins at.",
        "instructions" => "`instructions \"\"\"...\"\"\"`: the base system prompt of every agent.",
        "max_steps" => "`max_steps N`: the most node entries one run may make (default 500).",
        "description" => "`description \"...\"`: what a tool or knowledge base does, shown to the model.",
        "http" => "`http METHOD \"url\"`: the tool sends this request and decodes the JSON reply.",
        "header" => "`header \"Name\" = \"value\"`: a request header of an http tool.",
        "body" => {
            "`body { field: expr }`: the JSON body of an http tool (default: all parameters); `body form { ... }` sends it form-encoded."
        }
        "form" => {
            "`body form { field: expr }`: an `application/x-www-form-urlencoded` body (strings, numbers and bools; null fields left out)."
        }
        "timeout" => "`timeout DURATION`: how long a tool call or an approval may take.",
        "retry" => "`retry N`: attempts after the first, with exponential back-off.",
        "builtin" => "`builtin \"name\"`: a function the runtime provides (`time.now`, `text.lower` ...).",
        "host" => "`host`: the embedding host service handles the tool under its name.",
        "path" => "`path \"dir\"`: the folder of a knowledge base.",
        "tools" => "`tools a, b`: the tools an agent may call.",
        "extract" => "`extract var \"hint\"?`: fills a `var` from the conversation after each user message.",
        "when" => "`when \"condition\" -> NODE`: an exit judged by the model.",
        "if" => "`if expr -> NODE`: an exit taken when the expression holds.",
        "else" => "`else -> NODE`: the exit taken when no condition before it holds.",
        "also" => "`also -> NODE`: a companion step that runs alongside the main path.",
        "after" => {
            "`after N turns -> NODE`: taken once N user messages have arrived at this agent; `after DURATION silence -> NODE`: taken when the user has not answered for that long."
        }
        "silence" => "`after DURATION silence -> NODE`: taken when the user has not answered this agent for that long.",
        "turns" => "`after N turns -> NODE`: taken once N user messages have arrived at this agent.",
        "max" => "`-> NODE max N`: the edge can be taken at most N times in one run.",
        "on" => "`on error | approved | rejected | timeout | return -> NODE`: an event exit.",
        "error" => "`on error -> NODE`: taken when the action's call fails.",
        "approved" => "`on approved -> NODE`: taken when the approval is granted.",
        "rejected" => "`on rejected -> NODE`: taken when the approval is refused.",
        "return" => "`on return -> NODE`: taken when the human hands the conversation back.",
        "call" => "`call tool(param: expr)`: the tool an action calls, with its arguments.",
        "set" => "`set var = expr`: assigns a variable when the action completes (`result` is the tool's reply).",
        "queue" => "`queue \"id\"`: the human queue a handoff goes to.",
        "message" => "`message \"text\"`: what the human sees with a handoff.",
        "prompt" => "`prompt \"text\"`: the question an approval asks.",
        "outcome" => "`outcome NAME`: how a run that ends here completed (default `completed`).",
        "result" => "`result`: the value the action's tool returned (in its `set` lines and exits).",
        "null" => "`null`: no value; an optional variable may hold it.",
        "true" | "false" => "A `bool` literal.",
        "and" | "or" | "not" => "A boolean operator on `bool` values.",
        "in" => "`x in list` (membership) or `\"sub\" in text` (substring).",
        "string" | "number" | "int" | "bool" | "any" => "A built-in type.",
        "len" => "`len(string | [T]) -> int`.",
        "lower" => "`lower(string) -> string`.",
        "upper" => "`upper(string) -> string`.",
        "contains" => "`contains(string, string) -> bool` or `contains([T], T) -> bool`.",
        "matches" => {
            "`matches(string, PATTERN) -> bool`: whether the regular expression (a literal, checked when compiling) is found in the text; write `^...$` to match all of it."
        }
        "today" => "`today(ZONE) -> string`: today's date, `YYYY-MM-DD`, in an IANA time zone given as a literal.",
        "add_days" => "`add_days(string, int) -> string`: a `YYYY-MM-DD` date moved by a number of days.",
        "days_between" => "`days_between(a, b) -> int`: the days from date `a` to date `b` (b − a), `YYYY-MM-DD`.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_of_the_checker_has_a_completion_and_a_hover() {
        for (name, _) in flow_compiler::check::functions::FUNCTIONS {
            assert!(
                BUILTINS.iter().any(|(b, _, _)| b == name),
                "`{name}` is not offered as a completion"
            );
            assert!(doc(name).is_some(), "`{name}` has no hover text");
        }
        assert_eq!(BUILTINS.len(), flow_compiler::check::functions::FUNCTIONS.len());
    }
}
