//! Time spans: `30d`, `2 weeks`, `1y 6M`, `12h 30min`, `120` (seconds).
//!
//! A span is a sum of parts `NUMBER[UNIT]`, spaces between and inside parts
//! optional; a number without a unit is seconds. Units (case matters only
//! for `m` minutes against `M` months):
//!
//! | unit | names |
//! |---|---|
//! | nanosecond | `ns`, `nsec` |
//! | microsecond | `us`, `usec`, `µs` |
//! | millisecond | `ms`, `msec` |
//! | second | `s`, `sec`, `secs`, `second`, `seconds` |
//! | minute | `m`, `min`, `mins`, `minute`, `minutes` |
//! | hour | `h`, `hr`, `hrs`, `hour`, `hours` |
//! | day | `d`, `day`, `days` |
//! | week | `w`, `week`, `weeks` |
//! | month (30.44 days) | `M`, `month`, `months` |
//! | year (365.25 days) | `y`, `year`, `years` |

use std::time::Duration;

/// A time span that does not parse, with the offending part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time span {text:?}: {message} (at {part:?})")]
pub struct TimeSpanError {
    text: String,
    part: String,
    message: String,
}

impl TimeSpanError {
    fn new(text: &str, part: &str, message: impl Into<String>) -> Self {
        TimeSpanError {
            text: text.to_string(),
            part: part.to_string(),
            message: message.into(),
        }
    }

    /// The offending part of the span.
    pub fn part(&self) -> &str {
        &self.part
    }
}

/// A unit of a span part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpanUnit {
    Nanosecond,
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl SpanUnit {
    const NAMES: &'static [(&'static str, SpanUnit)] = &[
        ("ns", SpanUnit::Nanosecond),
        ("nsec", SpanUnit::Nanosecond),
        ("us", SpanUnit::Microsecond),
        ("usec", SpanUnit::Microsecond),
        ("µs", SpanUnit::Microsecond),
        ("ms", SpanUnit::Millisecond),
        ("msec", SpanUnit::Millisecond),
        ("s", SpanUnit::Second),
        ("sec", SpanUnit::Second),
        ("secs", SpanUnit::Second),
        ("second", SpanUnit::Second),
        ("seconds", SpanUnit::Second),
        ("m", SpanUnit::Minute),
        ("min", SpanUnit::Minute),
        ("mins", SpanUnit::Minute),
        ("minute", SpanUnit::Minute),
        ("minutes", SpanUnit::Minute),
        ("h", SpanUnit::Hour),
        ("hr", SpanUnit::Hour),
        ("hrs", SpanUnit::Hour),
        ("hour", SpanUnit::Hour),
        ("hours", SpanUnit::Hour),
        ("d", SpanUnit::Day),
        ("day", SpanUnit::Day),
        ("days", SpanUnit::Day),
        ("w", SpanUnit::Week),
        ("week", SpanUnit::Week),
        ("weeks", SpanUnit::Week),
        ("M", SpanUnit::Month),
        ("month", SpanUnit::Month),
        ("months", SpanUnit::Month),
        ("y", SpanUnit::Year),
        ("year", SpanUnit::Year),
        ("years", SpanUnit::Year),
    ];

    /// Length in nanoseconds (a month is 30.44 days, a year 365.25 days).
    fn nanos(self) -> u128 {
        const S: u128 = 1_000_000_000;
        match self {
            SpanUnit::Nanosecond => 1,
            SpanUnit::Microsecond => 1_000,
            SpanUnit::Millisecond => 1_000_000,
            SpanUnit::Second => S,
            SpanUnit::Minute => 60 * S,
            SpanUnit::Hour => 3_600 * S,
            SpanUnit::Day => 86_400 * S,
            SpanUnit::Week => 7 * 86_400 * S,
            SpanUnit::Month => 2_630_016 * S,
            SpanUnit::Year => 31_557_600 * S,
        }
    }

    /// The short name used when a span is shown.
    fn short(self) -> &'static str {
        match self {
            SpanUnit::Nanosecond => "ns",
            SpanUnit::Microsecond => "us",
            SpanUnit::Millisecond => "ms",
            SpanUnit::Second => "s",
            SpanUnit::Minute => "min",
            SpanUnit::Hour => "h",
            SpanUnit::Day => "d",
            SpanUnit::Week => "w",
            SpanUnit::Month => "M",
            SpanUnit::Year => "y",
        }
    }
}

/// A parsed time span. Shown in a normalised form (`2 weeks` as `2w`) that
/// parses back to the same span.
///
/// ```
/// use ptape::schedule::TimeSpan;
/// let span: TimeSpan = "12h 30min".parse()?;
/// assert_eq!(span.as_secs(), 45_000);
/// assert_eq!(span.to_string(), "12h 30min");
/// assert_eq!("2 weeks".parse::<TimeSpan>()?.to_string(), "2w");
/// # Ok::<(), ptape::schedule::TimeSpanError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeSpan {
    parts: Vec<(u64, SpanUnit)>,
    nanos: u128,
}

/// The longest span accepted (about 10 000 years, beyond any retention).
const MAX_NANOS: u128 = 10_000 * 31_557_600 * 1_000_000_000;

