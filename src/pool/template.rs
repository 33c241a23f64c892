//! Media set names: a pool's template applied to a set's start time.
//!
//! The template is strftime (jiff's directives) in local time, plus `%c`
//! (the C locale's date and time, `Sat Jun  1 12:00:00 2024`) and `%id%`
//! (the set's UUID). The default, [`DEFAULT_MEDIA_SET_TEMPLATE`], is `%c`.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use uuid::Uuid;

use crate::catalog::DEFAULT_MEDIA_SET_TEMPLATE;

/// Shortest and longest template accepted.
pub const TEMPLATE_LENGTH: std::ops::RangeInclusive<usize> = 2..=64;

/// What `%c` stands for (the C locale's `%c`).
const C_LOCALE_DATE_TIME: &str = "%a %b %e %H:%M:%S %Y";

/// A template that cannot name media sets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid media set template {template:?}: {why}")]
pub struct TemplateError {
    template: String,
    why: String,
}

/// `%c` expanded (outside `%%`), `%id%` replaced by `uuid`.
fn expand(template: &str, uuid: &str) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("%id%") {
            // jiff must not read the UUID as directives.
            out.push_str(&uuid.replace('%', "%%"));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("%c") {
            out.push_str(C_LOCALE_DATE_TIME);
            rest = after;
        } else if let Some(after) = tail.strip_prefix("%%") {
            out.push_str("%%");
            rest = after;
        } else {
            out.push('%');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Checks a template: its length, and that it formats a time.
pub fn validate_template(template: &str) -> Result<(), TemplateError> {
    let err = |why: String| TemplateError {
        template: template.to_string(),
        why,
    };
    let len = template.chars().count();
    if !TEMPLATE_LENGTH.contains(&len) {
        return Err(err(format!(
            "use {} to {} characters",
            TEMPLATE_LENGTH.start(),
            TEMPLATE_LENGTH.end()
        )));
    }
    if template.contains(['\n', '\r']) {
        return Err(err("use a single line".into()));
    }
    let pattern = expand(template, &Uuid::nil().to_string());
    let sample = Timestamp::UNIX_EPOCH.to_zoned(TimeZone::UTC);
    jiff::fmt::strtime::format(pattern.as_bytes(), &sample)
        .map(|_| ())
        .map_err(|e| err(e.to_string()))
}

/// The name of the set `uuid` started at `start` (seconds since the
/// epoch), from `template` (`None`: the default) in time zone `tz`. A
/// template that fails to format gives the UUID.
pub fn media_set_name(template: Option<&str>, uuid: Uuid, start: i64, tz: &TimeZone) -> String {
    let template = template.unwrap_or(DEFAULT_MEDIA_SET_TEMPLATE);
    let Ok(start) = Timestamp::from_second(start) else {
        return uuid.to_string();
    };
    let pattern = expand(template, &uuid.to_string());
    jiff::fmt::strtime::format(pattern.as_bytes(), &start.to_zoned(tz.clone()))
        .unwrap_or_else(|_| uuid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_templates() {
        let uuid = Uuid::parse_str("6f1f7f6e-0000-4000-8000-000000000001").unwrap();
        // Saturday 2024-06-01 12:00:00 UTC.
        let start = 1_717_243_200;
        let utc = TimeZone::UTC;
        assert_eq!(
            media_set_name(None, uuid, start, &utc),
            "Sat Jun  1 12:00:00 2024"
        );
        let berlin = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        assert_eq!(
            media_set_name(Some("daily-%Y-%m-%d %H:%M"), uuid, start, &berlin),
            "daily-2024-06-01 14:00"
        );
        assert_eq!(
            media_set_name(Some("set %id% of %F"), uuid, start, &utc),
            "set 6f1f7f6e-0000-4000-8000-000000000001 of 2024-06-01"
        );
        assert_eq!(
            media_set_name(Some("100%% %c"), uuid, start, &utc),
            "100% Sat Jun  1 12:00:00 2024"
        );
    }

    #[test]
    fn templates_are_checked() {
        for good in ["%c", "%Y-%m-%d", "weekly-%V", "%id%", "ab"] {
            validate_template(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in ["", "x", "%Y-%!", "two\nlines", &"x".repeat(65)] {
            assert!(validate_template(bad).is_err(), "{bad:?}");
        }
    }
}
