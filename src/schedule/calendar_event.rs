//! Calendar events: `[WEEKDAYS] [[YEAR-]MONTH-DAY] [[HOUR:]MINUTE[:SECOND]] [UTC]`.
//!
//! The grammar (the reference design's, itself systemd's subset):
//!
//! - weekdays: `mon`..`sun` or full names, any case; comma lists and ranges
//!   `mon..fri`; a range may wrap (`fri..mon` is fri, sat, sun, mon);
//! - date `[YEAR-]MONTH-DAY`, time `[HOUR:]MINUTE[:SECOND]`: a lone number is
//!   a minute of every hour (`0` is every hour at :00), an omitted second is
//!   `00`, an omitted time `00:00:00`, an omitted date or year any;
//! - every number field takes `*`, `N`, ranges `a..b`, repetitions `N/r`
//!   (from N every r), `a..b/r`, `*/r` (from 0 for hours, minutes and seconds,
//!   from 1 for months and days) and comma lists of these;
//! - keywords (the whole expression, optionally followed by `UTC`):
//!   `minutely`, `hourly`, `daily`, `weekly` (monday 00:00), `monthly`,
//!   `yearly`/`annually`, `quarterly`, `semiannually`/`semi-annually`;
//! - a trailing `UTC` matches in UTC, else in the caller's time zone (see
//!   the [module documentation](super) for daylight saving time).
//!
//! Occurrences are strictly after the instant asked about, to the second.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};

/// The largest year an event can match (jiff's civil range).
const MAX_YEAR: i16 = 9999;

/// A calendar expression that does not parse, with the offending part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid calendar event {expr:?}: {message} (at {part:?}, column {column})")]
pub struct CalendarEventError {
    expr: String,
    /// The offending part of the expression.
    part: String,
    /// 1-based character column of `part` in the expression.
    column: usize,
    /// Byte offset of `part` in the expression.
    offset: usize,
    message: String,
}

impl CalendarEventError {
    fn new(expr: &str, offset: usize, len: usize, message: impl Into<String>) -> Self {
        let end = (offset + len).min(expr.len());
        CalendarEventError {
            expr: expr.to_string(),
            part: expr.get(offset..end).unwrap_or(expr).to_string(),
            column: expr.get(..offset).map_or(1, |s| s.chars().count() + 1),
            offset,
            message: message.into(),
        }
    }

    /// The expression that was given.
    pub fn expression(&self) -> &str {
        &self.expr
    }

    /// The offending part of the expression.
    pub fn part(&self) -> &str {
        &self.part
    }

    /// Byte offset of the offending part in the expression.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What is wrong with the part.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A piece of the expression with its byte offset there.
#[derive(Debug, Clone, Copy)]
struct Piece<'a> {
    text: &'a str,
    offset: usize,
}

impl<'a> Piece<'a> {
    fn sub(&self, start: usize, end: usize) -> Piece<'a> {
        Piece {
            text: &self.text[start..end],
            offset: self.offset + start,
        }
    }

    /// The parts between `sep`, with their offsets.
    fn split(&self, sep: &'a str) -> impl Iterator<Item = Piece<'a>> + 'a {
        let base = *self;
        let mut start = 0;
        base.text.split(sep).map(move |part| {
            let piece = base.sub(start, start + part.len());
            start += part.len() + sep.len();
            piece
        })
    }
}

/// One item of a field's comma list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Value(u32),
    Range(u32, u32),
    /// From `start` (up to `end` when given) every `step`.
    Repeat {
        start: u32,
        end: Option<u32>,
        step: u32,
    },
}

impl Item {
    fn matches(self, v: u32) -> bool {
        match self {
            Item::Value(n) => v == n,
            Item::Range(a, b) => (a..=b).contains(&v),
            Item::Repeat { start, end, step } => {
                v >= start && end.is_none_or(|e| v <= e) && (v - start).is_multiple_of(step)
            }
        }
    }
}

/// A number field: `None` matches every value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Field(Option<Vec<Item>>);

impl Field {
    const ANY: Field = Field(None);

    fn value(v: u32) -> Field {
        Field(Some(vec![Item::Value(v)]))
    }

    fn matches(&self, v: u32) -> bool {
        self.0
            .as_ref()
            .is_none_or(|items| items.iter().any(|i| i.matches(v)))
    }
}

