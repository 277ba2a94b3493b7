//! One HTTP client for models and tools, hardened: rustls (ring), at most
//! [`MAX_REDIRECTS`] redirects, replies read up to [`MAX_REPLY_BYTES`], a
//! time-out per attempt, and retries with exponential back-off and jitter on
//! time-outs, connection errors, 429 (honouring `Retry-After` up to 60 s) and
//! 5xx. Back-off can be tuned by environment (docs/runtime.md), so tests run fast.

use crate::secrets::Redactor;
use serde_json::Value;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

/// The most bytes read from one reply.
pub const MAX_REPLY_BYTES: usize = 10 * 1024 * 1024;
/// The most redirects followed.
pub const MAX_REDIRECTS: usize = 5;
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The shared client (connection pools are per client, so there is one).
pub fn client() -> Result<&'static reqwest::Client, Failure> {
    static CLIENT: OnceLock<Result<reqwest::Client, Failure>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::custom(|attempt| {
                    // `previous` starts with the first url, which is no redirect.
                    if attempt.previous().len() > MAX_REDIRECTS {
                        attempt.error(format!("more than {MAX_REDIRECTS}"))
                    } else if attempt.previous().last().map(reqwest::Url::origin) == Some(attempt.url().origin()) {
                        attempt.follow()
                    } else {
                        // reqwest would carry custom headers (`x-api-key`, a tool's
                        // secret header) to the other origin: `send` follows it instead.
                        attempt.stop()
                    }
                }))
                .user_agent(concat!("flow/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Failure::Fatal(format!("cannot build the HTTP client: {e}")))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Why one attempt failed, and whether another may succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// A time-out, a connection error, a 429 or a 5xx: worth trying again.
    Retryable {
        /// What happened.
        message: String,
        /// The server's `Retry-After`, if it gave one.
        retry_after: Option<Duration>,
    },
    /// Anything else: trying again would not help.
    Fatal(String),
}

impl Failure {
    /// The failure in words.
    pub fn message(&self) -> &str {
        match self {
            Failure::Retryable { message, .. } | Failure::Fatal(message) => message,
        }
    }
}

/// Exponential back-off with jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub base: Duration,
    /// The longest delay (before jitter).
    pub max: Duration,
}

impl Backoff {
    /// `FLOW_RETRY_BASE_MS` (default 500) and `FLOW_RETRY_MAX_MS` (default 8000).
    pub fn from_env() -> Backoff {
        Backoff {
            base: Duration::from_millis(env_u64("FLOW_RETRY_BASE_MS", 500)),
            max: Duration::from_millis(env_u64("FLOW_RETRY_MAX_MS", 8_000)),
        }
    }

    /// The delay before retry number `attempt` (from 0): the server's
    /// `Retry-After` when given (at most 60 s), else base·2^attempt, capped, with
    /// "equal jitter" (between half and all of it).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(MAX_RETRY_AFTER);
        }
        let exp = self.base.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let half = exp / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// An environment variable as a number, or a default.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `attempt` up to `1 + retries` times while it fails with a retryable
/// failure; the last failure keeps its kind (the number of attempts added to its words).
pub async fn with_retries<T, F, Fut>(retries: u32, backoff: Backoff, mut attempt: F) -> Result<T, Failure>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut n = 0;
    loop {
        match attempt(n).await {
            Ok(v) => return Ok(v),
            Err(Failure::Retryable { retry_after, .. }) if n < retries => {
                tokio::time::sleep(backoff.delay(n, retry_after)).await;
                n += 1;
            }
            Err(f) => {
                let tries = if n == 0 {
                    String::new()
                } else {
                    format!(" (after {} attempts)", n + 1)
                };
                return Err(match f {
                    Failure::Retryable { message, retry_after } => Failure::Retryable {
                        message: format!("{message}{tries}"),
                        retry_after,
                    },
                    Failure::Fatal(message) => Failure::Fatal(format!("{message}{tries}")),
                });
            }
        }
    }
}

/// Sends a request and reads its JSON reply within `timeout`: the status must
/// be 2xx, the body at most [`MAX_REPLY_BYTES`] of JSON. The excerpts of the
/// body in errors are made after redaction, so no part of a secret shows
/// even when the excerpt would cut it.
pub async fn send_json(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    redactions: &Redactor,
) -> Result<Value, Failure> {
    let shown = |body: &[u8]| excerpt(redactions.redact(&String::from_utf8_lossy(body)).as_bytes());
    let exchange = async {
        let response = send(request, redactions).await?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        let body = read_capped(response).await?;
        if !status.is_success() {
            let message = format!("HTTP {}: {}", status.as_u16(), shown(&body));
            return Err(if status.as_u16() == 429 || status.is_server_error() {
                Failure::Retryable { message, retry_after }
            } else {
                Failure::Fatal(message)
            });
        }
        serde_json::from_slice(&body)
            .map_err(|e| Failure::Fatal(format!("the reply is not JSON ({e}): {}", shown(&body))))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(Failure::Retryable {
            message: format!("no reply within {} ms", timeout.as_millis()),
            retry_after: None,
        }),
    }
}

