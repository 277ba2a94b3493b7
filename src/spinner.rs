//! The spinner of `flow run` on a terminal: while a model or tool call takes
//! longer than a moment, one stderr line says what the run waits for and how
//! long it has waited, redrawn every 100 ms and erased when the call ends.

use crate::terminal::{Palette, Role};
use flow_runtime::Activity;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a call runs before the spinner appears (fast calls show nothing).
const DELAY: Duration = Duration::from_millis(250);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(100);
const FRAMES: [char; 4] = ['|', '/', '-', '\\'];

#[derive(Default)]
struct State {
    waiting: Option<(String, Instant)>,
    shown: bool,
}

/// A spinner on stderr; clones share one line.
#[derive(Clone)]
pub struct Spinner {
    state: Arc<Mutex<State>>,
    palette: Palette,
}

impl Spinner {
    /// A spinner when stderr is a terminal, else `None` (nothing is drawn).
    pub fn on_terminal() -> Option<Spinner> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let spinner = Spinner {
            state: Arc::default(),
            palette: Palette::stderr(),
        };
        let ticking = spinner.clone();
        std::thread::Builder::new()
            .name("spinner".into())
            .spawn(move || ticking.tick_forever())
            .ok()?;
        Some(spinner)
    }

    /// Starts (`Some`) or ends (`None`) a wait; ending erases the line.
    pub fn set(&self, activity: Option<&Activity>) {
        let Ok(mut state) = self.state.lock() else { return };
        match activity {
            Some(a) => state.waiting = Some((describe(a), Instant::now())),
            None => {
                state.waiting = None;
                erase(&mut state);
            }
        }
    }

    /// Erases the line now (before a message is printed over it).
    pub fn erase(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.waiting = None;
            erase(&mut state);
        }
    }

    fn tick_forever(&self) {
        let mut frame = 0usize;
        loop {
            std::thread::sleep(TICK);
            let Ok(mut state) = self.state.lock() else { return };
            let Some((what, since)) = &state.waiting else { continue };
            let waited = since.elapsed();
            if waited < DELAY {
                continue;
            }
            frame = (frame + 1) % FRAMES.len();
            let line = format!("{} waiting for {what} ({:.1}s)", FRAMES[frame], waited.as_secs_f64());
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{}", self.palette.paint(Role::Trace, &line));
            let _ = err.flush();
            state.shown = true;
        }
    }
}

fn erase(state: &mut State) {
    if state.shown {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
        state.shown = false;
    }
}

/// `model default (openai:gpt-4o) at chat`, `tool lookup at check`.
pub fn describe(activity: &Activity) -> String {
    let text = match activity {
        Activity::Model {
            group,
            model,
            node,
            purpose,
        } => {
            let why = match purpose.as_str() {
                "reply" => String::new(),
                other => format!(", {}", other.replace('_', " ")),
            };
            format!("model `{group}` ({model}{why}) at `{node}`")
        }
        Activity::Tool { tool, node } => format!("tool `{tool}` at `{node}`"),
    };
    crate::terminal::escape(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_it_waits_for() {
        let model = Activity::Model {
            group: "default".into(),
            model: "openai:gpt-4o-mini".into(),
            node: "chat".into(),
            purpose: "choose_exit".into(),
        };
        assert_eq!(
            describe(&model),
            "model `default` (openai:gpt-4o-mini, choose exit) at `chat`"
        );
        let tool = Activity::Tool {
            tool: "lookup".into(),
            node: "check".into(),
        };
        assert_eq!(describe(&tool), "tool `lookup` at `check`");
    }
}
