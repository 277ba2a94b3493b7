use super::*;

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn the_standard_schedule_is_seven_delays_then_failed() {
    let schedule = RetrySchedule::standard();
    assert_eq!(
        schedule.delays(),
        &[S(5), S(300), S(1800), S(7200), S(18_000), S(36_000), S(36_000)]
    );
    assert_eq!(schedule.max_attempts(), 8);
    assert_eq!(schedule.delay(0, None), Some(Duration::ZERO));
    assert!(schedule.delay(7, None).is_some());
    assert_eq!(schedule.delay(8, None), None);
    assert_eq!(
        schedule.delay(8, Some(S(10))),
        None,
        "Retry-After does not add attempts"
    );
    assert_eq!(RetrySchedule::default(), schedule);
}

#[test]
fn the_standard_delays_are_jittered_within_ten_percent() {
    let schedule = RetrySchedule::standard();
    let mut rng = fastrand::Rng::with_seed(7);
    for (i, base) in STANDARD.iter().enumerate() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let d = schedule.delay_with(i + 1, None, &mut rng).unwrap();
            assert!(
                d >= base.mul_f64(0.9) && d <= base.mul_f64(1.1),
                "attempt {}: {d:?}",
                i + 1
            );
            seen.insert(d);
        }
        assert!(seen.len() > 100, "the jitter varies: {} values", seen.len());
        let below = seen.iter().filter(|d| *d < base).count();
        assert!(below > 20 && below < seen.len() - 20, "both sides of {base:?}");
    }
}

#[test]
fn retry_after_lengthens_a_delay_up_to_an_hour_and_never_shortens_it() {
    let schedule = parse_schedule("1s,2s,4s").unwrap();
    assert_eq!(schedule.delay(1, None), Some(S(1)));
    assert_eq!(schedule.delay(1, Some(S(30))), Some(S(30)));
    assert_eq!(schedule.delay(2, Some(Duration::from_millis(500))), Some(S(2)));
    assert_eq!(schedule.delay(3, Some(S(86_400))), Some(S(3600)));
    assert_eq!(schedule.delay(3, Some(Duration::MAX)), Some(S(3600)));
    // The standard 5 h delay is longer than any Retry-After can ask.
    let standard = RetrySchedule::standard();
    let d = standard.delay(5, Some(S(86_400))).unwrap();
    assert!(d >= S(16_200), "{d:?}");
}

#[test]
fn a_test_schedule_has_units_and_no_jitter() {
    let schedule = parse_schedule(" 1s, 2s ,4s").unwrap();
    assert_eq!(schedule.delays(), &[S(1), S(2), S(4)]);
    assert_eq!(schedule.max_attempts(), 4);
    for _ in 0..20 {
        assert_eq!(schedule.delay(2, None), Some(S(2)));
    }
    assert_eq!(schedule.delay(4, None), None);
    let units = parse_schedule("250ms,3s,2m,1h,0s").unwrap();
    assert_eq!(
        units.delays(),
        &[Duration::from_millis(250), S(3), S(120), S(3600), Duration::ZERO]
    );
    assert_eq!(
        RetrySchedule::from_variable(Some("10ms")).unwrap().delays(),
        &[Duration::from_millis(10)]
    );
    assert_eq!(RetrySchedule::from_variable(None).unwrap(), RetrySchedule::standard());
    assert_eq!(
        RetrySchedule::from_variable(Some("")).unwrap(),
        RetrySchedule::standard()
    );
}

#[test]
fn a_bad_schedule_names_the_entry() {
    assert_eq!(parse_schedule(" "), Err(RetryError::Empty));
    let cases = [
        ("1s,,2s", RetryError::BadEntry(2, String::new())),
        ("1s,2", RetryError::BadEntry(2, "2".into())),
        ("5x", RetryError::BadEntry(1, "5x".into())),
        ("1.5s", RetryError::BadEntry(1, "1.5s".into())),
        ("-1s", RetryError::BadEntry(1, "-1s".into())),
        ("s", RetryError::BadEntry(1, "s".into())),
        ("1 s", RetryError::BadEntry(1, "1 s".into())),
        ("1S", RetryError::BadEntry(1, "1S".into())),
        (
            "99999999999999999999h",
            RetryError::TooLarge(1, "99999999999999999999h".into()),
        ),
        (
            "1s,18446744073709551615h",
            RetryError::TooLarge(2, "18446744073709551615h".into()),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_schedule(text), Err(expected), "{text}");
    }
    let message = parse_schedule("1s,5x").unwrap_err().to_string();
    assert!(
        message.starts_with("FLOW_WEBHOOK_RETRY_SCHEDULE: entry 2 (\"5x\")"),
        "{message}"
    );
}

#[test]
fn retry_after_is_seconds_or_an_http_date() {
    let now: jiff::Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
    assert_eq!(parse_retry_after("120", now), Some(S(120)));
    assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::MAX));
    assert_eq!(parse_retry_after("Mon, 05 Jan 2026 09:02:00 GMT", now), Some(S(120)));
    // The two obsolete HTTP date forms.
    assert_eq!(parse_retry_after("Monday, 05-Jan-26 09:00:30 GMT", now), Some(S(30)));
    assert_eq!(parse_retry_after("Mon Jan  5 09:01:00 2026", now), Some(S(60)));
    // A date in the past is no wait.
    assert_eq!(
        parse_retry_after("Sun, 04 Jan 2026 09:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    for bad in ["", "soon", "-5", "1.5", "2026-01-05T09:02:00Z"] {
        assert_eq!(parse_retry_after(bad, now), None, "{bad}");
    }
}
