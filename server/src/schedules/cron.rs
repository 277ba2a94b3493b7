//! When a cron schedule fires (SERVER.md "Schedules and hooks" and its
//! "Details"): the standard five fields (minute, hour, day of month, month,
//! day of week: numbers, ranges, lists, steps, month and day names) in an
//! IANA time zone (UTC by default). The fields' meaning is the `croner`
//! crate's; [`fields`](super::fields) first keeps to the standard forms.
//!
//! Across daylight-saving changes it follows Vixie cron. A job whose minute
//! and hour fields do not start with `*` has fixed times: one skipped by the
//! spring change fires once, when the gap ends; one in the repeated autumn
//! hour fires once, the first time. A job whose minute or hour field starts
//! with `*` fires at every real instant whose wall clock matches (twice in a
//! repeated hour, never in a skipped one). As in Vixie cron, when the day of
//! month or the day of week starts with `*` a day must match both, else
//! either.

use super::fields::{self, Field};
use croner::parser::CronParser;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, Zoned};
use std::fmt;

/// A parsed cron schedule in its time zone.
#[derive(Debug, Clone)]
pub struct Cron {
    expression: String,
    zone_name: String,
    zone: TimeZone,
    inner: croner::Cron,
    fixed: bool,
}

/// Why a cron schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CronError {
    /// No fields at all.
    Empty,
    /// `@hourly` and the like.
    Nickname(String),
    /// Not five fields (how many there were).
    FieldCount(usize),
    /// A field that is not a standard cron field.
    Field {
        /// Which field.
        field: Field,
        /// The field as written.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Well-formed, but no date ever matches (`0 0 30 2 *`).
    Never(String),
    /// The cron crate refused it (its reason).
    Refused(String),
    /// The time zone is not in the tz database.
    UnknownZone(String),
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const FIVE: &str = "minute hour day-of-month month day-of-week";
        match self {
            CronError::Empty => write!(f, "the cron expression is empty: give five fields ({FIVE})"),
            CronError::Nickname(n) => {
                write!(
                    f,
                    "cron nicknames like {n} are not supported: give five fields ({FIVE}), e.g. 0 * * * *"
                )
            }
            CronError::FieldCount(n) => {
                write!(f, "a cron expression has five fields ({FIVE}); this one has {n}")
            }
            CronError::Field { field, text, reason } => write!(f, "the {} field {text:?}: {reason}", field.name()),
            CronError::Never(e) => write!(f, "the cron expression {e:?} never fires: no date matches it"),
            CronError::Refused(reason) => write!(f, "the cron expression is refused: {reason}"),
            CronError::UnknownZone(z) => {
                write!(
                    f,
                    "unknown time zone {z:?}: give an IANA name like Europe/Paris or America/New_York"
                )
            }
        }
    }
}

impl std::error::Error for CronError {}

impl Cron {
    /// A schedule from five cron fields and an IANA time zone name (None:
    /// UTC). An error names the field, or the zone, that is wrong.
    pub fn parse(expression: &str, timezone: Option<&str>) -> Result<Cron, CronError> {
        let zone_name = timezone.map(str::trim).unwrap_or("UTC").to_string();
        let zone = if zone_name.is_empty() {
            return Err(CronError::UnknownZone(zone_name));
        } else {
            TimeZone::get(&zone_name).map_err(|_| CronError::UnknownZone(zone_name.clone()))?
        };
        let parts = fields::check(expression)?;
        let normalised = parts.join(" ");
        // Vixie cron: a day-of-month or day-of-week field starting with `*`
        // means a day must match both.
        let both_days = parts[2].starts_with('*') || parts[4].starts_with('*');
        let inner = CronParser::builder()
            .dom_and_dow(both_days)
            .build()
            .parse(&normalised)
            .map_err(|e| CronError::Refused(e.to_string()))?;
        let fixed = !parts[0].starts_with('*') && !parts[1].starts_with('*');
        let cron = Cron {
            expression: normalised,
            zone_name,
            zone,
            inner,
            fixed,
        };
        // A pattern no date matches (30 February) is refused here, not found
        // out when it is due.
        let probe = jiff::civil::date(2000, 1, 1).at(0, 0, 0, 0);
        if cron.inner.find_next_occurrence(&probe, false).is_err() {
            return Err(CronError::Never(cron.expression));
        }
        Ok(cron)
    }

