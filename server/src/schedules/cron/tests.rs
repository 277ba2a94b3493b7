use super::*;

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The next `n` fire times after `from`, in UTC.
fn fires(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
    let cron = Cron::parse(expr, Some(zone)).unwrap();
    let mut at = ts(from);
    let mut out = Vec::new();
    for _ in 0..n {
        at = cron.next_after(at).unwrap();
        out.push(at.to_string());
    }
    out
}

/// Every fire time in [from, to), in UTC.
fn fires_between(expr: &str, zone: &str, from: &str, to: &str) -> Vec<Timestamp> {
    let cron = Cron::parse(expr, Some(zone)).unwrap();
    let (mut at, end) = (ts(from) - jiff::SignedDuration::from_secs(1), ts(to));
    let mut out = Vec::new();
    while let Some(next) = cron.next_after(at).filter(|t| *t < end) {
        out.push(next);
        at = next;
    }
    out
}

// Europe/Paris 2026: 29 March 02:00 CET -> 03:00 CEST (01:00 UTC);
// 25 October 03:00 CEST -> 02:00 CET (01:00 UTC), 02:00-02:59 twice.
// America/New_York 2026: 8 March 02:00 EST -> 03:00 EDT (07:00 UTC);
// 1 November 02:00 EDT -> 01:00 EST (06:00 UTC), 01:00-01:59 twice.

