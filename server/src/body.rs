//! Request bodies and query strings read into typed values, every failure a
//! 422 naming the field (SERVER.md "Requests"). Handlers take the raw bytes
//! ([`RawBody`]) and parse them after the route's resources were found, so
//! refusals come in the specified order (404 before a malformed body).

use crate::problem::{ApiError, Code};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::json;

/// A route's path parameters, as axum's `Path` reads them, but refused as a
/// problem: parameters that cannot be read (not UTF-8, say) name nothing, 404.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Path<T>, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(ApiError::not_found(format!(
                "{} names nothing: {}",
                parts.uri.path(),
                rejection.body_text()
            ))),
        }
    }
}

/// The largest body a request may have: 2 MiB.
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// A request's body, at most [`MAX_BODY`] bytes (413 beyond).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<RawBody, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                Code::PayloadTooLarge,
                format!("the body is larger than {} bytes", MAX_BODY),
            )),
            Err(rejection) => Err(ApiError::invalid(format!("the body could not be read: {rejection}"))),
        }
    }
}

impl RawBody {
    /// The body as `T` (request types deny unknown fields); 422 naming the field otherwise.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse(&self.0)
    }
}

/// `bytes` as JSON of type `T`; a 422 whose `detail` and `field` name what is wrong.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("the body is empty: expected a JSON object").with("field", json!(null)));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if value.is_ok()
        && let Err(e) = de.end()
    {
        return Err(ApiError::invalid(format!("the body is not well-formed JSON: {e}")).with("field", json!(null)));
    }
    value.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("the body is not well-formed JSON: {inner}")
            }
            _ => message(&inner.to_string()),
        };
        // An unknown or a missing field is named by serde in its message
        // ("unknown field `x`", "missing field `x`"): point at it.
        let field = match unknown_field(&what).or_else(|| missing_field(&what)) {
            Some(name) if path == "." => name,
            Some(name) if path == name || path.ends_with(&format!(".{name}")) => path.clone(),
            Some(name) => format!("{path}.{name}"),
            None => path.clone(),
        };
        let detail = if field == "." || field.is_empty() {
            what
        } else {
            format!("`{field}`: {what}")
        };
        ApiError::invalid(detail).with("field", if field == "." { json!(null) } else { json!(field) })
    })
}

/// serde's message without its " at line 1 column 9" tail (the path says where).
fn message(text: &str) -> String {
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text.to_string(),
    }
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

/// A query string as `T` (types deny unknown parameters); 422 naming the parameter.
pub fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    serde_urlencoded_like(raw.unwrap_or(""))
}

fn serde_urlencoded_like<T: DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    let mut map = serde_json::Map::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(k);
        let v = decode(v);
        if map.contains_key(&k) {
            return Err(ApiError::invalid(format!("query parameter `{k}` is given twice")).with("field", json!(k)));
        }
        map.insert(k, serde_json::Value::String(v));
    }
    serde_json::from_value::<T>(serde_json::Value::Object(map)).map_err(|e| {
        let text = message(&e.to_string());
        let field = unknown_field(&text);
        ApiError::invalid(format!("the query: {text}")).with("field", json!(field))
    })
}

fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// A page's size from `?limit=` (default 50, at most 500; SERVER.md).
pub fn limit(given: Option<&str>) -> Result<usize, ApiError> {
    match given {
        None => Ok(50),
        Some(text) => match text.parse::<usize>() {
            Ok(0) | Err(_) => Err(ApiError::invalid(format!(
                "`limit` must be a whole number from 1 to 500, not `{text}`"
            ))
            .with("field", json!("limit"))),
            Ok(n) => Ok(n.min(500)),
        },
    }
}

/// A cursor that must be a number (a position, a revision, a seq); 422 otherwise.
pub fn number_cursor(given: Option<&str>) -> Result<Option<u64>, ApiError> {
    given
        .map(|text| {
            stored_number(text).ok_or_else(|| {
                ApiError::invalid(format!("`cursor` `{text}` is not a cursor this list gave"))
                    .with("field", json!("cursor"))
            })
        })
        .transpose()
}

