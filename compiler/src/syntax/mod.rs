//! From source text to the syntax tree: the pest parser, the explanation of
//! syntax errors in words, and the lowering of pairs to the AST.

mod expected;
mod lower;
pub mod reserved;
mod text;

pub use lower::lower;

/// The pest parser generated from `grammar/flow.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/flow.pest"]
pub struct FlowParser;
