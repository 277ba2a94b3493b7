//! Carrying out tools: stubs (`--stubs`), the runtime's builtins, handlers the
//! host registers, and HTTP requests ([`crate::tools_http`]). Every result is checked against the
//! tool's output schema; a mismatch is a tool error. With stubs, a tool they
//! do not stub is an error ([`NOT_STUBBED`]) unless live tools are allowed:
//! a demo never calls a real service with real secrets by accident (builtins,
//! which reach nothing outside, always run).

use crate::clock::Clock;
use crate::model::CallError;
use crate::model::scripted::{Script, StubResult};
use crate::program::Program;
use crate::secrets::Redactor;
use flow_graph::Implementation;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future of a tool's result.
/// A failure is a [`CallError`]: its message (what the model and the events
/// see) and whether the tool was down (`retryable`: the run may be retried).
pub type ToolFuture = Pin<Box<dyn Future<Output = Result<Value, CallError>> + Send>>;

/// A `host` tool's handler, registered by the service that embeds the runtime.
pub trait HostTool: Send + Sync {
    /// Runs the tool on its arguments (an object by parameter name).
    fn call(&self, input: Value) -> ToolFuture;
}

impl<F, Fut> HostTool for F
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, CallError>> + Send + 'static,
{
    fn call(&self, input: Value) -> ToolFuture {
        Box::pin(self(input))
    }
}

/// The ways a run's tools are carried out.
#[derive(Clone)]
pub struct Toolbox {
    /// Host handlers by tool id.
    pub host: HashMap<String, Arc<dyn HostTool>>,
    /// Stubbed results (`[tool NAME]` sections of a script), if any.
    pub stubs: Option<Arc<Script>>,
    /// The run's secrets (an object): for HTTP tools' templates, and what the run redacts.
    pub secrets: Arc<Value>,
    /// Hides the run's secrets (built from `secrets`).
    pub redactor: Arc<Redactor>,
    /// With stubs, whether the tools they do not stub may still be carried out.
    pub live_tools: bool,
    /// Where `time.now`, `time.today` and `today` read the time.
    pub clock: Arc<dyn Clock>,
}

impl Default for Toolbox {
    fn default() -> Toolbox {
        Toolbox {
            host: HashMap::new(),
            stubs: None,
            secrets: Arc::default(),
            redactor: Arc::default(),
            live_tools: false,
            clock: Arc::new(crate::clock::SystemClock),
        }
    }
}

/// Part of the error of a tool called while stubs are in use that they do not stub.
pub const NOT_STUBBED: &str = "is not stubbed";

impl Toolbox {
    /// Whether a tool can be carried out in this run (host tools need a handler or a stub).
    pub fn can_run(&self, program: &Program, id: &str) -> bool {
        let stubbed = self.stubs.as_ref().is_some_and(|s| s.tool_results(id).is_some());
        match program.tool(id).map(|t| &t.implementation) {
            Some(Implementation::Host {}) => stubbed || self.host.contains_key(id),
            Some(_) => true,
            None => false,
        }
    }

    /// Whether calling a tool reaches outside the run (a host handler or an
    /// HTTP service): not for a stubbed tool or a builtin. The engine makes
    /// such a call only once the steps before it are committed.
    pub fn has_effects(&self, program: &Program, id: &str) -> bool {
        let stubbed = self.stubs.as_ref().is_some_and(|s| s.tool_results(id).is_some());
        !stubbed
            && !matches!(
                program.tool(id).map(|t| &t.implementation),
                Some(Implementation::Builtin { .. })
            )
    }

    /// Calls a tool; `call_index` counts this tool's earlier calls in the run (it picks a stub).
    pub async fn call(&self, program: &Program, id: &str, input: Value, call_index: u32) -> Result<Value, CallError> {
        self.call_classified(program, id, input, call_index).await
    }