    /// The five fields, separated by single spaces.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The time zone's name (`UTC` by default).
    pub fn timezone(&self) -> &str {
        &self.zone_name
    }

    /// The first instant strictly after `after` at which the schedule fires,
    /// or None when it never fires again (past the cron crate's year 5000).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        // Whole seconds: a fire time is always on one, and every time at or
        // before `after`'s second is not strictly after it.
        let floor = Timestamp::from_second(after.as_second()).ok()?;
        if self.fixed {
            self.next_fixed(floor)
        } else {
            self.next_wild(floor)
        }
    }

    /// Every real instant whose wall clock matches: the crate's own walk.
    fn next_wild(&self, after: Timestamp) -> Option<Timestamp> {
        let start: Zoned = after.to_zoned(self.zone.clone());
        self.inner
            .find_next_occurrence(&start, false)
            .ok()
            .map(|z| z.timestamp())
    }

    /// Fixed times: each matching wall clock time fires at its instant, the
    /// earlier one when it is repeated, the end of the gap when it is
    /// skipped. That mapping never goes back as the wall clock goes on, so
    /// the first matching wall time after `after`'s whose instant is past
    /// `after` is the answer; the walk passes over at most the matches of
    /// one repeated range.
    fn next_fixed(&self, after: Timestamp) -> Option<Timestamp> {
        let mut wall: DateTime = after.to_zoned(self.zone.clone()).datetime();
        // A repeated hour holds at most 60 matches of a fixed job per hour
        // field value; this bound is only a guard against a looping crate.
        for _ in 0..10_000 {
            wall = self.inner.find_next_occurrence(&wall, false).ok()?;
            let at = self.instant_of(wall)?;
            if at > after {
                return Some(at);
            }
        }
        None
    }

    /// The instant a fixed job due at the wall clock time `wall` fires.
    fn instant_of(&self, wall: DateTime) -> Option<Timestamp> {
        let ambiguous = self.zone.to_ambiguous_timestamp(wall);
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => ambiguous.unambiguous().ok(),
            AmbiguousOffset::Fold { .. } => ambiguous.earlier().ok(),
            AmbiguousOffset::Gap { after, .. } => {
                // `wall` read with the offset after the gap is an instant
                // before it; the next transition is where the gap ends.
                let before_gap = wall.to_zoned(TimeZone::fixed(after)).ok()?.timestamp();
                self.zone.following(before_gap).next().map(|t| t.timestamp())
            }
        }
    }
}

/// An `at` schedule's time: RFC 3339 with its offset (`Z` or `±HH:MM`), like
/// `2026-01-05T09:00:00+01:00`. A time without an offset, or with a zone
/// annotation, is refused.
pub fn parse_at(text: &str) -> Result<Timestamp, String> {
    let bad = || {
        format!(
            "{text:?} is not an RFC 3339 time with an offset, like 2026-01-05T09:00:00Z or 2026-01-05T10:00:00+01:00"
        )
    };
    let t = text.trim();
    let b = t.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let offset_ok = t.ends_with(['Z', 'z']) || {
        let n = b.len();
        n >= 6 && matches!(b[n - 6], b'+' | b'-') && digits(n - 5..n - 3) && b[n - 3] == b':' && digits(n - 2..n)
    };
    if !shape || !offset_ok {
        return Err(bad());
    }
    t.parse::<Timestamp>().map_err(|_| bad())
}

#[cfg(test)]
mod tests;