/// A whole number the store can hold (positions, seqs: at most `i64::MAX`);
/// None for anything else, so a number beyond it is refused as the client's
/// mistake (422), not taken to the store.
pub fn stored_number(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| i64::try_from(*n).is_ok())
}

/// The common query of lists: `limit` and `cursor`, plus whatever else `T` takes.
#[derive(Debug, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// `?limit=`.
    pub limit: Option<String>,
    /// `?cursor=`.
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        source: String,
        #[serde(default)]
        activate: bool,
        #[serde(default)]
        inputs: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    fn detail(bytes: &[u8]) -> (String, serde_json::Value) {
        let e = parse::<Body>(bytes).unwrap_err();
        assert_eq!(e.code, Code::Invalid);
        (e.detail, e.extra["field"].clone())
    }

    #[test]
    fn every_bad_body_names_what_is_wrong() {
        let (d, f) = detail(br#"{"source": 3}"#);
        assert!(
            d.starts_with("`source`: invalid type: integer `3`, expected a string"),
            "{d}"
        );
        assert_eq!(f, "source");
        let (d, f) = detail(br#"{"source": "x", "colour": 1}"#);
        assert!(d.contains("unknown field `colour`"), "{d}");
        assert_eq!(f, "colour");
        let (d, f) = detail(br#"{"source": "x", "inputs": {"n": "two"}}"#);
        assert!(d.starts_with("`inputs.n`:"), "{d}");
        assert_eq!(f, "inputs.n");
        let (d, f) = detail(br#"{"activate": true}"#);
        assert!(d.contains("missing field `source`"), "{d}");
        assert_eq!(f, "source");
        let (d, f) = detail(br#"{"source": "x", "inputs": {}}"#);
        assert!(d.contains("missing field `n`"), "{d}");
        assert_eq!(f, "inputs.n");
        let (d, _) = detail(br#"{"source": "x""#);
        assert!(d.contains("not well-formed JSON"), "{d}");
        let (d, _) = detail(b"");
        assert!(d.contains("empty"), "{d}");
        let (d, _) = detail(br#"{"source": "x"} trailing"#);
        assert!(d.contains("not well-formed"), "{d}");
        let (d, _) = detail(br#"[1, 2]"#);
        assert!(d.contains("invalid type"), "{d}");
        assert!(parse::<Body>(br#"{"source": "x", "activate": true}"#).is_ok());
    }

    #[test]
    fn no_bytes_make_a_body_panic() {
        // Every prefix of valid and hostile bodies, and bytes flipped in them.
        let seeds: [&[u8]; 5] = [
            br#"{"source": "workflow w {}", "activate": true, "inputs": {"n": 4}}"#,
            br#"{"inputs": {"a": [1, {"b": null}], "c": "\u0000\ud800"}, "revision": 18446744073709551616}"#,
            br#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["#,
            "{\"source\": \"caf\u{e9}\"}".as_bytes(),
            b"\xff\xfe{\"source\": 1e999}",
        ];
        for seed in seeds {
            for end in 0..=seed.len() {
                let _ = parse::<Body>(&seed[..end]);
            }
            for at in 0..seed.len() {
                let mut flipped = seed.to_vec();
                flipped[at] ^= 0x5a;
                let _ = parse::<Body>(&flipped);
            }
        }
    }

    #[test]
    fn limits_and_cursors_are_checked() {
        assert_eq!(limit(None).unwrap(), 50);
        assert_eq!(limit(Some("900")).unwrap(), 500);
        assert!(limit(Some("0")).is_err());
        assert!(limit(Some("ten")).is_err());
        assert_eq!(number_cursor(Some("12")).unwrap(), Some(12));
        assert!(number_cursor(Some("zz")).is_err());
        assert!(
            number_cursor(Some("9223372036854775808")).is_err(),
            "beyond what the store holds"
        );
        assert_eq!(
            number_cursor(Some("9223372036854775807")).unwrap(),
            Some(i64::MAX as u64)
        );
        let page: Page = query(Some("limit=5&cursor=a%20b")).unwrap();
        assert_eq!(page.cursor.as_deref(), Some("a b"));
        assert!(query::<Page>(Some("limit=5&colour=red")).is_err());
        assert!(query::<Page>(Some("limit=5&limit=6")).is_err());
    }
}