/// Which number field is parsed: names it in errors, gives its limits.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Year => "year",
            Unit::Month => "month",
            Unit::Day => "day",
            Unit::Hour => "hour",
            Unit::Minute => "minute",
            Unit::Second => "second",
        }
    }

    fn range(self) -> (u32, u32) {
        match self {
            Unit::Year => (0, MAX_YEAR as u32),
            Unit::Month => (1, 12),
            Unit::Day => (1, 31),
            Unit::Hour => (0, 23),
            Unit::Minute | Unit::Second => (0, 59),
        }
    }
}

/// Days of the week as a bit set (bit 0 Monday .. bit 6 Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WeekDays(u8);

impl WeekDays {
    const ALL: WeekDays = WeekDays(0x7f);

    fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.to_monday_zero_offset()) != 0
    }
}

const WEEKDAY_NAMES: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

/// Keywords and the expressions they stand for.
const KEYWORDS: [(&str, &str); 10] = [
    ("minutely", "*-*-* *:*:00"),
    ("hourly", "*-*-* *:00:00"),
    ("daily", "*-*-* 00:00:00"),
    ("weekly", "mon *-*-* 00:00:00"),
    ("monthly", "*-*-01 00:00:00"),
    ("yearly", "*-01-01 00:00:00"),
    ("annually", "*-01-01 00:00:00"),
    ("quarterly", "*-01,04,07,10-01 00:00:00"),
    ("semiannually", "*-01,07-01 00:00:00"),
    ("semi-annually", "*-01,07-01 00:00:00"),
];

/// A parsed calendar event (see the module documentation for the grammar).
///
/// ```
/// use jiff::{tz::TimeZone, Timestamp};
/// use ptape::schedule::CalendarEvent;
///
/// let event: CalendarEvent = "mon..fri 22:00".parse()?;
/// let berlin = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3")?;
/// // Saturday 2024-06-01 12:00 UTC: next is Monday 22:00 in Berlin (20:00 UTC).
/// let from: Timestamp = "2024-06-01T12:00:00Z".parse()?;
/// let next = event.next_after(from, &berlin).unwrap();
/// assert_eq!(next.to_string(), "2024-06-03T20:00:00Z");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    text: String,
    utc: bool,
    weekdays: WeekDays,
    years: Field,
    months: Field,
    days: Field,
    hours: Field,
    minutes: Field,
    seconds: Field,
}

impl std::str::FromStr for CalendarEvent {
    type Err = CalendarEventError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CalendarEvent::parse(s)
    }
}

impl std::fmt::Display for CalendarEvent {
    /// The expression as given.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for CalendarEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for CalendarEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|(k, _)| k.eq_ignore_ascii_case(word))
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens(expr: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(Piece {
                    text: &expr[s..i],
                    offset: s,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Piece {
            text: &expr[s..],
            offset: s,
        });
    }
    out
}

impl CalendarEvent {
    /// Parses an expression; the error names the offending part.
    pub fn parse(expr: &str) -> Result<CalendarEvent, CalendarEventError> {
        let err =
            |p: Piece<'_>, msg: String| CalendarEventError::new(expr, p.offset, p.text.len(), msg);
        let mut toks = tokens(expr);
        let Some(last) = toks.last().copied() else {
            return Err(CalendarEventError::new(
                expr,
                0,
                expr.len(),
                "the expression is empty; give weekdays, a date or a time (e.g. 'mon..fri 22:00', 'daily')",
            ));
        };
        let utc = last.text.eq_ignore_ascii_case("utc");
        if utc {
            toks.pop();
            if toks.is_empty() {
                return Err(err(
                    last,
                    "UTC must follow weekdays, a date or a time".into(),
                ));
            }
        }
        if toks.len() > 1 {
            if let Some(k) = toks.iter().find(|t| is_keyword(t.text)) {
                return Err(err(
                    *k,
                    format!(
                        "the keyword {:?} stands alone (optionally followed by UTC)",
                        k.text
                    ),
                ));
            }
        }
        if let [only] = toks[..] {
            if let Some((_, expansion)) = KEYWORDS
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(only.text))
            {
                let mut event = Self::parse_fields(expansion, &tokens(expansion))
                    .expect("keyword expansions parse");
                event.text = expr.trim().to_string();
                event.utc = utc;
                return Ok(event);
            }
        }
        let mut event = Self::parse_fields(expr, &toks)?;
        event.utc = utc;
        Ok(event)
    }

