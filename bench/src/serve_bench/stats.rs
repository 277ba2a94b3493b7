//! The arithmetic of the figures: percentiles, and how much of a turn the
//! service spent waiting on the mock (the union of the mock's intervals that
//! fall inside the turn, so calls made concurrently count once).

use std::time::{Duration, Instant};

/// The `p` quantile (0..=1) of unsorted durations, nearest rank; zero when empty.
pub fn percentile(values: &mut [Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    let rank = ((values.len() as f64) * p).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// How long, between `from` and `to`, at least one of `intervals` was open.
pub fn covered(intervals: &[(Instant, Instant)], from: Instant, to: Instant) -> Duration {
    let mut clipped: Vec<(Instant, Instant)> = intervals
        .iter()
        .filter_map(|&(a, b)| {
            let a = a.max(from);
            let b = b.min(to);
            (a < b).then_some((a, b))
        })
        .collect();
    clipped.sort_unstable();
    let mut total = Duration::ZERO;
    let mut current: Option<(Instant, Instant)> = None;
    for (a, b) in clipped {
        current = match current {
            Some((start, end)) if a <= end => Some((start, end.max(b))),
            Some((start, end)) => {
                total += end - start;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((start, end)) = current {
        total += end - start;
    }
    total
}

/// The time the service added to a turn: its latency less the mock's time in it.
pub fn added(from: Instant, to: Instant, external: &[(Instant, Instant)]) -> Duration {
    (to - from).saturating_sub(covered(external, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile(&mut v, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&mut v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&mut v, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&mut [], 0.5), Duration::ZERO);
    }

    #[test]
    fn overlapping_calls_count_once_and_outside_time_not_at_all() {
        let t = Instant::now();
        // Two concurrent calls (10..60, 20..70), one later (100..150), one
        // before the turn (0..5) and one straddling its end (190..260).
        let calls = [
            (at(t, 10), at(t, 60)),
            (at(t, 100), at(t, 150)),
            (at(t, 20), at(t, 70)),
            (at(t, 0), at(t, 5)),
            (at(t, 190), at(t, 260)),
        ];
        let from = at(t, 8);
        let to = at(t, 200);
        assert_eq!(covered(&calls, from, to), Duration::from_millis(60 + 50 + 10));
        assert_eq!(added(from, to, &calls), Duration::from_millis(192 - 120));
        assert_eq!(added(from, to, &[]), Duration::from_millis(192));
    }
}
