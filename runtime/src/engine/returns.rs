//! A human handing a handoff back with values (`flow resume --return --set
//! NAME=VALUE`, LANGUAGE-2.md "Handing data back"): each value is checked
//! against its variable's type before anything changes, then set before
//! `on return` is taken.

use super::{Run, RunError};
use flow_graph::VariableKind;
use serde_json::{Map, Value};

impl Run {
    /// Refuses values that name no variable, an input or a secret, or that
    /// do not fit their variable's type; the error names the first such value.
    pub(super) fn check_returned(&self, values: &Map<String, Value>) -> Result<(), RunError> {
        let program = &self.program;
        for (name, value) in values {
            if program.graph.secrets.iter().any(|s| s == name) {
                return Err(RunError::Input(format!(
                    "--set {name}: `{name}` is a secret; secrets come from the environment and cannot be set"
                )));
            }
            let Some(variable) = program.variable(name) else {
                let known: Vec<&str> = program
                    .graph
                    .variables
                    .iter()
                    .filter(|v| v.kind == VariableKind::Var)
                    .map(|v| v.name.as_str())
                    .collect();
                let known = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                return Err(RunError::Input(format!(
                    "--set {name}: unknown variable `{name}` (the workflow's variables: {known})"
                )));
            };
            if variable.kind == VariableKind::Input {
                return Err(RunError::Input(format!(
                    "--set {name}: `{name}` is an input; inputs are given when a run starts and cannot be set"
                )));
            }
            program
                .check_variable(name, value)
                .map_err(|why| RunError::Input(format!("--set {name}={value}: {why}")))?;
        }
        Ok(())
    }

    /// Sets the returned values at the handoff `node` (one `variable_set` each).
    pub(super) fn set_returned(&mut self, node: &str, values: Map<String, Value>) {
        for (name, value) in values {
            self.set_var(node, name, value);
        }
    }
}
