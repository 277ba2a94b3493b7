//! Values given as text (a command line's `NAME=VALUE`, a form field): inputs
//! coerced against their declared type, and model replacements
//! `GROUP=provider:model`. The CLI and a service share these, so both take
//! the same texts the same way.

use crate::engine::StartError;
use crate::program::Program;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Model groups replaced for a run: group to `provider:model`.
pub type ModelReplacements = BTreeMap<String, String>;

impl Program {
    /// The value of input `name` given as `text`: the text itself for a
    /// string-typed input (or one that takes strings, like an enum of
    /// strings), JSON otherwise; `null` is JSON for an input that takes null.
    /// Unknown names are refused naming the workflow's inputs; the value is
    /// checked against the type when the run starts.
    pub fn coerce_input(&self, name: &str, text: &str) -> Result<Value, StartError> {
        let variable = self.input(name)?;
        coerce_text(Some(&variable.schema), text).map_err(|e| StartError::InputNotJson {
            name: name.to_string(),
            value: text.to_string(),
            reason: e.to_string(),
        })
    }

    /// One input given as `NAME=VALUE`, coerced by [`Program::coerce_input`].
    pub fn parse_input(&self, item: &str) -> Result<(String, Value), StartError> {
        let (name, text) = item
            .split_once('=')
            .ok_or_else(|| StartError::InputSyntax { text: item.to_string() })?;
        Ok((name.to_string(), self.coerce_input(name, text)?))
    }

    /// Inputs given as `NAME=VALUE` each; an input given twice is refused.
    pub fn parse_inputs<S: AsRef<str>>(&self, items: &[S]) -> Result<Map<String, Value>, StartError> {
        let mut out = Map::new();
        for item in items {
            let (name, value) = self.parse_input(item.as_ref())?;
            if out.contains_key(&name) {
                return Err(StartError::DuplicateInput { name });
            }
            out.insert(name, value);
        }
        Ok(out)
    }

    /// The model groups a replacement for `group` applies to: every group
    /// for `*`, else the group itself, refused when the workflow lacks it.
    pub fn replaced_groups(&self, group: &str) -> Result<Vec<String>, StartError> {
        if group == "*" {
            return Ok(self.graph.models.keys().cloned().collect());
        }
        if self.graph.models.contains_key(group) {
            return Ok(vec![group.to_string()]);
        }
        Err(StartError::UnknownModelGroup {
            group: group.to_string(),
            known: self.graph.models.keys().cloned().collect(),
        })
    }

    /// Model replacements given as `GROUP=provider:model` each (`*` for every
    /// group), as the group-to-model map of [`crate::RunOptions::models`].
    pub fn model_replacements<S: AsRef<str>>(&self, items: &[S]) -> Result<ModelReplacements, StartError> {
        let mut out = BTreeMap::new();
        for item in items {
            let (group, spec) = parse_model_replacement(item.as_ref())?;
            for g in self.replaced_groups(&group)? {
                out.insert(g, spec.clone());
            }
        }
        Ok(out)
    }
}

/// Splits a model replacement `GROUP=provider:model` into the group and
/// `provider:model`. A `scripted:PATH` must name an existing script file, and
/// its path is made absolute (a resumed run may start in another directory).
pub fn parse_model_replacement(text: &str) -> Result<(String, String), StartError> {
    let bad = || StartError::BadModelReplacement { text: text.to_string() };
    let (group, spec) = text.split_once('=').ok_or_else(bad)?;
    let (provider, model) = spec.split_once(':').ok_or_else(bad)?;
    if provider != "scripted" {
        return Ok((group.to_string(), spec.to_string()));
    }
    let path = Path::new(model);
    if !path.is_file() {
        return Err(StartError::ScriptNotFound {
            path: model.to_string(),
        });
    }
    let absolute = std::path::absolute(path).map_err(|e| StartError::Stubs {
        reason: format!("{}: {e}", path.display()),
    })?;
    Ok((group.to_string(), format!("scripted:{}", absolute.display())))
}

/// A value given as text for a variable of type `schema`: the text itself
/// when the type takes strings (or the variable is unknown, to be refused by
/// name later), JSON otherwise.
pub fn coerce_text(schema: Option<&Value>, text: &str) -> Result<Value, serde_json::Error> {
    match schema {
        Some(schema) if !(takes_strings(schema) && !(text == "null" && accepts_null(schema))) => {
            serde_json::from_str(text)
        }
        _ => Ok(Value::String(text.to_string())),
    }
}

fn takes_strings(schema: &Value) -> bool {
    match schema {
        Value::Object(m) => {
            m.get("type").and_then(Value::as_str) == Some("string")
                || m.get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|e| !e.is_empty() && e.iter().all(Value::is_string))
                || m.get("anyOf")
                    .and_then(Value::as_array)
                    .is_some_and(|alts| alts.iter().any(takes_strings))
        }
        _ => false,
    }
}

fn accepts_null(schema: &Value) -> bool {
    schema.get("anyOf").and_then(Value::as_array).is_some_and(|alts| {
        alts.iter()
            .any(|a| a.get("type").and_then(Value::as_str) == Some("null"))
    })
}
