//! `ptape calendar-event`: occurrences as JSON, local time zones, the
//! test clock, and errors that name the offending part.

mod cli_util;

use cli_util::Ptape;
use serde_json::{json, Value};

const BERLIN: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

fn setup() -> (tempfile::TempDir, Ptape) {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Ptape::new(tmp.path());
    (tmp, cli)
}

fn occurrences(cli: &Ptape, tz: &str, args: &[&str]) -> Value {
    let mut cmd = cli.ptape();
    cmd.env("TZ", tz)
        .arg("calendar-event")
        .args(args)
        .args(["--output-format", "json"]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_lists_the_next_occurrences() {
    let (_tmp, cli) = setup();
    assert_eq!(
        occurrences(
            &cli,
            "UTC",
            &[
                "mon..fri 22:00",
                "--from",
                "2024-06-01T12:00:00Z",
                "--count",
                "3"
            ]
        ),
        json!({"event": "mon..fri 22:00", "from": 1717243200,
               "next": [1717452000, 1717538400, 1717624800]})
    );
    // The reference vectors, from @EPOCH.
    assert_eq!(
        occurrences(
            &cli,
            "UTC",
            &["4..10/2:0 UTC", "--from", "@18000", "--count", "2"]
        ),
        json!({"event": "4..10/2:0 UTC", "from": 18000, "next": [21600, 28800]})
    );
    assert_eq!(
        occurrences(&cli, "UTC", &["2021-02-29", "--from", "@0"]),
        json!({"event": "2021-02-29", "from": 0, "next": []})
    );
}

#[test]
fn local_time_zone_and_daylight_saving_time() {
    let (_tmp, cli) = setup();
    // 22:00 in Berlin summer time is 20:00 UTC.
    let v = occurrences(
        &cli,
        BERLIN,
        &[
            "mon..fri 22:00",
            "--from",
            "2024-06-01T12:00:00Z",
            "--count",
            "1",
        ],
    );
    assert_eq!(v["next"], json!([1717444800]));
    // With UTC the local zone does not matter.
    let v = occurrences(
        &cli,
        BERLIN,
        &[
            "mon..fri 22:00 UTC",
            "--from",
            "2024-06-01T12:00:00Z",
            "--count",
            "1",
        ],
    );
    assert_eq!(v["next"], json!([1717452000]));
    // 02:30 does not exist on 2024-03-31: it fires at the jump (01:00 UTC).
    let v = occurrences(
        &cli,
        BERLIN,
        &["02:30", "--from", "2024-03-30T12:00:00Z", "--count", "2"],
    );
    assert_eq!(v["next"], json!([1711846800, 1711931400]));
    // The text form shows local times with the zone's abbreviation.
    let out = cli
        .ptape()
        .env("TZ", BERLIN)
        .args([
            "calendar-event",
            "daily",
            "--from",
            "2024-06-01T12:00:00Z",
            "--count",
            "2",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("next   Sun 2024-06-02 00:00:00 CEST"),
        "{text}"
    );
    assert!(
        text.contains("       Mon 2024-06-03 00:00:00 CEST"),
        "{text}"
    );
}

#[test]
fn default_start_is_the_clock() {
    let (_tmp, cli) = setup();
    let out = cli
        .ptape()
        .env("TZ", "UTC")
        .env(ptape::schedule::TEST_NOW_VAR, "@100")
        .args([
            "calendar-event",
            "hourly",
            "--count",
            "2",
            "--output-format",
            "json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        json!({"event": "hourly", "from": 100, "next": [3600, 7200]})
    );
}

#[test]
fn errors_name_the_offending_part() {
    let (_tmp, cli) = setup();
    let err = cli.fails(&["calendar-event", "mon..fri 25:00"]);
    assert!(
        err.contains("hour 25 is out of range 0..23 (at \"25\", column 10)"),
        "{err}"
    );
    let err = cli.fails(&["calendar-event", "mon..frx"]);
    assert!(err.contains("unknown weekday \"frx\""), "{err}");
    let err = cli.fails(&["calendar-event", "daily", "--from", "yesterday"]);
    assert!(err.contains("invalid time \"yesterday\""), "{err}");
    // A count of 0 is a usage error.
    let out = cli
        .ptape()
        .args(["calendar-event", "daily", "--count", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
