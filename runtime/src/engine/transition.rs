//! The one place a run's status and position change. Every move of a run
//! (entering a node, taking an edge, waiting, resuming, completing, failing,
//! being cancelled) goes through [`Run::move_to`], which records the move's
//! event in the same step, so the state and the events cannot disagree.

use super::Run;
use crate::event::EventBody;
use crate::state::{Position, RunStatus};

impl Run {
    /// Moves the run to `status` at `position`, recording `event` (if any) first.
    pub(super) fn move_to(&mut self, status: RunStatus, position: Position, event: Option<EventBody>) {
        if let Some(body) = event {
            self.emit(body);
        }
        debug_assert_eq!(
            status.is_finished(),
            matches!(position, Position::Finished { .. }),
            "{status:?} at {position:?}"
        );
        if !matches!(position, Position::Waiting { .. }) {
            self.state.pending = None;
        }
        self.state.status = status;
        self.state.position = position;
    }

    /// The run's position as it is now (for a move that keeps it).
    pub(super) fn here(&self) -> Position {
        self.state.position.clone()
    }
}

#[cfg(test)]
mod tests {
    /// The engine's sources, each with its name.
    const SOURCES: &[(&str, &str)] = &[
        ("mod.rs", include_str!("mod.rs")),
        ("commit.rs", include_str!("commit.rs")),
        ("lease.rs", include_str!("lease.rs")),
        ("nodes.rs", include_str!("nodes.rs")),
        ("exits.rs", include_str!("exits.rs")),
        ("silence.rs", include_str!("silence.rs")),
        ("deliveries.rs", include_str!("deliveries.rs")),
        ("llm.rs", include_str!("llm.rs")),
        ("companion.rs", include_str!("companion.rs")),
        ("returns.rs", include_str!("returns.rs")),
        ("start.rs", include_str!("start.rs")),
        ("limits.rs", include_str!("limits.rs")),
    ];

    #[test]
    fn status_and_position_change_only_through_move_to() {
        for (name, text) in SOURCES {
            for (n, line) in text.lines().enumerate() {
                let assigns = ["state.status = ", "state.position = ", "*deadline = "]
                    .iter()
                    .any(|pattern| line.contains(pattern));
                assert!(
                    !assigns,
                    "{name}:{}: changes the run's place outside move_to: {line}",
                    n + 1
                );
            }
        }
    }
}