    /// Weekdays, date and time tokens in this order (each at most once).
    fn parse_fields(expr: &str, toks: &[Piece<'_>]) -> Result<CalendarEvent, CalendarEventError> {
        let err =
            |p: Piece<'_>, msg: String| CalendarEventError::new(expr, p.offset, p.text.len(), msg);
        let mut event = CalendarEvent {
            text: expr.trim().to_string(),
            utc: false,
            weekdays: WeekDays::ALL,
            years: Field::ANY,
            months: Field::ANY,
            days: Field::ANY,
            hours: Field::value(0),
            minutes: Field::value(0),
            seconds: Field::value(0),
        };
        let mut rest = toks;
        if let Some((first, tail)) = rest.split_first() {
            if first.text.starts_with(|c: char| c.is_ascii_alphabetic()) {
                event.weekdays = parse_weekdays(expr, *first)?;
                rest = tail;
            }
        }
        if let Some((first, tail)) = rest.split_first() {
            if first.text.contains('-') {
                let parts: Vec<Piece<'_>> = first.split("-").collect();
                let (year, month, day) = match parts[..] {
                    [m, d] => (None, m, d),
                    [y, m, d] => (Some(y), m, d),
                    _ => {
                        return Err(err(
                            *first,
                            "a date is [YEAR-]MONTH-DAY (e.g. 2024-12-31, *-01-01, 12-24)".into(),
                        ))
                    }
                };
                if let Some(year) = year {
                    event.years = parse_field(expr, year, Unit::Year)?;
                }
                event.months = parse_field(expr, month, Unit::Month)?;
                event.days = parse_field(expr, day, Unit::Day)?;
                rest = tail;
            }
        }
        if let Some((first, tail)) = rest.split_first() {
            if !first.text.starts_with(|c: char| c.is_ascii_alphabetic()) {
                let parts: Vec<Piece<'_>> = first.split(":").collect();
                let (hour, minute, second) = match parts[..] {
                    [m] => (None, m, None),
                    [h, m] => (Some(h), m, None),
                    [h, m, s] => (Some(h), m, Some(s)),
                    _ => {
                        return Err(err(
                            *first,
                            "a time is [HOUR:]MINUTE[:SECOND] (e.g. 22:00, *:0/15, 03:30:10)"
                                .into(),
                        ))
                    }
                };
                event.hours = match hour {
                    Some(h) => parse_field(expr, h, Unit::Hour)?,
                    None => Field::ANY,
                };
                event.minutes = parse_field(expr, minute, Unit::Minute)?;
                event.seconds = match second {
                    Some(s) => parse_field(expr, s, Unit::Second)?,
                    None => Field::value(0),
                };
                rest = tail;
            }
        }
        if let Some(extra) = rest.first() {
            let why = if extra.text.starts_with(|c: char| c.is_ascii_alphabetic()) {
                "unexpected word: weekdays come first, and only UTC may follow the time".into()
            } else {
                "unexpected part: the order is WEEKDAYS DATE TIME [UTC], each at most once".into()
            };
            return Err(err(*extra, why));
        }
        Ok(event)
    }

    /// The expression as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the event is matched in UTC (a trailing `UTC`).
    pub fn is_utc(&self) -> bool {
        self.utc
    }

    /// The time zone the event is matched in: UTC for a `... UTC` event,
    /// else `local`.
    pub fn time_zone(&self, local: &TimeZone) -> TimeZone {
        if self.utc {
            TimeZone::UTC
        } else {
            local.clone()
        }
    }

    /// The first occurrence strictly after `after` (to the second), matched
    /// on the wall clock of `local` (or of UTC for a `... UTC` event).
    /// `None` when the event never occurs again (`2021-02-29`, a past year).
    pub fn next_after(&self, after: Timestamp, local: &TimeZone) -> Option<Timestamp> {
        let tz = self.time_zone(local);
        // Whole seconds: the first candidate is the second after `after`.
        let after = Timestamp::from_second(after.as_second()).ok()?;
        let mut from = tz.to_datetime(after.checked_add(1.second()).ok()?);
        // Each round moves `from` forward; a candidate before `after` can only
        // come from a time zone change, so few rounds are ever needed.
        for _ in 0..16 {
            let civil = self.next_civil(from)?;
            if let Some(ts) = resolve(&tz, civil, after) {
                return Some(ts);
            }
            from = civil.checked_add(1.second()).ok()?;
        }
        None
    }

    /// [`CalendarEvent::next_after`] in seconds since the Unix epoch.
    pub fn next_after_epoch(&self, after: i64, local: &TimeZone) -> Option<i64> {
        let after = Timestamp::from_second(after).ok()?;
        self.next_after(after, local).map(Timestamp::as_second)
    }

    /// The occurrences after `after`, in order.
    pub fn occurrences<'a>(
        &'a self,
        after: Timestamp,
        local: &'a TimeZone,
    ) -> impl Iterator<Item = Timestamp> + 'a {
        std::iter::successors(self.next_after(after, local), move |t| {
            self.next_after(*t, local)
        })
    }

    /// The first wall-clock time at or after `from` that matches.
    fn next_civil(&self, from: DateTime) -> Option<DateTime> {
        let first = |at_from: bool, v: i8, min: i8| if at_from { v } else { min };
        for year in from.year().max(0)..=MAX_YEAR {
            if !self.years.matches(year as u32) {
                continue;
            }
            let at_y = year == from.year();
            for month in first(at_y, from.month(), 1)..=12 {
                if !self.months.matches(month as u32) {
                    continue;
                }
                let at_m = at_y && month == from.month();
                let last_day = Date::new(year, month, 1).ok()?.days_in_month();
                for day in first(at_m, from.day(), 1)..=last_day {
                    if !self.days.matches(day as u32) {
                        continue;
                    }
                    let date = Date::new(year, month, day).ok()?;
                    if !self.weekdays.contains(date.weekday()) {
                        continue;
                    }
                    let at_d = at_m && day == from.day();
                    if let Some(dt) = self.next_time_of_day(date, at_d.then_some(from)) {
                        return Some(dt);
                    }
                }
            }
        }
        None
    }

    /// The first matching time on `date` (at or after `from`'s time when given).
    fn next_time_of_day(&self, date: Date, from: Option<DateTime>) -> Option<DateTime> {
        let (h0, m0, s0) = from.map_or((0, 0, 0), |f| (f.hour(), f.minute(), f.second()));
        for hour in h0..24 {
            if !self.hours.matches(hour as u32) {
                continue;
            }
            let at_h = hour == h0;
            for minute in if at_h { m0 } else { 0 }..60 {
                if !self.minutes.matches(minute as u32) {
                    continue;
                }
                let at_m = at_h && minute == m0;
                for second in if at_m { s0 } else { 0 }..60 {
                    if self.seconds.matches(second as u32) {
                        return Some(date.at(hour, minute, second, 0));
                    }
                }
            }
        }
        None
    }
}

