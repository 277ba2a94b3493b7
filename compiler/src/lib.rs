//! The `.flow` compiler: source text to a checked compiled graph.
//!
//! The pipeline never fails: every stage pushes into one list of diagnostics
//! and carries on, and the graph is emitted only when there is no error.
//! Stages: [`syntax::lower`] (pest pairs to the AST, with recovery),
//! [`check::check`] (names and types), [`analysis::analyse`] (the graph rules
//! of LANGUAGE.md §7, with petgraph) and [`emit::emit`] (the compiled graph).
//! It is pure: no IO, no async.
//!
//! ```
//! let source = r#"
//! workflow hello {
//!   start greet
//!   model m
//! }
//! model m = "openai:gpt-4o-mini"
//! agent greet {
//!   "Greet the user."
//!   when "the user says goodbye" -> end
//! }
//! "#;
//! let output = flow_compiler::compile(source, "hello.flow");
//! assert!(output.diagnostics.is_empty());
//! assert_eq!(output.graph.unwrap().start, "greet");
//! ```

pub mod analysis;
pub mod ast;
pub mod check;
pub mod codes;
pub mod diagnostic;
pub mod diagram;
pub mod emit;
pub mod format;
pub mod render;
pub mod span;
pub mod suggest;
pub mod symbols;
pub mod syntax;

pub use codes::{Code, DOCS_URL_ENV, Severity};
pub use diagnostic::{Diagnostic, Diagnostics, Edit, Fix, Label};
pub use span::{LineCol, LineIndex, Span};

/// What one compilation produced.
#[derive(Debug)]
pub struct CompileOutput {
    /// The compiled graph, when there was no error.
    pub graph: Option<flow_graph::CompiledGraph>,
    /// Every diagnostic, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl CompileOutput {
    /// The number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count()
    }

    /// The number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Compiles one file's source. `file_name` is recorded in the graph (folders removed).
pub fn compile(source: &str, file_name: &str) -> CompileOutput {
    let mut diags = Diagnostics::default();
    let file = syntax::lower(source, &mut diags);
    let program = check::check(&file, &mut diags);
    analysis::analyse(&program, file.has_syntax_errors, &mut diags);
    let graph = if diags.has_errors() || program.workflow.is_none() {
        None
    } else {
        Some(emit::emit(&program, source, file_name))
    };
    CompileOutput {
        graph,
        diagnostics: diags.into_sorted(),
    }
}
