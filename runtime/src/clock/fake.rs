//! [`FakeClock`]: a clock a test moves by hand, with ids from a counter and
//! secrets it was given, so a run's times and ids are the same on every run
//! of the test and a deadline passes without sleeping.

use super::Clock;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A clock that stands still until told to move. Clones share one clock, so
/// a test keeps a clone to move the time of the runtime it gave the other to.
///
/// Its ids are UUID v7 made from its current instant and a counter (the
/// first id is counter 1): deterministic, unique for one clock, and sorted
/// in the order they were made. Its secrets are only those given with
/// [`FakeClock::set_secret`], never the environment's.
#[derive(Clone)]
pub struct FakeClock {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    now: jiff::Timestamp,
    ids: u64,
    secrets: BTreeMap<String, String>,
}

impl FakeClock {
    /// A clock standing at `start`.
    pub fn new(start: jiff::Timestamp) -> FakeClock {
        FakeClock {
            inner: Arc::new(Mutex::new(Inner {
                now: start,
                ids: 0,
                secrets: BTreeMap::new(),
            })),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data: still usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts the clock at `at` (earlier or later than now).
    pub fn set(&self, at: jiff::Timestamp) {
        self.inner().now = at;
    }

    /// Moves the clock `by` forward; it stops at the latest instant there is.
    pub fn advance(&self, by: Duration) {
        let mut inner = self.inner();
        let by = jiff::SignedDuration::try_from(by).unwrap_or(jiff::SignedDuration::MAX);
        inner.now = inner.now.checked_add(by).unwrap_or(jiff::Timestamp::MAX);
    }

    /// Gives the clock's host the secret `name` with `value`.
    pub fn set_secret(&self, name: &str, value: &str) {
        self.inner().secrets.insert(name.to_string(), value.to_string());
    }
}

impl fmt::Debug for FakeClock {
    /// The time, the id counter and the secrets' names, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner();
        f.debug_struct("FakeClock")
            .field("now", &inner.now)
            .field("ids", &inner.ids)
            .field("secrets", &inner.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> jiff::Timestamp {
        self.inner().now
    }

    fn new_id(&self) -> String {
        let mut inner = self.inner();
        inner.ids += 1;
        let millis = u64::try_from(inner.now.as_millisecond()).unwrap_or(0);
        let mut counter = [0u8; 10];
        counter[2..].copy_from_slice(&inner.ids.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(millis, &counter)
            .into_uuid()
            .to_string()
    }

    fn secret(&self, name: &str) -> Option<String> {
        self.inner().secrets.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn it_stands_still_until_moved_and_clones_share_it() {
        let clock = FakeClock::new(at("2026-01-05T09:00:00Z"));
        let held = clock.clone();
        assert_eq!(clock.now(), at("2026-01-05T09:00:00Z"));
        assert_eq!(clock.now(), clock.now());
        held.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), at("2026-01-05T09:00:01.5Z"));
        held.set(at("2025-12-31T23:59:59Z"));
        assert_eq!(clock.now(), at("2025-12-31T23:59:59Z"));
        held.advance(Duration::MAX);
        assert_eq!(clock.now(), jiff::Timestamp::MAX, "it stops at the latest instant");
    }

    #[test]
    fn ids_are_deterministic_unique_sorted_uuid_v7() {
        let make = || {
            let clock = FakeClock::new(at("2026-01-05T09:00:00Z"));
            let first = clock.new_id();
            let second = clock.new_id();
            clock.advance(Duration::from_secs(1));
            (first, second, clock.new_id())
        };
        let (a, b, c) = make();
        assert_eq!(make(), (a.clone(), b.clone(), c.clone()), "the same on every run");
        assert!(a < b && b < c, "{a} {b} {c}");
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        let (secs, _) = parsed.get_timestamp().unwrap().to_unix();
        assert_eq!(i64::try_from(secs).unwrap(), at("2026-01-05T09:00:00Z").as_second());
    }

    #[test]
    fn secrets_are_only_those_given_and_never_shown() {
        let clock = FakeClock::new(at("2026-01-05T09:00:00Z"));
        assert_eq!(clock.secret("PATH"), None, "not the environment's");
        clock.set_secret("API_KEY", "s3cr3t-value");
        assert_eq!(clock.secret("API_KEY").as_deref(), Some("s3cr3t-value"));
        let shown = format!("{clock:?}");
        assert!(shown.contains("API_KEY") && !shown.contains("s3cr3t-value"), "{shown}");
    }
}
