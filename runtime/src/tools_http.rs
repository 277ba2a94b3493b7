//! HTTP tools (LANGUAGE.md §5): the url, header and body templates are filled
//! from the tool's arguments and secrets only; values put into the url are
//! percent-encoded; for GET and DELETE, arguments the url does not use become
//! the query string, otherwise the body defaults to all arguments as a JSON
//! object. A non-2xx status is a tool error carrying the status and a short
//! excerpt of the body; time-outs, connection errors, 429 and 5xx are retried
//! (`retry N`) with back-off.

use crate::eval::{Scope, eval, show};
use crate::http::{Backoff, client, send_json, with_retries};
use crate::program::Program;
use flow_graph::{Expr, Implementation, TextPart, Tool};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::time::Duration;

/// Characters left as they are in a url value: RFC 3986 "unreserved".
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Calls an HTTP tool with its arguments.
pub async fn call(
    program: &Program,
    tool: &Tool,
    input: &Value,
    secrets: &Value,
    clock: &dyn crate::clock::Clock,
) -> Result<Value, String> {
    let Implementation::Http {
        method,
        url,
        headers,
        body,
        timeout_ms,
        retries,
    } = &tool.implementation
    else {
        return Err(format!("`{}` is not an HTTP tool", tool.id));
    };
    let empty = Value::Object(Map::new());
    let scope = Scope {
        vars: &empty,
        result: None,
        params: Some(input),
        secrets: Some(secrets),
        clock,
    };
    let mut target = String::new();
    let mut used = HashSet::new();
    for part in url {
        match part {
            TextPart::Text { text } => target.push_str(text),
            TextPart::Expr { expr } => {
                collect_params(expr, &mut used);
                let value = eval(program, expr, scope)?;
                target.extend(utf8_percent_encode(&show(&value), VALUE));
            }
        }
    }
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| format!("bad method `{method}`"))?;
    let mut header_values = Vec::with_capacity(headers.len());
    for (name, text) in headers {
        let value = crate::eval::render(program, text, scope)?;
        if value.contains(['\n', '\r']) {
            return Err(format!("header `{name}` would hold a line break"));
        }
        header_values.push((name.clone(), value));
    }
    let args = input.as_object().cloned().unwrap_or_default();
    let query: Vec<(String, String)> = if matches!(method, reqwest::Method::GET | reqwest::Method::DELETE) {
        args.iter()
            .filter(|(k, v)| !used.contains(k.as_str()) && !v.is_null())
            .map(|(k, v)| (k.clone(), show(v)))
            .collect()
    } else {
        Vec::new()
    };
    let payload = match body {
        Some(expr) => Some(eval(program, expr, scope)?),
        None if method == reqwest::Method::GET || method == reqwest::Method::DELETE => None,
        None => Some(Value::Object(args)),
    };
    let client = client()?;
    let timeout = Duration::from_millis(*timeout_ms);
    // Secrets echoed in an error reply are replaced before the body is cut to an
    // excerpt (the engine's own redaction could miss a secret cut in half).
    let redactions: Vec<(String, String)> = secrets
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, v)| v.as_str().map(|v| (v.to_string(), format!("[secret {name}]"))))
        .collect();
    with_retries(*retries, Backoff::from_env(), |_| {
        let mut request = client.request(method.clone(), &target);
        if !query.is_empty() {
            request = request.query(&query);
        }
        for (name, value) in &header_values {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(p) = &payload {
            request = request.json(p);
        }
        send_json(request, timeout, &redactions)
    })
    .await
}

/// The parameters an expression reads.
fn collect_params(expr: &Expr, used: &mut HashSet<String>) {
    crate::program::visit_expr(expr, &mut |e| {
        if let Expr::Path { path } = e
            && let Some(name) = crate::program::param_of_path(path)
        {
            used.insert(name);
        }
    });
}