/// The instant of wall-clock time `civil` in `tz`, if it is after `after`:
/// a time that occurs twice is taken the first time it is after `after`; a
/// time skipped by a jump of the clock is the instant of the jump.
fn resolve(tz: &TimeZone, civil: DateTime, after: Timestamp) -> Option<Timestamp> {
    let ambiguous = tz.to_ambiguous_timestamp(civil);
    let candidates = match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => vec![ambiguous.compatible().ok()?],
        AmbiguousOffset::Fold { .. } => {
            vec![ambiguous.earlier().ok()?, ambiguous.later().ok()?]
        }
        AmbiguousOffset::Gap { before, after: new } => {
            vec![jump_instant(tz, ambiguous.later().ok()?, before, new)?]
        }
    };
    candidates.into_iter().find(|t| *t > after)
}

/// The instant the clock jumped over a gap: the first second, at most the
/// gap's length before `late` (the skipped time read with the old offset),
/// that already has the new offset.
fn jump_instant(
    tz: &TimeZone,
    late: Timestamp,
    old: jiff::tz::Offset,
    new: jiff::tz::Offset,
) -> Option<Timestamp> {
    let gap = i64::from((new.seconds() - old.seconds()).abs());
    let (mut lo, mut hi) = (late.as_second() - gap, late.as_second());
    // Invariant: `hi` has the new offset, `lo` does not (or is the bound).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if tz.to_offset(Timestamp::from_second(mid).ok()?).0 == new {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Timestamp::from_second(hi).ok()
}