#[test]
fn a_fixed_time_skipped_in_spring_fires_once_when_the_gap_ends() {
    assert_eq!(
        fires("30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", 3),
        ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"]
    );
    assert_eq!(
        fires("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 3),
        ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"]
    );
    // Two fixed times in the gap are one fire, when it ends.
    assert_eq!(
        fires("0,30 2 * * *", "Europe/Paris", "2026-03-28T23:00:00Z", 3),
        ["2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T00:30:00Z"]
    );
    // Lord Howe moves its clock by half an hour: 02:00 -> 02:30 (+10:30 -> +11).
    assert_eq!(
        fires("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", 2),
        ["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"]
    );
    // The hour before the gap fires as usual, and only then.
    assert_eq!(
        fires("0 1 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", 2),
        ["2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z"]
    );
}

#[test]
fn a_fixed_time_in_the_repeated_autumn_hour_fires_once() {
    assert_eq!(
        fires("30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", 3),
        ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"]
    );
    assert_eq!(
        fires("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2),
        ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
    );
    // A list of fixed minutes fires once each, in the first pass.
    assert_eq!(
        fires("0,30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 3),
        ["2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:00:00Z"]
    );
    // Asked from inside the second pass, the next is the next day's.
    assert_eq!(
        fires("15 2 * * *", "Europe/Paris", "2026-10-25T01:10:00Z", 1),
        ["2026-10-26T01:15:00Z"]
    );
    assert_eq!(
        fires("15 2 * * *", "Europe/Paris", "2026-10-25T00:20:00Z", 1),
        ["2026-10-26T01:15:00Z"]
    );
}

#[test]
fn wildcard_and_step_fields_fire_at_every_real_instant() {
    // Spring: 01:55 CET, then 03:00 CEST five real minutes later.
    assert_eq!(
        fires("*/5 * * * *", "Europe/Paris", "2026-03-29T00:50:00Z", 3),
        ["2026-03-29T00:55:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:05:00Z"]
    );
    // Autumn: 02:55 CEST, 02:00 CET, ... every five real minutes.
    assert_eq!(
        fires("*/5 * * * *", "Europe/Paris", "2026-10-25T00:50:00Z", 3),
        ["2026-10-25T00:55:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:05:00Z"]
    );
    assert_eq!(
        fires("*/30 * * * *", "America/New_York", "2026-11-01T05:15:00Z", 4),
        [
            "2026-11-01T05:30:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T06:30:00Z",
            "2026-11-01T07:00:00Z"
        ]
    );
    // A fixed minute in every hour: both 02:30s in autumn, none in the gap.
    assert_eq!(
        fires("30 * * * *", "Europe/Paris", "2026-10-24T23:45:00Z", 3),
        ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z"]
    );
    assert_eq!(
        fires("30 * * * *", "Europe/Paris", "2026-03-29T00:00:00Z", 2),
        ["2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"]
    );
}

#[test]
fn every_minute_across_both_changes_is_every_real_minute() {
    let minute = jiff::SignedDuration::from_secs(60);
    for (from, to) in [
        ("2026-03-28T23:00:00Z", "2026-03-29T03:00:00Z"),
        ("2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z"),
    ] {
        for zone in ["Europe/Paris", "America/New_York", "UTC"] {
            let all = fires_between("* * * * *", zone, from, to);
            assert_eq!(all.len(), 240, "{zone} {from}");
            assert!(
                all.windows(2).all(|w| w[1].duration_since(w[0]) == minute),
                "{zone} {from}"
            );
        }
    }
    // New York's own change days, the same.
    let spring = fires_between(
        "* * * * *",
        "America/New_York",
        "2026-03-08T05:00:00Z",
        "2026-03-08T09:00:00Z",
    );
    let autumn = fires_between(
        "* * * * *",
        "America/New_York",
        "2026-11-01T04:00:00Z",
        "2026-11-01T08:00:00Z",
    );
    assert_eq!((spring.len(), autumn.len()), (240, 240));
}

#[test]
fn weekdays_at_nine_follow_the_local_clock_across_the_change() {
    assert_eq!(
        fires("0 9 * * mon-fri", "America/New_York", "2026-03-05T15:00:00Z", 3),
        ["2026-03-06T14:00:00Z", "2026-03-09T13:00:00Z", "2026-03-10T13:00:00Z"]
    );
    assert_eq!(
        fires("0 9 * * MON-FRI", "Europe/Paris", "2026-10-23T12:00:00Z", 2),
        ["2026-10-26T08:00:00Z", "2026-10-27T08:00:00Z"]
    );
}

#[test]
fn day_of_month_and_day_of_week_are_either_unless_one_starts_with_a_star() {
    // The 13th, and every Friday (March 2026: Fridays 6, 13, 20).
    assert_eq!(
        fires("0 0 13 * fri", "UTC", "2026-03-01T00:00:00Z", 4),
        [
            "2026-03-06T00:00:00Z",
            "2026-03-13T00:00:00Z",
            "2026-03-20T00:00:00Z",
            "2026-03-27T00:00:00Z"
        ]
    );
    assert_eq!(
        fires("0 0 1,15 * 1", "UTC", "2026-03-01T00:00:00Z", 4),
        [
            "2026-03-02T00:00:00Z",
            "2026-03-09T00:00:00Z",
            "2026-03-15T00:00:00Z",
            "2026-03-16T00:00:00Z"
        ]
    );
    // Vixie cron: a day field starting with `*` makes it both (odd days that are Mondays).
    assert_eq!(
        fires("0 0 */2 * mon", "UTC", "2026-03-01T00:00:00Z", 3),
        ["2026-03-09T00:00:00Z", "2026-03-23T00:00:00Z", "2026-04-13T00:00:00Z"]
    );
    // Sunday is 0 and 7.
    assert_eq!(
        fires("0 12 * * 7", "UTC", "2026-03-01T13:00:00Z", 1),
        ["2026-03-08T12:00:00Z"]
    );
    assert_eq!(
        fires("0 12 * * 0", "UTC", "2026-03-01T13:00:00Z", 1),
        ["2026-03-08T12:00:00Z"]
    );
    assert_eq!(
        fires("0 12 * * fri-sat,7", "UTC", "2026-03-07T13:00:00Z", 2),
        ["2026-03-08T12:00:00Z", "2026-03-13T12:00:00Z"]
    );
}

#[test]
fn ranges_lists_steps_and_month_names() {
    assert_eq!(
        fires("10-20/5 */6 * * *", "UTC", "2026-01-01T00:00:00Z", 4),
        [
            "2026-01-01T00:10:00Z",
            "2026-01-01T00:15:00Z",
            "2026-01-01T00:20:00Z",
            "2026-01-01T06:10:00Z"
        ]
    );
    assert_eq!(
        fires("0 0 1 jan,jul *", "UTC", "2026-02-01T00:00:00Z", 2),
        ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"]
    );
    assert_eq!(
        fires("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 1),
        ["2028-02-29T00:00:00Z"]
    );
}

#[test]
fn the_next_time_is_strictly_after() {
    let cron = Cron::parse("0 * * * *", None).unwrap();
    assert_eq!(cron.timezone(), "UTC");
    assert_eq!(
        cron.next_after(ts("2026-01-01T10:00:00Z")),
        Some(ts("2026-01-01T11:00:00Z"))
    );
    assert_eq!(
        cron.next_after(ts("2026-01-01T09:59:59.999Z")),
        Some(ts("2026-01-01T10:00:00Z"))
    );
    assert_eq!(
        cron.next_after(ts("2026-01-01T10:00:00.001Z")),
        Some(ts("2026-01-01T11:00:00Z"))
    );
    let fixed = Cron::parse("0 10 * * *", Some("Europe/Paris")).unwrap();
    assert_eq!(
        fixed.next_after(ts("2026-01-01T09:00:00Z")),
        Some(ts("2026-01-02T09:00:00Z"))
    );
    assert_eq!(
        fixed.next_after(ts("2026-01-01T08:59:59.5Z")),
        Some(ts("2026-01-01T09:00:00Z"))
    );
}

fn error(expr: &str) -> String {
    Cron::parse(expr, None).unwrap_err().to_string()
}

#[test]
fn other_forms_are_refused_naming_the_field() {
    let cases = [
        ("", "empty"),
        ("@hourly", "nicknames like @hourly"),
        ("* * * *", "this one has 4"),
        ("0 * * * * *", "this one has 6"),
        ("0 0 * * * * 2026", "this one has 7"),
        ("60 * * * *", "the minute field \"60\": 60 is not a number 0-59"),
        ("* 24 * * *", "the hour field"),
        ("* * 0 * *", "the day-of-month field \"0\""),
        ("* * 32 * *", "the day-of-month field"),
        ("* * * 13 *", "the month field \"13\""),
        ("* * * * 8", "the day-of-week field \"8\""),
        ("* * L * *", "the day-of-month field \"L\""),
        ("* * 15W * *", "the day-of-month field"),
        ("* * * * 5#2", "the day-of-week field"),
        ("* * * * 5L", "the day-of-week field"),
        ("* * ? * *", "the day-of-month field"),
        ("* * * * +mon", "the day-of-week field"),
        ("*/0 * * * *", "the step \"0\""),
        ("*/61 * * * *", "the step \"61\""),
        ("5/15 * * * *", "a step follows * or a range"),
        ("/15 * * * *", "a step follows"),
        ("30-10 * * * *", "runs backwards"),
        ("* * * * fri-sun", "fri-sun is 5-7"),
        ("1,,2 * * * *", "empty entry"),
        ("* * * * monday", "\"monday\" is not a number 0-7"),
        ("* * * jan-foo *", "\"foo\" is not a number 1-12 or a month name"),
        ("mon * * * *", "the minute field \"mon\""),
        ("* * * * -1", "the day-of-week field"),
        ("0 0 30 2 *", "never fires"),
        ("0 0 31 4,6,9,11 *", "never fires"),
    ];
    for (expr, expected) in cases {
        let message = error(expr);
        assert!(message.contains(expected), "{expr:?}: {message}");
    }
}

#[test]
fn time_zones_are_iana_names() {
    for bad in ["Mars/Olympus", "Europe/Pariss", "", "+02:00", "CEST"] {
        let err = Cron::parse("* * * * *", Some(bad)).unwrap_err();
        assert_eq!(err, CronError::UnknownZone(bad.to_string()), "{bad}");
        assert!(err.to_string().contains("unknown time zone"), "{err}");
    }
    for good in [
        "Europe/Paris",
        "America/New_York",
        "UTC",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
    ] {
        assert_eq!(Cron::parse("0 9 * * *", Some(good)).unwrap().timezone(), good);
    }
    // Kolkata is +05:30 with no change: 09:00 local is 03:30 UTC.
    assert_eq!(
        fires("0 9 * * *", "Asia/Kolkata", "2026-06-01T00:00:00Z", 1),
        ["2026-06-01T03:30:00Z"]
    );
}

#[test]
fn the_expression_is_kept_normalised() {
    let cron = Cron::parse("  0   9 * *  MON-FRI ", Some("Europe/Paris")).unwrap();
    assert_eq!(cron.expression(), "0 9 * * mon-fri");
}

#[test]
fn an_at_time_is_rfc_3339_with_an_offset() {
    assert_eq!(parse_at("2026-01-05T09:00:00Z").unwrap(), ts("2026-01-05T09:00:00Z"));
    assert_eq!(
        parse_at("2026-01-05T10:00:00+01:00").unwrap(),
        ts("2026-01-05T09:00:00Z")
    );
    assert_eq!(
        parse_at("2026-01-05t09:00:00.250z").unwrap(),
        ts("2026-01-05T09:00:00.25Z")
    );
    assert_eq!(
        parse_at("2026-01-05 04:00:00-05:00").unwrap(),
        ts("2026-01-05T09:00:00Z")
    );
    for bad in [
        "2026-01-05T09:00:00",
        "2026-01-05",
        "2026-01-05T09:00Z",
        "2026-01-05T09:00:00+01",
        "2026-01-05T09:00:00+0100",
        "2026-01-05T09:00:00+01:00[Europe/Paris]",
        "2026-02-30T09:00:00Z",
        "2026-01-05T25:00:00Z",
        "tomorrow",
        "",
    ] {
        let err = parse_at(bad).unwrap_err();
        assert!(err.contains("is not an RFC 3339 time with an offset"), "{bad}: {err}");
    }
}
