//! Diagnostics as data: what went wrong, where, and how to fix it.

use crate::codes::{Code, Severity};
use crate::span::Span;

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// A one-line message.
    pub message: String,
    /// The exact range at fault.
    pub span: Span,
    /// The text of the label on the primary span, if any.
    pub primary_label: Option<String>,
    /// Secondary labels ("first declared here").
    pub labels: Vec<Label>,
    /// A line of advice.
    pub help: Option<String>,
    /// A machine-applicable fix.
    pub fix: Option<Fix>,
}

/// A secondary label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where it points.
    pub span: Span,
    /// What it says.
    pub message: String,
}

/// A fix the language server can apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What it does ("replace with `greet`").
    pub message: String,
    /// The replacements.
    pub edits: Vec<Edit>,
}

/// Replace the text of `span` with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The range replaced (empty to insert).
    pub span: Span,
    /// The new text.
    pub text: String,
}

impl Diagnostic {
    /// A diagnostic of `code` at `span`.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            primary_label: None,
            labels: Vec::new(),
            help: None,
            fix: None,
        }
    }

    /// The severity of its code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Sets the primary label's text.
    pub fn primary(mut self, message: impl Into<String>) -> Self {
        self.primary_label = Some(message.into());
        self
    }

    /// Adds a secondary label.
    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line if there is one.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Sets the fix if there is one.
    pub fn maybe_fix(mut self, fix: Option<Fix>) -> Self {
        if fix.is_some() {
            self.fix = fix;
        }
        self
    }

    /// Sets a fix of one edit.
    pub fn fix(mut self, message: impl Into<String>, span: Span, text: impl Into<String>) -> Self {
        self.fix = Some(Fix {
            message: message.into(),
            edits: vec![Edit {
                span,
                text: text.into(),
            }],
        });
        self
    }
}

/// The diagnostics of one compilation, in the order found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity() == Severity::Error)
    }

    /// Whether any has one of `codes`.
    pub fn any_of(&self, codes: &[Code]) -> bool {
        self.items.iter().any(|d| codes.contains(&d.code))
    }

    /// The diagnostics sorted by position, then code; duplicates removed.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|d| (d.span.start, d.span.end, d.code));
        self.items.dedup();
        self.items
    }
}
