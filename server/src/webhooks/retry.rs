//! When a failed delivery is tried again (SERVER.md "Webhooks" and its
//! "Details"): after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each
//! ±10 % at random, then `failed`. A `Retry-After` answer (capped at 1 h)
//! lengthens a delay, never shortens it. `FLOW_WEBHOOK_RETRY_SCHEDULE`
//! (`1s,2s,4s`) replaces the schedule, for tests, without jitter. Each delay
//! runs from the end of the previous attempt: the caller adds it to that.

use std::fmt;
use std::time::Duration;

/// The variable that replaces the schedule.
pub const SCHEDULE_VARIABLE: &str = "FLOW_WEBHOOK_RETRY_SCHEDULE";

/// The longest a `Retry-After` may push an attempt back.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(3600);

/// The specified delays.
pub const STANDARD: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// The delays between attempts of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    jitter: bool,
}

impl Default for RetrySchedule {
    fn default() -> RetrySchedule {
        RetrySchedule::standard()
    }
}

impl RetrySchedule {
    /// The specified schedule, with ±10 % jitter.
    pub fn standard() -> RetrySchedule {
        RetrySchedule {
            delays: STANDARD.to_vec(),
            jitter: true,
        }
    }

    /// The schedule from `FLOW_WEBHOOK_RETRY_SCHEDULE`'s value: None or
    /// empty is the standard one.
    pub fn from_variable(value: Option<&str>) -> Result<RetrySchedule, RetryError> {
        match value.map(str::trim) {
            None | Some("") => Ok(RetrySchedule::standard()),
            Some(text) => parse_schedule(text),
        }
    }

    /// The delays, before jitter.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// How many attempts a delivery gets in all: the first and one per delay.
    pub fn max_attempts(&self) -> usize {
        self.delays.len() + 1
    }

    /// How long to wait after `attempt` attempts have failed (1 after the
    /// first) before the next, or None when that was the last (the delivery
    /// is `failed`). The wait is the larger of the schedule's delay (±10 %
    /// for the standard schedule) and `retry_after`, capped at 1 h.
    /// `attempt` 0 (nothing tried yet) is no wait.
    pub fn delay(&self, attempt: usize, retry_after: Option<Duration>) -> Option<Duration> {
        self.delay_with(attempt, retry_after, &mut fastrand::Rng::new())
    }

    /// [`Self::delay`] drawing the jitter from `rng` (tests seed it).
    pub fn delay_with(
        &self,
        attempt: usize,
        retry_after: Option<Duration>,
        rng: &mut fastrand::Rng,
    ) -> Option<Duration> {
        if attempt == 0 {
            return Some(Duration::ZERO);
        }
        let base = *self.delays.get(attempt - 1)?;
        let scheduled = if self.jitter {
            base.mul_f64(0.9 + 0.2 * rng.f64())
        } else {
            base
        };
        let asked = retry_after.map_or(Duration::ZERO, |d| d.min(RETRY_AFTER_CAP));
        Some(scheduled.max(asked))
    }
}

/// Why a schedule could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryError {
    /// No delay in it.
    Empty,
    /// An entry that is not a whole number and a unit (its position from 1, and the text).
    BadEntry(usize, String),
    /// An entry too large to hold (its position from 1, and the text).
    TooLarge(usize, String),
}

impl fmt::Display for RetryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryError::Empty => write!(f, "{SCHEDULE_VARIABLE} holds no delay: give a list like 1s,2s,4s"),
            RetryError::BadEntry(i, text) => write!(
                f,
                "{SCHEDULE_VARIABLE}: entry {i} ({text:?}) is not a delay: a whole number and ms, s, m or h, like 500ms or 2s"
            ),
            RetryError::TooLarge(i, text) => write!(f, "{SCHEDULE_VARIABLE}: entry {i} ({text:?}) is too long a delay"),
        }
    }
}

impl std::error::Error for RetryError {}

/// A schedule from a comma-separated list of delays, each a whole number and
/// `ms`, `s`, `m` or `h` (`1s,2s,4s`), without jitter.
pub fn parse_schedule(text: &str) -> Result<RetrySchedule, RetryError> {
    if text.trim().is_empty() {
        return Err(RetryError::Empty);
    }
    let mut delays = Vec::new();
    for (i, entry) in text.split(',').map(str::trim).enumerate() {
        delays.push(parse_delay(i + 1, entry)?);
    }
    Ok(RetrySchedule { delays, jitter: false })
}

fn parse_delay(position: usize, entry: &str) -> Result<Duration, RetryError> {
    let bad = || RetryError::BadEntry(position, entry.to_string());
    let digits = entry.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = entry.split_at(digits);
    if number.is_empty() {
        return Err(bad());
    }
    let ms_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let too_large = || RetryError::TooLarge(position, entry.to_string());
    let n: u64 = number.parse().map_err(|_| too_large())?;
    n.checked_mul(ms_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(too_large)
}

/// How long a `Retry-After` header asks to wait, seen at `now`: a whole
/// number of seconds, or an HTTP date (a date already past is no wait).
/// None when the header is neither.
pub fn parse_retry_after(header: &str, now: jiff::Timestamp) -> Option<Duration> {
    let text = header.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // A number too large for u64 is still a (very long) wait.
        return Some(text.parse::<u64>().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    let at = jiff::Timestamp::try_from(at).ok()?;
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests;