/// A `Retry-After` value: seconds, or an HTTP date (RFC 9110), as a wait from now.
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    static PARSER: jiff::fmt::rfc2822::DateTimeParser = jiff::fmt::rfc2822::DateTimeParser::new();
    let at = PARSER.parse_timestamp(value).ok()?;
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// A failed send in words, and whether another try may help.
fn send_failure(e: &reqwest::Error) -> Failure {
    let message = describe(e);
    if e.is_timeout() || e.is_connect() || e.is_request() {
        Failure::Retryable {
            message,
            retry_after: None,
        }
    } else {
        Failure::Fatal(message)
    }
}

/// Sends a request. Redirects within the origin are followed by the client; a
/// redirect to another origin (another scheme, host or port) is followed here,
/// without `Authorization`, cookies and any header holding a redacted value,
/// and refused when the url or a body that would be sent again (307, 308) holds
/// one: a secret goes only where the workflow sends it. At most
/// [`MAX_REDIRECTS`] such hops.
async fn send(request: reqwest::RequestBuilder, redactions: &Redactor) -> Result<reqwest::Response, Failure> {
    let (client, request) = request.build_split();
    let mut request = request.map_err(|e| send_failure(&e))?;
    for _ in 0..=MAX_REDIRECTS {
        let Some(copy) = request.try_clone() else {
            return client.execute(request).await.map_err(|e| send_failure(&e));
        };
        let response = client.execute(copy).await.map_err(|e| send_failure(&e))?;
        let status = response.status().as_u16();
        let next = if matches!(status, 301 | 302 | 303 | 307 | 308) {
            response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| response.url().join(l).ok())
        } else {
            None
        };
        let Some(next) = next else {
            return Ok(response);
        };
        if next.origin() != response.url().origin() {
            let resent_body = matches!(status, 307 | 308)
                && request
                    .body()
                    .and_then(reqwest::Body::as_bytes)
                    .is_some_and(|b| redactions.contains_bytes(b));
            if resent_body || redactions.contains(request.url().as_str()) || redactions.contains(next.as_str()) {
                return Err(Failure::Fatal(format!(
                    "refused a redirect to another origin ({}): the request holds a secret in its {}",
                    next.origin().ascii_serialization(),
                    if resent_body { "body" } else { "url" }
                )));
            }
            let headers = request.headers_mut();
            for name in [
                reqwest::header::AUTHORIZATION,
                reqwest::header::COOKIE,
                reqwest::header::PROXY_AUTHORIZATION,
            ] {
                headers.remove(name);
            }
            let secret: Vec<reqwest::header::HeaderName> = headers
                .iter()
                .filter(|(_, v)| redactions.contains_bytes(v.as_bytes()))
                .map(|(k, _)| k.clone())
                .collect();
            for name in secret {
                headers.remove(name);
            }
        }
        if matches!(status, 301..=303)
            && request.method() != reqwest::Method::GET
            && request.method() != reqwest::Method::HEAD
        {
            *request.method_mut() = reqwest::Method::GET;
            *request.body_mut() = None;
            request.headers_mut().remove(reqwest::header::CONTENT_TYPE);
            request.headers_mut().remove(reqwest::header::CONTENT_LENGTH);
        }
        *request.url_mut() = next;
    }
    Err(Failure::Fatal(format!("too many redirects: more than {MAX_REDIRECTS}")))
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| Failure::Retryable {
        message: format!("the reply broke off: {}", describe(&e)),
        retry_after: None,
    })? {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(Failure::Fatal(format!(
                "the reply is larger than {} MiB",
                MAX_REPLY_BYTES / (1024 * 1024)
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first 200 characters of a body, on one line.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// A reqwest error in words, without its url (which may hold a secret).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "too many redirects"
    } else if e.is_body() || e.is_decode() {
        "could not read the reply"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        for attempt in 0..8 {
            let d = b.delay(attempt, None);
            let full = Duration::from_millis(100 * (1 << attempt)).min(Duration::from_millis(1000));
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert_eq!(b.delay(0, Some(Duration::from_secs(3))), Duration::from_secs(3));
        assert_eq!(b.delay(0, Some(Duration::from_secs(600))), MAX_RETRY_AFTER);
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Thu, 01 Jan 1970 00:00:01 GMT"), Some(Duration::ZERO));
        let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30);
        let text = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&soon)
            .unwrap();
        let wait = retry_after(&text).unwrap();
        assert!(
            wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt(b"a\nb"), "a b");
        assert_eq!(excerpt(&[b'x'; 300]).chars().count(), 201);
    }
}
