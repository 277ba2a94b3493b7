//! Schedules (SERVER.md "Schedules and hooks"): when a cron schedule fires
//! ([`cron`], its fields checked by [`fields`]) and when an `at` one does
//! ([`cron::parse_at`]).

pub mod cron;
pub mod fields;
