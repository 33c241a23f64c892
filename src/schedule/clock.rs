//! The current time, and instants given on the command line.
//!
//! Library code that depends on the time (expiry, media set start times,
//! schedules) takes the time from its caller, never from a global clock. The
//! command-line tools get it from [`Clock::from_env`]: the system clock,
//! unless the test-only variable [`TEST_NOW_VAR`] pins it (the end-to-end
//! tests of rotation schemes run a month of backups in a second that way).

use jiff::Timestamp;

/// Test-only environment variable pinning the clock of the command-line
/// tools (`@EPOCH` or RFC 3339). Not for production use: every command then
/// believes it is that instant.
pub const TEST_NOW_VAR: &str = "PTAPE_TEST_NOW";

/// An instant that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {text:?}: use RFC 3339 (2024-06-01T12:00:00Z, 2024-06-01T14:00:00+02:00) or @EPOCH (@1717243200)")]
pub struct TimeError {
    text: String,
}

/// Parses an instant: RFC 3339 with an offset, or `@` and seconds since the
/// Unix epoch.
pub fn parse_time(text: &str) -> Result<Timestamp, TimeError> {
    let err = || TimeError {
        text: text.to_string(),
    };
    let text = text.trim();
    match text.strip_prefix('@') {
        Some(secs) => secs
            .parse::<i64>()
            .ok()
            .and_then(|s| Timestamp::from_second(s).ok())
            .ok_or_else(err),
        None => text.parse::<Timestamp>().map_err(|_| err()),
    }
}

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// Always this instant (tests).
    Fixed(Timestamp),
}

impl Clock {
    /// The system clock, or the instant in [`TEST_NOW_VAR`] when it is set.
    pub fn from_env() -> Result<Clock, TimeError> {
        match std::env::var(TEST_NOW_VAR) {
            Ok(text) if !text.is_empty() => Ok(Clock::Fixed(parse_time(&text)?)),
            _ => Ok(Clock::System),
        }
    }

    /// A clock pinned at `epoch` seconds.
    pub fn fixed_epoch(epoch: i64) -> Clock {
        Clock::Fixed(Timestamp::from_second(epoch).unwrap_or(Timestamp::UNIX_EPOCH))
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Fixed(t) => *t,
        }
    }

    /// The current instant in seconds since the Unix epoch.
    pub fn now_epoch(&self) -> i64 {
        self.now().as_second()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("@0").unwrap().as_second(), 0);
        assert_eq!(parse_time("@-1").unwrap().as_second(), -1);
        assert_eq!(
            parse_time("2020-07-31T00:00:00Z").unwrap().as_second(),
            1_596_153_600
        );
        assert_eq!(
            parse_time("2020-07-31T02:00:00+02:00").unwrap().as_second(),
            1_596_153_600
        );
        for bad in [
            "",
            "@",
            "@x",
            "yesterday",
            "2020-07-31",
            "2020-07-31T00:00:00",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(Clock::fixed_epoch(42).now_epoch(), 42);
    }
}
