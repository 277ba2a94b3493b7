//! Limits on values the model extracts, beyond their types: a string of at
//! most [`MAX_STRING_BYTES`] bytes, an `int` within ±2^53 (what every JSON
//! reader holds exactly). A value past them is rejected like one of the wrong
//! type, so a model cannot make a variable that is stored with every turn huge.

use crate::program::{CheckError, Program};
use serde_json::Value;

/// The longest extracted string, in bytes (64 KiB).
pub const MAX_STRING_BYTES: usize = 64 * 1024;

/// The largest magnitude of an extracted `int`: 2^53.
pub const MAX_INT: f64 = 9_007_199_254_740_992.0;

/// Checks an extracted value of variable `name` against the limits.
pub fn check_extracted(program: &Program, name: &str, value: &Value) -> Result<(), CheckError> {
    let schema = program.variable(name).map_or(&Value::Null, |v| &v.schema);
    check(schema, value, "")
}

fn check(schema: &Value, value: &Value, at: &str) -> Result<(), CheckError> {
    let place = |reason: String| CheckError::OverLimit {
        at: at.to_string(),
        reason,
    };
    match value {
        Value::String(s) if s.len() > MAX_STRING_BYTES => Err(place(format!(
            "a string of {} bytes is longer than the limit of 64 KiB",
            s.len()
        ))),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if x.fract() == 0.0 && x.abs() > MAX_INT && admits(schema, "integer") && !admits(schema, "number") {
                Err(place(format!("{n} is outside the range of an int (±2^53)")))
            } else {
                Ok(())
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                for sub in sub_schemas(schema, |s| s.get("items")) {
                    check(sub, item, &format!("{at}/{i}"))?;
                }
                if sub_schemas(schema, |s| s.get("items")).is_empty() {
                    check(&Value::Null, item, &format!("{at}/{i}"))?;
                }
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                let subs = sub_schemas(schema, |s| s.get("properties").and_then(|p| p.get(key)));
                if subs.is_empty() {
                    check(&Value::Null, item, &format!("{at}/{key}"))?;
                }
                for sub in subs {
                    check(sub, item, &format!("{at}/{key}"))?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The schema itself and its `anyOf` / `oneOf` alternatives, at any depth.
fn alternatives(schema: &Value) -> Vec<&Value> {
    let mut out = vec![schema];
    for key in ["anyOf", "oneOf"] {
        for alt in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            out.extend(alternatives(alt));
        }
    }
    out
}

/// Whether the schema (or one of its alternatives) names the JSON type `kind`.
fn admits(schema: &Value, kind: &str) -> bool {
    alternatives(schema).iter().any(|s| match s.get("type") {
        Some(Value::String(t)) => t == kind,
        Some(Value::Array(ts)) => ts.iter().any(|t| t == kind),
        _ => false,
    })
}

/// The schemas `pick` finds in the schema's alternatives.
fn sub_schemas<'a>(schema: &'a Value, pick: impl Fn(&'a Value) -> Option<&'a Value>) -> Vec<&'a Value> {
    alternatives(schema).into_iter().filter_map(pick).collect()
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::program::CheckError;
    use serde_json::json;

    #[test]
    fn ints_past_2_53_and_long_strings_are_refused() {
        let int = json!({ "type": "integer" });
        assert!(check(&int, &json!(9_007_199_254_740_992_u64), "").is_ok());
        assert!(check(&int, &json!(-9_007_199_254_740_992_i64), "").is_ok());
        let err = check(&int, &json!(1e30), "").unwrap_err();
        assert!(
            matches!(&err, CheckError::OverLimit { at, .. } if at.is_empty()),
            "{err:?}"
        );
        assert!(err.to_string().contains("±2^53"), "{err}");
        assert!(check(&int, &json!(9_007_199_254_740_994_u64), "").is_err());
        assert!(
            check(&json!({ "type": "number" }), &json!(1e30), "").is_ok(),
            "a float may be large"
        );
        let optional = json!({ "anyOf": [{ "type": "integer" }, { "type": "null" }] });
        assert!(check(&optional, &json!(-1e20), "").is_err());
        let nested = json!({ "type": "object", "properties": { "n": { "type": "array", "items": int } } });
        let err = check(&nested, &json!({ "n": [1, 1e25] }), "").unwrap_err();
        assert!(err.to_string().starts_with("at /n/1:"), "{err}");
        let string = json!({ "type": "string" });
        assert!(check(&string, &json!("x".repeat(64 * 1024)), "").is_ok());
        let err = check(&string, &json!("x".repeat(64 * 1024 + 1)), "").unwrap_err();
        assert!(err.to_string().contains("64 KiB"), "{err}");
        assert!(check(&json!({}), &json!({ "deep": ["y".repeat(70_000)] }), "").is_err());
    }
}
