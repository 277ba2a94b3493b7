//! What the runtime asks of its host: the time ("now"), new ids and the
//! secrets. Every wall-clock read of the engine (event `ts`, a run's
//! `created`/`updated`, approval and silence deadlines, whether a deadline
//! has passed, `today(ZONE)`, the `time.now` / `time.today` builtins), every
//! new run id and every secret lookup goes through one [`Clock`], which a
//! host (or a test) gives with [`Runtime::set_clock`](crate::Runtime::set_clock).
//! The default, [`SystemClock`], is the system's time, UUID v7 ids and the
//! environment. [`FakeClock`] is a clock a test moves by hand, so it can pass
//! a deadline without sleeping. Monotonic measures (latencies, HTTP retry
//! back-off, the circuit breaker) stay on the real `Instant`.

use std::fmt;

mod fake;

pub use fake::FakeClock;

/// The host's source of "now", of new ids and of secrets for a runtime's runs.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> jiff::Timestamp;

    /// A new id, unique in the store (a run's id). By default a UUID v7,
    /// so ids sort by the real time they were made.
    fn new_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }

    /// The value of the secret `name`, if the host has it. By default the
    /// environment variable of that name.
    fn secret(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The system clock: the system's time, UUID v7 ids, secrets from the environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// A clock that always says the same instant (for tests and replays); ids
/// and secrets as the [`SystemClock`]'s.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub jiff::Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> jiff::Timestamp {
        self.0
    }
}

use crate::eval_error::EvalError;

/// `at` in RFC 3339 (UTC, to the millisecond), as events and states write times.
pub fn rfc3339(at: jiff::Timestamp) -> String {
    at.round(jiff::Unit::Millisecond).unwrap_or(at).to_string()
}

/// A time zone by IANA name: the machine's database first (it may be newer),
/// then the copy bundled into the binary, so a machine without
/// `/usr/share/zoneinfo` knows every zone the compiler accepted.
pub fn zone(name: &str) -> Result<jiff::tz::TimeZone, EvalError> {
    jiff::tz::db()
        .get(name)
        .or_else(|_| jiff::tz::TimeZoneDatabase::bundled().get(name))
        .map_err(|_| EvalError::UnknownZone { zone: name.to_string() })
}

/// Today's date (`YYYY-MM-DD`) in `zone` by `clock`.
pub fn today(clock: &dyn Clock, zone_name: &str) -> Result<String, EvalError> {
    let tz = zone(zone_name)?;
    Ok(clock.now().to_zoned(tz).date().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_the_date_in_the_zone_at_the_clock_s_instant() {
        // 23:30 UTC on the 31st of December is already New Year's Day in Paris.
        let clock = FixedClock("2024-12-31T23:30:00Z".parse().unwrap());
        assert_eq!(today(&clock, "UTC"), Ok("2024-12-31".into()));
        assert_eq!(today(&clock, "Europe/Paris"), Ok("2025-01-01".into()));
        assert_eq!(today(&clock, "America/Los_Angeles"), Ok("2024-12-31".into()));
        assert_eq!(
            today(&clock, "Mars/Olympus"),
            Err(EvalError::UnknownZone {
                zone: "Mars/Olympus".into()
            })
        );
    }

    #[test]
    fn the_bundled_database_knows_the_zones_without_the_system_s() {
        // What `zone` falls back to on a machine without /usr/share/zoneinfo.
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        assert!(!bundled.is_definitively_empty());
        for name in ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"] {
            assert!(bundled.get(name).is_ok(), "{name}");
        }
    }
}
