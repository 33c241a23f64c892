use super::*;

const DAY: i64 = 86_400;

/// Next occurrence in seconds, the expression matched in UTC (the reference
/// vectors append " UTC" to every expression).
fn next_utc(expr: &str, last: i64) -> Option<i64> {
    let event: CalendarEvent = format!("{expr} UTC").parse().unwrap();
    event.next_after_epoch(last, &TimeZone::UTC)
}

/// A chain of `n` occurrences starting after `last`.
fn chain(expr: &str, last: i64, n: usize) -> Vec<i64> {
    let event: CalendarEvent = format!("{expr} UTC").parse().unwrap();
    event
        .occurrences(Timestamp::from_second(last).unwrap(), &TimeZone::UTC)
        .take(n)
        .map(|t| t.as_second())
        .collect()
}

#[test]
fn reference_vectors() {
    let cases: &[(&str, i64, Option<i64>)] = &[
        ("0", 0, Some(3600)),
        ("*", 0, Some(60)),
        ("*:0", 0, Some(3600)),
        ("*:*", 0, Some(60)),
        ("*:*:*", 0, Some(1)),
        ("*:3:5", 0, Some(185)),
        ("mon *:*", 0, Some(345_600)),
        ("mon 2:*", 0, Some(352_800)),
        ("mon 2:50", 0, Some(355_800)),
        ("tue", 0, Some(5 * DAY)),
        ("wed", 0, Some(6 * DAY)),
        ("thu", 0, Some(7 * DAY)),
        ("fri", 0, Some(DAY)),
        ("sat", 0, Some(2 * DAY)),
        ("sun", 0, Some(3 * DAY)),
        ("4..10/2:0", 0, Some(14_400)),
        ("4..10/2:0", 18_000, Some(21_600)),
        ("4..10/2:0", 39_600, Some(100_800)),
        ("5,10:4,8", 0, Some(18_240)),
        ("10,5:8,4", 0, Some(18_240)),
        ("6,4..10:23,5/5", 0, Some(14_700)),
        ("4..10,6:5/5,23", 0, Some(14_700)),
        ("daily", 0, Some(86_400)),
        ("daily", 1, Some(86_400)),
        ("2020-07-31", 0, Some(1_596_153_600)),
        ("02-28", 0, Some(5_011_200)),
        ("02-29", 0, Some(68_169_600)),
        ("1965/5-01-01", -1, Some(0)),
        ("2020-7..9-2/2", 1_596_153_600, Some(1_596_326_400)),
        ("2020,2021-12-31", 1_596_153_600, Some(1_609_372_800)),
        ("minutely", 0, Some(60)),
        ("hourly", 0, Some(3600)),
        ("weekly", 0, Some(345_600)),
        ("monthly", 0, Some(2_678_400)),
        ("quarterly", 0, Some(7_776_000)),
        ("semiannually", 0, Some(15_638_400)),
        ("semi-annually", 0, Some(15_638_400)),
        ("yearly", 0, Some(31_536_000)),
        ("annually", 0, Some(31_536_000)),
        ("2021-02-29", 0, None),
        ("02-30", 0, None),
    ];
    for (expr, last, expected) in cases {
        assert_eq!(next_utc(expr, *last), *expected, "{expr} after {last}");
    }
}

#[test]
fn reference_chains() {
    let hours: Vec<i64> = (1..=99).map(|i| i * 3600).collect();
    assert_eq!(chain("*:0", 0, 99), hours);
    let minutes: Vec<i64> = (1..=99).map(|i| i * 60).collect();
    assert_eq!(chain("*:*", 0, 99), minutes);
    assert_eq!(
        chain("5/2:0", 0, 4),
        [18_000, 25_200, 32_400, 39_600].to_vec()
    );
    let days: Vec<i64> = (0..10).map(|i| 90_000 + i * DAY).collect();
    assert_eq!(chain("1:0", 54_000, 10), days);
}

