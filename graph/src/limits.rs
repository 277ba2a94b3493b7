//! The largest numbers a compiled graph may carry. The compiler refuses larger
//! ones with E0313 and the runtime refuses to load a graph that holds them, so
//! a hand-edited graph cannot ask for a run of 2^64 steps or a tool that waits
//! for years.

/// The largest `max_steps` of a workflow.
pub const MAX_STEPS: u64 = 1_000_000;

/// The largest `retry` of a tool (attempts after the first).
pub const MAX_RETRIES: u32 = 10;

/// The longest `timeout` of one tool call: 24 hours, in milliseconds.
pub const MAX_TOOL_TIMEOUT_MS: u64 = 24 * 3_600_000;

/// The longest `timeout` of an approval: 365 days, in milliseconds.
pub const MAX_APPROVAL_TIMEOUT_MS: u64 = 365 * 86_400_000;

/// The largest `N` of `max N` (traversals of one edge in a run).
pub const MAX_TRAVERSALS: u32 = 10_000;

/// The largest `N` of `after N turns`.
pub const MAX_TURNS: u32 = 10_000;

/// The deepest JSON nesting (objects and arrays) read in a compiled graph.
/// The deepest graph the compiler writes stays far below it (an expression
/// holds at most 256 operators and nests at most 64 levels, about two JSON
/// levels each), while it keeps the recursive reader within a thread's stack.
pub const MAX_JSON_DEPTH: usize = 2_048;
