//! Calendar events and time spans: when pools start media sets, when
//! scheduled jobs run, how long media sets are kept.
//!
//! - [`CalendarEvent`]: the systemd-like calendar grammar of the reference
//!   design (`mon..fri 22:00`, `daily`, `*-01,07-01 03:30 UTC`), parsed once
//!   and asked for its next occurrence with
//!   [`CalendarEvent::next_after`]`(instant, time_zone)`. There is no global
//!   clock here: the caller passes the instant (a scheduler or a test passes
//!   its own).
//! - [`TimeSpan`]: `30d`, `2 weeks`, `1y 6M`, `12h 30min`, bare seconds.
//! - [`Clock`]: the current time, real or pinned (`PTAPE_TEST_NOW`, for tests
//!   of the command-line tools).
//! - [`parse_time`]: an instant given as RFC 3339 or `@EPOCH`.
//!
//! ## Time zones and daylight saving time
//!
//! An event without a trailing `UTC` is matched against the wall clock of the
//! time zone the caller passes (the system's, `TimeZone::system()`, honours
//! `$TZ`); with `UTC` against UTC. When the wall clock jumps:
//!
//! - a wall-clock time that does not exist (skipped when daylight saving time
//!   starts, e.g. 02:30 in Europe/Berlin on the last Sunday of March) fires at
//!   the moment the clock jumps (03:00 local), so a daily job still runs that
//!   day, and never after an occurrence that follows it;
//! - a wall-clock time that occurs twice (when daylight saving time ends)
//!   fires once, the first time; an hourly event therefore does not fire a
//!   second time during the repeated hour.

mod calendar_event;
mod clock;
mod time_span;

pub use calendar_event::{CalendarEvent, CalendarEventError};
pub use clock::{parse_time, Clock, TimeError, TEST_NOW_VAR};
pub use time_span::{TimeSpan, TimeSpanError};
