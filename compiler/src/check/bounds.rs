//! E0313: bounds, counts and durations between 1 and their caps. The caps
//! (`flow_graph::limits`) are the ones the runtime enforces when it loads a
//! graph, so every graph the compiler writes can be run.

use super::Checker;
use crate::ast::{Field, Number};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

impl Checker<'_, '_> {
    /// A count (`max N`, `after N turns`, `max_steps`, `retry`) between `min` and `max`.
    pub(crate) fn count_in_range(&mut self, n: &Number, what: &str, min: u64, max: u64) {
        if n.value < min as f64 {
            let help = if min == 1 {
                "a bound or count of 0 could never be met: use 1 or more, or remove it".to_string()
            } else {
                format!("use {min} or more")
            };
            self.push(
                Diagnostic::new(Code::E0313, n.span, format!("{what} must be at least {min}"))
                    .primary(if n.value == 0.0 { "zero" } else { "too small" })
                    .help(help),
            );
        } else if n.value > max as f64 {
            self.push(
                Diagnostic::new(Code::E0313, n.span, format!("{what} must be at most {max}"))
                    .primary(format!("more than {max}"))
                    .help(format!("the runtime refuses a graph with more: use at most {max}")),
            );
        }
    }

    /// A duration field (`timeout`) of at least 1 ms and at most `max_ms`, written `max_text`.
    pub(crate) fn duration_in_range(&mut self, field: &Field, ms: u64, what: &str, max_ms: u64, max_text: &str) {
        if ms == 0 {
            self.push(
                Diagnostic::new(Code::E0313, field.span, format!("{what} must be at least 1ms"))
                    .primary("zero")
                    .help("a time-out of 0 expires at once: give a positive duration, or remove it"),
            );
        } else if ms > max_ms {
            self.push(
                Diagnostic::new(Code::E0313, field.span, format!("{what} must be at most {max_text}"))
                    .primary(format!("more than {max_text}"))
                    .help(format!(
                        "the runtime refuses a graph with a longer one: use at most {max_text}"
                    )),
            );
        }
    }
}
