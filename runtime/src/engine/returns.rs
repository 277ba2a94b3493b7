//! A human handing a handoff back with values (`flow resume --return --set
//! NAME=VALUE`, LANGUAGE-2.md "Handing data back"): each value is checked
//! against its variable's type before anything changes, then set before
//! `on return` is taken.

use super::AnswerError;
use super::Run;
use flow_graph::VariableKind;
use serde_json::{Map, Value};

impl Run {
    /// Refuses values that name no variable, an input or a secret, or that
    /// do not fit their variable's type; the error names the first such value.
    pub(super) fn check_returned(&self, values: &Map<String, Value>) -> Result<(), AnswerError> {
        let program = &self.program;
        for (name, value) in values {
            if program.graph.secrets.iter().any(|s| s == name) {
                return Err(AnswerError::SecretNotSettable { name: name.clone() });
            }
            let Some(variable) = program.variable(name) else {
                let known = program
                    .graph
                    .variables
                    .iter()
                    .filter(|v| v.kind == VariableKind::Var)
                    .map(|v| v.name.clone())
                    .collect();
                return Err(AnswerError::UnknownVariable {
                    name: name.clone(),
                    known,
                });
            };
            if variable.kind == VariableKind::Input {
                return Err(AnswerError::InputNotSettable { name: name.clone() });
            }
            if let Err(why) = program.check_variable(name, value) {
                return Err(AnswerError::BadValue {
                    name: name.clone(),
                    value: value.clone(),
                    reason: why.to_string(),
                });
            }
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
