//! What a person deciding a pause needs to see: an approval's prompt and
//! deadline, a handoff's queue and message. They come from the run's last
//! `paused` event and are shown on the pause notice of `flow run`, in
//! `flow runs`, `flow runs show` and `--trace`.

use crate::terminal::escape;
use flow_runtime::store::Store;
use serde_json::Value;

/// The last `paused` event of a run that waits for a human or an approval.
pub fn last_pause(store: &dyn Store, run_id: &str) -> Option<Value> {
    let events = crate::wait::wait(store.events_after(run_id, 0)).ok()?.ok()?;
    events
        .iter()
        .rev()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|e| e.get("type").and_then(Value::as_str) == Some("paused"))
        .filter(|e| {
            matches!(
                e.get("state").and_then(Value::as_str),
                Some("waiting_for_human" | "waiting_for_approval")
            )
        })
}

/// The pause's details as `(label, text)` pairs, in the order a person reads
/// them; `relative` adds how far the deadline is from now.
pub fn details(event: &Value, relative: bool) -> Vec<(&'static str, String)> {
    let text = |k: &str| match event.get(k) {
        Some(Value::String(s)) => Some(escape(s)),
        Some(Value::Null) | None => None,
        Some(other) => Some(escape(&other.to_string())),
    };
    let mut out = Vec::new();
    match event.get("state").and_then(Value::as_str) {
        Some("waiting_for_approval") => {
            out.push(("prompt", text("prompt").unwrap_or_else(|| "(none)".into())));
            let deadline = match text("deadline") {
                Some(d) if relative => format!("{d} ({})", from_now(&d)),
                Some(d) => d,
                None => "none".into(),
            };
            out.push(("deadline", deadline));
        }
        Some("waiting_for_human") => {
            out.push(("queue", text("queue").unwrap_or_else(|| "(none)".into())));
            out.push(("message", text("message").unwrap_or_else(|| "(none)".into())));
        }
        _ => {}
    }
    out
}

/// The details on one line: `prompt "…", deadline …`.
pub fn one_line(event: &Value, relative: bool) -> String {
    details(event, relative)
        .into_iter()
        .map(|(label, value)| match label {
            "prompt" | "message" => format!("{label} \"{}\"", value.replace('\n', " / ")),
            _ => format!("{label} {value}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `in 1h 59m`, or `passed 3m ago: resuming takes on timeout`.
fn from_now(deadline: &str) -> String {
    let Ok(at) = deadline.parse::<jiff::Timestamp>() else {
        return "not a valid time".into();
    };
    let now = crate::clock_env::now();
    let seconds = at.as_second() - now.as_second();
    if seconds > 0 {
        format!("in {}", duration(seconds))
    } else {
        format!("passed {} ago: resuming takes `on timeout`", duration(-seconds))
    }
}

fn duration(seconds: i64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn approval_and_handoff_details() {
        let approval = json!({"type": "paused", "state": "waiting_for_approval",
            "prompt": "Refund 40 EUR?\x1b[2J", "deadline": null});
        assert_eq!(
            one_line(&approval, true),
            "prompt \"Refund 40 EUR?\\x1b[2J\", deadline none"
        );
        let handoff = json!({"type": "paused", "state": "waiting_for_human",
            "queue": "billing", "message": "Customer wants a refund"});
        assert_eq!(
            one_line(&handoff, false),
            "queue billing, message \"Customer wants a refund\""
        );
        let later = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(7300))
            .unwrap()
            .to_string();
        let timed = json!({"state": "waiting_for_approval", "prompt": "ok?", "deadline": later});
        assert!(
            one_line(&timed, true).ends_with("(in 2h 1m)"),
            "{}",
            one_line(&timed, true)
        );
        let past = json!({"state": "waiting_for_approval", "prompt": "ok?", "deadline": "2001-01-01T00:00:00Z"});
        assert!(one_line(&past, true).contains("passed"));
    }

    #[test]
    fn short_durations() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(65), "1m 5s");
        assert_eq!(duration(90_000), "1d 1h");
    }
}
