//! The standard five cron fields, checked before the cron crate sees them:
//! the crate also takes `L`, `W`, `#`, `?`, `+`, seconds, years and
//! nicknames, which SERVER.md refuses ("other forms are 422"). Each field
//! is a comma-separated list of `*`, `N`, `A-B`, `*/S` or `A-B/S`, with
//! month names (`jan`-`dec`) and day names (`sun`-`sat`) in their fields;
//! an error names the field and what is wrong.

use super::cron::CronError;

/// One of the five fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// 0-59.
    Minute,
    /// 0-23.
    Hour,
    /// 1-31.
    DayOfMonth,
    /// 1-12 or `jan`-`dec`.
    Month,
    /// 0-7 (0 and 7 are Sunday) or `sun`-`sat`.
    DayOfWeek,
}

const FIELDS: [Field; 5] = [
    Field::Minute,
    Field::Hour,
    Field::DayOfMonth,
    Field::Month,
    Field::DayOfWeek,
];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Field {
    /// The field's name in errors.
    pub fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// The lowest and highest values.
    pub fn bounds(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    fn names(self) -> Option<(&'static [&'static str], u32)> {
        match self {
            Field::Month => Some((&MONTHS, 1)),
            Field::DayOfWeek => Some((&DAYS, 0)),
            _ => None,
        }
    }

    fn expected(self) -> String {
        let (low, high) = self.bounds();
        match self {
            Field::Month => format!("a number {low}-{high} or a month name jan-dec"),
            Field::DayOfWeek => format!("a number {low}-{high} (0 and 7 are Sunday) or a day name sun-sat"),
            _ => format!("a number {low}-{high}"),
        }
    }
}

/// The five fields of `expression`, each checked; lower-case names.
pub fn check(expression: &str) -> Result<Vec<String>, CronError> {
    let parts: Vec<&str> = expression.split_whitespace().collect();
    match parts.as_slice() {
        [] => return Err(CronError::Empty),
        [one] if one.starts_with('@') => return Err(CronError::Nickname(one.to_string())),
        p if p.len() != 5 => return Err(CronError::FieldCount(p.len())),
        _ => {}
    }
    let mut checked = Vec::with_capacity(5);
    for (field, text) in FIELDS.into_iter().zip(parts) {
        let error = |reason: String| CronError::Field {
            field,
            text: text.to_string(),
            reason,
        };
        for item in text.split(',') {
            check_item(field, item).map_err(error)?;
        }
        checked.push(text.to_ascii_lowercase());
    }
    Ok(checked)
}

fn check_item(field: Field, item: &str) -> Result<(), String> {
    if item.is_empty() {
        return Err("a list has an empty entry".to_string());
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (item, None),
    };
    if let Some(step) = step {
        let (low, high) = field.bounds();
        let span = high - low + 1;
        match number(step) {
            Some(s) if s >= 1 && s <= span => {}
            _ => return Err(format!("the step {step:?} is not a whole number 1-{span}")),
        }
    }
    if base == "*" {
        return Ok(());
    }
    match base.split_once('-') {
        Some((a, b)) => {
            let (from, to) = (value(field, a)?, value(field, b)?);
            if from > to {
                return Err(format!(
                    "the range {base:?} runs backwards: write it from low to high, or as a list{}",
                    if field == Field::DayOfWeek {
                        " (Sunday at the end is 7: fri-sun is 5-7)"
                    } else {
                        ""
                    }
                ));
            }
            Ok(())
        }
        None if step.is_some() => Err(format!(
            "a step follows * or a range, like */15 or 0-30/15, not {base:?}"
        )),
        None => value(field, base).map(|_| ()),
    }
}

/// A value of the field: a number in its bounds or one of its names.
fn value(field: Field, text: &str) -> Result<u32, String> {
    let (low, high) = field.bounds();
    if let Some(n) = number(text) {
        return if (low..=high).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{text} is not {}", field.expected()))
        };
    }
    if let Some((names, first)) = field.names() {
        let lower = text.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == lower) {
            return Ok(first + i as u32);
        }
    }
    Err(format!("{text:?} is not {}", field.expected()))
}

/// A whole number of at most four digits (longer is out of every field's bounds).
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
