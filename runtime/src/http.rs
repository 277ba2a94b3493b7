//! One HTTP client for models and tools, hardened: rustls (ring), at most
//! [`MAX_REDIRECTS`] redirects, replies read up to [`MAX_REPLY_BYTES`], a
//! time-out per attempt, and retries with exponential back-off and jitter on
//! time-outs, connection errors, 429 (honouring `Retry-After` up to 60 s) and
//! 5xx. Back-off can be tuned by environment (docs/runtime.md), so tests run fast.

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
pub fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
                .user_agent(concat!("flow/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))
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

/// Runs `attempt` up to `1 + retries` times while it fails with a retryable failure.
pub async fn with_retries<T, F, Fut>(retries: u32, backoff: Backoff, mut attempt: F) -> Result<T, String>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut n = 0;
    loop {
        match attempt(n).await {
            Ok(v) => return Ok(v),
            Err(Failure::Retryable { message, retry_after }) if n < retries => {
                tokio::time::sleep(backoff.delay(n, retry_after)).await;
                n += 1;
                let _ = message;
            }
            Err(f) => {
                let tries = if n == 0 { String::new() } else { format!(" (after {} attempts)", n + 1) };
                return Err(format!("{}{tries}", f.message()));
            }
        }
    }
}

/// Sends a request and reads its JSON reply within `timeout`: the status must
/// be 2xx, the body at most [`MAX_REPLY_BYTES`] of JSON.
pub async fn send_json(request: reqwest::RequestBuilder, timeout: Duration) -> Result<Value, Failure> {
    let exchange = async {
        let response = request.send().await.map_err(|e| {
            let message = describe(&e);
            if e.is_timeout() || e.is_connect() || e.is_request() {
                Failure::Retryable {
                    message,
                    retry_after: None,
                }
            } else {
                Failure::Fatal(message)
            }
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_capped(response).await?;
        if !status.is_success() {
            let message = format!("HTTP {}: {}", status.as_u16(), excerpt(&body));
            return Err(if status.as_u16() == 429 || status.is_server_error() {
                Failure::Retryable { message, retry_after }
            } else {
                Failure::Fatal(message)
            });
        }
        serde_json::from_slice(&body)
            .map_err(|e| Failure::Fatal(format!("the reply is not JSON ({e}): {}", excerpt(&body))))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(Failure::Retryable {
            message: format!("no reply within {} ms", timeout.as_millis()),
            retry_after: None,
        }),
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::Retryable {
            message: format!("the reply broke off: {}", describe(&e)),
            retry_after: None,
        })?
    {
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
    let mut out: String = text.chars().take(200).map(|c| if c.is_control() { ' ' } else { c }).collect();
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
    if detail.is_empty() { kind.to_string() } else { format!("{kind}: {detail}") }
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
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt(b"a\nb"), "a b");
        assert_eq!(excerpt(&[b'x'; 300]).chars().count(), 201);
    }
}
