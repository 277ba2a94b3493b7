//! Silence exits (`after DURATION silence -> target`): when an agent starts
//! waiting for the user, the deadline (now + the duration) is kept in the
//! run's position, so it is checkpointed with the state and survives a
//! restart. The exit is taken when the inbox gives nothing before the
//! deadline, or at once when the deadline has already passed (`flow resume`,
//! [`Run::expire`]). A spent silence exit (`max N`) counts as absent: the
//! agent then waits for the user with no deadline.

use super::Run;
use crate::event::EventBody;
use crate::program::EdgeIx;
use crate::state::{Position, RunStatus};
use flow_graph::EdgeKind;
use std::time::Duration;

/// How long from `now` until an RFC 3339 deadline: zero once it has passed,
/// `None` with no deadline (or one that does not parse).
pub(super) fn remaining(deadline: Option<&str>, now: jiff::Timestamp) -> Option<Duration> {
    let deadline = deadline?.parse::<jiff::Timestamp>().ok()?;
    let left = deadline.duration_since(now);
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

impl Run {
    /// The silence exit of the agent the run is at that is not spent, with its duration.
    fn silence_edge(&self) -> Option<(EdgeIx, u64)> {
        self.program.exits_at(self.at).iter().find_map(|&ix| {
            let edge = self.program.edge_at(ix);
            let ms = edge.silence_ms.filter(|_| edge.kind == EdgeKind::Silence)?;
            (!self.spent(ix)).then_some((ix, ms))
        })
    }

    /// When a wait for the user starting now ends by silence (RFC 3339), if the agent has a silence exit.
    pub(super) fn silence_deadline(&self) -> Option<String> {
        let (_, ms) = self.silence_edge()?;
        let span = jiff::Span::new().try_milliseconds(i64::try_from(ms).ok()?).ok()?;
        self.clock.now().checked_add(span).ok().map(|t| t.to_string())
    }

    /// The user stayed silent until the deadline: takes the silence exit
    /// (`resumed` with `silence` when a `paused` was written). With no exit
    /// left to take, the agent goes on waiting without a deadline.
    pub(super) fn take_silence(&mut self, id: &str) {
        let Some((edge, _)) = self.silence_edge() else {
            if let Position::Waiting { node, paused, .. } = self.here() {
                let position = Position::Waiting {
                    node,
                    paused,
                    deadline: None,
                };
                self.move_to(self.state.status, position, None);
            }
            return;
        };
        let resumed =
            matches!(self.state.position, Position::Waiting { paused: true, .. }).then(|| EventBody::Resumed {
                node: id.to_string(),
                with: "silence".into(),
                note: None,
            });
        self.move_to(RunStatus::Running, self.here(), resumed);
        self.take(id, edge);
    }
}