    /// [`Toolbox::call`], saying whether a failure was an outage (an HTTP tool's
    /// connection error, time-out, 429 or 5xx, after its retries).
    pub async fn call_classified(
        &self,
        program: &Program,
        id: &str,
        input: Value,
        call_index: u32,
    ) -> Result<Value, CallError> {
        let tool = program.tool(id).ok_or_else(|| format!("unknown tool `{id}`"))?;
        let output = if let Some(results) = self.stubs.as_ref().and_then(|s| s.tool_results(id)) {
            let i = (call_index as usize).min(results.len().saturating_sub(1));
            match results.get(i) {
                Some(StubResult::Ok(v)) => v.clone(),
                Some(StubResult::Err(e)) => return Err(e.clone().into()),
                None => return Err(format!("the stubs have no result for `{id}`").into()),
            }
        } else {
            if self.stubs.is_some()
                && !self.live_tools
                && !matches!(tool.implementation, Implementation::Builtin { .. })
            {
                return Err(format!(
                    "tool `{id}` {NOT_STUBBED}: the stubs have no results for it, and live tools are not allowed alongside stubs"
                )
                .into());
            }
            match &tool.implementation {
                Implementation::Builtin { name } => {
                    builtin(name, &ordered_args(&tool.input_schema, &input), &*self.clock)?
                }
                Implementation::Host {} => match self.host.get(id) {
                    Some(handler) => handler.call(input).await?,
                    None => return Err(format!("no handler is registered for host tool `{id}`").into()),
                },
                Implementation::Http { .. } => {
                    crate::tools_http::call(program, tool, &input, &self.secrets, &self.redactor, &*self.clock).await?
                }
            }
        };
        program
            .check_output(id, &output)
            .map_err(|why| format!("the result does not match the tool's return type: {why}"))?;
        Ok(output)
    }
}

/// A tool's arguments in the order of its parameters.
fn ordered_args(input_schema: &Value, input: &Value) -> Vec<Value> {
    let names = input_schema.get("properties").and_then(Value::as_object);
    names
        .map(|props| {
            props
                .keys()
                .map(|k| input.get(k).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .unwrap_or_default()
}

/// The runtime's builtin functions (LANGUAGE.md §5).
pub fn builtin(name: &str, args: &[Value], clock: &dyn Clock) -> Result<Value, CallError> {
    match (name, args) {
        ("time.now", []) => {
            let now = clock.now();
            Ok(Value::String(
                now.round(jiff::Unit::Millisecond).unwrap_or(now).to_string(),
            ))
        }
        ("time.today", []) => Ok(Value::String(
            clock.now().to_zoned(jiff::tz::TimeZone::system()).date().to_string(),
        )),
        ("text.lower", [Value::String(s)]) => Ok(Value::String(s.to_lowercase())),
        ("text.upper", [Value::String(s)]) => Ok(Value::String(s.to_uppercase())),
        ("math.round", [Value::Number(n)]) => {
            let x = n.as_f64().unwrap_or(0.0).round();
            if x.is_finite() && x.abs() < 9.0e15 {
                #[allow(clippy::cast_possible_truncation)]
                Ok(Value::from(x as i64))
            } else {
                Err(CallError::fatal(format!(
                    "math.round: {n} is too large to round to an int"
                )))
            }
        }
        _ => Err(CallError::fatal(format!(
            "builtin `{name}` cannot take these {} arguments",
            args.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn builtin(name: &str, args: &[Value]) -> Result<Value, CallError> {
        super::builtin(name, args, &crate::clock::SystemClock)
    }

    #[test]
    fn time_builtins_read_the_run_s_clock() {
        let clock = crate::clock::FixedClock("2030-05-06T07:08:09.123456Z".parse().unwrap());
        assert_eq!(
            super::builtin("time.now", &[], &clock),
            Ok(json!("2030-05-06T07:08:09.123Z"))
        );
        let today = super::builtin("time.today", &[], &clock).unwrap();
        // The system zone is at most a day either side of UTC.
        assert!(["2030-05-05", "2030-05-06", "2030-05-07"].contains(&today.as_str().unwrap()));
    }

    #[test]
    fn builtins_compute() {
        assert_eq!(builtin("text.upper", &[json!("abc")]), Ok(json!("ABC")));
        assert_eq!(builtin("text.lower", &[json!("ÀB")]), Ok(json!("àb")));
        assert_eq!(builtin("math.round", &[json!(2.5)]), Ok(json!(3)));
        assert_eq!(builtin("math.round", &[json!(-2.4)]), Ok(json!(-2)));
        let today = builtin("time.today", &[]).unwrap();
        assert_eq!(today.as_str().map(str::len), Some(10));
        let now = builtin("time.now", &[]).unwrap();
        assert!(now.as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
        assert!(builtin("math.round", &[json!("x")]).is_err());
    }
}