impl TimeSpan {
    /// Parses a span; the error names the offending part.
    pub fn parse(text: &str) -> Result<TimeSpan, TimeSpanError> {
        let mut parts = Vec::new();
        let mut nanos: u128 = 0;
        let mut rest = text.trim_start();
        if rest.is_empty() {
            return Err(TimeSpanError::new(
                text,
                text,
                "the span is empty; give e.g. 30d, 2 weeks, 1y 6M, 12h 30min or seconds",
            ));
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                return Err(TimeSpanError::new(
                    text,
                    &word,
                    "expected a number (each part is NUMBER[UNIT], e.g. 30d)",
                ));
            }
            let number_text = &rest[..digits];
            rest = rest[digits..].trim_start();
            let unit_len = rest
                .char_indices()
                .find(|(_, c)| !(c.is_alphabetic() || *c == 'µ'))
                .map_or(rest.len(), |(i, _)| i);
            let unit_text = &rest[..unit_len];
            let unit = if unit_text.is_empty() {
                SpanUnit::Second
            } else {
                SpanUnit::NAMES
                    .iter()
                    .find(|(name, _)| *name == unit_text)
                    .map(|(_, u)| *u)
                    .ok_or_else(|| {
                        TimeSpanError::new(
                            text,
                            unit_text,
                            "unknown unit: use s, min, h, d, w, M (months), y, or ms/us/ns",
                        )
                    })?
            };
            let too_long = || TimeSpanError::new(text, number_text, "the span is too long");
            let number: u64 = number_text.parse().map_err(|_| too_long())?;
            nanos = u128::from(number)
                .checked_mul(unit.nanos())
                .and_then(|n| n.checked_add(nanos))
                .filter(|n| *n <= MAX_NANOS)
                .ok_or_else(too_long)?;
            parts.push((number, unit));
            rest = rest[unit_len..].trim_start();
        }
        Ok(TimeSpan { parts, nanos })
    }

    /// The span as a duration.
    pub fn as_duration(&self) -> Duration {
        let secs = (self.nanos / 1_000_000_000) as u64;
        Duration::new(secs, (self.nanos % 1_000_000_000) as u32)
    }

    /// Whole seconds, rounded up (a retention never ends early).
    pub fn as_secs(&self) -> i64 {
        self.nanos.div_ceil(1_000_000_000) as i64
    }

    /// True for a span of length zero (`0s`).
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }
}

impl std::str::FromStr for TimeSpan {
    type Err = TimeSpanError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeSpan::parse(s)
    }
}

impl std::fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (n, unit)) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{n}{}", unit.short())?;
        }
        Ok(())
    }
}

impl serde::Serialize for TimeSpan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TimeSpan {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> f64 {
        let d = text.parse::<TimeSpan>().unwrap().as_duration();
        d.as_secs_f64()
    }

    /// The reference design's vectors.
    #[test]
    fn reference_vectors() {
        assert_eq!(secs("2"), 2.0);
        assert_eq!(secs(" 2s 2 s 2"), 6.0);
        assert_eq!(secs("1minutes 1minute 1min 1m"), 240.0);
        assert_eq!(secs("48hr"), 172_800.0);
        assert_eq!(secs("55s500ms"), 55.5);
        assert_eq!(
            "1y 12month".parse::<TimeSpan>().unwrap().as_duration(),
            Duration::from_secs(31_557_600 + 12 * 2_630_016)
        );
        assert_eq!(
            "300ms20s 5day".parse::<TimeSpan>().unwrap().as_duration(),
            Duration::from_millis(432_020_300)
        );
    }

    #[test]
    fn issue_examples_and_normal_form() {
        for (text, secs, shown) in [
            ("30d", 30 * 86_400, "30d"),
            ("2 weeks", 14 * 86_400, "2w"),
            ("1y 6M", 31_557_600 + 6 * 2_630_016, "1y 6M"),
            ("12h 30min", 45_000, "12h 30min"),
            ("120", 120, "120s"),
            ("7days", 7 * 86_400, "7d"),
            ("120 seconds", 120, "120s"),
            ("0", 0, "0s"),
        ] {
            let span: TimeSpan = text.parse().unwrap();
            assert_eq!(span.as_secs(), secs, "{text}");
            assert_eq!(span.to_string(), shown, "{text}");
            assert_eq!(shown.parse::<TimeSpan>().unwrap().as_secs(), secs);
        }
        assert_eq!("1ms".parse::<TimeSpan>().unwrap().as_secs(), 1);
        assert!("0s".parse::<TimeSpan>().unwrap().is_zero());
    }

    #[test]
    fn errors_name_the_part() {
        for (text, part) in [
            ("", ""),
            ("3 fortnights", "fortnights"),
            ("d", "d"),
            ("2w x", "x"),
            ("-3d", "-3d"),
            ("1.5h", ".5h"),
            ("99999999999999999999d", "99999999999999999999"),
            ("20000y", "20000"),
        ] {
            let err = text.parse::<TimeSpan>().unwrap_err();
            assert_eq!(err.part(), part, "{text}: {err}");
        }
    }
}
