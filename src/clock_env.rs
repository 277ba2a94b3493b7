//! `FLOW_CLOCK`: the instant the process's clock stands at, for tests and
//! replays (docs/runtime.md, "Time").
//!
//! Unset or empty, `flow run`, `flow resume`, `flow runs` and `flow keys`
//! read the system's time. Set to an RFC 3339 instant with a UTC offset
//! (`2026-01-05T09:00:00Z`, `2026-01-05T10:00:00+01:00`), the process's clock
//! reads exactly that instant for its whole life: event times, `created` and
//! `updated`, the deadlines an approval or a silence exit sets and whether
//! they have passed, `today(ZONE)`, `time.*`, and the "in 2h 0m" / "passed"
//! of a pause's deadline. Waits measured in real time (a live silence exit
//! while reading the terminal, HTTP retries) stay real. Any other value is
//! refused before anything runs (exit 2).

use std::sync::{Arc, OnceLock};

/// The environment variable that fixes the process's clock.
pub const FLOW_CLOCK: &str = "FLOW_CLOCK";

static FIXED: OnceLock<Option<jiff::Timestamp>> = OnceLock::new();

/// Reads `FLOW_CLOCK` once for the process; a bad value is an error naming it.
pub fn init() -> Result<(), String> {
    let fixed = parse(
        std::env::var_os(FLOW_CLOCK)
            .as_deref()
            .map(|v| v.to_string_lossy())
            .as_deref(),
    )?;
    let _ = FIXED.set(fixed);
    Ok(())
}

/// The instant a `FLOW_CLOCK` value names (`None` when it is unset or empty).
fn parse(value: Option<&str>) -> Result<Option<jiff::Timestamp>, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse::<jiff::Timestamp>().map(Some).map_err(|_| {
            format!(
                "{FLOW_CLOCK}={text:?} is not an instant: give an RFC 3339 time with its offset, like 2026-01-05T09:00:00Z (or unset it for the system clock)"
            )
        }),
    }
}

/// The process's clock: fixed by `FLOW_CLOCK`, else the system's.
pub fn clock() -> Arc<dyn flow_runtime::Clock> {
    match FIXED.get().copied().flatten() {
        Some(at) => Arc::new(flow_runtime::FixedClock(at)),
        None => Arc::new(flow_runtime::SystemClock),
    }
}

/// The process's current time.
pub fn now() -> jiff::Timestamp {
    clock().now()
}

/// Gives `runtime` the process's clock (when `FLOW_CLOCK` fixed it).
pub fn install(runtime: &mut flow_runtime::Runtime) {
    if let Some(at) = FIXED.get().copied().flatten() {
        runtime.set_clock(flow_runtime::FixedClock(at));
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn values_of_flow_clock() {
        let at: jiff::Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
        assert_eq!(parse(None), Ok(None));
        assert_eq!(parse(Some("")), Ok(None));
        assert_eq!(parse(Some(" 2026-01-05T09:00:00Z ")), Ok(Some(at)));
        assert_eq!(parse(Some("2026-01-05T10:00:00+01:00")), Ok(Some(at)));
        for bad in ["tomorrow", "2026-01-05", "2026-01-05T09:00:00", "1767603600"] {
            let err = parse(Some(bad)).unwrap_err();
            assert!(err.contains("FLOW_CLOCK") && err.contains(bad), "{err}");
        }
    }
}