#[test]
fn reference_weekday_vectors() {
    // Friday 2020-07-31: sat is one day ahead .. fri seven.
    let fri = 1_596_153_600;
    for (i, day) in ["sat", "sun", "mon", "tue", "wed", "thu", "fri"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            next_utc(day, fri),
            Some(fri + (i as i64 + 1) * DAY),
            "{day}"
        );
    }
    // Thursday 2020-12-31.
    let thu = 1_609_372_800;
    for (i, day) in ["fri", "sat", "sun", "mon", "tue", "wed", "thu"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            next_utc(day, thu),
            Some(thu + (i as i64 + 1) * DAY),
            "{day}"
        );
    }
}

#[test]
fn reference_doc_examples() {
    let event: CalendarEvent = "daily UTC".parse().unwrap();
    assert_eq!(event.next_after_epoch(0, &TimeZone::UTC), Some(86_400));
    let event: CalendarEvent = "mon..fri *:00 UTC".parse().unwrap();
    // Thursday 1970-01-01 00:00 is a weekday: the next full hour.
    assert_eq!(event.next_after_epoch(0, &TimeZone::UTC), Some(3600));

    // Monday 1970-01-05.
    let monday = 4 * DAY;
    let workday = chain("mon..fri 8..17,22:0/15", monday - 1, 45);
    let mut expected: Vec<i64> = (8..=17)
        .flat_map(|h| (0..4).map(move |q| monday + h * 3600 + q * 900))
        .collect();
    expected.extend((0..4).map(|q| monday + 22 * 3600 + q * 900));
    expected.push(monday + DAY + 8 * 3600);
    assert_eq!(workday, expected);
    // Not on the weekend: after Friday 22:45 comes Monday 08:00.
    let friday_late = monday + 4 * DAY + 22 * 3600 + 45 * 60;
    assert_eq!(
        next_utc("mon..fri 8..17,22:0/15", friday_late),
        Some(monday + 7 * DAY + 8 * 3600)
    );

    // Friday 1970-01-02.
    let friday = DAY;
    let minutes = [
        12 * 60 + 5,
        12 * 60 + 25,
        12 * 60 + 45,
        13 * 60 + 5,
        13 * 60 + 25,
        13 * 60 + 45,
    ];
    let expected: Vec<i64> = minutes.iter().map(|m| friday + m * 60).collect();
    assert_eq!(chain("fri 12..13:5/20", friday, 6), expected);

    let expected: Vec<i64> = (0..6).map(|i| (12 + 2 * i) * 3600 + 300).collect();
    assert_eq!(chain("12/2:5", 0, 6), expected);

    // First Saturday of each month at 15:00: 1970-01-03, 1970-02-07, 1970-03-07.
    let expected: Vec<i64> = [2, 37, 65].iter().map(|d| d * DAY + 15 * 3600).collect();
    assert_eq!(chain("Sat *-1..7 15:00", 0, 3), expected);

    // The 5th of each month.
    let expected: Vec<i64> = [4, 35, 63].iter().map(|d| d * DAY).collect();
    assert_eq!(chain("*-05", 0, 3), expected);
}