fn parse_weekdays(expr: &str, tok: Piece<'_>) -> Result<WeekDays, CalendarEventError> {
    let mut set = 0u8;
    for item in tok.split(",") {
        let ends: Vec<Piece<'_>> = item.split("..").collect();
        let day = |p: Piece<'_>| {
            let lower = p.text.to_ascii_lowercase();
            WEEKDAY_NAMES
                .iter()
                .position(|(short, long)| lower == *short || lower == *long)
                .ok_or_else(|| {
                    CalendarEventError::new(
                        expr,
                        p.offset,
                        p.text.len(),
                        if p.text.is_empty() {
                            "a weekday is missing here".to_string()
                        } else {
                            format!(
                                "unknown weekday {:?}: use mon, tue, wed, thu, fri, sat, sun (or full names)",
                                p.text
                            )
                        },
                    )
                })
        };
        match ends[..] {
            [one] => set |= 1 << day(one)?,
            [a, b] => {
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    set |= 1 << d;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            _ => {
                return Err(CalendarEventError::new(
                    expr,
                    item.offset,
                    item.text.len(),
                    "a weekday range is FIRST..LAST",
                ))
            }
        }
    }
    Ok(WeekDays(set))
}

fn parse_field(expr: &str, piece: Piece<'_>, unit: Unit) -> Result<Field, CalendarEventError> {
    let mut items = Vec::new();
    let mut any = false;
    for part in piece.split(",") {
        match parse_item(expr, part, unit)? {
            None => any = true,
            Some(item) => items.push(item),
        }
    }
    Ok(if any { Field::ANY } else { Field(Some(items)) })
}

/// One comma-list item; `None` for `*`.
fn parse_item(expr: &str, part: Piece<'_>, unit: Unit) -> Result<Option<Item>, CalendarEventError> {
    let err =
        |p: Piece<'_>, msg: String| CalendarEventError::new(expr, p.offset, p.text.len(), msg);
    let (min, max) = unit.range();
    let number = |p: Piece<'_>| -> Result<u32, CalendarEventError> {
        if p.text.is_empty() {
            return Err(err(p, format!("a {} value is missing here", unit.name())));
        }
        if !p.text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                p,
                format!(
                    "{:?} is not a {} (use digits, *, a..b, N/r)",
                    p.text,
                    unit.name()
                ),
            ));
        }
        match p.text.parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(err(
                p,
                format!("{} {} is out of range {min}..{max}", unit.name(), p.text),
            )),
        }
    };
    let (base, step) = match part.text.find('/') {
        Some(i) => {
            let step_piece = part.sub(i + 1, part.text.len());
            let step = if step_piece.text.is_empty() {
                return Err(err(
                    step_piece,
                    "a repetition needs a step after '/'".into(),
                ));
            } else if !step_piece.text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(
                    step_piece,
                    format!("{:?} is not a step", step_piece.text),
                ));
            } else {
                match step_piece.text.parse::<u32>() {
                    Ok(s) if s >= 1 && s <= max.max(1) => s,
                    _ => {
                        return Err(err(
                            step_piece,
                            format!("the step must be 1..{}", max.max(1)),
                        ))
                    }
                }
            };
            (part.sub(0, i), Some(step))
        }
        None => (part, None),
    };
    if base.text == "*" {
        return Ok(step.map(|step| Item::Repeat {
            start: min,
            end: None,
            step,
        }));
    }
    let range = match base.text.find("..") {
        Some(i) => {
            let (a, b) = (base.sub(0, i), base.sub(i + 2, base.text.len()));
            let (a_val, b_val) = (number(a)?, number(b)?);
            if a_val > b_val {
                return Err(err(
                    base,
                    format!("the range {} starts after it ends", base.text),
                ));
            }
            Some((a_val, b_val))
        }
        None => None,
    };
    Ok(Some(match (range, step) {
        (Some((a, b)), None) => Item::Range(a, b),
        (Some((a, b)), Some(step)) => Item::Repeat {
            start: a,
            end: Some(b),
            step,
        },
        (None, None) => Item::Value(number(base)?),
        (None, Some(step)) => Item::Repeat {
            start: number(base)?,
            end: None,
            step,
        },
    }))
}

#[cfg(test)]
#[path = "calendar_event_tests.rs"]
mod tests;
