//! `ptape calendar-event`: the next occurrences of a calendar event.

use anyhow::Result;
use clap::Args;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use ptape::schedule::{parse_time, CalendarEvent, Clock};
use serde::Serialize;
use tape_cli::output::OutputFormat;

/// The most occurrences one call prints.
const MAX_COUNT: usize = 10_000;

#[derive(Debug, Args)]
pub struct CalendarEventArgs {
    /// The calendar event, e.g. 'mon..fri 22:00', 'daily', '*-01-01 UTC'.
    expr: String,
    /// Start after this instant: RFC 3339 (2024-06-01T12:00:00Z) or @EPOCH
    /// (default: now).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// How many occurrences to print.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=MAX_COUNT as u64))]
    count: u64,
}

/// The JSON output: `{"event": EXPR, "from": EPOCH, "next": [EPOCH, ...]}`.
#[derive(Debug, Serialize)]
struct Occurrences {
    event: String,
    from: i64,
    next: Vec<i64>,
}

pub fn calendar_event(args: CalendarEventArgs, clock: Clock, out: OutputFormat) -> Result<()> {
    let event: CalendarEvent = args.expr.parse()?;
    let from = match &args.from {
        Some(text) => parse_time(text)?,
        None => clock.now(),
    };
    let local = TimeZone::system();
    let tz = event.time_zone(&local);
    let next: Vec<Timestamp> = event
        .occurrences(from, &local)
        .take(args.count as usize)
        .collect();
    let result = Occurrences {
        event: args.expr.clone(),
        from: from.as_second(),
        next: next.iter().map(|t| t.as_second()).collect(),
    };
    out.print(&result, |r| {
        let show = |t: Timestamp| {
            t.to_zoned(tz.clone())
                .strftime("%a %Y-%m-%d %H:%M:%S %Z")
                .to_string()
        };
        let mut text = format!("event  {}\nfrom   {}\n", r.event, show(from));
        if next.is_empty() {
            text.push_str("next   never\n");
        }
        for (i, t) in next.iter().enumerate() {
            let head = if i == 0 { "next " } else { "     " };
            text.push_str(&format!("{head}  {}\n", show(*t)));
        }
        text
    })
}
