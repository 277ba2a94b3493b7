//! HTTP tools (LANGUAGE.md §5): the url, header and body templates are filled
//! from the tool's arguments and secrets only; values put into the url are
//! percent-encoded; for GET and DELETE, arguments the url does not use become
//! the query string, otherwise the body defaults to all arguments as a JSON
//! object; `body form { … }` is sent as `application/x-www-form-urlencoded`
//! (strings as they are, numbers and bools as their JSON text, null fields
//! left out, a list or an object an error). A non-2xx status is a tool error carrying the status and a short
//! excerpt of the body; time-outs, connection errors, 429 and 5xx are retried
//! (`retry N`) with back-off. A value that makes a path segment empty, `.` or
//! `..` (even percent-encoded) is a tool error before any request is sent.

use crate::eval::{Scope, eval, show};
use crate::http::{Backoff, client, send_json, with_retries};
use crate::model::CallError;
use crate::program::Program;
use crate::secrets::Redactor;
use flow_graph::{Body, Expr, Implementation, TextPart, Tool};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::time::Duration;

/// Characters left as they are in a url value: RFC 3986 "unreserved".
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Calls an HTTP tool with its arguments; `redactor` hides the run's secrets
/// in error excerpts and guards them on redirects.
pub async fn call(
    program: &Program,
    tool: &Tool,
    input: &Value,
    secrets: &Value,
    redactor: &Redactor,
    clock: &dyn crate::clock::Clock,
) -> Result<Value, CallError> {
    let Implementation::Http {
        method,
        url,
        headers,
        body,
        timeout_ms,
        retries,
    } = &tool.implementation
    else {
        return Err(format!("`{}` is not an HTTP tool", tool.id).into());
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
    let mut filled = Vec::new();
    for part in url {
        match part {
            TextPart::Text { text } => target.push_str(text),
            TextPart::Expr { expr } => {
                collect_params(expr, &mut used);
                let value = eval(program, expr, scope)?;
                let start = target.len();
                target.extend(utf8_percent_encode(&show(&value), VALUE));
                filled.push((start, target.len()));
            }
        }
    }
    check_segments(&target, &filled)?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| format!("bad method `{method}`"))?;
    let mut header_values = Vec::with_capacity(headers.len());
    for (name, text) in headers {
        let value = crate::eval::render(program, text, scope)?;
        if value.contains(['\n', '\r']) {
            return Err(format!("header `{name}` would hold a line break").into());
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
        Some(Body::Json(expr)) => Payload::Json(eval(program, expr, scope)?),
        Some(Body::Form { form }) => {
            let mut pairs = Vec::with_capacity(form.len());
            for (name, expr) in form {
                if let Some(value) = form_value(name, eval(program, expr, scope)?)? {
                    pairs.push((name.clone(), value));
                }
            }
            Payload::Form(pairs)
        }
        None if method == reqwest::Method::GET || method == reqwest::Method::DELETE => Payload::None,
        None => Payload::Json(Value::Object(args)),
    };
    let client = client()?;
    let timeout = Duration::from_millis(*timeout_ms);
    with_retries(*retries, Backoff::from_env(), |_| {
        let mut request = client.request(method.clone(), &target);
        if !query.is_empty() {
            request = request.query(&query);
        }
        for (name, value) in &header_values {
            request = request.header(name.as_str(), value.as_str());
        }
        match &payload {
            Payload::Json(p) => request = request.json(p),
            Payload::Form(pairs) => request = request.form(pairs),
            Payload::None => {}
        }
        // Secrets echoed in an error reply are replaced before the body is cut to an
        // excerpt (the engine's own redaction could miss a secret cut in half).
        send_json(request, timeout, redactor)
    })
    .await
    .map_err(CallError::from)
}

/// Refuses a url whose path has a segment touched by a filled-in value (byte
/// ranges of `url`) that is empty, `.` or `..`, percent-decoded as often as it
/// decodes: such a segment would move the request to another path.
fn check_segments(url: &str, filled: &[(usize, usize)]) -> Result<(), CallError> {
    let path_start = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or(url.len(), |j| i + 3 + j),
        None => 0,
    };
    let path_end = url.find(['?', '#']).unwrap_or(url.len());
    for &(start, end) in filled {
        if start < path_start || start > path_end {
            continue;
        }
        let from = url[..start].rfind('/').map_or(path_start, |i| i + 1);
        let to = url[end..path_end].find('/').map_or(path_end, |i| end + i);
        let mut segment = url[from..to].to_string();
        for _ in 0..4 {
            let decoded = percent_decode_str(&segment).decode_utf8_lossy().into_owned();
            if decoded == segment {
                break;
            }
            segment = decoded;
        }
        match segment.as_str() {
            "" => {
                return Err(CallError::fatal(
                    "a value put into the url's path makes an empty segment (`//` or a trailing `/`)",
                ));
            }
            "." | ".." => {
                return Err(CallError::fatal(format!(
                    "a value put into the url's path makes the segment `{segment}`, which would change the path"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// What a request carries.
enum Payload {
    /// No body.
    None,
    /// A JSON body.
    Json(Value),
    /// Form fields, in order.
    Form(Vec<(String, String)>),
}

/// A form field's value as text: strings as they are, numbers and bools as
/// their JSON text, `None` for null (the field is left out).
fn form_value(name: &str, value: Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        v @ (Value::Number(_) | Value::Bool(_)) => Ok(Some(v.to_string())),
        Value::Array(_) => Err(format!("form field `{name}`: a list cannot be form-encoded")),
        Value::Object(_) => Err(format!("form field `{name}`: an object cannot be form-encoded")),
    }
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

#[cfg(test)]
mod tests {
    use super::check_segments;

    /// The url with `value` put in place of `{}`, checked as a filled-in value.
    fn check(template: &str, value: &str) -> Result<(), crate::model::CallError> {
        let at = template.find("{}").unwrap();
        let url = format!("{}{value}{}", &template[..at], &template[at + 2..]);
        check_segments(&url, &[(at, at + value.len())])
    }

    #[test]
    fn dot_and_empty_segments_are_refused() {
        for bad in ["", ".", "..", "%2e", "%2E%2e", "%2e.", "%252e%252E"] {
            let err = check("http://h:1/v1/orders/{}", bad).unwrap_err();
            assert!(err.message.contains("segment"), "{bad}: {err}");
            assert!(check("http://h:1/v1/orders/{}/items", bad).is_err(), "{bad} mid-path");
        }
        for good in ["42", "...", "a.b", ".x", "%2e%2e%2e"] {
            assert_eq!(check("http://h:1/v1/orders/{}", good), Ok(()), "{good}");
        }
        // Part of a segment, in the host, in the query: left alone.
        assert_eq!(check("http://h:1/v1/orders/x{}", ""), Ok(()));
        assert_eq!(check("http://{}/v1", "h"), Ok(()));
        assert_eq!(check("http://h:1/v1?id={}", ".."), Ok(()));
    }
}
