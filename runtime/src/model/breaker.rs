//! A circuit breaker per model (`provider:model`), shared by every run of a
//! [`crate::Runtime`]: after `failures` outages in a row (calls that failed on
//! a connection error, a time-out, a 429 or a 5xx, after their own retries) the
//! model is skipped for `cooldown`, so its group's fallback answers at once;
//! then one trial call is let through (half-open): success closes the breaker,
//! another outage opens it again. Any answer from the model, even a refusal
//! such as a 400, shows it is up and closes it.

use crate::http::env_u64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Outages in a row that open the breaker (0: never open).
    pub failures: u32,
    /// How long an open breaker skips the model.
    pub cooldown: Duration,
}

impl BreakerSettings {
    /// `FLOW_BREAKER_FAILURES` (default 3, 0 turns breakers off) and
    /// `FLOW_BREAKER_COOLDOWN_MS` (default 30,000).
    pub fn from_env() -> BreakerSettings {
        BreakerSettings {
            failures: u32::try_from(env_u64("FLOW_BREAKER_FAILURES", 3)).unwrap_or(3),
            cooldown: Duration::from_millis(env_u64("FLOW_BREAKER_COOLDOWN_MS", 30_000)),
        }
    }
}

/// What a caller may do with the model now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Call it.
    Call,
    /// Call it as the one trial after a cool-down.
    Trial,
    /// Skip it: the breaker is open for this much longer.
    Skip(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        outages: u32,
    },
    Open {
        until: Instant,
    },
    /// A trial is under way; if it never reports, another is allowed after `until`.
    Trial {
        until: Instant,
    },
}

/// One model's breaker.
#[derive(Debug)]
pub struct Breaker {
    settings: BreakerSettings,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(settings: BreakerSettings) -> Breaker {
        Breaker {
            settings,
            state: Mutex::new(State::Closed { outages: 0 }),
        }
    }

    /// Whether the model may be called at `now`.
    pub fn admit(&self, now: Instant) -> Admission {
        let Ok(mut state) = self.state.lock() else {
            return Admission::Call;
        };
        match *state {
            State::Closed { .. } => Admission::Call,
            State::Open { until } | State::Trial { until } if now >= until => {
                *state = State::Trial {
                    until: now + self.settings.cooldown,
                };
                Admission::Trial
            }
            State::Open { until } | State::Trial { until } => Admission::Skip(until - now),
        }
    }

    /// Records how a call that was let through ended: `outage` when it failed
    /// in a way that trying later may cure.
    pub fn record(&self, now: Instant, outage: bool) {
        let Ok(mut state) = self.state.lock() else { return };
        if !outage {
            *state = State::Closed { outages: 0 };
            return;
        }
        let open = State::Open {
            until: now + self.settings.cooldown,
        };
        *state = match *state {
            _ if self.settings.failures == 0 => State::Closed { outages: 0 },
            State::Closed { outages } if outages + 1 < self.settings.failures => State::Closed { outages: outages + 1 },
            _ => open,
        };
    }

    /// The number of outages in a row that opened it (for messages).
    pub fn failures(&self) -> u32 {
        self.settings.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerSettings {
            failures: 3,
            cooldown: Duration::from_secs(30),
        })
    }

    #[test]
    fn opens_after_three_outages_in_a_row_then_lets_one_trial_through() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(b.admit(t0), Admission::Call);
            b.record(t0, true);
        }
        assert_eq!(b.admit(t0), Admission::Call, "two outages keep it closed");
        b.record(t0, true);
        assert_eq!(
            b.admit(t0 + Duration::from_secs(1)),
            Admission::Skip(Duration::from_secs(29))
        );
        let later = t0 + Duration::from_secs(30);
        assert_eq!(b.admit(later), Admission::Trial, "half-open after the cool-down");
        assert!(matches!(b.admit(later), Admission::Skip(_)), "only one trial at a time");
        b.record(later, true);
        assert!(
            matches!(b.admit(later + Duration::from_secs(29)), Admission::Skip(_)),
            "the trial failed: open again"
        );
        let again = later + Duration::from_secs(30);
        assert_eq!(b.admit(again), Admission::Trial);
        b.record(again, false);
        assert_eq!(b.admit(again), Admission::Call, "the trial succeeded: closed");
    }

    #[test]
    fn an_answer_resets_the_count_and_zero_turns_it_off() {
        let b = breaker();
        let t = Instant::now();
        b.record(t, true);
        b.record(t, true);
        b.record(t, false);
        b.record(t, true);
        b.record(t, true);
        assert_eq!(b.admit(t), Admission::Call, "not three in a row");
        let off = Breaker::new(BreakerSettings {
            failures: 0,
            cooldown: Duration::from_secs(30),
        });
        for _ in 0..10 {
            off.record(t, true);
        }
        assert_eq!(off.admit(t), Admission::Call);
    }

    #[test]
    fn a_trial_that_never_reports_allows_another() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..3 {
            b.record(t, true);
        }
        let later = t + Duration::from_secs(30);
        assert_eq!(b.admit(later), Admission::Trial);
        assert_eq!(b.admit(later + Duration::from_secs(30)), Admission::Trial);
    }
}