#[test]
fn reference_parse_ok() {
    for expr in [
        "mon,wed..fri",
        "fri..mon",
        "MON",
        "monDay",
        "Tuesday",
        "mon,tue..wednesday,fri..sat",
        "*-*-* *:*:00",
        "daily UTC",
        "Daily",
        "mon 12:00 utc",
    ] {
        CalendarEvent::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
    // fri..mon wraps around the week.
    let event: CalendarEvent = "fri..mon".parse().unwrap();
    assert_eq!(event.weekdays.0, 0b111_0001);
    let monday: Timestamp = "1970-01-05T00:00:00Z".parse().unwrap();
    let next: Vec<i64> = event
        .occurrences(monday, &TimeZone::UTC)
        .take(4)
        .map(|t| t.as_second() / DAY)
        .collect();
    // fri 9, sat 10, sun 11, mon 12.
    assert_eq!(next, [8, 9, 10, 11]);
}

#[test]
fn errors_point_at_the_offending_part() {
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("   ", "   "),
        ("UTC", "UTC"),
        ("mon 25:00", "25"),
        ("mon 12:60", "60"),
        ("12:00:61", "61"),
        ("foo", "foo"),
        ("mon..xyz", "xyz"),
        ("mon,,tue", ""),
        ("10..5:00", "10..5"),
        ("*:0/0", "0"),
        ("*:0/", ""),
        ("*:0/x", "x"),
        ("2024-13-01", "13"),
        ("2024-12-32", "32"),
        ("12-0", "0"),
        ("1:2:3:4", "1:2:3:4"),
        ("1-2-3-4", "1-2-3-4"),
        ("mon 12:00 foo", "foo"),
        ("12:00 mon", "mon"),
        ("12:00 13:00", "13:00"),
        ("daily mon", "daily"),
        ("mon daily", "daily"),
        ("a1:00", "a1:00"),
        ("1a:00", "1a"),
        ("-5", ""),
        ("mon..tue..wed", "mon..tue..wed"),
        ("99999-01-01", "99999"),
    ];
    for (expr, part) in cases {
        let err = CalendarEvent::parse(expr).unwrap_err();
        assert_eq!(err.part(), *part, "{expr:?}: {err}");
        assert_eq!(
            &expr[err.offset()..err.offset() + err.part().len()],
            *part,
            "{expr:?}"
        );
        assert!(err.to_string().contains(&format!("{expr:?}")), "{err}");
    }
    let err = CalendarEvent::parse("mon 25:00").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid calendar event \"mon 25:00\": hour 25 is out of range 0..23 (at \"25\", column 5)"
    );
}

/// Europe/Berlin's rules as a POSIX TZ string (no tz database needed):
/// CEST from the last Sunday of March 02:00 to the last Sunday of October 03:00.
fn berlin() -> TimeZone {
    TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn next_local(expr: &str, after: &str) -> String {
    let event: CalendarEvent = expr.parse().unwrap();
    event.next_after(at(after), &berlin()).unwrap().to_string()
}

#[test]
fn local_time_zone_is_used_unless_utc() {
    // 22:00 in Berlin summer time is 20:00 UTC, in winter 21:00 UTC.
    assert_eq!(
        next_local("22:00", "2024-06-01T00:00:00Z"),
        "2024-06-01T20:00:00Z"
    );
    assert_eq!(
        next_local("22:00", "2024-01-01T00:00:00Z"),
        "2024-01-01T21:00:00Z"
    );
    assert_eq!(
        next_local("22:00 UTC", "2024-06-01T00:00:00Z"),
        "2024-06-01T22:00:00Z"
    );
    // The weekday is the local one: Monday 00:30 in Berlin is Sunday 22:30 UTC.
    assert_eq!(
        next_local("mon 00:30", "2024-06-01T00:00:00Z"),
        "2024-06-02T22:30:00Z"
    );
    assert!(!"mon".parse::<CalendarEvent>().unwrap().is_utc());
    assert!("mon UTC".parse::<CalendarEvent>().unwrap().is_utc());
}

#[test]
fn skipped_wall_clock_time_fires_when_the_clock_jumps() {
    // 2024-03-31: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    let event: CalendarEvent = "02:30".parse().unwrap();
    let next: Vec<String> = event
        .occurrences(at("2024-03-30T12:00:00Z"), &berlin())
        .take(3)
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        next,
        [
            "2024-03-31T01:00:00Z", // the jump: 03:00 CEST
            "2024-04-01T00:30:00Z", // 02:30 CEST
            "2024-04-02T00:30:00Z",
        ]
    );
    // Occurrences stay in order: the skipped 02:10 and 02:40 fire once, at
    // the jump, before the real 03:10.
    let event: CalendarEvent = "2..3:10,40".parse().unwrap();
    let next: Vec<String> = event
        .occurrences(at("2024-03-31T00:00:00Z"), &berlin())
        .take(3)
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        next,
        [
            "2024-03-31T01:00:00Z",
            "2024-03-31T01:10:00Z",
            "2024-03-31T01:40:00Z"
        ]
    );
    // Every minute: the skipped hour collapses into the jump.
    let event: CalendarEvent = "*:*".parse().unwrap();
    let next: Vec<String> = event
        .occurrences(at("2024-03-31T00:58:00Z"), &berlin())
        .take(3)
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        next,
        [
            "2024-03-31T00:59:00Z",
            "2024-03-31T01:00:00Z",
            "2024-03-31T01:01:00Z"
        ]
    );
}

