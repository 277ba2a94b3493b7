//! The server's clock and what it lets workflows read from the environment.
//!
//! `FLOW_CLOCK=RFC3339` starts the clock at that instant and lets it run;
//! `FLOW_CLOCK=RFC3339x60` runs it 60 times faster (SERVER.md "For tests").
//! Secrets come from the server's environment, except its own configuration:
//! names starting with `FLOW_` and the providers' variables; `--secrets`
//! narrows that to a list.

use flow_runtime::Clock;
use std::time::Instant;

/// Prefixes of variables no workflow may read as a secret.
const RESERVED: [&str; 7] = [
    "FLOW_",
    "OPENAI_",
    "ANTHROPIC_",
    "AZURE_OPENAI_",
    "GEMINI_",
    "AWS_",
    "BEDROCK_",
];

/// The server's clock: the system's, or one started at an instant and sped up.
#[derive(Debug, Clone)]
pub struct ServerClock {
    start: Option<(jiff::Timestamp, Instant, f64)>,
    allowed: Option<Vec<String>>,
}

impl ServerClock {
    /// A clock from `FLOW_CLOCK`'s value (None or empty: the system's), reading
    /// only the secrets in `allowed` when given. An error names the variable.
    pub fn new(flow_clock: Option<&str>, allowed: Option<Vec<String>>) -> Result<ServerClock, String> {
        let start = match flow_clock.map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(parse(text)?),
        };
        Ok(ServerClock { start, allowed })
    }

    /// Whether a workflow may read this variable as a secret.
    pub fn may_read(&self, name: &str) -> bool {
        if RESERVED.iter().any(|p| name.starts_with(p)) {
            return false;
        }
        self.allowed.as_ref().is_none_or(|list| list.iter().any(|n| n == name))
    }
}

fn parse(text: &str) -> Result<(jiff::Timestamp, Instant, f64), String> {
    let bad = || {
        format!(
            "FLOW_CLOCK={text:?} is not an instant: give an RFC 3339 time with its offset, like 2026-01-05T09:00:00Z, optionally followed by xN to run N times faster"
        )
    };
    let (at, speed) = match text.rsplit_once('x') {
        Some((at, speed)) if speed.parse::<f64>().is_ok() => (at, speed.parse::<f64>().map_err(|_| bad())?),
        _ => (text, 1.0),
    };
    if !(speed.is_finite() && speed > 0.0 && speed <= 1e6) {
        return Err(bad());
    }
    let at = at.parse::<jiff::Timestamp>().map_err(|_| bad())?;
    Ok((at, Instant::now(), speed))
}

impl Clock for ServerClock {
    fn now(&self) -> jiff::Timestamp {
        match self.start {
            None => jiff::Timestamp::now(),
            Some((at, since, speed)) => {
                let elapsed = since.elapsed().as_secs_f64() * speed;
                let span = jiff::SignedDuration::from_secs_f64(elapsed.min(1e12));
                at.checked_add(span).unwrap_or(at)
            }
        }
    }

    fn secret(&self, name: &str) -> Option<String> {
        if !self.may_read(name) {
            return None;
        }
        std::env::var(name).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_own_variables_are_never_secrets() {
        let clock = ServerClock::new(None, None).unwrap();
        assert!(!clock.may_read("OPENAI_API_KEY"));
        assert!(!clock.may_read("FLOW_STORE"));
        assert!(!clock.may_read("AWS_SECRET_ACCESS_KEY"));
        assert!(clock.may_read("CRM_TOKEN"));
        let narrowed = ServerClock::new(None, Some(vec!["CRM_TOKEN".into()])).unwrap();
        assert!(narrowed.may_read("CRM_TOKEN"));
        assert!(!narrowed.may_read("OTHER"));
    }

    #[test]
    fn a_test_clock_starts_at_its_instant_and_runs_faster() {
        let clock = ServerClock::new(Some("2026-01-05T09:00:00Zx3600"), None).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let now = clock.now();
        let start: jiff::Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        let gone = now.duration_since(start).as_secs_f64();
        assert!((60.0..3600.0).contains(&gone), "{gone}");
        assert!(ServerClock::new(Some("yesterday"), None).is_err());
        assert!(ServerClock::new(Some("2026-01-05T09:00:00Zx0"), None).is_err());
        let plain = ServerClock::new(Some("2026-01-05T09:00:00Z"), None).unwrap();
        assert!(plain.now().duration_since(start).as_secs_f64() < 5.0);
    }
}