#[test]
fn repeated_wall_clock_time_fires_once() {
    // 2024-10-27: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice
    // (00:30 and 01:30 UTC).
    let event: CalendarEvent = "02:30".parse().unwrap();
    let next: Vec<String> = event
        .occurrences(at("2024-10-26T12:00:00Z"), &berlin())
        .take(2)
        .map(|t| t.to_string())
        .collect();
    assert_eq!(next, ["2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"]);
    // Hourly: 02:00 CEST, then 03:00 CET (the repeated 02:00 CET is skipped).
    let event: CalendarEvent = "hourly".parse().unwrap();
    let next: Vec<String> = event
        .occurrences(at("2024-10-26T23:30:00Z"), &berlin())
        .take(3)
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        next,
        [
            "2024-10-27T00:00:00Z",
            "2024-10-27T02:00:00Z",
            "2024-10-27T03:00:00Z"
        ]
    );
    // Asked during the repeated hour: the later 02:30, never one in the past.
    assert_eq!(
        next_local("*:30", "2024-10-27T01:10:00Z"),
        "2024-10-27T01:30:00Z"
    );
}

#[test]
fn system_time_zone_database_agrees_when_present() {
    // With the tz database installed, the IANA zone gives the same answers.
    let Ok(tz) = TimeZone::get("Europe/Berlin") else {
        return;
    };
    let event: CalendarEvent = "02:30".parse().unwrap();
    for from in [
        "2024-03-30T12:00:00Z",
        "2024-10-26T12:00:00Z",
        "2024-10-27T01:10:00Z",
    ] {
        assert_eq!(
            event.next_after(at(from), &tz),
            event.next_after(at(from), &berlin()),
            "{from}"
        );
    }
}

#[test]
fn sub_second_instants_and_far_future() {
    let event: CalendarEvent = "*:*:* UTC".parse().unwrap();
    let t: Timestamp = "1970-01-01T00:00:00.5Z".parse().unwrap();
    assert_eq!(event.next_after(t, &TimeZone::UTC).unwrap().as_second(), 1);
    let event: CalendarEvent = "9000-12-31 23:59:59 UTC".parse().unwrap();
    let last = event.next_after_epoch(0, &TimeZone::UTC).unwrap();
    assert_eq!(event.next_after_epoch(last, &TimeZone::UTC), None);
    let event: CalendarEvent = "2020-01-01".parse().unwrap();
    assert_eq!(
        event.next_after(at("2021-01-01T00:00:00Z"), &TimeZone::UTC),
        None
    );
}

#[test]
fn display_and_serde_keep_the_expression() {
    let event: CalendarEvent = "mon..fri 22:00".parse().unwrap();
    assert_eq!(event.to_string(), "mon..fri 22:00");
    let json = serde_json::to_string(&event).unwrap();
    assert_eq!(json, "\"mon..fri 22:00\"");
    let back: CalendarEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(back, event);
    assert!(serde_json::from_str::<CalendarEvent>("\"mon 25:00\"").is_err());
}
